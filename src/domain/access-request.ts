import { TimeboxError } from './errors';
import type { AuditEvent } from './audit';
import type { Person } from './policy';

/**
 * PENDING ─approve×N─▶ APPROVED ─▶ GRANTING ─▶ ACTIVE ─▶ REVOKING ─▶ ENDED
 *    │                               │
 *    ├─deny─▶ DENIED                 └─▶ FAILED
 *    └─timeout─▶ EXPIRED
 * Auto-approved requests are born APPROVED.
 */
export type RequestStatus =
  | 'PENDING'
  | 'APPROVED'
  | 'DENIED'
  | 'EXPIRED'
  | 'GRANTING'
  | 'ACTIVE'
  | 'FAILED'
  | 'REVOKING'
  | 'ENDED';

export const TERMINAL_STATUSES: readonly RequestStatus[] = ['DENIED', 'EXPIRED', 'FAILED', 'ENDED'];

const ALLOWED: Record<RequestStatus, readonly RequestStatus[]> = {
  PENDING: ['APPROVED', 'DENIED', 'EXPIRED'],
  APPROVED: ['GRANTING'],
  GRANTING: ['ACTIVE', 'FAILED'],
  ACTIVE: ['REVOKING'],
  REVOKING: ['ENDED'],
  DENIED: [],
  EXPIRED: [],
  FAILED: [],
  ENDED: [],
};

export interface Approval {
  slackUserId: string;
  email?: string;
  at: number;
}

export interface AccessRequest {
  id: string;
  /** Bumped on every write; every write is conditional on the version read. */
  version: number;
  status: RequestStatus;
  requester: Person;
  accountId: string;
  accountName: string;
  permissionSetName: string;
  permissionSetArn: string;
  durationMs: number;
  reason: string;
  ruleName: string;
  autoApproved: boolean;
  approvalsRequired: number;
  approvals: Approval[];
  createdAt: number;
  /** A PENDING request nobody decides expires then. */
  expiresAt: number;
  decidedBy?: Person;
  decidedAt?: number;
  /** Identity Center user id, once resolved. */
  principalId?: string;
  activeAt?: number;
  endsAt?: number;
  /** Who ended the window before its time (the requester or an approver), if anyone did. */
  endedEarlyBy?: Person;
  endedAt?: number;
  /** Why the assignment was left in place at the end, if it was. */
  keptBecause?: string;
  failure?: string;
  /** While GRANTING or REVOKING: a worker holds the request until then; after it, a sweep may take over. */
  claimUntil?: number;
  /** How many times the revoke has been tried without success. */
  revokeAttempts?: number;
  /** How many grant attempts ended in an error (AWS refusing or unreachable); FAILED after a few. */
  grantAttempts?: number;
  lastError?: string;
  approvalMessage?: { channel: string; ts: string };
  /** The requester's "access is active" DM (it carries the End button), until it is closed at the end. */
  activeDm?: { channel: string; ts: string };
  /** What people were last told about (see notificationKey); when it differs, telling them is due. */
  notified?: string;
  /** The last outcome the requester was told about by DM (tracked apart, so a failing channel never holds a DM back). */
  toldRequester?: RequestStatus;
  updatedAt: number;
  /** The audit events of the last write, carried on the item so a crash before they reach the log loses none. */
  lastEvents?: AuditEvent[];
}

/** Statuses the approvals-channel message shows. */
const NOTIFIED_STATUSES: readonly RequestStatus[] = ['PENDING', 'APPROVED', 'DENIED', 'EXPIRED', 'ACTIVE', 'FAILED', 'ENDED'];

/** Changes when the approvals message should change: the status, one more approval, or an early end. */
export function notificationKey(request: AccessRequest): string {
  return `${request.status}:${request.approvals.length}${request.endedEarlyBy ? ':ending' : ''}`;
}

/** Outcomes the requester hears about in a direct message. */
export function isRequesterNews(status: RequestStatus): boolean {
  return ['ACTIVE', 'DENIED', 'EXPIRED', 'FAILED', 'ENDED'].includes(status);
}

export function channelNeedsUpdate(request: AccessRequest): boolean {
  return NOTIFIED_STATUSES.includes(request.status) && request.notified !== notificationKey(request);
}

export function requesterNeedsTelling(request: AccessRequest): boolean {
  return isRequesterNews(request.status) && request.toldRequester !== request.status;
}

/** Telling people is due: the channel message is behind, or the requester has not had their DM. */
export function needsNotification(request: AccessRequest): boolean {
  return channelNeedsUpdate(request) || requesterNeedsTelling(request);
}

export function isTerminal(status: RequestStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Returns the request moved to `to`, or throws if the state machine forbids it. */
export function transition(request: AccessRequest, to: RequestStatus, patch: Partial<AccessRequest> = {}): AccessRequest {
  if (!ALLOWED[request.status].includes(to)) {
    throw new TimeboxError('invalid_transition', `Request ${request.id} is ${request.status.toLowerCase()}, it cannot become ${to.toLowerCase()}.`);
  }
  return { ...request, ...patch, status: to };
}

export type Decision = 'approve' | 'deny';

/**
 * Applies one approver's click. Approval needs `approvalsRequired` distinct approvers;
 * one deny ends the request. Authorisation is checked by the caller (rules.checkApprover).
 */
export function decide(request: AccessRequest, decision: Decision, approver: Person, now: number): AccessRequest {
  if (request.status !== 'PENDING') {
    throw new TimeboxError('already_decided', `Request ${request.id} is already ${request.status.toLowerCase()}.`);
  }
  if (now >= request.expiresAt) {
    throw new TimeboxError('already_decided', `Request ${request.id} has expired.`);
  }
  if (decision === 'deny') {
    return transition(request, 'DENIED', { decidedBy: approver, decidedAt: now });
  }
  if (request.approvals.some((a) => a.slackUserId === approver.slackUserId)) {
    throw new TimeboxError('already_approved_by_you', `You have already approved request ${request.id}.`);
  }
  const approvals = [...request.approvals, { slackUserId: approver.slackUserId, email: approver.email, at: now }];
  if (approvals.length < request.approvalsRequired) {
    return { ...request, approvals };
  }
  return transition(request, 'APPROVED', { approvals, decidedBy: approver, decidedAt: now });
}

/**
 * Ends an active window now, at the request of `by` (authorised by the caller: the requester, or
 * an approver of the rule). The revoke itself is the ordinary one, due at once.
 */
export function endEarly(request: AccessRequest, by: Person, now: number): AccessRequest {
  switch (request.status) {
    case 'ACTIVE':
      if (request.endedEarlyBy || (request.endsAt ?? 0) <= now) throw new TimeboxError('already_ending', `Request ${request.id}'s access is already being removed.`);
      return { ...request, endsAt: now, endedEarlyBy: by };
    case 'REVOKING':
      throw new TimeboxError('already_ending', `Request ${request.id}'s access is already being removed.`);
    case 'APPROVED':
    case 'GRANTING':
      throw new TimeboxError('not_active_yet', `Request ${request.id} is still being granted; end it once it is active.`);
    case 'PENDING':
      throw new TimeboxError('not_active_yet', `Request ${request.id} is waiting for approval, so there is no access to end yet.`);
    default:
      throw new TimeboxError('already_over', `Request ${request.id} is ${request.status.toLowerCase()}; there is no access to end.`);
  }
}

/** When the request next needs attention from a timer or a sweep, if ever. */
export function dueAt(request: AccessRequest): number | undefined {
  const work = workDueAt(request);
  if (!needsNotification(request)) return work;
  return Math.min(work ?? Infinity, request.updatedAt);
}

/** When the request's own work is due (an expiry, a grant, the end of a window, a retry), leaving notifications aside. */
export function workDueAt(request: AccessRequest): number | undefined {
  switch (request.status) {
    case 'PENDING':
      return request.expiresAt;
    case 'ACTIVE':
      return request.endsAt;
    case 'APPROVED':
      return request.decidedAt ?? request.createdAt;
    case 'GRANTING':
    case 'REVOKING':
      return request.claimUntil ?? 0;
    default:
      return undefined;
  }
}
