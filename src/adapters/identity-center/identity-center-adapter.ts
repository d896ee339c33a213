import {
  CreateGroupMembershipCommand,
  DeleteGroupMembershipCommand,
  GetGroupIdCommand,
  GetGroupMembershipIdCommand,
  GetUserIdCommand,
  IdentitystoreClient,
  IsMemberInGroupsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-identitystore';
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  GetInlinePolicyForPermissionSetCommand,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  SSOAdminClient,
  type PermissionSetProvisioningStatus,
  ListAccountAssignmentsCommand,
  ListAccountAssignmentCreationStatusCommand,
  ListAccountAssignmentDeletionStatusCommand,
  type AccountAssignmentOperationStatus,
} from '@aws-sdk/client-sso-admin';
import type { ProvisionTarget } from '../../domain/grant-target';
import { AssignmentStillInProgressError, type CreateOptions, type OperationStatus, type PermissionSetPolicies, type ProvisionHooks, type ProvisionOutcome, type Provisioner } from '../../app/ports';
import { CachedLookups } from '../../lib/cached-lookups';
import { RateLimiter, type CallPriority } from './rate-limiter';
import { Semaphore } from './semaphore';

export type { CreateOptions, OperationStatus, ProvisionHooks, ProvisionOutcome, Provisioner } from '../../app/ports';

type AccountProvisionTarget = Extract<ProvisionTarget, { kind: 'account' }>;
type GroupProvisionTarget = Extract<ProvisionTarget, { kind: 'group' }>;

export interface IdentityCenterOptions {
  instanceArn: string;
  identityStoreId: string;
  /** Delays between status polls; the last one repeats until `pollBudgetMs` is spent. */
  pollDelaysMs?: number[];
  pollBudgetMs?: number;
  /** AWS allows 15 outstanding CreateAccountAssignment calls per instance; stay under it. */
  maxOutstandingCreates?: number;
  /** Calls per second to SSO Admin and to Identity Store (each), sustained; AWS throttles at about 20. */
  maxCallsPerSecond?: number;
  /** Calls that may go out at once when none went out for a while (each API); with the sustained rate, at most 20 in any second. */
  burstCalls?: number;
  /** How long the Identity Center user id of an email, and the id of a group's display name, are kept (at most 5 minutes). */
  lookupCacheMs?: number;
  /** Attempts for ConflictException ("another operation is in progress") and throttling on create/delete. */
  conflictAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** A user or group re-created in Identity Center under the same email or name is seen within this long. */
export const IDENTITY_LOOKUP_CACHE_MS = 5 * 60_000;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const errorName = (err: unknown): string => (err instanceof Error ? err.name : '');

/**
 * SSO Admin + Identity Store. The clients come from the caller, built with the SDK's own
 * settings (region, credential chain, AWS_ENDPOINT_URL_*), so this adapter never reads env.
 *
 * Account assignments are asynchronous in AWS (an operation id, then polling); group
 * memberships are synchronous, and each one has its own id, which is what removal deletes.
 */
export class IdentityCenterAdapter implements Provisioner, PermissionSetPolicies {
  private readonly creates: Semaphore;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly pollDelays: number[];
  private readonly ssoAdminRate: RateLimiter;
  private readonly identityStoreRate: RateLimiter;
  /** Email → user id and display name → group id: the directory's own facts, kept a bounded time; "none" is never kept. */
  private readonly userIds: CachedLookups<string | undefined>;
  private readonly groupIds: CachedLookups<string | undefined>;
  /** One policy edit at a time per permission set, in this process (see exclusive). */
  private readonly policyChains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly ssoAdmin: SSOAdminClient,
    private readonly identityStore: IdentitystoreClient,
    private readonly options: IdentityCenterOptions,
  ) {
    this.creates = new Semaphore(options.maxOutstandingCreates ?? 15);
    this.sleep = options.sleep ?? defaultSleep;
    this.pollDelays = options.pollDelaysMs ?? [250, 500, 1000, 2000, 4000];
    const perSecond = options.maxCallsPerSecond ?? 15;
    // 15 sustained + 5 at once: never more than the 20 a second AWS allows.
    const burst = options.burstCalls ?? Math.max(1, 20 - perSecond);
    this.ssoAdminRate = new RateLimiter(perSecond, Date.now, burst);
    this.identityStoreRate = new RateLimiter(perSecond, Date.now, burst);
    const cacheMs = Math.min(Math.max(options.lookupCacheMs ?? IDENTITY_LOOKUP_CACHE_MS, 0), IDENTITY_LOOKUP_CACHE_MS);
    const found = (id: string | undefined) => id !== undefined;
    this.userIds = new CachedLookups(cacheMs, Date.now, { keep: found });
    this.groupIds = new CachedLookups(cacheMs, Date.now, { keep: found });
  }

  findUserIdByEmail(email: string): Promise<string | undefined> {
    return this.userIds.get(email.toLowerCase(), () => this.fetchUserIdByEmail(email));
  }

  findGroupIdByName(displayName: string): Promise<string | undefined> {
    return this.groupIds.get(displayName, () => this.fetchGroupIdByName(displayName));
  }

  private async fetchUserIdByEmail(email: string): Promise<string | undefined> {
    try {
      const out = await this.ids((c) =>
        c.send(
          new GetUserIdCommand({
            IdentityStoreId: this.options.identityStoreId,
            AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: email } },
          }),
        ),
      );
      return out.UserId;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw err;
    }
  }

  private async fetchGroupIdByName(displayName: string): Promise<string | undefined> {
    try {
      const out = await this.ids((c) =>
        c.send(
          new GetGroupIdCommand({
            IdentityStoreId: this.options.identityStoreId,
            AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: displayName } },
          }),
        ),
      );
      return out.GroupId;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw err;
    }
  }

  async memberOfGroups(userId: string, groupIds: string[]): Promise<ReadonlySet<string>> {
    const out = await this.ids((c) => c.send(new IsMemberInGroupsCommand({ IdentityStoreId: this.options.identityStoreId, MemberId: { UserId: userId }, GroupIds: groupIds })));
    return new Set((out.Results ?? []).filter((r) => r.MembershipExists === true && r.GroupId).map((r) => r.GroupId as string));
  }

  async lookup(target: ProvisionTarget): Promise<{ present: boolean; membershipId?: string }> {
    return target.kind === 'account' ? { present: await this.accountAssignmentExists(target) } : this.findMembership(target);
  }

  async create(target: ProvisionTarget, hooks?: ProvisionHooks, options?: CreateOptions): Promise<ProvisionOutcome> {
    return target.kind === 'account' ? this.createAccountAssignment(target, hooks, options) : this.createMembership(target);
  }

  async remove(target: ProvisionTarget, membershipId: string | undefined, hooks?: ProvisionHooks): Promise<ProvisionOutcome> {
    if (target.kind === 'account') return this.deleteAccountAssignment(target, hooks);
    if (!membershipId) throw new Error(`removing group ${target.groupId} membership of ${target.principalId} needs its membership id`);
    return this.deleteMembership(membershipId);
  }

  async operationStatus(kind: 'create' | 'delete', operationId: string): Promise<OperationStatus> {
    const status = kind === 'create' ? await this.describeCreation(operationId) : await this.describeDeletion(operationId);
    const value = status?.Status;
    if (value !== 'IN_PROGRESS' && value !== 'SUCCEEDED' && value !== 'FAILED') {
      throw new Error(`AWS returned no usable status for assignment ${kind} operation ${operationId}: ${String(value)}`);
    }
    return value;
  }

  // ------------------------------------------------------------ account assignments

  private async accountAssignmentExists(target: AccountProvisionTarget): Promise<boolean> {
    const { instanceArn } = this.options;
    let NextToken: string | undefined;
    do {
      const input = { InstanceArn: instanceArn, AccountId: target.accountId, PermissionSetArn: target.permissionSetArn, NextToken };
      const page = await this.sso((c) => c.send(new ListAccountAssignmentsCommand(input)));
      if ((page.AccountAssignments ?? []).some((a) => a.PrincipalType === 'USER' && a.PrincipalId === target.principalId)) return true;
      NextToken = page.NextToken;
    } while (NextToken);
    return false;
  }

  private async createAccountAssignment(target: AccountProvisionTarget, hooks: ProvisionHooks | undefined, options: CreateOptions | undefined): Promise<ProvisionOutcome> {
    return this.creates.run(async () => {
      const started = await this.startCreation(target, options?.mayBeInFlight === true);
      if (started === 'present') return { ok: true };
      return this.waitFor(started, hooks, (requestId) => this.describeCreation(requestId));
    });
  }

  /**
   * The creation to wait for: one already in progress for this assignment (an earlier attempt's,
   * looked for when the caller says one may be, and whenever AWS answers ConflictException), else
   * a new one. A second CreateAccountAssignment while the first is running would, once both
   * finish, be a second creation of the same assignment. 'present' when the earlier creation
   * finished meanwhile.
   */
  private async startCreation(target: AccountProvisionTarget, mayBeInFlight: boolean): Promise<AccountAssignmentOperationStatus | 'present' | undefined> {
    if (mayBeInFlight) {
      const inFlight = await this.operationInProgress('creation', target);
      if (inFlight) return inFlight;
      // None running now: one that finished since the caller looked has made the assignment.
      if (await this.accountAssignmentExists(target)) return 'present';
    }
    // On ConflictException another operation on this assignment is running: if it is a creation, it is the one to wait for.
    return this.retryConflicts(
      async () => (await this.sso((c) => c.send(new CreateAccountAssignmentCommand(this.assignmentInput(target))))).AccountAssignmentCreationStatus,
      () => this.operationInProgress('creation', target),
    );
  }

  /**
   * A creation (deletion) of this assignment AWS is still carrying out. The listing names no
   * assignment, so each operation in progress is described (AWS allows 15 outstanding creations
   * per instance).
   */
  private async operationInProgress(kind: 'creation' | 'deletion', target: AccountProvisionTarget): Promise<AccountAssignmentOperationStatus | undefined> {
    const priority: CallPriority = kind === 'deletion' ? 'revoke' : 'normal';
    let NextToken: string | undefined;
    do {
      const input = { InstanceArn: this.options.instanceArn, Filter: { Status: 'IN_PROGRESS' as const }, NextToken };
      const page =
        kind === 'creation'
          ? await this.sso(async (c) => {
              const out = await c.send(new ListAccountAssignmentCreationStatusCommand(input));
              return { operations: out.AccountAssignmentsCreationStatus, NextToken: out.NextToken };
            })
          : await this.sso(async (c) => {
              const out = await c.send(new ListAccountAssignmentDeletionStatusCommand(input));
              return { operations: out.AccountAssignmentsDeletionStatus, NextToken: out.NextToken };
            }, priority);
      for (const op of page.operations ?? []) {
        if (!op.RequestId || op.Status !== 'IN_PROGRESS') continue;
        const status = kind === 'creation' ? await this.describeCreation(op.RequestId) : await this.describeDeletion(op.RequestId);
        const same = status?.TargetId === target.accountId && status.PermissionSetArn === target.permissionSetArn && status.PrincipalType === 'USER' && status.PrincipalId === target.principalId;
        if (same) return status;
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return undefined;
  }

  private async deleteAccountAssignment(target: AccountProvisionTarget, hooks: ProvisionHooks | undefined): Promise<ProvisionOutcome> {
    // A deletion already running (an earlier attempt's, killed after AWS accepted it) is the one
    // to wait for: AWS refuses another with ConflictException until it is done.
    const started = await this.retryConflicts(
      async () => (await this.sso((c) => c.send(new DeleteAccountAssignmentCommand(this.assignmentInput(target))), 'revoke')).AccountAssignmentDeletionStatus,
      () => this.operationInProgress('deletion', target),
    );
    return this.waitFor(started, hooks, (requestId) => this.describeDeletion(requestId));
  }

  private async describeCreation(requestId: string): Promise<AccountAssignmentOperationStatus | undefined> {
    const input = { InstanceArn: this.options.instanceArn, AccountAssignmentCreationRequestId: requestId };
    return (await this.sso((c) => c.send(new DescribeAccountAssignmentCreationStatusCommand(input)))).AccountAssignmentCreationStatus;
  }

  private async describeDeletion(requestId: string): Promise<AccountAssignmentOperationStatus | undefined> {
    const input = { InstanceArn: this.options.instanceArn, AccountAssignmentDeletionRequestId: requestId };
    return (await this.sso((c) => c.send(new DescribeAccountAssignmentDeletionStatusCommand(input)), 'revoke')).AccountAssignmentDeletionStatus;
  }

  private assignmentInput(target: AccountProvisionTarget) {
    return {
      InstanceArn: this.options.instanceArn,
      TargetId: target.accountId,
      TargetType: 'AWS_ACCOUNT' as const,
      PermissionSetArn: target.permissionSetArn,
      PrincipalType: 'USER' as const,
      PrincipalId: target.principalId,
    };
  }

  /** IN_PROGRESS is not success: poll with growing delays until AWS says SUCCEEDED or FAILED. */
  private async waitFor(
    initial: AccountAssignmentOperationStatus | undefined,
    hooks: ProvisionHooks | undefined,
    describe: (requestId: string) => Promise<AccountAssignmentOperationStatus | undefined>,
  ): Promise<ProvisionOutcome> {
    const requestId = initial?.RequestId;
    if (!requestId) throw new Error('AWS returned no assignment request id');
    // AWS has the operation now: let the caller record its id before we spend time polling.
    await hooks?.onStarted?.(requestId);
    return this.pollUntilDone(requestId, initial, () => describe(requestId));
  }

  /**
   * Polls an asynchronous operation (an assignment's, a permission set's provisioning) with
   * growing delays until AWS says SUCCEEDED or FAILED; past the poll budget it is still in progress.
   */
  private async pollUntilDone(requestId: string, initial: { Status?: string; FailureReason?: string } | undefined, describe: () => Promise<{ Status?: string; FailureReason?: string } | undefined>): Promise<ProvisionOutcome> {
    let status = initial;
    const budget = this.options.pollBudgetMs ?? 120_000;
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      if (status?.Status === 'SUCCEEDED') return { ok: true };
      if (status?.Status === 'FAILED') return { ok: false, reason: status.FailureReason ?? 'no reason given' };
      if (waited >= budget) throw new AssignmentStillInProgressError(requestId);
      const delay = this.pollDelays[Math.min(attempt, this.pollDelays.length - 1)] ?? 1000;
      await this.sleep(delay);
      waited += delay;
      status = await describe();
    }
  }

  // ------------------------------------------------------------ permission set policies (ending sessions)
  // These calls end access (sessions already open), so they go first, as a revoke does.

  async sessionDurationMs(permissionSetArn: string): Promise<number> {
    const out = await this.sso((c) => c.send(new DescribePermissionSetCommand({ InstanceArn: this.options.instanceArn, PermissionSetArn: permissionSetArn })), 'revoke');
    return parseSessionDuration(out.PermissionSet?.SessionDuration);
  }

  async getInlinePolicy(permissionSetArn: string): Promise<string | undefined> {
    const out = await this.sso((c) => c.send(new GetInlinePolicyForPermissionSetCommand({ InstanceArn: this.options.instanceArn, PermissionSetArn: permissionSetArn })), 'revoke');
    return out.InlinePolicy || undefined;
  }

  async putInlinePolicy(permissionSetArn: string, policy: string): Promise<void> {
    const input = { InstanceArn: this.options.instanceArn, PermissionSetArn: permissionSetArn, InlinePolicy: policy };
    await this.retryConflicts(() => this.sso((c) => c.send(new PutInlinePolicyToPermissionSetCommand(input)), 'revoke'));
  }

  async provision(permissionSetArn: string): Promise<ProvisionOutcome> {
    const input = { InstanceArn: this.options.instanceArn, PermissionSetArn: permissionSetArn, TargetType: 'ALL_PROVISIONED_ACCOUNTS' as const };
    const started = await this.retryConflicts(() => this.sso((c) => c.send(new ProvisionPermissionSetCommand(input)), 'revoke'));
    const requestId = started.PermissionSetProvisioningStatus?.RequestId;
    if (!requestId) throw new Error('AWS returned no provisioning request id');
    const describe = async (): Promise<PermissionSetProvisioningStatus | undefined> =>
      (await this.sso((c) => c.send(new DescribePermissionSetProvisioningStatusCommand({ InstanceArn: this.options.instanceArn, ProvisionPermissionSetRequestId: requestId })), 'revoke'))
        .PermissionSetProvisioningStatus;
    return this.pollUntilDone(requestId, started.PermissionSetProvisioningStatus, describe);
  }

  async exclusive<T>(permissionSetArn: string, work: () => Promise<T>): Promise<T> {
    const previous = this.policyChains.get(permissionSetArn) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(work);
    this.policyChains.set(permissionSetArn, run);
    try {
      return await run;
    } finally {
      if (this.policyChains.get(permissionSetArn) === run) this.policyChains.delete(permissionSetArn);
    }
  }

  // ------------------------------------------------------------ group memberships

  private async findMembership(target: GroupProvisionTarget): Promise<{ present: boolean; membershipId?: string }> {
    try {
      const out = await this.ids((c) => c.send(new GetGroupMembershipIdCommand(this.membershipInput(target))));
      if (!out.MembershipId) throw new Error('AWS returned no membership id');
      return { present: true, membershipId: out.MembershipId };
    } catch (err) {
      // Not a member (or the group or user is gone, which means the same here).
      if (errorName(err) === 'ResourceNotFoundException') return { present: false };
      throw err;
    }
  }

  private async createMembership(target: GroupProvisionTarget): Promise<ProvisionOutcome> {
    const attempts = this.options.conflictAttempts ?? 6;
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.ids((c) => c.send(new CreateGroupMembershipCommand(this.membershipInput(target))));
        if (!out.MembershipId) throw new Error('AWS returned no membership id');
        return { ok: true, membershipId: out.MembershipId };
      } catch (err) {
        const name = errorName(err);
        // The group or the user does not exist: retrying will not change that.
        if (name === 'ResourceNotFoundException') return { ok: false, reason: `${name}: ${err instanceof Error ? err.message : String(err)}` };
        if (name === 'ConflictException') {
          // Usually "already a member": that membership is the one the caller gets.
          const existing = await this.findMembership(target);
          if (existing.present && existing.membershipId) return { ok: true, membershipId: existing.membershipId };
          // Otherwise a concurrent modification: wait it out like any other conflict.
        } else if (name !== 'ThrottlingException') {
          throw err;
        }
        if (attempt >= attempts) throw err;
        await this.backoff(attempt);
      }
    }
  }

  private async deleteMembership(membershipId: string): Promise<ProvisionOutcome> {
    try {
      const input = { IdentityStoreId: this.options.identityStoreId, MembershipId: membershipId };
      await this.retryConflicts(() => this.ids((c) => c.send(new DeleteGroupMembershipCommand(input)), 'revoke'));
      return { ok: true };
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return { ok: true };
      throw err;
    }
  }

  private membershipInput(target: GroupProvisionTarget) {
    return { IdentityStoreId: this.options.identityStoreId, GroupId: target.groupId, MemberId: { UserId: target.principalId } };
  }

  // ------------------------------------------------------------ plumbing

  /** Every SSO Admin call goes through here, so the rate limit covers polls and listings too. */
  private async sso<T>(call: (client: SSOAdminClient) => Promise<T>, priority: CallPriority = 'normal'): Promise<T> {
    await this.ssoAdminRate.take(priority);
    return call(this.ssoAdmin);
  }

  /** Same for Identity Store (its own limit): lookups, memberships. */
  private async ids<T>(call: (client: IdentitystoreClient) => Promise<T>, priority: CallPriority = 'normal'): Promise<T> {
    await this.identityStoreRate.take(priority);
    return call(this.identityStore);
  }

  /** `onConflict` may find what to use instead of calling again (the operation that conflicted). */
  private async retryConflicts<T>(call: () => Promise<T>, onConflict?: () => Promise<T | undefined>): Promise<T> {
    const attempts = this.options.conflictAttempts ?? 6;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        const name = errorName(err);
        // The SDK already retries throttling; a ConflictException means another operation on
        // the same assignment is running, which is worth waiting out too.
        if ((name !== 'ConflictException' && name !== 'ThrottlingException') || attempt >= attempts) throw err;
        if (name === 'ConflictException' && onConflict) {
          const instead = await onConflict();
          if (instead !== undefined) return instead;
        }
        await this.backoff(attempt);
      }
    }
  }

  private backoff(attempt: number): Promise<void> {
    return this.sleep(Math.min(200 * 2 ** attempt, 5000) * (0.5 + Math.random() / 2));
  }
}

/** A permission set's SessionDuration (ISO 8601, PT1H … PT12H); an unreadable one counts as the longest AWS allows. */
export function parseSessionDuration(value: string | undefined): number {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(value ?? '');
  if (!m || (!m[1] && !m[2] && !m[3])) return 12 * 3_600_000;
  return (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
}
