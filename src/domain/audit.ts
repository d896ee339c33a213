import type { RequestStatus } from './access-request';

/** An append-only record of one thing that happened to a request. Never updated or deleted. */
export interface AuditEvent {
  requestId: string;
  /** Milliseconds since the epoch. */
  at: number;
  /** Unique within the request, so two events at the same millisecond both survive. */
  seq: string;
  type: AuditEventType;
  /** Slack user id of the person who caused it, or "timebox" for the system. */
  actor: string;
  from?: RequestStatus;
  to?: RequestStatus;
  detail?: string;
}

export type AuditEventType =
  | 'requested'
  | 'approval_recorded'
  | 'approved'
  | 'auto_approved'
  | 'denied'
  | 'expired'
  | 'grant_started'
  | 'granted'
  | 'grant_failed'
  | 'ended_early'
  | 'end_refused'
  | 'revoke_started'
  | 'revoked'
  | 'assignment_kept'
  | 'revoke_failed'
  | 'decision_refused'
  | 'reconciled'
  | 'grant_stalled';

export const SYSTEM_ACTOR = 'timebox';
