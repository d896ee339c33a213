import { GetUserIdCommand, IdentitystoreClient, ResourceNotFoundException } from '@aws-sdk/client-identitystore';
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  SSOAdminClient,
  ListAccountAssignmentsCommand,
  type AccountAssignmentOperationStatus,
} from '@aws-sdk/client-sso-admin';
import type { AssignmentTarget } from '../../domain/assignment-lease';
import { AssignmentStillInProgressError, type AssignmentOutcome, type IdentityCenter } from '../../app/ports';
import { RateLimiter, type CallPriority } from './rate-limiter';
import { Semaphore } from './semaphore';

export interface IdentityCenterOptions {
  instanceArn: string;
  identityStoreId: string;
  /** Delays between status polls; the last one repeats until `pollBudgetMs` is spent. */
  pollDelaysMs?: number[];
  pollBudgetMs?: number;
  /** AWS allows 15 outstanding CreateAccountAssignment calls per instance; stay under it. */
  maxOutstandingCreates?: number;
  /** Calls per second to SSO Admin and to Identity Store (each); AWS throttles at about 20. */
  maxCallsPerSecond?: number;
  /** Attempts for ConflictException ("another operation is in progress") on create/delete. */
  conflictAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * SSO Admin + Identity Store. The clients come from the caller, built with the SDK's own
 * settings (region, credential chain, AWS_ENDPOINT_URL_*), so this adapter never reads env.
 */
export class IdentityCenterAdapter implements IdentityCenter {
  private readonly creates: Semaphore;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly pollDelays: number[];
  private readonly ssoAdminRate: RateLimiter;
  private readonly identityStoreRate: RateLimiter;

  constructor(
    private readonly ssoAdmin: SSOAdminClient,
    private readonly identityStore: IdentitystoreClient,
    private readonly options: IdentityCenterOptions,
  ) {
    this.creates = new Semaphore(options.maxOutstandingCreates ?? 15);
    this.sleep = options.sleep ?? defaultSleep;
    this.pollDelays = options.pollDelaysMs ?? [250, 500, 1000, 2000, 4000];
    this.ssoAdminRate = new RateLimiter(options.maxCallsPerSecond ?? 15);
    this.identityStoreRate = new RateLimiter(options.maxCallsPerSecond ?? 15);
  }

  async findUserIdByEmail(email: string): Promise<string | undefined> {
    try {
      await this.identityStoreRate.take();
      const out = await this.identityStore.send(
        new GetUserIdCommand({
          IdentityStoreId: this.options.identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: email } },
        }),
      );
      return out.UserId;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw err;
    }
  }

  async hasAssignment(target: AssignmentTarget): Promise<boolean> {
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

  async createAssignment(target: AssignmentTarget): Promise<AssignmentOutcome> {
    const InstanceArn = this.options.instanceArn;
    return this.creates.run(async () => {
      const started = await this.retryConflicts(() => this.sso((c) => c.send(new CreateAccountAssignmentCommand(this.assignmentInput(target)))));
      return this.waitFor(started.AccountAssignmentCreationStatus, async (RequestId) => {
        const out = await this.sso((c) => c.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn, AccountAssignmentCreationRequestId: RequestId })));
        return out.AccountAssignmentCreationStatus;
      });
    });
  }

  async deleteAssignment(target: AssignmentTarget): Promise<AssignmentOutcome> {
    const InstanceArn = this.options.instanceArn;
    const started = await this.retryConflicts(() => this.sso((c) => c.send(new DeleteAccountAssignmentCommand(this.assignmentInput(target))), 'revoke'));
    return this.waitFor(started.AccountAssignmentDeletionStatus, async (RequestId) => {
      const out = await this.sso((c) => c.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn, AccountAssignmentDeletionRequestId: RequestId })), 'revoke');
      return out.AccountAssignmentDeletionStatus;
    });
  }

  /** Every SSO Admin call goes through here, so the rate limit covers polls and listings too. */
  private async sso<T>(call: (client: SSOAdminClient) => Promise<T>, priority: CallPriority = 'normal'): Promise<T> {
    await this.ssoAdminRate.take(priority);
    return call(this.ssoAdmin);
  }

  private assignmentInput(target: AssignmentTarget) {
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
    describe: (requestId: string) => Promise<AccountAssignmentOperationStatus | undefined>,
  ): Promise<AssignmentOutcome> {
    let status = initial;
    const requestId = status?.RequestId;
    if (!requestId) throw new Error('AWS returned no assignment request id');
    const budget = this.options.pollBudgetMs ?? 120_000;
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      if (status?.Status === 'SUCCEEDED') return { ok: true };
      if (status?.Status === 'FAILED') return { ok: false, reason: status.FailureReason ?? 'no reason given' };
      if (waited >= budget) throw new AssignmentStillInProgressError(requestId);
      const delay = this.pollDelays[Math.min(attempt, this.pollDelays.length - 1)] ?? 1000;
      await this.sleep(delay);
      waited += delay;
      status = await describe(requestId);
    }
  }

  private async retryConflicts<T>(call: () => Promise<T>): Promise<T> {
    const attempts = this.options.conflictAttempts ?? 6;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        const name = err instanceof Error ? err.name : '';
        // The SDK already retries throttling; a ConflictException means another operation on
        // the same assignment is running, which is worth waiting out too.
        if ((name !== 'ConflictException' && name !== 'ThrottlingException') || attempt >= attempts) throw err;
        await this.sleep(Math.min(200 * 2 ** attempt, 5000) * (0.5 + Math.random() / 2));
      }
    }
  }
}
