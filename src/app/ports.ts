import type { DiscoveredOrganization } from '../domain/catalogue';
import type { AccessRequest, Grant, MessageRef } from '../domain/access-request';
import type { Deciders } from '../domain/approvers';
import type { AuditEvent } from '../domain/audit';
import type { ProvisionTarget } from '../domain/grant-target';
import type { Lease } from '../domain/lease';
import type { Person } from '../domain/policy';

// The errors ports throw live with every other coded error; re-exported for adapters.
export { AssignmentStillInProgressError, MessageGoneError, StoreConflictError } from '../domain/errors';
export type { MessageRef } from '../domain/access-request';

/**
 * A person's own requests and the requests waiting for a decision, for App Home and
 * `/aws-access list`: each read costs what it returns (an index), never a scan of the table.
 */
export interface RequestReads {
  /** `slackUserId`'s requests, newest first, at most `limit` (the requester index). */
  listByRequester(slackUserId: string, limit: number): Promise<AccessRequest[]>;
  /**
   * Requests with a grant still waiting for approval, oldest first, at most `limit`. Read from
   * the due index (a pending request is due at its expiry), so its cost is bounded by the open
   * requests (those filed within durations.pendingExpiry, at most limits.maxPendingPerRequester
   * per person), not by history. Which of them a person may decide is the rules' business.
   */
  listAwaitingApproval(limit: number): Promise<AccessRequest[]>;
}

/** The requests: conditional writes on the version read, and the reads the sweep and the doors need. */
export interface RequestStore extends RequestReads {
  /** Creates a new request; fails with StoreConflictError if the id exists. */
  createRequest(request: AccessRequest): Promise<void>;
  getRequest(id: string): Promise<AccessRequest | undefined>;
  /**
   * Writes `request` with version + 1, only if the stored version is still `request.version`.
   * Returns what was written. Throws StoreConflictError otherwise.
   */
  saveRequest(request: AccessRequest): Promise<AccessRequest>;
  /** Requests that need attention at or before `before` (due time index), oldest first. */
  listDue(before: number): Promise<AccessRequest[]>;
  /**
   * How many requests `requesterSlackUserId` filed at or after `filedSince` still have a grant
   * waiting for approval (a read of that person's requests, not of the table).
   */
  countAwaitingApproval(requesterSlackUserId: string, filedSince: number): Promise<number>;
}

/**
 * The audit log: append-only, per request. Events are appended by the write of the request that
 * records them (createRequest and saveRequest append `lastEvents`), never on their own.
 */
export interface AuditLog {
  /** A request's events, in the order they were appended. */
  listAudit(requestId: string): Promise<AuditEvent[]>;
  /**
   * One page of the requests that may hold an event in [from, to] (by the time of their last
   * event, through an index: never a scan), each with its whole log as stored, in order. Pass the
   * page's `next` to get the following one; no `next`: that was the last. A request that gains an
   * event while the pages are read may come again on a later page (the reader keeps it once).
   */
  readAuditPage(range: AuditRange, cursor?: AuditCursor): Promise<AuditPage>;
}

export type AuditCursor = Record<string, unknown>;

export interface AuditPage {
  records: AuditRecord[];
  next?: AuditCursor;
}

export interface AuditRange {
  from: number;
  to: number;
}

/** A request and its audit log as stored (the log may have been tampered with: audit verify checks it). */
export interface AuditRecord {
  request: AccessRequest;
  events: AuditEvent[];
}

/** The leases: which grants hold each target, and what Timebox did to it (see domain/lease.ts). */
export interface LeaseStore {
  getLease(key: string): Promise<Lease | undefined>;
  /**
   * Writes the lease if the stored one is the same lifetime (`lease.generation`) and still has
   * `expectedVersion` (undefined: no lease may exist). Throws StoreConflictError otherwise.
   */
  putLease(lease: Lease, expectedVersion: number | undefined): Promise<void>;
  /** Deletes the lease if the stored one is still exactly `lease` (generation and version). */
  deleteLease(lease: Pick<Lease, 'key' | 'generation' | 'version'>): Promise<void>;
  /** Every lease: what Timebox believes it holds (for the reconciler), and the keys of items no schema version can read. */
  listLeases(): Promise<LeaseListing>;
}

/**
 * Short-lived named locks across processes (Lambda containers): one holder at a time, until it
 * lets go or its time runs out, so a holder that crashed never blocks for ever.
 */
export interface LockStore {
  /** Takes `name` for `owner` until `until`, unless another owner holds it past `now`. False when taken. */
  tryLock(name: string, owner: string, until: number, now: number): Promise<boolean>;
  /** Lets go of `name` if `owner` still holds it. */
  unlock(name: string, owner: string): Promise<void>;
}

/** One store holding them all (one DynamoDB table); use cases read and write through the part they need. */
export type Store = RequestStore & AuditLog & LeaseStore & LockStore;

export interface LeaseListing {
  leases: Lease[];
  /** Lease items that could not be read (written by a newer release, or corrupt): skipped, never acted on. */
  unreadable: Array<{ key: string; reason: string }>;
}

export type OperationStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
export type ProvisionOutcome = { ok: true; membershipId?: string } | { ok: false; reason: string };
export interface ProvisionHooks {
  /** Called once AWS has accepted an asynchronous operation, before any polling, so the caller can record its id. */
  onStarted?(operationId: string): Promise<void>;
}
export interface CreateOptions {
  /**
   * An earlier attempt (this holder's, before a crash or past its poll budget, or another
   * holder's) may have started creating the target, and AWS may still be at it (an account
   * assignment shows only once its creation SUCCEEDED): look for that creation and wait for it
   * instead of starting a second one.
   */
  mayBeInFlight?: boolean;
}

/**
 * IAM Identity Center, as Timebox needs it: account assignments (SSO Admin, asynchronous:
 * create and remove poll until AWS says SUCCEEDED or FAILED, and throw past the poll budget)
 * and group memberships (Identity Store, synchronous), behind one port.
 */
export interface Provisioner {
  findUserIdByEmail(email: string): Promise<string | undefined>;
  /** The Identity Center group with this display name (GetGroupId); undefined when there is none. */
  findGroupIdByName(displayName: string): Promise<string | undefined>;
  /** Which of these groups (at most 100) the user is a member of (IsMemberInGroups). */
  memberOfGroups(userId: string, groupIds: string[]): Promise<ReadonlySet<string>>;
  /** Is the target there now? For a group, also the membership id. */
  lookup(target: ProvisionTarget): Promise<{ present: boolean; membershipId?: string }>;
  /** Never starts a second creation while one of the same account assignment is in progress (it waits for that one). */
  create(target: ProvisionTarget, hooks?: ProvisionHooks, options?: CreateOptions): Promise<ProvisionOutcome>;
  /** For a group, removes exactly `membershipId`. */
  remove(target: ProvisionTarget, membershipId: string | undefined, hooks?: ProvisionHooks): Promise<ProvisionOutcome>;
  /** Where an earlier asynchronous account operation stands. */
  operationStatus(kind: 'create' | 'delete', operationId: string): Promise<OperationStatus>;
}

/**
 * A permission set's inline policy and its provisioning to the accounts, as ending sessions
 * already issued needs them (see end-sessions.ts). Provisioning is asynchronous in AWS: `provision`
 * polls until SUCCEEDED or FAILED and throws past the poll budget.
 */
export interface PermissionSetPolicies {
  /** The permission set's session duration (DescribePermissionSet), in ms. */
  sessionDurationMs(permissionSetArn: string): Promise<number>;
  /** The inline policy as AWS holds it; undefined when there is none. */
  getInlinePolicy(permissionSetArn: string): Promise<string | undefined>;
  putInlinePolicy(permissionSetArn: string, policy: string): Promise<void>;
  /** ProvisionPermissionSet to every account it is provisioned in, then polls; a ConflictException (another provisioning running) is waited out. */
  provision(permissionSetArn: string): Promise<ProvisionOutcome>;
  /**
   * Runs `work` while no other caller edits the same permission set's policy: a read-modify-write
   * of one policy at a time, so two ends never overwrite each other's statement.
   */
  exclusive<T>(permissionSetArn: string, work: () => Promise<T>): Promise<T>;
}

/** What a revoke job knows it must remove even if the store has lost the request (see revokeFromReceipt). */
export interface HeldTarget {
  grantId: string;
  target: ProvisionTarget;
  membershipId?: string;
}

/** "Look at this request again": the worker advances it as far as its state allows. */
export interface AdvanceJob {
  requestId: string;
  /** On a window's end: the targets Timebox created for it, so a lost store cannot keep them. */
  created?: HeldTarget[];
  /** The job's time, when it is delivered ahead of it (a schedule fired early on purpose): the worker waits until then. */
  notBefore?: number;
}

/** Hands a job to the worker without waiting for it (in-process, or an async Lambda invoke). */
export interface JobQueue {
  /**
   * `known`, the request as the caller has just written it: a queue in this process may start
   * the work from it instead of a read (each write stays conditional on its version); one that
   * hands the job to another process ignores it.
   */
  dispatch(job: AdvanceJob, known?: AccessRequest): Promise<void>;
}

/** Fires a job at a time (in-process timers, or EventBridge Scheduler). One per request: a new time replaces the old. */
export interface JobScheduler {
  scheduleAt(job: AdvanceJob, at: number): Promise<void>;
  cancel(job: AdvanceJob): Promise<void>;
}

export interface SlackPerson extends Person {
  isBot?: boolean;
  deleted?: boolean;
  /** The user's own workspace (users.info `team_id`). */
  teamId?: string;
  /** A multi- or single-channel guest (`is_restricted`, `is_ultra_restricted`). */
  guest?: boolean;
  /** Slack marks users of another organisation met through a shared channel (`is_stranger`). */
  stranger?: boolean;
}

export interface UserDirectory {
  lookup(slackUserId: string): Promise<SlackPerson | undefined>;
  /** The Slack user with this email (an approver listed by email), if there is an active one; throws when Slack fails. */
  findByEmail(email: string): Promise<string | undefined>;
  /**
   * The members (Slack user ids) of a Slack user group named `@handle` or by its `S…` id; undefined
   * when the workspace has no such group (or it is disabled). Cached at most 5 minutes; throws
   * when Slack fails.
   */
  userGroupMembers(group: string): Promise<ReadonlySet<string> | undefined>;
  /** The `S…` id of a Slack user group named `@handle` (an id is returned as it is); undefined when there is no such group. */
  userGroupId(group: string): Promise<string | undefined>;
}

/**
 * Tells people what happened. Rendering (Block Kit) lives in the adapter. `deciders` names who can
 * decide each grant still waiting (shown on the approval message and its copies).
 */
export interface Notifier {
  /** Posts the approval request (or an FYI for auto-approved ones) to `channel` (a rule's own), or else the approvals channel. */
  postToApprovers(request: AccessRequest, deciders?: Deciders, channel?: string): Promise<MessageRef>;
  /** Brings an approval message up to date: one in a channel, or a copy in an approver's DM. */
  updateApproverMessage(ref: MessageRef, request: AccessRequest, deciders?: Deciders): Promise<void>;
  /** A copy of the approval message, with the same Approve / Deny, in an approver's DM. */
  postToApproverDm(slackUserId: string, request: AccessRequest, deciders: Deciders): Promise<MessageRef>;
  /** Mentions who can still decide, in the thread of the approval message at `ref`. */
  remindApprovers(ref: MessageRef, request: AccessRequest, deciders: Deciders): Promise<MessageRef>;
  /** A direct message to the requester about the request's current state; returns where it went. */
  tellRequester(request: AccessRequest, deciders?: Deciders): Promise<MessageRef>;
  /** Rewrites an earlier "access is active" DM once it is out of date, so its End button goes. */
  closeActiveDm(ref: MessageRef, request: AccessRequest): Promise<void>;
  /** A DM to the requester that `ending` windows end soon, with an Extend button. */
  warnBeforeEnd(request: AccessRequest, ending: Grant[]): Promise<MessageRef>;
  /** A loud message to the approvals channel about something an operator must fix. */
  alertApprovers(text: string): Promise<void>;
  /**
   * Break-glass access, loudly: the alert (or the reminder of an unreviewed one) mentioning its
   * approvers, with Mark reviewed and End access now, in the approvals channel, the alert channel
   * (slack.alertChannel; undefined when none is set) or one approver's DM.
   */
  postBreakGlassAlert(to: AlertDestination, alert: BreakGlassAlert): Promise<MessageRef | undefined>;
}

/** Where a break-glass alert goes. */
export type AlertDestination = { kind: 'approvals' } | { kind: 'alerts' } | { kind: 'dm'; slackUserId: string };

/** Who a break-glass alert names: Slack users and user groups to mention, and approvers it can only name (an email Slack does not know, an Identity Center group). */
export interface AlertAudience {
  users: string[];
  userGroups: string[];
  named: string[];
}

export interface BreakGlassAlert {
  request: AccessRequest;
  audience: AlertAudience;
  kind: 'alert' | 'reminder';
}

/** A revoke that has kept failing: access is outliving its window until someone fixes the cause. */
export interface StuckRevoke {
  requestId: string;
  grantId: string;
  /** The assignment or membership, in words. */
  target: string;
  attempts: number;
  /** How long past the window's end the access has lasted so far. */
  overdueMs: number;
  reason: string;
  /** True on the attempt that crossed the threshold; later attempts raise it again, quietly. */
  first: boolean;
}

/** Where a stuck revoke is raised: a metric the CloudWatch alarm watches on AWS, the log and the approvals channel everywhere. */
export interface Alarms {
  revokeStuck(stuck: StuckRevoke): Promise<void>;
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

/** What one person's App Home shows; the adapter renders it (within Slack's 100 blocks). */
export interface HomeContent {
  slackUserId: string;
  now: number;
  /** Their requests with access granted or being granted, newest first. */
  active: AccessRequest[];
  /** Their requests with a grant waiting for approval, newest first. */
  pending: AccessRequest[];
  /** Their last finished requests, newest first (at most 10). */
  finished: AccessRequest[];
  /** Requests waiting for this person's decision (as an approver of their rules), oldest first. */
  toDecide: AccessRequest[];
}

/** The App Home tab (views.publish). */
export interface HomeTab {
  publish(content: HomeContent): Promise<void>;
  /** The Slack user an approver entry's email names, if Slack knows one. */
  userIdForEmail(email: string): Promise<string | undefined>;
}

/**
 * Reads the organisation's accounts (OU path, tags) and the Identity Center permission sets from
 * AWS (Organizations + SSO Admin), paginated and within the services' rate limits. Throws when AWS
 * fails; the caller keeps its last good snapshot.
 */
export interface OrganizationReader {
  readAccounts(): Promise<DiscoveredOrganization['accounts']>;
  readPermissionSets(): Promise<DiscoveredOrganization['permissionSets']>;
}

/** The snapshot of what can be granted that rules, forms and menus read (static config, or config + discovery); declared in the domain, as the Policy holds one. */
export type { Catalogue } from '../domain/catalogue-view';

/** The last good discovery, kept in the store so a restart or a cold Lambda reads it without calling AWS. */
export interface CatalogueCache {
  readCatalogue(): Promise<(DiscoveredOrganization & { readAt: number }) | undefined>;
  writeCatalogue(found: DiscoveredOrganization & { readAt: number }): Promise<void>;
}
