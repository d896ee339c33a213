import { TimeboxError } from './errors';
import { SYSTEM_ACTOR, type AuditEvent, type ChainHead, type EventDraft } from './audit';
import type { GrantTarget } from './grant-target';
import { asPerson, samePerson, type Person } from './policy';
import { STATUS_TABLE, type GrantStatus } from './grant-status';
import { extendWarningAt, type ExtensionOf, type ExtensionRecord } from './extension';
import type { SessionEnd } from './session-end';
import { alertNeedsSending, reviewReminderAt, type Review } from './break-glass';
import type { Ticket } from './ticket';

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
  /** The rule's OU or tag entry that took the account at filing, as shown ("ou:ou-ab12-cdef34gh (Workloads)", "tag:env=dev"); unset for an account named directly. */
  matchedBy?: string;
  /** How long the permission set's AWS sessions lasted at filing, when the catalogue knew: they can outlive the window. */
  sessionDurationMs?: number;
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
export const MESSAGE_KINDS = ['channel', 'requester-dm', 'approval-copy', 'reminders', 'extend-warning', 'break-glass-alert'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export interface ShownMessage {
  kind: MessageKind;
  /**
   * Where the message is: the approvals message once posted; the requester's DM only while it
   * carries the End button (while access is active), until it is closed.
   */
  ref?: MessageRef;
  /** The key of what it last showed (channelKey, requesterKey); when it differs, an update is due. For 'reminders': how many were sent. */
  shown?: string;
  /** For an 'approval-copy': the channel (C…) or the approver (U…) it was sent to. */
  to?: string;
  /** For 'reminders': when the next one is due (set by whoever sent the last, from the config's reminders). */
  dueAt?: number;
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
  // ---- Extensions (see extension.ts).
  /** This request is an extension of another: approved, it moves that request's window end instead of granting. */
  extends?: ExtensionOf;
  /** The extensions filed for this request, in order, and which of its grants each has moved. */
  extensions?: ExtensionRecord[];
  /**
   * How long before a window's end the requester is warned (durations.extendWarning when filed);
   * absent: never. The latest end warned about is the 'extend-warning' message's `shown`.
   */
  extendWarningMs?: number;
  /** Ending sessions already issued, one per grant whose assignment Timebox removed under an endSessions rule (see session-end.ts). */
  sessionEnds?: SessionEnd[];
  /** Filed with `/aws-access breakglass`: granted at once without an approver, loudly, and reviewed after. */
  breakGlass?: boolean;
  /** A break-glass request's review (not a decision: the access was granted at filing). */
  review?: Review;
  /** The ticket the reason names, when a rule asks for one (rules[].ticketPattern), with its link. */
  ticket?: Ticket;
}

export const isTerminal = (status: GrantStatus): boolean => STATUS_TABLE[status].terminal;
export const holdsAccess = (status: GrantStatus): boolean => STATUS_TABLE[status].holdsAccess;

/** The order statuses are reported in when grants differ: the one furthest from done leads. */
const OPEN_ORDER: readonly GrantStatus[] = ['GRANTING', 'APPROVED', 'REVOKING', 'PENDING', 'ACTIVE'];
const DONE_ORDER: readonly GrantStatus[] = ['APPLIED', 'ENDED', 'FAILED', 'DENIED', 'CANCELLED', 'EXPIRED'];

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
  const next: ShownMessage = {
    kind,
    ...(merged.ref ? { ref: merged.ref } : {}),
    ...(merged.shown !== undefined ? { shown: merged.shown } : {}),
    ...(merged.dueAt !== undefined ? { dueAt: merged.dueAt } : {}),
  };
  const kept = next.ref !== undefined || next.shown !== undefined;
  const messages = request.messages.some((m) => m.kind === kind) ? request.messages.map((m) => (m.kind === kind ? next : m)) : [...request.messages, next];
  return { ...request, messages: messages.filter((m) => m.kind !== kind || kept) };
}

/** The copies of the approval message beyond the first channel's: in other rules' channels, and in approvers' DMs. */
export const copiesOf = (request: Pick<AccessRequest, 'messages'>): ShownMessage[] => request.messages.filter((m) => m.kind === 'approval-copy');

/** The request with the copy sent to `to` changed (or added): a copy is kept even before it is posted, so a failed post is tried again. */
export function withCopy(request: AccessRequest, to: string, change: MessageChange): AccessRequest {
  const old = copiesOf(request).find((m) => m.to === to);
  const merged: ShownMessage = { ...old, ...change, kind: 'approval-copy', to };
  const next: ShownMessage = { kind: 'approval-copy', to, ...(merged.ref ? { ref: merged.ref } : {}), ...(merged.shown !== undefined ? { shown: merged.shown } : {}) };
  return { ...request, messages: old ? request.messages.map((m) => (m === old ? next : m)) : [...request.messages, next] };
}

/** Every approval message a button may sit on: the first channel's, and every copy posted. */
export const approvalRefs = (request: Pick<AccessRequest, 'messages'>): MessageRef[] =>
  request.messages.filter((m) => m.kind === 'channel' || m.kind === 'approval-copy').flatMap((m) => (m.ref ? [m.ref] : []));

/** How many reminders were sent so far. */
export const remindersSent = (request: Pick<AccessRequest, 'messages'>): number => Number(messageOf(request, 'reminders')?.shown ?? 0);

/** When the next reminder is due: only while a grant waits for approval. */
export function reminderDueAt(request: Pick<AccessRequest, 'messages' | 'grants'>): number | undefined {
  if (!request.grants.some((g) => g.status === 'PENDING')) return undefined;
  return messageOf(request, 'reminders')?.dueAt;
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

/** `from`, when given, narrows the table's moves to the statuses this transition starts from (FAILED is reached from GRANTING and, for an extension, from APPROVED). */
function move(grant: Grant, to: GrantStatus, patch: Partial<Grant>, requestId: string, from?: readonly GrantStatus[]): Grant {
  if (!STATUS_TABLE[grant.status].next.includes(to) || (from !== undefined && !from.includes(grant.status))) {
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
  fail: (g: Grant, failure: string, requestId: string) => step(move(g, 'FAILED', { failure, claimUntil: undefined }, requestId, ['GRANTING']), { type: 'grant_failed', actor: SYSTEM_ACTOR, detail: failure }),
  startRevoking: (g: Grant, claimUntil: number, requestId: string) => step(move(g, 'REVOKING', { claimUntil }, requestId), { type: 'revoke_started', actor: SYSTEM_ACTOR }),
  end: (g: Grant, now: number, keptBecause: string | undefined, requestId: string) =>
    step(
      move(g, 'ENDED', { endedAt: now, claimUntil: undefined, lastError: undefined, ...(keptBecause ? { keptBecause } : {}) }, requestId),
      ...(keptBecause ? [{ type: 'assignment_kept' as const, actor: SYSTEM_ACTOR, detail: keptBecause }] : []),
      { type: 'revoked', actor: SYSTEM_ACTOR, detail: keptBecause ? 'kept' : 'removed' },
    ),
  /** An extension's approved grant once the original window (`originalId`) ends at `endsAt`. */
  apply: (g: Grant, endsAt: number, requestId: string, originalId: string) =>
    step(move(g, 'APPLIED', { endsAt }, requestId), { type: 'extended', actor: SYSTEM_ACTOR, detail: `${originalId}'s window now ends ${new Date(endsAt).toISOString()}` }),
  /** An extension's approved grant whose window could no longer be moved (ended, ended early, being removed). */
  notApplied: (g: Grant, failure: string, requestId: string) =>
    step(move(g, 'FAILED', { failure }, requestId, ['APPROVED']), { type: 'grant_failed', actor: SYSTEM_ACTOR, detail: failure }),
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
  const moved = (request.extensions ?? []).reduce((n, e) => n + e.applied.length, 0);
  return `${grants}${request.grants.some((g) => g.endedEarlyBy) ? `:ending${request.grants.filter((g) => g.endedEarlyBy).length}` : ''}${moved > 0 ? `:extended${moved}` : ''}${sessionsEndedKey(request)}${request.review?.at !== undefined ? ':reviewed' : ''}`;
}

/** Sessions ended after a grant's end are news of their own, for the channel and the requester. */
function sessionsEndedKey(request: AccessRequest): string {
  const done = (request.sessionEnds ?? []).filter((s) => s.doneAt !== undefined);
  return done.length > 0 ? `:sessions${done.map((s) => s.grantId).join('+')}` : '';
}

/**
 * Changes when a grant reaches news for the requester: filed and waiting, each approval, approved,
 * active, and every outcome.
 */
export function requesterKey(request: AccessRequest): string {
  return request.grants.map((g) => `${g.id}=${toldAs(g)}`).join(',') + sessionsEndedKey(request);
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
  return messageOf(request, 'channel')?.shown !== channelKey(request);
}

export function requesterNeedsTelling(request: AccessRequest): boolean {
  const key = requesterKey(request);
  return key !== (messageOf(request, 'requester-dm')?.shown ?? NOTHING_TOLD(request)) && key !== NOTHING_TOLD(request);
}

/** A copy not yet posted (its post failed), or posted and showing less than the request does now. */
export function copiesNeedUpdate(request: AccessRequest): boolean {
  if (request.grants.every((g) => !STATUS_TABLE[g.status].shownInChannel)) return false;
  const key = channelKey(request);
  return copiesOf(request).some((m) => (m.ref ? m.shown !== key : m.shown === undefined));
}

export function needsNotification(request: AccessRequest): boolean {
  return channelNeedsUpdate(request) || copiesNeedUpdate(request) || requesterNeedsTelling(request) || alertNeedsSending(request);
}

// ---- Due times: when the request next needs a timer or a sweep, all listed in one place.

/**
 * What can fall due. A new kind (a reminder, an extend warning) is a new entry here and a new
 * case in dueTimes: the store indexes the earliest of them, whatever their kinds.
 */
export type DueKind = 'expiry' | 'window-end' | 'grant' | 'claim' | 'reminder' | 'news' | 'extend-warning' | 'end-sessions' | 'review-reminder';

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
  const reminder = reminderDueAt(request);
  if (reminder !== undefined) times.push({ kind: 'reminder', at: reminder });
  for (const s of request.sessionEnds ?? []) if (s.doneAt === undefined) times.push({ kind: 'end-sessions', at: s.dueAt, grantId: s.grantId });
  if (needsNotification(request)) times.push({ kind: 'news', at: request.newsRetryAt ?? request.updatedAt });
  const warning = extendWarningAt(request);
  if (warning !== undefined) times.push({ kind: 'extend-warning', at: warning });
  const remindAt = reviewReminderAt(request);
  if (remindAt !== undefined) times.push({ kind: 'review-reminder', at: remindAt });
  return times;
}

const earliest = (times: DueTime[]): number | undefined => (times.length > 0 ? Math.min(...times.map((t) => t.at)) : undefined);

/** When one grant's own work is due (expiry, grant, end of window, retry), if ever. */
export function grantWorkDueAt(request: AccessRequest, grant: Grant): number | undefined {
  return grantDueTime(request, grant)?.at;
}

/** Due times that are news to tell (the news, reminders, the extend warning), not work on the grants. */
const TELLING: readonly DueKind[] = ['news', 'reminder', 'extend-warning', 'review-reminder'];

/** When the request's own work is due (its grants'), leaving news, reminders and the extend warning aside. */
export function workDueAt(request: AccessRequest): number | undefined {
  return earliest(dueTimes(request).filter((t) => !TELLING.includes(t.kind)));
}

/**
 * What a timer or schedule is armed for: the earliest of the grants' work, the next reminder and
 * the extend warning, after `after` (news is the sweep's). Each is armed when it is the next, so
 * none can starve another.
 */
export function timerDueAt(request: AccessRequest, after = -Infinity): number | undefined {
  return earliest(dueTimes(request).filter((t) => t.kind !== 'news' && t.at > after));
}

/** When the request next needs attention from a timer or a sweep, if ever: the earliest of all its due times. */
export function dueAt(request: AccessRequest): number | undefined {
  return earliest(dueTimes(request));
}
