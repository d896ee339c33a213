import { GetUserIdCommand, IdentitystoreClient, ResourceNotFoundException } from '@aws-sdk/client-identitystore';
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  SSOAdminClient,
  paginateListAccountAssignments,
  type AccountAssignmentOperationStatus,
} from '@aws-sdk/client-sso-admin';
import type { AssignmentTarget } from '../../domain/assignment-lease';
import type { AssignmentOutcome, IdentityCenter } from '../../app/ports';
import { Semaphore } from './semaphore';

export interface IdentityCenterOptions {
  instanceArn: string;
  identityStoreId: string;
  /** Delays between status polls; the last one repeats until `pollBudgetMs` is spent. */
  pollDelaysMs?: number[];
  pollBudgetMs?: number;
  /** AWS allows 15 outstanding CreateAccountAssignment calls per instance; stay under it. */
  maxOutstandingCreates?: number;
  /** Attempts for ConflictException ("another operation is in progress") on create/delete. */
  conflictAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Neither SUCCEEDED nor FAILED within the poll budget: the caller must look again later. */
export class AssignmentStillInProgressError extends Error {
  constructor(readonly requestId: string) {
    super(`assignment operation ${requestId} still IN_PROGRESS after the poll budget`);
    this.name = 'AssignmentStillInProgressError';
  }
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

  constructor(
    private readonly ssoAdmin: SSOAdminClient,
    private readonly identityStore: IdentitystoreClient,
    private readonly options: IdentityCenterOptions,
  ) {
    this.creates = new Semaphore(options.maxOutstandingCreates ?? 15);
    this.sleep = options.sleep ?? defaultSleep;
    this.pollDelays = options.pollDelaysMs ?? [250, 500, 1000, 2000, 4000];
  }

  async findUserIdByEmail(email: string): Promise<string | undefined> {
    try {
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
    const pages = paginateListAccountAssignments(
      { client: this.ssoAdmin },
      { InstanceArn: this.options.instanceArn, AccountId: target.accountId, PermissionSetArn: target.permissionSetArn },
    );
    for await (const page of pages) {
      if ((page.AccountAssignments ?? []).some((a) => a.PrincipalType === 'USER' && a.PrincipalId === target.principalId)) return true;
    }
    return false;
  }

  async createAssignment(target: AssignmentTarget): Promise<AssignmentOutcome> {
    return this.creates.run(async () => {
      const started = await this.retryConflicts(() => this.ssoAdmin.send(new CreateAccountAssignmentCommand(this.assignmentInput(target))));
      return this.waitFor(started.AccountAssignmentCreationStatus, (RequestId) =>
        this.ssoAdmin
          .send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: this.options.instanceArn, AccountAssignmentCreationRequestId: RequestId }))
          .then((o) => o.AccountAssignmentCreationStatus),
      );
    });
  }

  async deleteAssignment(target: AssignmentTarget): Promise<AssignmentOutcome> {
    const started = await this.retryConflicts(() => this.ssoAdmin.send(new DeleteAccountAssignmentCommand(this.assignmentInput(target))));
    return this.waitFor(started.AccountAssignmentDeletionStatus, (RequestId) =>
      this.ssoAdmin
        .send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: this.options.instanceArn, AccountAssignmentDeletionRequestId: RequestId }))
        .then((o) => o.AccountAssignmentDeletionStatus),
    );
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
