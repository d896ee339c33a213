import type { GrantStatus } from './grant-status';

/** An append-only record of one thing that happened to a request. Never updated or deleted. */
export interface AuditEvent {
  requestId: string;
  /** The grant it concerns; absent for events about the whole request. */
  grantId?: string;
  /** Milliseconds since the epoch. */
  at: number;
  /** Unique within the request, so two events at the same millisecond both survive. */
  seq: string;
  type: AuditEventType;
  /** Slack user id of the person who caused it, or "timebox" for the system. */
  actor: string;
  /** The grant's status before and after (or the request's, for request events). */
  from?: GrantStatus;
  to?: GrantStatus;
  detail?: string;
  /** The hash of the request's event before this one ('' for its first); absent on events from before the chain. */
  prev?: string;
  /** This event's own hash (see chain below). */
  hash?: string;
}

export const AUDIT_EVENT_TYPES = [
  'requested',
  'approval_recorded',
  'approved',
  'auto_approved',
  'denied',
  'expired',
  /** A pending grant withdrawn by its requester (ending the request withdraws what is still waiting). */
  'cancelled',
  /** Someone other than the requester tried to cancel a request. */
  'cancel_refused',
  'grant_started',
  'granted',
  'grant_failed',
  'ended_early',
  /** A window's end moved later by an extension (on the original request, and on the extension). */
  'extended',
  'end_refused',
  'revoke_started',
  'revoked',
  'assignment_kept',
  'revoke_failed',
  'revoke_stuck',
  'decision_refused',
  'reconciled',
  'grant_stalled',
  'news_undeliverable',
  'news_given_up',
  /** The sessions a grant's user had open were ended (a deny in the permission set, provisioned). */
  'sessions_ended',
  /** An attempt at ending them failed (retried), or was given up. */
  'sessions_end_failed',
  /** Break-glass access filed: granted at once without an approver, alerted, to be reviewed. */
  'break_glass',
  /** An approver marked break-glass access reviewed (a record, not a decision). */
  'reviewed',
  /** A break-glass request still unreviewed at its review time: its approvers were reminded. */
  'review_reminded',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export const SYSTEM_ACTOR = 'timebox';

/** An audit event as a transition or a use case states it; the write adds the request, time, seq and statuses. */
export interface EventDraft {
  type: AuditEventType;
  actor: string;
  /** The grant the event is about; its status before and after are recorded. */
  grantId?: string;
  detail?: string;
}

/**
 * The chain: each event of a request carries the hash of the event before it in that request
 * (`prev`, '' for the first) and its own (`hash`), so an event edited, removed or moved is seen
 * by recomputing (see verifyChain). The shape hashed is versioned: a hash reads `<version>:<hex>`,
 * so a later shape can be added beside this one and old chains still check.
 */
export const CHAIN_VERSION = 1;

export interface ChainHead {
  /** The hash of the request's last event ('' before the first). */
  hash: string;
  /** How many events the request's chain holds. */
  count: number;
}

export const EMPTY_CHAIN: ChainHead = { hash: '', count: 0 };

/** What is hashed, in a fixed order: every field of the event but its own hash. */
function chainedFields(e: AuditEvent): unknown[] {
  return [CHAIN_VERSION, e.requestId, e.grantId ?? null, e.at, e.seq, e.type, e.actor, e.from ?? null, e.to ?? null, e.detail ?? null, e.prev ?? ''];
}

/** Hex SHA-256 of text: given by the caller (an adapter computes it), so the domain imports nothing. */
export type Sha256 = (text: string) => string;

/** The event's own hash: SHA-256 of the chained fields as JSON. */
export function hashOf(event: AuditEvent, sha256: Sha256): string {
  return `${CHAIN_VERSION}:${sha256(JSON.stringify(chainedFields(event)))}`;
}

/** Links `events` (in order) after `head`: each gets the previous hash and its own. Returns them and the new head. */
export function chain(head: ChainHead, events: AuditEvent[], sha256: Sha256): { events: AuditEvent[]; head: ChainHead } {
  let prev = head.hash;
  const linked = events.map((event) => {
    const withPrev: AuditEvent = { ...event, prev };
    const hash = hashOf(withPrev, sha256);
    prev = hash;
    return { ...withPrev, hash };
  });
  return { events: linked, head: { hash: prev, count: head.count + linked.length } };
}

export interface ChainProblem {
  requestId: string;
  /** The seq of the event where the chain breaks (absent: the chain's end). */
  seq?: string;
  problem: 'altered' | 'removed or reordered' | 'truncated';
  detail: string;
}

/**
 * Recomputes one request's chain from its stored events (in stored order) and the head its
 * request records. Events written before the chain (no hash) are counted, not checked.
 */
export function verifyChain(requestId: string, events: AuditEvent[], head: ChainHead | undefined, sha256: Sha256): { checked: number; unchained: number; problems: ChainProblem[] } {
  const problems: ChainProblem[] = [];
  let prev = '';
  let checked = 0;
  let unchained = 0;
  for (const e of events) {
    if (e.hash === undefined) {
      unchained++;
      continue;
    }
    checked++;
    if ((e.prev ?? '') !== prev) problems.push({ requestId, seq: e.seq, problem: 'removed or reordered', detail: `${e.type} (${e.seq}) follows ${prev ? prev.slice(0, 14) : 'nothing'} but names ${(e.prev ?? '').slice(0, 14) || 'nothing'} as the event before it` });
    if (hashOf(e, sha256) !== e.hash) problems.push({ requestId, seq: e.seq, problem: 'altered', detail: `${e.type} (${e.seq}) does not match its hash` });
    prev = e.hash;
  }
  if (head && head.hash !== prev) {
    problems.push({ requestId, problem: 'truncated', detail: `the request records its last event as ${head.hash.slice(0, 14)}, the log ends at ${prev.slice(0, 14) || 'nothing'}` });
  } else if (head && head.count !== checked) {
    problems.push({ requestId, problem: 'removed or reordered', detail: `the request records ${head.count} chained events, the log holds ${checked}` });
  }
  return { checked, unchained, problems };
}
