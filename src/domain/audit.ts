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
