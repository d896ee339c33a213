import type { Policy } from '../domain/policy';
import type { Alarms, AuditLog, Clock, HomeTab, JobQueue, JobScheduler, LeaseStore, LockStore, Logger, Notifier, PermissionSetPolicies, Provisioner, RequestStore, UserDirectory } from './ports';

export interface WorkflowOptions {
  /** How long a worker holds a GRANTING/REVOKING request before a sweep may take it over. */
  claimMs: number;
  /** How long a grant waits for another grant's revoke of the same assignment to finish. */
  leaseWaitMs: number;
  /** Pause between looks at a busy lease. */
  leasePollMs: number;
  /** First delay before a failed revoke is tried again; doubles each time, up to 5 minutes. */
  revokeRetryMs: number;
  /** First delay before telling people is tried again after Slack failed; doubles, up to 15 minutes. */
  newsRetryMs: number;
  /** Failed passes after which news about a request that is over is given up (and audited). */
  newsAttempts: number;
  /** A revoke still failing after this many attempts, or this long past the window's end, raises the stuck-revoke alarm. */
  revokeStuckAttempts: number;
  revokeStuckMs: number;
  /**
   * App Home: 0 republishes the Homes a change concerns at once, as part of the notify pass
   * (Lambda: nothing runs after the invocation); above 0, that long after the change, once per
   * person however many changes come meanwhile (the local process, where a flood of requests
   * would otherwise read every waiting request once per request and per approver).
   */
  homeRefreshDelayMs: number;
  /**
   * How many times an audit note (a refused click, a repair) that keeps losing its race to other
   * writes of the request is tried again, backing off with jitter, before it is logged in full at
   * error level instead. Generous: a note is only lost when the store refuses it that long.
   */
  noteRetries: number;
}

export const DEFAULT_WORKFLOW_OPTIONS: WorkflowOptions = {
  // Longer than a lease wait (60 s) plus the Identity Center poll budget (120 s), so the sweep
  // never hands out a grant whose worker may still be on it.
  claimMs: 200_000,
  leaseWaitMs: 60_000,
  leasePollMs: 500,
  revokeRetryMs: 15_000,
  newsRetryMs: 30_000,
  newsAttempts: 6,
  homeRefreshDelayMs: 0,
  revokeStuckAttempts: 5,
  revokeStuckMs: 15 * 60_000,
  // About 15 s of backing off (200 ms at most per round, jittered) before a note is given up.
  noteRetries: 150,
};

/** Everything a use case may touch. Entry points build one of these; tests build their own. */
export interface WorkflowDeps {
  policy: Policy;
  /** One store for now; a use case could take only the part it needs (requests, audit, leases). */
  store: RequestStore & AuditLog & LeaseStore & LockStore;
  provisioner: Provisioner;
  /** Permission set inline policies and provisioning: ending sessions already issued (endSessions rules). */
  permissionSets: PermissionSetPolicies;
  queue: JobQueue;
  scheduler: JobScheduler;
  directory: UserDirectory;
  notifier: Notifier;
  /** App Home, where the door has one (kept up to date best effort, never on the path of a grant or revoke). */
  home?: HomeTab;
  alarms: Alarms;
  clock: Clock;
  logger: Logger;
  options: WorkflowOptions;
  newRequestId(): string;
  /** An id never handed out before: a new lease's generation. */
  newGeneration(): string;
  requestIdFor(idempotencyKey: string): string;
  sleep(ms: number): Promise<void>;
  /** Hex SHA-256, for the audit chain. */
  sha256(text: string): string;
}
