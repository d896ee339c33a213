import { TimeboxError } from './errors';
import type { AuditEvent } from './audit';
import type { GrantTarget } from './grant-target';
import { asPerson, samePerson, type Person } from './policy';
import { STATUS_TABLE, type GrantStatus } from './grant-status';

export { GRANT_STATUSES, STATUS_TABLE, type GrantStatus, type StatusFacts } from './grant-status';
/** A request's status is derived from its grants' (see requestStatus); it is never stored. */
export type RequestStatus = GrantStatus;

export interface Approval {
  slackUserId: string;
  email?: string;
  at: number;
}

export interface Grant {
  /** "1", "2", …: stable within the request. */
  id: string;
  target: GrantTarget;
  /** The rule this grant was matched to when it was filed. */
  ruleName: string;
  autoApproved: boolean;
  approvalsRequired: number;
  approvals: Approval[];
  status: GrantStatus;
  decidedBy?: Person;
  decidedAt?: number;
  /** The window: from the grant's own success, for the request's duration. */
  activeAt?: number;
  endsAt?: number;
  endedAt?: number;
  /** Why the assignment or membership was left in place at the end, if it was. */
  keptBecause?: string;
  failure?: string;
  /** While GRANTING or REVOKING: a worker holds the grant until then; after it, a sweep may take over. */
  claimUntil?: number;
  grantAttempts?: number;
  revokeAttempts?: number;
  /** When a revoke that kept failing first raised the stuck-revoke alarm. */
  stuckSince?: number;
  lastError?: string;
  /** Set once ACTIVE: the target is Timebox's (it created it), so its end removes it unless another grant holds it. */
  timeboxOwned?: boolean;
  /** For a group grant: the membership Timebox created. */
  membershipId?: string;
  /** Who ended this grant's window before its time, if anyone did. */
  endedEarlyBy?: Person;
  /** Why Timebox itself refused the grant at a decision (the config now running no longer allows it). */
  refusedBecause?: string;
}

export interface MessageRef {
  channel: string;
  ts: string;
}

export interface AccessRequest {
  id: string;
  /** Bumped on every write; every write is conditional on the version read. */
  version: number;
  requester: Person;
  /** Identity Center user id, once resolved. */
  principalId?: string;
  durationMs: number;
  reason: string;
  createdAt: number;
  /** Grants nobody decides expire then. */
  expiresAt: number;
  /** Who ended a window early is each grant's own `endedEarlyBy`: never copied here (grants of one request can end differently). */
  grants: Grant[];
  approvalMessage?: MessageRef;
  /** The requester's latest DM while access is active (it carries the End button), until it is closed. */
  activeDm?: MessageRef;
  /** What the channel message last showed (see channelKey); when it differs, an update is due. */
  notified?: string;
  /** What the requester was last told (see requesterKey), tracked apart so a failing channel never holds a DM back. */
  toldRequester?: string;
  /** Failed passes at telling people since news last got through (Slack down, rate limited). */
  newsAttempts?: number;
  /** After a failed pass, when the sweep should try telling people again (backing off). */
  newsRetryAt?: number;
  updatedAt: number;
  /** The audit events of the last write, carried on the item so a crash before they reach the log loses none. */
  lastEvents?: AuditEvent[];
}

export const isTerminal = (status: GrantStatus): boolean => STATUS_TABLE[status].terminal;
export const holdsAccess = (status: GrantStatus): boolean => STATUS_TABLE[status].holdsAccess;

/** The order statuses are reported in when grants differ: the one furthest from done leads. */
const OPEN_ORDER: readonly GrantStatus[] = ['GRANTING', 'APPROVED', 'REVOKING', 'PENDING', 'ACTIVE'];
const DONE_ORDER: readonly GrantStatus[] = ['ENDED', 'FAILED', 'DENIED', 'CANCELLED', 'EXPIRED'];

/**
 * The request's status, derived from its grants: while any grant is open, the open status
 * furthest from done (GRANTING before ACTIVE, so "ACTIVE" means every open grant is active);
 * once all are over, ENDED if any grant ran, else how the others ended.
 */
export function requestStatus(request: Pick<AccessRequest, 'grants'>): RequestStatus {
  const present = new Set(request.grants.map((g) => g.status));
  return OPEN_ORDER.find((s) => present.has(s)) ?? DONE_ORDER.find((s) => present.has(s)) ?? 'ENDED';
}

export function isRequestOver(request: AccessRequest): boolean {
  return request.grants.every((g) => isTerminal(g.status));
}

export function findGrant(request: AccessRequest, grantId: string): Grant {
  const grant = request.grants.find((g) => g.id === grantId);
  if (!grant) throw new TimeboxError('not_found', `Request ${request.id} has no grant ${grantId}.`);
  return grant;
}

/** The request with one grant replaced. */
export function withGrant(request: AccessRequest, grant: Grant): AccessRequest {
  return { ...request, grants: request.grants.map((g) => (g.id === grant.id ? grant : g)) };
}

// ---- Grant transitions: each names the data it sets, once.

function move(grant: Grant, to: GrantStatus, patch: Partial<Grant>, requestId: string): Grant {
  if (!STATUS_TABLE[grant.status].next.includes(to)) {
    throw new TimeboxError('invalid_transition', `Grant ${requestId}/${grant.id} is ${grant.status.toLowerCase()}, it cannot become ${to.toLowerCase()}.`);
  }
  return { ...grant, ...patch, status: to };
}

export const grantTransitions = {
  approve: (g: Grant, by: Person, now: number, requestId: string) => move(g, 'APPROVED', { decidedBy: asPerson(by), decidedAt: now }, requestId),
  deny: (g: Grant, by: Person, now: number, requestId: string) => move(g, 'DENIED', { decidedBy: asPerson(by), decidedAt: now }, requestId),
  /** The config now running no longer allows the grant: refused by Timebox, with the reason. */
  refuse: (g: Grant, reason: string, now: number, requestId: string) => move(g, 'DENIED', { refusedBecause: reason, decidedAt: now }, requestId),
  expire: (g: Grant, requestId: string) => move(g, 'EXPIRED', {}, requestId),
  /** The requester withdraws a grant nobody has decided yet: it can no longer be approved. */
  cancel: (g: Grant, by: Person, now: number, requestId: string) => move(g, 'CANCELLED', { decidedBy: asPerson(by), decidedAt: now }, requestId),
  startGranting: (g: Grant, claimUntil: number, requestId: string) => move(g, 'GRANTING', { claimUntil }, requestId),
  /** The window starts now; a grant already ended while it was being granted ends at once. */
  activate: (g: Grant, now: number, durationMs: number, requestId: string) =>
    move(g, 'ACTIVE', { activeAt: now, endsAt: g.endedEarlyBy ? now : now + durationMs, claimUntil: undefined, lastError: undefined }, requestId),
  fail: (g: Grant, failure: string, requestId: string) => move(g, 'FAILED', { failure, claimUntil: undefined }, requestId),
  startRevoking: (g: Grant, claimUntil: number, requestId: string) => move(g, 'REVOKING', { claimUntil }, requestId),
  end: (g: Grant, now: number, keptBecause: string | undefined, requestId: string) =>
    move(g, 'ENDED', { endedAt: now, claimUntil: undefined, lastError: undefined, ...(keptBecause ? { keptBecause } : {}) }, requestId),
  /** A worker takes (or takes back, after a crash) a GRANTING or REVOKING grant. */
  claim: (g: Grant, claimUntil: number): Grant => ({ ...g, claimUntil }),
} as const;

export type Decision = 'approve' | 'deny';

/**
 * One approver's click on one grant. Approval needs `approvalsRequired` distinct approvers;
 * one deny ends the grant. Authorisation is checked by the caller (rules.checkApprover).
 */
export function decideGrant(request: AccessRequest, grant: Grant, decision: Decision, approver: Person, now: number): Grant {
  if (grant.status !== 'PENDING') {
    throw new TimeboxError('already_decided', `Request ${request.id} is already ${grant.status.toLowerCase()}.`);
  }
  if (now >= request.expiresAt) throw new TimeboxError('already_decided', `Request ${request.id} has expired.`);
  if (decision === 'deny') return grantTransitions.deny(grant, approver, now, request.id);
  const earlier = grant.approvals.find((a) => samePerson(a, approver));
  if (earlier) {
    const how = earlier.slackUserId === approver.slackUserId ? 'You have' : `Another Slack account with your email (${earlier.slackUserId}) has`;
    throw new TimeboxError('already_approved_by_you', `${how} already approved request ${request.id}; it needs approvals from different people.`);
  }
  const approvals = [...grant.approvals, { slackUserId: approver.slackUserId, ...(approver.email ? { email: approver.email } : {}), at: now }];
  if (approvals.length < grant.approvalsRequired) return { ...grant, approvals };
  return { ...grantTransitions.approve(grant, approver, now, request.id), approvals };
}

/**
 * Ends every active window of the request now, at the request of `by` (authorised by the
 * caller). The revokes themselves are the ordinary ones, due at once. When `by` is the requester,
 * the grants still waiting for a decision are withdrawn too (CANCELLED): an approval after the
 * requester asked to end must not start a window of its own. An approver ending the grants of
 * their rules leaves the others as they are.
 */
export function endEarly(request: AccessRequest, by: Person, now: number, mayEnd: (grant: Grant) => boolean = () => true): AccessRequest {
  // A grant already ended early is never ended again (a second click, or a clock behind the
  // first one's); one that went live after an earlier end can be.
  const active = request.grants.filter((g) => g.status === 'ACTIVE' && (g.endsAt ?? 0) > now && !g.endedEarlyBy && mayEnd(g));
  // Grants still being granted when access is ended end as soon as they are active.
  const inFlight = active.length === 0 ? [] : request.grants.filter((g) => (g.status === 'APPROVED' || g.status === 'GRANTING') && !g.endedEarlyBy && mayEnd(g));
  const person = asPerson(by);
  // The requester's end withdraws what still waits for approval, also when nothing is active any
  // more (a window already run out, or ended by an approver). A request that is only waiting has
  // no access to end, and one still being granted is ended once active: both are refused below.
  const beingGranted = request.grants.some((g) => g.status === 'APPROVED' || g.status === 'GRANTING');
  const withdraw =
    samePerson(person, request.requester) && request.grants.some((g) => g.status !== 'PENDING') && (active.length > 0 || !beingGranted)
      ? request.grants.filter((g) => g.status === 'PENDING' && mayEnd(g))
      : [];
  if (active.length === 0 && withdraw.length === 0) {
    const status = requestStatus(request);
    if (status === 'REVOKING' || request.grants.some((g) => g.status === 'ACTIVE' || g.status === 'REVOKING')) {
      throw new TimeboxError('already_ending', `Request ${request.id}'s access is already being removed.`);
    }
    if (status === 'APPROVED' || status === 'GRANTING') throw new TimeboxError('not_active_yet', `Request ${request.id} is still being granted; end it once it is active.`);
    if (status === 'PENDING') throw new TimeboxError('not_active_yet', `Request ${request.id} is waiting for approval, so there is no access to end yet.`);
    throw new TimeboxError('already_over', `Request ${request.id} is ${status.toLowerCase()}; there is no access to end.`);
  }
  return {
    ...request,
    grants: request.grants.map((g) =>
      active.includes(g)
        ? { ...g, endsAt: now, endedEarlyBy: person }
        : inFlight.includes(g)
          ? { ...g, endedEarlyBy: person }
          : withdraw.includes(g)
            ? grantTransitions.cancel(g, person, now, request.id)
            : g,
    ),
  };
}

// ---- Notifications: what the channel and the requester were last shown, as keys.

/** Changes when the approvals message should change: a grant's status, one more approval, or an early end. */
export function channelKey(request: AccessRequest): string {
  const grants = request.grants.map((g) => `${g.id}=${STATUS_TABLE[g.status].shownInChannel ? g.status : 'busy'}:${g.approvals.length}`).join(',');
  return `${grants}${request.grants.some((g) => g.endedEarlyBy) ? `:ending${request.grants.filter((g) => g.endedEarlyBy).length}` : ''}`;
}

/**
 * Changes when a grant reaches news for the requester: filed and waiting, each approval, approved,
 * active, and every outcome.
 */
export function requesterKey(request: AccessRequest): string {
  return request.grants.map((g) => `${g.id}=${toldAs(g)}`).join(',');
}

function toldAs(grant: Grant): string {
  // A grant being granted is still the news "approved", and a window being removed still the
  // news "active", until the next step is reached.
  if (grant.status === 'GRANTING') return 'APPROVED';
  if (grant.status === 'REVOKING') return 'ACTIVE';
  if (grant.status === 'PENDING') return `PENDING:${grant.approvals.length}`;
  return STATUS_TABLE[grant.status].toldRequester ? grant.status : '-';
}

const NOTHING_TOLD = (request: AccessRequest) => request.grants.map((g) => `${g.id}=-`).join(',');

export function channelNeedsUpdate(request: AccessRequest): boolean {
  // While every grant is between steps (granting, revoking) the message stays as it was.
  if (request.grants.every((g) => !STATUS_TABLE[g.status].shownInChannel)) return false;
  return request.notified !== channelKey(request);
}

export function requesterNeedsTelling(request: AccessRequest): boolean {
  const key = requesterKey(request);
  return key !== (request.toldRequester ?? NOTHING_TOLD(request)) && key !== NOTHING_TOLD(request);
}

export function needsNotification(request: AccessRequest): boolean {
  return channelNeedsUpdate(request) || requesterNeedsTelling(request);
}

// ---- Due times: when the request next needs a timer or a sweep.

/** When one grant's own work is due (expiry, grant, end of window, retry), if ever. */
export function grantWorkDueAt(request: AccessRequest, grant: Grant): number | undefined {
  switch (grant.status) {
    case 'PENDING':
      return request.expiresAt;
    case 'ACTIVE':
      return grant.endsAt;
    case 'APPROVED':
      return grant.decidedAt ?? request.createdAt;
    case 'GRANTING':
    case 'REVOKING':
      return grant.claimUntil ?? 0;
    default:
      return undefined;
  }
}

/** When the request's own work is due, leaving notifications aside. */
export function workDueAt(request: AccessRequest): number | undefined {
  const times = request.grants.map((g) => grantWorkDueAt(request, g)).filter((t): t is number => t !== undefined);
  return times.length > 0 ? Math.min(...times) : undefined;
}

/** When the request next needs attention from a timer or a sweep, if ever. */
export function dueAt(request: AccessRequest): number | undefined {
  const work = workDueAt(request);
  if (!needsNotification(request)) return work;
  return Math.min(work ?? Infinity, request.newsRetryAt ?? request.updatedAt);
}
