import type { AccessRequest } from '../domain/access-request';
import type { AssignmentLease, AssignmentTarget } from '../domain/assignment-lease';
import type { AuditEvent } from '../domain/audit';
import type { Person } from '../domain/policy';

/** A write lost a race: someone else changed the item first. Re-read and decide again. */
export class StoreConflictError extends Error {
  readonly code = 'store_conflict';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreConflictError';
  }
}

export interface RequestStore {
  /** Creates a new request; fails with StoreConflictError if the id exists. */
  createRequest(request: AccessRequest): Promise<void>;
  getRequest(id: string): Promise<AccessRequest | undefined>;
  /**
   * Writes `request` with version + 1, only if the stored version is still `request.version`.
   * Returns what was written. Throws StoreConflictError otherwise.
   */
  saveRequest(request: AccessRequest): Promise<AccessRequest>;
  /** Requests that need attention at or before `before` (due time index), oldest first. */
  listDue(before: number, limit?: number): Promise<AccessRequest[]>;
  /** Appends an audit event; appending the same (requestId, seq) twice keeps the first. */
  appendAudit(event: AuditEvent): Promise<void>;
  listAudit(requestId: string): Promise<AuditEvent[]>;
  getLease(key: string): Promise<AssignmentLease | undefined>;
  /** Writes the lease if the stored one still has `expectedVersion` (undefined: must not exist). */
  putLease(lease: AssignmentLease, expectedVersion: number | undefined): Promise<void>;
  deleteLease(key: string, expectedVersion: number): Promise<void>;
  /** Every lease: the assignments Timebox believes it holds (for the reconciler). */
  listLeases(): Promise<AssignmentLease[]>;
}

/** AWS still says IN_PROGRESS after the adapter's poll budget: not an error, just not done yet. */
export class AssignmentStillInProgressError extends Error {
  readonly code = 'still_in_progress';
  constructor(readonly operationId: string) {
    super(`assignment operation ${operationId} still IN_PROGRESS after the poll budget`);
    this.name = 'AssignmentStillInProgressError';
  }
}

export type AssignmentOutcome = { ok: true } | { ok: false; reason: string };

/**
 * IAM Identity Center, as Timebox needs it. Create and delete poll until AWS says SUCCEEDED or
 * FAILED; past the adapter's poll budget they throw, and the request is picked up again later.
 */
export interface IdentityCenter {
  findUserIdByEmail(email: string): Promise<string | undefined>;
  hasAssignment(target: AssignmentTarget): Promise<boolean>;
  createAssignment(target: AssignmentTarget): Promise<AssignmentOutcome>;
  deleteAssignment(target: AssignmentTarget): Promise<AssignmentOutcome>;
}

/** "Look at this request again": the worker advances it as far as its state allows. */
export interface AdvanceJob {
  requestId: string;
}

/** Hands a job to the worker without waiting for it (in-process, or an async Lambda invoke). */
export interface JobQueue {
  dispatch(job: AdvanceJob): Promise<void>;
}

/** Fires a job at a time (in-process timers, or EventBridge Scheduler). Idempotent per request. */
export interface JobScheduler {
  scheduleAt(job: AdvanceJob, at: number): Promise<void>;
  cancel(job: AdvanceJob): Promise<void>;
}

export interface SlackPerson extends Person {
  isBot?: boolean;
  deleted?: boolean;
}

export interface UserDirectory {
  lookup(slackUserId: string): Promise<SlackPerson | undefined>;
}

export interface MessageRef {
  channel: string;
  ts: string;
}

/**
 * The approvals message (or its channel) is gone for good: deleted, archived, or the bot removed.
 * Retrying cannot help; the notifier's caller decides what to do instead.
 */
export class MessageGoneError extends Error {
  readonly code = 'message_gone';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MessageGoneError';
  }
}

/** Tells people what happened. Rendering (Block Kit) lives in the adapter. */
export interface Notifier {
  /** Posts the approval request (or an FYI for auto-approved ones) to the approvals channel. */
  postToApprovers(request: AccessRequest): Promise<MessageRef>;
  updateApproverMessage(ref: MessageRef, request: AccessRequest): Promise<void>;
  /** A direct message to the requester about the request's current state; returns where it went. */
  tellRequester(request: AccessRequest): Promise<MessageRef>;
  /** Rewrites the requester's "access is active" DM once the window is over, so its End button goes. */
  closeActiveDm(ref: MessageRef, request: AccessRequest): Promise<void>;
}

export interface Clock {
  now(): number;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}
