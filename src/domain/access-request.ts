import { TimeboxError } from './errors';
import { SYSTEM_ACTOR, type AuditEvent, type ChainHead, type EventDraft } from './audit';
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

/**
 * Where people are shown a request: the approvals-channel message and the requester's DM today.
 * A new surface (an approver's DM copy, a thread reminder, a Home view) is a new kind here, not
 * a new field on the request.
 */
export const MESSAGE_KINDS = ['channel', 'requester-dm'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export interface ShownMessage {
  kind: MessageKind;
  /**
   * Where the message is: the approvals message once posted; the requester's DM only while it
   * carries the End button (while access is active), until it is closed.
   */
  ref?: MessageRef;
  /** The key of what it last showed (channelKey, requesterKey); when it differs, an update is due. */
  shown?: string;
}

/** A change to one message: a key present sets it (to undefined: clears it), a key absent leaves it. */
export type MessageChange = Partial<Omit<ShownMessage, 'kind'>>;

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
  /** What people were shown, one entry per message: each tracked apart, so a failing channel never holds a DM back. */
  messages: ShownMessage[];
  /** Failed passes at telling people since news last got through (Slack down, rate limited). */
  newsAttempts?: number;
  /** After a failed pass, when the sweep should try telling people again (backing off). */
  newsRetryAt?: number;
  updatedAt: number;
  /** The audit events the last write appended to the request's log (in that same write), chained. */
  lastEvents?: AuditEvent[];
  /** Where the request's audit chain ends (its last event's hash and how many it holds); absent before the first chained event. */
  auditHead?: ChainHead;
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

export function messageOf(request: Pick<AccessRequest, 'messages'>, kind: MessageKind): ShownMessage | undefined {
  return request.messages.find((m) => m.kind === kind);
}

/** The request with its `kind` message changed; a message left with neither a place nor a key is dropped. */
export function withMessage(request: AccessRequest, kind: MessageKind, change: MessageChange): AccessRequest {
  const merged: ShownMessage = { ...messageOf(request, kind), ...change, kind };
  const next: ShownMessage = { kind, ...(merged.ref ? { ref: merged.ref } : {}), ...(merged.shown !== undefined ? { shown: merged.shown } : {}) };
  const kept = next.ref !== undefined || next.shown !== undefined;
  const messages = request.messages.some((m) => m.kind === kind) ? request.messages.map((m) => (m.kind === kind ? next : m)) : [...request.messages, next];
  return { ...request, messages: messages.filter((m) => m.kind !== kind || kept) };
}

/** The request with one grant replaced. */
export function withGrant(request: AccessRequest, grant: Grant): AccessRequest {
  return { ...request, grants: request.grants.map((g) => (g.id === grant.id ? grant : g)) };
}

// ---- Grant transitions: each names the data it sets, once, and says what happened (its audit event).

/** A grant after a transition, with the audit events that record it. */
export interface GrantStep {
  grant: Grant;
  events: EventDraft[];
}

function move(grant: Grant, to: GrantStatus, patch: Partial<Grant>, requestId: string): Grant {
  if (!STATUS_TABLE[grant.status].next.includes(to)) {
    throw new TimeboxError('invalid_transition', `Grant ${requestId}/${grant.id} is ${grant.status.toLowerCase()}, it cannot become ${to.toLowerCase()}.`);
  }
  return { ...grant, ...patch, status: to };
}

const step = (grant: Grant, ...events: Array<Omit<EventDraft, 'grantId'>>): GrantStep => ({ grant, events: events.map((e) => ({ ...e, grantId: grant.id })) });
const approvalCount = (g: Grant): string => `${g.approvals.length}/${g.approvalsRequired} approvals`;

/** What a grant that went live holds: whether Timebox created its target, and a group's membership. */
export interface Granted {
  timeboxOwned: boolean;
  membershipId?: string;
  /** The target was there already when the grant looked. */
  wasThere: boolean;
}

export const grantTransitions = {
  approve: (g: Grant, by: Person, now: number, requestId: string) =>
    step(move(g, 'APPROVED', { decidedBy: asPerson(by), decidedAt: now }, requestId), { type: 'approved', actor: by.slackUserId, detail: approvalCount(g) }),
  deny: (g: Grant, by: Person, now: number, requestId: string) =>
    step(move(g, 'DENIED', { decidedBy: asPerson(by), decidedAt: now }, requestId), { type: 'denied', actor: by.slackUserId, detail: approvalCount(g) }),
  /** The config now running no longer allows the grant: refused by Timebox, with the reason, on `clickedBy`'s click. */
  refuse: (g: Grant, reason: string, now: number, requestId: string, clickedBy: string) =>
    step(move(g, 'DENIED', { refusedBecause: reason, decidedAt: now }, requestId), {
      type: 'denied',
      actor: SYSTEM_ACTOR,
      detail: `no longer allowed by the config now running (${reason}); click by ${clickedBy}`,
    }),
  expire: (g: Grant, requestId: string) => step(move(g, 'EXPIRED', {}, requestId), { type: 'expired', actor: SYSTEM_ACTOR, detail: 'nobody decided in time' }),
  /** The requester withdraws a grant nobody has decided yet: it can no longer be approved. */
  cancel: (g: Grant, by: Person, now: number, requestId: string, why: string) =>
    step(move(g, 'CANCELLED', { decidedBy: asPerson(by), decidedAt: now }, requestId), { type: 'cancelled', actor: by.slackUserId, detail: why }),
  startGranting: (g: Grant, claimUntil: number, requestId: string) => step(move(g, 'GRANTING', { claimUntil }, requestId), { type: 'grant_started', actor: SYSTEM_ACTOR }),
  /** The window starts now; a grant already ended while it was being granted ends at once. */
  activate: (g: Grant, now: number, durationMs: number, requestId: string, held?: Granted) =>
    step(
      move(
        g,
        'ACTIVE',
        { activeAt: now, endsAt: g.endedEarlyBy ? now : now + durationMs, claimUntil: undefined, lastError: undefined, ...(held ? { timeboxOwned: held.timeboxOwned } : {}), ...(held?.membershipId ? { membershipId: held.membershipId } : {}) },
        requestId,
      ),
      { type: 'granted', actor: SYSTEM_ACTOR, detail: `until ${new Date(now + durationMs).toISOString()}${held?.wasThere ? ' (it was there already)' : ''}` },
    ),
  fail: (g: Grant, failure: string, requestId: string) => step(move(g, 'FAILED', { failure, claimUntil: undefined }, requestId), { type: 'grant_failed', actor: SYSTEM_ACTOR, detail: failure }),
  startRevoking: (g: Grant, claimUntil: number, requestId: string) => step(move(g, 'REVOKING', { claimUntil }, requestId), { type: 'revoke_started', actor: SYSTEM_ACTOR }),
  end: (g: Grant, now: number, keptBecause: string | undefined, requestId: string) =>
    step(
      move(g, 'ENDED', { endedAt: now, claimUntil: undefined, lastError: undefined, ...(keptBecause ? { keptBecause } : {}) }, requestId),
      ...(keptBecause ? [{ type: 'assignment_kept' as const, actor: SYSTEM_ACTOR, detail: keptBecause }] : []),
      { type: 'revoked', actor: SYSTEM_ACTOR, detail: keptBecause ? 'kept' : 'removed' },
    ),
  /** A worker takes (or takes back, after a crash) a GRANTING or REVOKING grant. */
  claim: (g: Grant, claimUntil: number) =>
    step(
      { ...g, claimUntil },
      g.status === 'GRANTING' ? { type: 'grant_started', actor: SYSTEM_ACTOR, detail: 'resumed' } : { type: 'revoke_started', actor: SYSTEM_ACTOR, detail: 'retry' },
    ),
  /** `by` ends the window now (an active grant), or as soon as it is granted (one still being granted). */
  endNow: (g: Grant, by: Person, now: number) =>
    step(g.status === 'ACTIVE' ? { ...g, endsAt: now, endedEarlyBy: asPerson(by) } : { ...g, endedEarlyBy: asPerson(by) }, {
      type: 'ended_early',
      actor: by.slackUserId,
      detail: g.endsAt ? `was to end ${new Date(g.endsAt).toISOString()}` : 'ends as soon as it is granted',
    }),
} as const;

export type Decision = 'approve' | 'deny';

/**
 * One approver's click on one grant. Approval needs `approvalsRequired` distinct approvers;
 * one deny ends the grant. Authorisation is checked by the caller (rules.checkApprover).
 */
export function decideGrant(request: AccessRequest, grant: Grant, decision: Decision, approver: Person, now: number): GrantStep {
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
  const approved = { ...grant, approvals: [...grant.approvals, { slackUserId: approver.slackUserId, ...(approver.email ? { email: approver.email } : {}), at: now }] };
  if (approved.approvals.length < grant.approvalsRequired) return step(approved, { type: 'approval_recorded', actor: approver.slackUserId, detail: approvalCount(approved) });
  return grantTransitions.approve(approved, approver, now, request.id);
}

/**
 * Ends every active window of the request now, at the request of `by` (authorised by the
 * caller). The revokes themselves are the ordinary ones, due at once. When `by` is the requester,
 * the grants still waiting for a decision are withdrawn too (CANCELLED): an approval after the
 * requester asked to end must not start a window of its own. An approver ending the grants of
 * their rules leaves the others as they are.
 */
export function endEarly(request: AccessRequest, by: Person, now: number, mayEnd: (grant: Grant) => boolean = () => true): { next: AccessRequest; events: EventDraft[] } {
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
  const steps = request.grants.map((g) =>
    active.includes(g) || inFlight.includes(g)
      ? grantTransitions.endNow(g, person, now)
      : withdraw.includes(g)
        ? grantTransitions.cancel(g, person, now, request.id, 'withdrawn while waiting for approval: the requester ended the request')
        : { grant: g, events: [] },
  );
  const events = steps.flatMap((s) => s.events);
  // Ends first, then withdrawals: the order the log has always told them in.
  return { next: { ...request, grants: steps.map((s) => s.grant) }, events: [...events.filter((e) => e.type !== 'cancelled'), ...events.filter((e) => e.type === 'cancelled')] };
}

// ---- Notifications: what the channel and the requester were last shown, as keys.

/** Changes when the approvals message should change: a grant's status, one more approval, or an early end. */
export function channelKey(request: AccessRequest): string {
  const grants = request.grants.map((g) => `${g.id}=${STATUS_TABLE[g.status].shownInChannel ? g.status : 'busy'}:${g.approvals.length}`).join(',');
  return `${grants}${request.grants.some((g) => g.endedEarlyBy) ? `:ending${request.grants.filter((g) => g.endedEarlyBy).length}` : ''}`;
}

/** Changes when a grant reaches news for the requester (active, denied, expired, failed, ended). */
export function requesterKey(request: AccessRequest): string {
  // A window being removed is still the news "active" until it has ended.
  return request.grants.map((g) => `${g.id}=${g.status === 'REVOKING' ? 'ACTIVE' : STATUS_TABLE[g.status].toldRequester ? g.status : '-'}`).join(',');
}

const NOTHING_TOLD = (request: AccessRequest) => request.grants.map((g) => `${g.id}=-`).join(',');

export function channelNeedsUpdate(request: AccessRequest): boolean {
  // While every grant is between steps (granting, revoking) the message stays as it was.
  if (request.grants.every((g) => !STATUS_TABLE[g.status].shownInChannel)) return false;
  return messageOf(request, 'channel')?.shown !== channelKey(request);
}

export function requesterNeedsTelling(request: AccessRequest): boolean {
  const key = requesterKey(request);
  return key !== (messageOf(request, 'requester-dm')?.shown ?? NOTHING_TOLD(request)) && key !== NOTHING_TOLD(request);
}

export function needsNotification(request: AccessRequest): boolean {
  return channelNeedsUpdate(request) || requesterNeedsTelling(request);
}

// ---- Due times: when the request next needs a timer or a sweep, all listed in one place.

/**
 * What can fall due. A new kind (a reminder, an extend warning) is a new entry here and a new
 * case in dueTimes: the store indexes the earliest of them, whatever their kinds.
 */
export type DueKind = 'expiry' | 'window-end' | 'grant' | 'claim' | 'news';

export interface DueTime {
  kind: DueKind;
  at: number;
  /** The grant it concerns; absent for the request's own (news). */
  grantId?: string;
}

function grantDueTime(request: AccessRequest, grant: Grant): DueTime | undefined {
  const at = (kind: DueKind, time: number): DueTime => ({ kind, at: time, grantId: grant.id });
  switch (grant.status) {
    case 'PENDING':
      return at('expiry', request.expiresAt);
    case 'ACTIVE':
      return grant.endsAt === undefined ? undefined : at('window-end', grant.endsAt);
    case 'APPROVED':
      return at('grant', grant.decidedAt ?? request.createdAt);
    case 'GRANTING':
    case 'REVOKING':
      return at('claim', grant.claimUntil ?? 0);
    default:
      return undefined;
  }
}

/** Everything about the request that falls due, whenever it does: each grant's own work, and news not yet told. */
export function dueTimes(request: AccessRequest): DueTime[] {
  const times = request.grants.map((g) => grantDueTime(request, g)).filter((t): t is DueTime => t !== undefined);
  if (needsNotification(request)) times.push({ kind: 'news', at: request.newsRetryAt ?? request.updatedAt });
  return times;
}

const earliest = (times: DueTime[]): number | undefined => (times.length > 0 ? Math.min(...times.map((t) => t.at)) : undefined);

/** When one grant's own work is due (expiry, grant, end of window, retry), if ever. */
export function grantWorkDueAt(request: AccessRequest, grant: Grant): number | undefined {
  return grantDueTime(request, grant)?.at;
}

/** When the request's own work is due, leaving notifications aside: what a timer or schedule is armed for. */
export function workDueAt(request: AccessRequest): number | undefined {
  return earliest(dueTimes(request).filter((t) => t.kind !== 'news'));
}

/** When the request next needs attention from a timer or a sweep, if ever: the earliest of all its due times. */
export function dueAt(request: AccessRequest): number | undefined {
  return earliest(dueTimes(request));
}
