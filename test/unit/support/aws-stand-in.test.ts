/**
 * Proves the AWS stand-in against the REAL SDK v3 clients: if these pass, code under test that
 * uses the SDK sees the same responses, paging and error classes it would see from AWS.
 */
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  ListAccountAssignmentCreationStatusCommand,
  ListAccountAssignmentDeletionStatusCommand,
  ListAccountAssignmentsCommand,
  ListAccountAssignmentsForPrincipalCommand,
  paginateListAccountAssignments,
  ResourceNotFoundException as SsoResourceNotFoundException,
  SSOAdminClient,
  ThrottlingException as SsoThrottlingException,
  type AccountAssignment,
} from '@aws-sdk/client-sso-admin';
import {
  ConflictException as IdentityConflictException,
  CreateGroupMembershipCommand,
  DeleteGroupMembershipCommand,
  GetGroupIdCommand,
  GetGroupMembershipIdCommand,
  GetUserIdCommand,
  IdentitystoreClient,
  IsMemberInGroupsCommand,
  ListGroupMembershipsForMemberCommand,
  paginateListGroupMembershipsForMember,
  ResourceNotFoundException,
  ThrottlingException as IdentityThrottlingException,
  ValidationException as IdentityValidationException,
  type CreateGroupMembershipCommandInput,
  type GroupMembership,
} from '@aws-sdk/client-identitystore';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { InvokeCommand, LambdaClient, ServiceException, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, ResourceNotFoundException as SecretNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsStandIn, type StandInAssignment } from '../../support/aws-stand-in';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-1111111111111111';
const PERMISSION_SET = 'arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222';
const ACCOUNT = '111122223333';
const USER_ID = '90676a6b1c-aaaa-bbbb-cccc-111111111111';
const STORE = 'd-9067000000';
const credentials = { accessKeyId: 'AKIASTANDINDUMMYKEY0', secretAccessKey: 'dummy' };

const assignment: StandInAssignment = {
  instanceArn: INSTANCE,
  accountId: ACCOUNT,
  permissionSetArn: PERMISSION_SET,
  principalId: USER_ID,
  principalType: 'USER',
};
const assignmentInput = {
  InstanceArn: INSTANCE,
  TargetId: ACCOUNT,
  TargetType: 'AWS_ACCOUNT' as const,
  PermissionSetArn: PERMISSION_SET,
  PrincipalType: 'USER' as const,
  PrincipalId: USER_ID,
};

/** Runs a promise that must reject and returns the rejection, typed for assertions. */
async function failure(promise: Promise<unknown>): Promise<Error & { $fault?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`, { cause: err });
  }
  throw new Error('expected the call to fail');
}

describe('AwsStandIn', () => {
  let standIn: AwsStandIn;
  let sso: SSOAdminClient;
  let ssoNoRetry: SSOAdminClient;
  let identity: IdentitystoreClient;
  let scheduler: SchedulerClient;
  let lambda: LambdaClient;
  let secrets: SecretsManagerClient;

  beforeEach(async () => {
    standIn = await AwsStandIn.start();
    const base = { endpoint: standIn.url, region: 'us-east-1', credentials };
    sso = new SSOAdminClient(base);
    ssoNoRetry = new SSOAdminClient({ ...base, maxAttempts: 1 });
    identity = new IdentitystoreClient({ ...base, maxAttempts: 1 });
    scheduler = new SchedulerClient({ ...base, maxAttempts: 1 });
    lambda = new LambdaClient({ ...base, maxAttempts: 1 });
    secrets = new SecretsManagerClient({ ...base, maxAttempts: 1 });
  });

  afterEach(async () => {
    for (const client of [sso, ssoNoRetry, identity, scheduler, lambda, secrets]) client.destroy();
    await standIn.close();
  });

  describe('SSO Admin', () => {
    it('creates an assignment that exists only once the creation SUCCEEDED', async () => {
      const created = await sso.send(new CreateAccountAssignmentCommand(assignmentInput));
      const status = created.AccountAssignmentCreationStatus;
      expect(status).toMatchObject({ Status: 'IN_PROGRESS', TargetId: ACCOUNT, TargetType: 'AWS_ACCOUNT', PrincipalId: USER_ID, PrincipalType: 'USER' });
      expect(status?.CreatedDate).toBeInstanceOf(Date);
      expect(Math.abs((status?.CreatedDate?.getTime() ?? 0) - Date.now())).toBeLessThan(5000);
      const requestId = status?.RequestId;
      expect(requestId).toEqual(expect.any(String));
      expect(standIn.hasAssignment(assignment)).toBe(false);

      const describe = () =>
        sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: INSTANCE, AccountAssignmentCreationRequestId: requestId }));
      expect((await describe()).AccountAssignmentCreationStatus?.Status).toBe('IN_PROGRESS');
      expect(standIn.hasAssignment(assignment)).toBe(false);
      expect((await describe()).AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');
      expect(standIn.hasAssignment(assignment)).toBe(true);

      const listed = await sso.send(new ListAccountAssignmentsCommand({ InstanceArn: INSTANCE, AccountId: ACCOUNT, PermissionSetArn: PERMISSION_SET }));
      expect(listed.AccountAssignments).toEqual([{ AccountId: ACCOUNT, PermissionSetArn: PERMISSION_SET, PrincipalType: 'USER', PrincipalId: USER_ID }]);
      expect(listed.NextToken).toBeUndefined();
    });

    it('honours the configured number of polls, including 0', async () => {
      standIn.setCreationPolls(0);
      const created = await sso.send(new CreateAccountAssignmentCommand(assignmentInput));
      expect(created.AccountAssignmentCreationStatus?.Status).toBe('IN_PROGRESS');
      expect(standIn.hasAssignment(assignment)).toBe(true);
      const described = await sso.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: INSTANCE,
          AccountAssignmentCreationRequestId: created.AccountAssignmentCreationStatus?.RequestId,
        }),
      );
      expect(described.AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');

      const slow = await AwsStandIn.start({ deletionPolls: 3 });
      try {
        slow.addAssignment(assignment);
        const client = new SSOAdminClient({ endpoint: slow.url, region: 'us-east-1', credentials });
        const deleted = await client.send(new DeleteAccountAssignmentCommand(assignmentInput));
        const statuses: Array<string | undefined> = [];
        for (let i = 0; i < 4; i++) {
          const out = await client.send(
            new DescribeAccountAssignmentDeletionStatusCommand({
              InstanceArn: INSTANCE,
              AccountAssignmentDeletionRequestId: deleted.AccountAssignmentDeletionStatus?.RequestId,
            }),
          );
          statuses.push(out.AccountAssignmentDeletionStatus?.Status);
        }
        expect(statuses).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'IN_PROGRESS', 'SUCCEEDED']);
        expect(slow.listAssignments()).toEqual([]);
        client.destroy();
      } finally {
        await slow.close();
      }
    });

    it('deletes an assignment once the deletion SUCCEEDED', async () => {
      standIn.addAssignment(assignment);
      const deleted = await sso.send(new DeleteAccountAssignmentCommand(assignmentInput));
      const status = deleted.AccountAssignmentDeletionStatus;
      expect(status).toMatchObject({ Status: 'IN_PROGRESS', PermissionSetArn: PERMISSION_SET });
      const describe = () =>
        sso.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: INSTANCE, AccountAssignmentDeletionRequestId: status?.RequestId }));
      expect((await describe()).AccountAssignmentDeletionStatus?.Status).toBe('IN_PROGRESS');
      expect(standIn.hasAssignment(assignment)).toBe(true);
      expect((await describe()).AccountAssignmentDeletionStatus?.Status).toBe('SUCCEEDED');
      expect(standIn.hasAssignment(assignment)).toBe(false);
      const listed = await sso.send(new ListAccountAssignmentsCommand({ InstanceArn: INSTANCE, AccountId: ACCOUNT, PermissionSetArn: PERMISSION_SET }));
      expect(listed.AccountAssignments).toEqual([]);
    });

    it('reports FAILED with the FailureReason and leaves assignments untouched', async () => {
      standIn.setCreationPolls(0);
      standIn.failNextCreation('Permission set is not provisioned');
      const created = await sso.send(new CreateAccountAssignmentCommand(assignmentInput));
      const out = await sso.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: INSTANCE,
          AccountAssignmentCreationRequestId: created.AccountAssignmentCreationStatus?.RequestId,
        }),
      );
      expect(out.AccountAssignmentCreationStatus).toMatchObject({ Status: 'FAILED', FailureReason: 'Permission set is not provisioned' });
      expect(standIn.hasAssignment(assignment)).toBe(false);

      // Only the next one fails.
      await sso.send(new CreateAccountAssignmentCommand(assignmentInput));
      expect(standIn.hasAssignment(assignment)).toBe(true);

      standIn.setDeletionPolls(0);
      standIn.failNextDeletion('Something went wrong');
      const deleted = await sso.send(new DeleteAccountAssignmentCommand(assignmentInput));
      const del = await sso.send(
        new DescribeAccountAssignmentDeletionStatusCommand({
          InstanceArn: INSTANCE,
          AccountAssignmentDeletionRequestId: deleted.AccountAssignmentDeletionStatus?.RequestId,
        }),
      );
      expect(del.AccountAssignmentDeletionStatus).toMatchObject({ Status: 'FAILED', FailureReason: 'Something went wrong' });
      expect(standIn.hasAssignment(assignment)).toBe(true);
    });

    it('treats creating an existing assignment as a success', async () => {
      standIn.addAssignment(assignment);
      standIn.setCreationPolls(0);
      const created = await sso.send(new CreateAccountAssignmentCommand(assignmentInput));
      const out = await sso.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: INSTANCE,
          AccountAssignmentCreationRequestId: created.AccountAssignmentCreationStatus?.RequestId,
        }),
      );
      expect(out.AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');
      expect(standIn.listAssignments()).toEqual([assignment]);
    });

    it('pages ListAccountAssignments with MaxResults/NextToken', async () => {
      for (let i = 0; i < 5; i++) standIn.addAssignment({ ...assignment, principalId: `user-${i}` });
      standIn.addAssignment({ ...assignment, accountId: '999988887777' }); // other account: not listed
      const first = await sso.send(
        new ListAccountAssignmentsCommand({ InstanceArn: INSTANCE, AccountId: ACCOUNT, PermissionSetArn: PERMISSION_SET, MaxResults: 2 }),
      );
      expect(first.AccountAssignments?.map((a) => a.PrincipalId)).toEqual(['user-0', 'user-1']);
      expect(first.NextToken).toEqual(expect.any(String));

      const all: AccountAssignment[] = [];
      const pages = paginateListAccountAssignments(
        { client: sso, pageSize: 2 },
        { InstanceArn: INSTANCE, AccountId: ACCOUNT, PermissionSetArn: PERMISSION_SET },
      );
      for await (const page of pages) all.push(...(page.AccountAssignments ?? []));
      expect(all.map((a) => a.PrincipalId)).toEqual(['user-0', 'user-1', 'user-2', 'user-3', 'user-4']);
      expect(standIn.callsTo('ListAccountAssignments')).toHaveLength(1 + 3);
    });

    it('lists assignments for a principal', async () => {
      standIn.addAssignment(assignment);
      standIn.addAssignment({ ...assignment, accountId: '999988887777' });
      standIn.addAssignment({ ...assignment, principalId: 'someone-else' });
      const out = await sso.send(
        new ListAccountAssignmentsForPrincipalCommand({ InstanceArn: INSTANCE, PrincipalId: USER_ID, PrincipalType: 'USER', Filter: { AccountId: ACCOUNT } }),
      );
      expect(out.AccountAssignments).toEqual([{ AccountId: ACCOUNT, PermissionSetArn: PERMISSION_SET, PrincipalId: USER_ID, PrincipalType: 'USER' }]);
    });

    it('rejects invalid requests with ValidationException and unknown request ids with ResourceNotFoundException', async () => {
      const invalid = await failure(ssoNoRetry.send(new CreateAccountAssignmentCommand({ ...assignmentInput, PrincipalId: '' })));
      expect(invalid.name).toBe('ValidationException');
      expect(invalid.message).toContain('PrincipalId');
      expect(invalid.$metadata?.httpStatusCode).toBe(400);

      const missing = await failure(
        ssoNoRetry.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: INSTANCE, AccountAssignmentCreationRequestId: 'nope' })),
      );
      expect(missing).toBeInstanceOf(SsoResourceNotFoundException);
    });

    it('answers injected faults with the error class the SDK expects', async () => {
      standIn.injectFault('CreateAccountAssignment', { type: 'ThrottlingException', message: 'Rate exceeded' });
      const throttled = await failure(ssoNoRetry.send(new CreateAccountAssignmentCommand(assignmentInput)));
      expect(throttled.name).toBe('ThrottlingException');
      expect(throttled).toBeInstanceOf(SsoThrottlingException);
      expect(throttled.message).toBe('Rate exceeded');
      expect(throttled.$metadata?.httpStatusCode).toBe(400);

      standIn.injectFault('ListAccountAssignments', { type: 'InternalServerException' });
      const serverError = await failure(
        ssoNoRetry.send(new ListAccountAssignmentsCommand({ InstanceArn: INSTANCE, AccountId: ACCOUNT, PermissionSetArn: PERMISSION_SET })),
      );
      expect(serverError.name).toBe('InternalServerException');
      expect(serverError.$fault).toBe('server');
      expect(serverError.$metadata?.httpStatusCode).toBe(500);

      standIn.injectFault('DeleteAccountAssignment', { type: 'ConflictException' }, 2);
      for (let i = 0; i < 2; i++) {
        expect((await failure(ssoNoRetry.send(new DeleteAccountAssignmentCommand(assignmentInput)))).name).toBe('ConflictException');
      }
      // Fault budget used up: the third call goes through.
      await ssoNoRetry.send(new DeleteAccountAssignmentCommand(assignmentInput));
    });

    it('lets a retrying client recover from a single injected throttle', async () => {
      standIn.injectFault('ListAccountAssignments', { type: 'ThrottlingException' });
      const out = await sso.send(new ListAccountAssignmentsCommand({ InstanceArn: INSTANCE, AccountId: ACCOUNT, PermissionSetArn: PERMISSION_SET }));
      expect(out.AccountAssignments).toEqual([]);
      expect(standIn.callsTo('ListAccountAssignments')).toHaveLength(2);
    });

    it('records every call in order with its parsed input', async () => {
      await sso.send(new CreateAccountAssignmentCommand(assignmentInput));
      await sso.send(new ListAccountAssignmentsCommand({ InstanceArn: INSTANCE, AccountId: ACCOUNT, PermissionSetArn: PERMISSION_SET }));
      expect(standIn.calls.map((c) => [c.service, c.operation])).toEqual([
        ['sso-admin', 'CreateAccountAssignment'],
        ['sso-admin', 'ListAccountAssignments'],
      ]);
      expect(standIn.calls[0]?.input).toEqual(assignmentInput);
      expect(standIn.calls[0]?.at).toEqual(expect.any(Number));
    });

    it('lists creation and deletion operations by status without advancing them', async () => {
      standIn.setCreationPolls(0);
      const done = await sso.send(new CreateAccountAssignmentCommand(assignmentInput));
      standIn.setCreationPolls(3);
      const pending = await sso.send(new CreateAccountAssignmentCommand({ ...assignmentInput, TargetId: '999988887777' }));
      const doneId = done.AccountAssignmentCreationStatus?.RequestId;
      const pendingId = pending.AccountAssignmentCreationStatus?.RequestId;

      const all = await sso.send(new ListAccountAssignmentCreationStatusCommand({ InstanceArn: INSTANCE }));
      expect(all.AccountAssignmentsCreationStatus?.map((s) => [s.RequestId, s.Status])).toEqual([
        [doneId, 'SUCCEEDED'],
        [pendingId, 'IN_PROGRESS'],
      ]);
      expect(all.AccountAssignmentsCreationStatus?.[0]?.CreatedDate).toBeInstanceOf(Date);
      const inProgress = await sso.send(new ListAccountAssignmentCreationStatusCommand({ InstanceArn: INSTANCE, Filter: { Status: 'IN_PROGRESS' } }));
      expect(inProgress.AccountAssignmentsCreationStatus?.map((s) => s.RequestId)).toEqual([pendingId]);
      // Listing is not polling: the pending one still needs all its Describe calls.
      const again = await sso.send(new ListAccountAssignmentCreationStatusCommand({ InstanceArn: INSTANCE, Filter: { Status: 'IN_PROGRESS' } }));
      expect(again.AccountAssignmentsCreationStatus).toHaveLength(1);
      const otherInstance = await sso.send(new ListAccountAssignmentCreationStatusCommand({ InstanceArn: 'arn:aws:sso:::instance/ssoins-other' }));
      expect(otherInstance.AccountAssignmentsCreationStatus).toEqual([]);

      const deleted = await sso.send(new DeleteAccountAssignmentCommand(assignmentInput));
      const deletions = await sso.send(new ListAccountAssignmentDeletionStatusCommand({ InstanceArn: INSTANCE, MaxResults: 1 }));
      expect(deletions.AccountAssignmentsDeletionStatus?.map((s) => [s.RequestId, s.Status])).toEqual([
        [deleted.AccountAssignmentDeletionStatus?.RequestId, 'IN_PROGRESS'],
      ]);
      expect(deletions.NextToken).toBeUndefined();
    });
  });

  describe('Identity Store', () => {
    beforeEach(() => {
      standIn.addUser({ userId: USER_ID, email: 'alice@example.com', userName: 'alice', identityStoreId: STORE });
    });

    it('resolves a user id by email or user name', async () => {
      const byEmail = await identity.send(
        new GetUserIdCommand({
          IdentityStoreId: STORE,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'alice@example.com' } },
        }),
      );
      expect(byEmail).toMatchObject({ IdentityStoreId: STORE, UserId: USER_ID });
      expect(standIn.callsTo('GetUserId')[0]?.input).toEqual({
        IdentityStoreId: STORE,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'alice@example.com' } },
      });

      const byName = await identity.send(
        new GetUserIdCommand({ IdentityStoreId: STORE, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice' } } }),
      );
      expect(byName.UserId).toBe(USER_ID);
    });

    it('answers unknown users with ResourceNotFoundException', async () => {
      const err = await failure(
        identity.send(
          new GetUserIdCommand({
            IdentityStoreId: STORE,
            AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'mallory@example.com' } },
          }),
        ),
      );
      expect(err.name).toBe('ResourceNotFoundException');
      expect(err).toBeInstanceOf(ResourceNotFoundException);
      expect((err as ResourceNotFoundException).ResourceType).toBe('USER');

      // A user pinned to one identity store is invisible in another.
      const wrongStore = await failure(
        identity.send(
          new GetUserIdCommand({
            IdentityStoreId: 'd-other',
            AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'alice@example.com' } },
          }),
        ),
      );
      expect(wrongStore.name).toBe('ResourceNotFoundException');
    });
  });

  describe('Identity Store group memberships', () => {
    // Ids shaped like real ones: AWS (and so the stand-in) rejects anything else.
    const ALICE = '9067c0ffee-0a1b2c3d-1111-2222-3333-444455556666';
    const BOB = '9067c0ffee-0a1b2c3d-1111-2222-3333-777788889999';
    const ONCALL = '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000001';
    const ADMINS = '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000002';
    const ELSEWHERE = '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000003';
    const OTHER_STORE = 'd-1111111111';
    const MEMBERSHIP_ID = /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;
    const join = (GroupId: string, UserId: string): CreateGroupMembershipCommandInput => ({ IdentityStoreId: STORE, GroupId, MemberId: { UserId } });

    beforeEach(() => {
      standIn.addUser({ userId: ALICE, email: 'alice@example.com', identityStoreId: STORE });
      standIn.addUser({ userId: BOB, email: 'bob@example.com', identityStoreId: STORE });
      standIn.addGroup({ groupId: ONCALL, displayName: 'oncall', identityStoreId: STORE });
      standIn.addGroup({ groupId: ADMINS, displayName: 'Admins', identityStoreId: STORE });
      standIn.addGroup({ groupId: ELSEWHERE, displayName: 'elsewhere', identityStoreId: OTHER_STORE });
    });

    it('resolves a group id by displayName, and only by displayName', async () => {
      const byName = (AttributeValue: string, IdentityStoreId = STORE, AttributePath = 'displayName') =>
        identity.send(new GetGroupIdCommand({ IdentityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath, AttributeValue } } }));
      expect(await byName('oncall')).toMatchObject({ GroupId: ONCALL, IdentityStoreId: STORE });
      expect((await byName('admins')).GroupId).toBe(ADMINS);
      expect(standIn.callsTo('GetGroupId')[0]).toMatchObject({ service: 'identitystore', input: expect.objectContaining({ IdentityStoreId: STORE }) });

      const missing = await failure(byName('nobody'));
      expect(missing).toBeInstanceOf(ResourceNotFoundException);
      expect((missing as ResourceNotFoundException).ResourceType).toBe('GROUP');
      // Pinned to another store: invisible here.
      expect((await failure(byName('elsewhere'))).name).toBe('ResourceNotFoundException');
      expect((await byName('elsewhere', OTHER_STORE)).GroupId).toBe(ELSEWHERE);

      const badPath = await failure(byName('oncall', STORE, 'emails.value'));
      expect(badPath).toBeInstanceOf(IdentityValidationException);
      expect(badPath.$metadata?.httpStatusCode).toBe(400);
    });

    it('creates a membership and refuses a second identical one with ConflictException', async () => {
      const created = await identity.send(new CreateGroupMembershipCommand(join(ONCALL, ALICE)));
      expect(created.IdentityStoreId).toBe(STORE);
      expect(created.MembershipId).toMatch(MEMBERSHIP_ID);
      expect(standIn.isMember({ groupId: ONCALL, userId: ALICE })).toBe(true);
      expect(standIn.isMember({ groupId: ONCALL, userId: BOB })).toBe(false);
      expect(standIn.membershipsOf(ALICE)).toEqual([{ membershipId: created.MembershipId, groupId: ONCALL, userId: ALICE }]);

      const again = await failure(identity.send(new CreateGroupMembershipCommand(join(ONCALL, ALICE))));
      expect(again.name).toBe('ConflictException');
      expect(again).toBeInstanceOf(IdentityConflictException);
      expect((again as IdentityConflictException).Reason).toBe('UNIQUENESS_CONSTRAINT_VIOLATION');
      expect(again.$metadata?.httpStatusCode).toBe(400);
      // Still exactly one membership, with the first id.
      expect(standIn.membershipsOf(ALICE).map((m) => m.membershipId)).toEqual([created.MembershipId]);
      expect(standIn.callsTo('CreateGroupMembership').map((c) => [c.service, c.input])).toEqual([
        ['identitystore', join(ONCALL, ALICE)],
        ['identitystore', join(ONCALL, ALICE)],
      ]);

      // Another group, or another member, is a different membership.
      const second = await identity.send(new CreateGroupMembershipCommand(join(ADMINS, ALICE)));
      await identity.send(new CreateGroupMembershipCommand(join(ONCALL, BOB)));
      expect(second.MembershipId).not.toBe(created.MembershipId);
      expect(standIn.membershipsOf(ALICE).map((m) => m.groupId)).toEqual([ONCALL, ADMINS]);
    });

    it('answers unknown groups and users with ResourceNotFoundException and creates nothing', async () => {
      const noGroup = await failure(identity.send(new CreateGroupMembershipCommand(join('9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-00000000dead', ALICE))));
      expect(noGroup).toBeInstanceOf(ResourceNotFoundException);
      expect((noGroup as ResourceNotFoundException).ResourceType).toBe('GROUP');
      const noUser = await failure(identity.send(new CreateGroupMembershipCommand(join(ONCALL, '9067c0ffee-0a1b2c3d-1111-2222-3333-00000000dead'))));
      expect((noUser as ResourceNotFoundException).ResourceType).toBe('USER');
      // A group of another store cannot be joined through this one.
      const otherStore = await failure(identity.send(new CreateGroupMembershipCommand(join(ELSEWHERE, ALICE))));
      expect((otherStore as ResourceNotFoundException).ResourceType).toBe('GROUP');
      expect(standIn.membershipsOf(ALICE)).toEqual([]);
    });

    it('finds a membership id, standing ones included, and 404s for non-members', async () => {
      const standing = standIn.addMembership({ groupId: ONCALL, userId: BOB });
      expect(standing).toMatch(MEMBERSHIP_ID);
      const found = await identity.send(new GetGroupMembershipIdCommand(join(ONCALL, BOB)));
      expect(found).toMatchObject({ MembershipId: standing, IdentityStoreId: STORE });

      const notMember = await failure(identity.send(new GetGroupMembershipIdCommand(join(ONCALL, ALICE))));
      expect(notMember).toBeInstanceOf(ResourceNotFoundException);
      expect((notMember as ResourceNotFoundException).ResourceType).toBe('GROUP_MEMBERSHIP');
      // A standing membership also blocks a create, exactly like one Timebox made.
      expect((await failure(identity.send(new CreateGroupMembershipCommand(join(ONCALL, BOB))))).name).toBe('ConflictException');
    });

    it('DeleteGroupMembership removes exactly that membership, then 404s', async () => {
      const alice = (await identity.send(new CreateGroupMembershipCommand(join(ONCALL, ALICE)))).MembershipId;
      const aliceAdmins = (await identity.send(new CreateGroupMembershipCommand(join(ADMINS, ALICE)))).MembershipId;
      const bob = standIn.addMembership({ groupId: ONCALL, userId: BOB });

      const out = await identity.send(new DeleteGroupMembershipCommand({ IdentityStoreId: STORE, MembershipId: alice }));
      expect(out.$metadata.httpStatusCode).toBe(200);
      expect(standIn.isMember({ groupId: ONCALL, userId: ALICE })).toBe(false);
      expect(standIn.membershipsOf(ALICE)).toEqual([{ membershipId: aliceAdmins, groupId: ADMINS, userId: ALICE }]);
      expect(standIn.membershipsOf(BOB)).toEqual([{ membershipId: bob, groupId: ONCALL, userId: BOB }]);

      const again = await failure(identity.send(new DeleteGroupMembershipCommand({ IdentityStoreId: STORE, MembershipId: alice })));
      expect(again).toBeInstanceOf(ResourceNotFoundException);
      expect(again).toMatchObject({ ResourceType: 'GROUP_MEMBERSHIP', ResourceId: alice });
      // A membership id is only valid in the store its group lives in.
      const wrongStore = await failure(identity.send(new DeleteGroupMembershipCommand({ IdentityStoreId: OTHER_STORE, MembershipId: bob })));
      expect(wrongStore.name).toBe('ResourceNotFoundException');
      expect(standIn.isMember({ groupId: ONCALL, userId: BOB })).toBe(true);
    });

    it('answers IsMemberInGroups per group, for at most 100 groups', async () => {
      standIn.addMembership({ groupId: ADMINS, userId: ALICE });
      const unknown = '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-00000000beef';
      const out = await identity.send(
        new IsMemberInGroupsCommand({ IdentityStoreId: STORE, MemberId: { UserId: ALICE }, GroupIds: [ONCALL, ADMINS, unknown] }),
      );
      expect(out.Results).toEqual([
        { GroupId: ONCALL, MemberId: { UserId: ALICE }, MembershipExists: false },
        { GroupId: ADMINS, MemberId: { UserId: ALICE }, MembershipExists: true },
        { GroupId: unknown, MemberId: { UserId: ALICE }, MembershipExists: false },
      ]);

      const tooMany = Array.from({ length: 101 }, (_, i) => `9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-${String(i).padStart(12, '0')}`);
      const over = await failure(identity.send(new IsMemberInGroupsCommand({ IdentityStoreId: STORE, MemberId: { UserId: ALICE }, GroupIds: tooMany })));
      expect(over).toBeInstanceOf(IdentityValidationException);
      expect(over.message).toContain('GroupIds');
      const none = await failure(identity.send(new IsMemberInGroupsCommand({ IdentityStoreId: STORE, MemberId: { UserId: ALICE }, GroupIds: [] })));
      expect(none.name).toBe('ValidationException');
      const hundred = await identity.send(
        new IsMemberInGroupsCommand({ IdentityStoreId: STORE, MemberId: { UserId: ALICE }, GroupIds: tooMany.slice(0, 100) }),
      );
      expect(hundred.Results).toHaveLength(100);
    });

    it('pages ListGroupMembershipsForMember', async () => {
      const ids = [standIn.addMembership({ groupId: ONCALL, userId: ALICE }), standIn.addMembership({ groupId: ADMINS, userId: ALICE })];
      standIn.addMembership({ groupId: ONCALL, userId: BOB });
      const first = await identity.send(new ListGroupMembershipsForMemberCommand({ IdentityStoreId: STORE, MemberId: { UserId: ALICE }, MaxResults: 1 }));
      expect(first.GroupMemberships).toEqual([{ IdentityStoreId: STORE, MembershipId: ids[0], GroupId: ONCALL, MemberId: { UserId: ALICE } }]);
      expect(first.NextToken).toEqual(expect.any(String));

      const all: GroupMembership[] = [];
      const pages = paginateListGroupMembershipsForMember({ client: identity, pageSize: 1 }, { IdentityStoreId: STORE, MemberId: { UserId: ALICE } });
      for await (const page of pages) all.push(...(page.GroupMemberships ?? []));
      expect(all.map((m) => m.MembershipId)).toEqual(ids);
    });

    it('rejects malformed ids and missing members with ValidationException', async () => {
      const cases: Array<[string, Promise<unknown>]> = [
        ['GroupId', identity.send(new CreateGroupMembershipCommand(join('oncall', ALICE)))],
        ['UserId', identity.send(new CreateGroupMembershipCommand(join(ONCALL, 'ic-alice')))],
        ['IdentityStoreId', identity.send(new CreateGroupMembershipCommand({ ...join(ONCALL, ALICE), IdentityStoreId: 'store-1' }))],
        ['GroupId', identity.send(new CreateGroupMembershipCommand(join(`${ONCALL}0`, ALICE)))], // 48 chars: over the length limit
        ['MemberId', identity.send(new CreateGroupMembershipCommand({ IdentityStoreId: STORE, GroupId: ONCALL } as CreateGroupMembershipCommandInput))],
        ['UserId', identity.send(new GetGroupMembershipIdCommand({ IdentityStoreId: STORE, GroupId: ONCALL, MemberId: {} as { UserId: string } }))],
        ['MembershipId', identity.send(new DeleteGroupMembershipCommand({ IdentityStoreId: STORE, MembershipId: 'membership-1' }))],
        ['IdentityStoreId', identity.send(new DeleteGroupMembershipCommand({ IdentityStoreId: '', MembershipId: ALICE }))],
        ['GroupIds', identity.send(new IsMemberInGroupsCommand({ IdentityStoreId: STORE, MemberId: { UserId: ALICE }, GroupIds: [ONCALL, 'nope'] }))],
      ];
      for (const [field, call] of cases) {
        const err = await failure(call);
        expect(err).toBeInstanceOf(IdentityValidationException);
        expect(err.$metadata?.httpStatusCode).toBe(400);
        expect(err.message).toContain(field);
      }
      expect(standIn.membershipsOf(ALICE)).toEqual([]);
    });

    it('answers injected faults on the group operations by operation name', async () => {
      standIn.injectFault('CreateGroupMembership', { type: 'ThrottlingException', message: 'Rate exceeded' });
      const throttled = await failure(identity.send(new CreateGroupMembershipCommand(join(ONCALL, ALICE))));
      expect(throttled).toBeInstanceOf(IdentityThrottlingException);
      expect(throttled.message).toBe('Rate exceeded');
      expect(throttled.$metadata?.httpStatusCode).toBe(400);
      expect(standIn.isMember({ groupId: ONCALL, userId: ALICE })).toBe(false);
      const created = await identity.send(new CreateGroupMembershipCommand(join(ONCALL, ALICE)));
      expect(standIn.callsTo('CreateGroupMembership')).toHaveLength(2);

      standIn.injectFault('DeleteGroupMembership', { type: 'InternalServerException' }, 2);
      for (let i = 0; i < 2; i++) {
        const boom = await failure(identity.send(new DeleteGroupMembershipCommand({ IdentityStoreId: STORE, MembershipId: created.MembershipId })));
        expect(boom.name).toBe('InternalServerException');
        expect(boom.$fault).toBe('server');
        expect(boom.$metadata?.httpStatusCode).toBe(500);
      }
      expect(standIn.isMember({ groupId: ONCALL, userId: ALICE })).toBe(true);
      await identity.send(new DeleteGroupMembershipCommand({ IdentityStoreId: STORE, MembershipId: created.MembershipId }));
      expect(standIn.isMember({ groupId: ONCALL, userId: ALICE })).toBe(false);

      standIn.injectFault('GetGroupMembershipId', { type: 'AccessDeniedException' });
      standIn.injectFault('IsMemberInGroups', { type: 'ConflictException' });
      standIn.injectFault('GetGroupId', { type: 'ThrottlingException' });
      expect((await failure(identity.send(new GetGroupMembershipIdCommand(join(ONCALL, ALICE))))).name).toBe('AccessDeniedException');
      expect(
        (await failure(identity.send(new IsMemberInGroupsCommand({ IdentityStoreId: STORE, MemberId: { UserId: ALICE }, GroupIds: [ONCALL] })))).name,
      ).toBe('ConflictException');
      standIn.clearFaults('GetGroupId');
      const group = await identity.send(
        new GetGroupIdCommand({ IdentityStoreId: STORE, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: 'oncall' } } }),
      );
      expect(group.GroupId).toBe(ONCALL);
    });

    it('keeps the helpers honest: valid ids, known groups and users, no duplicates', () => {
      expect(() => standIn.addGroup({ groupId: 'oncall', displayName: 'oncall' })).toThrow(/not a valid Identity Store group id/);
      expect(() => standIn.addGroup({ groupId: ONCALL, displayName: 'again' })).toThrow(/already exists/);
      expect(() => standIn.addGroup({ groupId: '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000009', displayName: 'x', identityStoreId: 'store' })).toThrow(
        /identity store id/,
      );
      expect(() => standIn.addMembership({ groupId: '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000009', userId: ALICE })).toThrow(/no group/);
      expect(() => standIn.addMembership({ groupId: ONCALL, userId: 'ic-alice' })).toThrow(/not a valid Identity Store user id/);
      expect(() => standIn.addMembership({ groupId: ONCALL, userId: '9067c0ffee-0a1b2c3d-1111-2222-3333-00000000dead' })).toThrow(/no user/);

      const id = standIn.addMembership({ groupId: ONCALL, userId: ALICE });
      expect(() => standIn.addMembership({ groupId: ONCALL, userId: ALICE })).toThrow(/already a member/);
      standIn.addMembership({ groupId: ADMINS, userId: ALICE });
      // membershipsOf hands out copies.
      const copy = standIn.membershipsOf(ALICE)[0];
      if (copy) copy.groupId = ADMINS;
      expect(standIn.membershipsOf(ALICE)[0]?.groupId).toBe(ONCALL);

      expect(standIn.removeMembership(id)).toBe(true);
      expect(standIn.removeMembership(id)).toBe(false);
      expect(standIn.removeMembership({ groupId: ADMINS, userId: ALICE })).toBe(true);
      expect(standIn.removeMembership({ groupId: ADMINS, userId: ALICE })).toBe(false);
      expect(standIn.membershipsOf(ALICE)).toEqual([]);
    });
  });

  describe('Scheduler', () => {
    const scheduleInput: CreateScheduleCommandInput = {
      Name: 'timebox-revoke-req-123',
      GroupName: 'timebox',
      ScheduleExpression: 'at(2030-01-02T03:04:05)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: 'arn:aws:lambda:us-east-1:123456789012:function:timebox-revoker',
        RoleArn: 'arn:aws:iam::123456789012:role/timebox-scheduler',
        Input: JSON.stringify({ requestId: 'req-123' }),
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:123456789012:timebox-dlq' },
      },
    };

    it('creates, gets, lists, conflicts on and deletes schedules', async () => {
      const created = await scheduler.send(new CreateScheduleCommand(scheduleInput));
      expect(created.ScheduleArn).toBe('arn:aws:scheduler:us-east-1:123456789012:schedule/timebox/timebox-revoke-req-123');
      expect(standIn.schedules()).toEqual([
        {
          name: 'timebox-revoke-req-123',
          groupName: 'timebox',
          expression: 'at(2030-01-02T03:04:05)',
          input: JSON.stringify({ requestId: 'req-123' }),
          targetArn: scheduleInput.Target?.Arn,
          roleArn: scheduleInput.Target?.RoleArn,
          actionAfterCompletion: 'DELETE',
          raw: expect.objectContaining({ GroupName: 'timebox', ClientToken: expect.any(String) }),
        },
      ]);

      const got = await scheduler.send(new GetScheduleCommand({ Name: 'timebox-revoke-req-123', GroupName: 'timebox' }));
      expect(got).toMatchObject({
        Name: 'timebox-revoke-req-123',
        GroupName: 'timebox',
        ScheduleExpression: 'at(2030-01-02T03:04:05)',
        State: 'ENABLED',
        ActionAfterCompletion: 'DELETE',
        Target: scheduleInput.Target,
      });
      expect(got.CreationDate).toBeInstanceOf(Date);

      const listed = await scheduler.send(new ListSchedulesCommand({ GroupName: 'timebox', NamePrefix: 'timebox-revoke-' }));
      expect(listed.Schedules?.map((s) => s.Name)).toEqual(['timebox-revoke-req-123']);
      expect(standIn.callsTo('ListSchedules')[0]?.input).toMatchObject({ GroupName: 'timebox', NamePrefix: 'timebox-revoke-' });

      const conflict = await failure(scheduler.send(new CreateScheduleCommand(scheduleInput)));
      expect(conflict.name).toBe('ConflictException');
      expect(conflict).toBeInstanceOf(ConflictException);
      expect(conflict.$metadata?.httpStatusCode).toBe(409);
      expect(conflict.message).toContain('already exists');

      // Same name in another group is a different schedule.
      await scheduler.send(new CreateScheduleCommand({ ...scheduleInput, GroupName: undefined }));
      expect(standIn.schedules().map((s) => s.groupName)).toEqual(['timebox', 'default']);

      await scheduler.send(new DeleteScheduleCommand({ Name: 'timebox-revoke-req-123', GroupName: 'timebox' }));
      expect(standIn.schedules().map((s) => s.groupName)).toEqual(['default']);
      const gone = await failure(scheduler.send(new GetScheduleCommand({ Name: 'timebox-revoke-req-123', GroupName: 'timebox' })));
      expect(gone.name).toBe('ResourceNotFoundException');
      expect(gone.$metadata?.httpStatusCode).toBe(404);
      const deleteAgain = await failure(scheduler.send(new DeleteScheduleCommand({ Name: 'timebox-revoke-req-123', GroupName: 'timebox' })));
      expect(deleteAgain.name).toBe('ResourceNotFoundException');
    });

    it('treats a retried create with the same ClientToken as the same request', async () => {
      const first = await scheduler.send(new CreateScheduleCommand({ ...scheduleInput, ClientToken: 'token-1' }));
      const again = await scheduler.send(new CreateScheduleCommand({ ...scheduleInput, ClientToken: 'token-1' }));
      expect(again.ScheduleArn).toBe(first.ScheduleArn);
      expect(standIn.schedules()).toHaveLength(1);
    });

    it('validates names and expressions like the real service', async () => {
      const badExpression = await failure(scheduler.send(new CreateScheduleCommand({ ...scheduleInput, ScheduleExpression: 'at(2030-01-02T03:04:05.000Z)' })));
      expect(badExpression.name).toBe('ValidationException');
      expect(badExpression.$metadata?.httpStatusCode).toBe(400);
      const badName = await failure(scheduler.send(new CreateScheduleCommand({ ...scheduleInput, Name: 'x'.repeat(65) })));
      expect(badName.name).toBe('ValidationException');
      expect(standIn.schedules()).toEqual([]);
    });

    it('answers injected faults with REST JSON errors', async () => {
      standIn.injectFault('CreateSchedule', { type: 'ThrottlingException' });
      const throttled = await failure(scheduler.send(new CreateScheduleCommand(scheduleInput)));
      expect(throttled.name).toBe('ThrottlingException');
      expect(throttled.$metadata?.httpStatusCode).toBe(429);
      standIn.injectFault('DeleteSchedule', { type: 'InternalServerException', message: 'boom' });
      const boom = await failure(scheduler.send(new DeleteScheduleCommand({ Name: 'x', GroupName: 'timebox' })));
      expect(boom.name).toBe('InternalServerException');
      expect(boom.message).toBe('boom');
      expect(boom.$fault).toBe('server');
    });

    it('updates an existing schedule in place and 404s on a missing one', async () => {
      const created = await scheduler.send(new CreateScheduleCommand(scheduleInput));
      const before = await scheduler.send(new GetScheduleCommand({ Name: scheduleInput.Name, GroupName: 'timebox' }));
      const updated = await scheduler.send(
        new UpdateScheduleCommand({ ...scheduleInput, ScheduleExpression: 'at(2030-02-03T04:05:06)', Target: { ...scheduleInput.Target!, Input: '{"moved":true}' } }),
      );
      expect(updated.ScheduleArn).toBe(created.ScheduleArn);
      expect(standIn.schedules()).toEqual([
        expect.objectContaining({ name: scheduleInput.Name, groupName: 'timebox', expression: 'at(2030-02-03T04:05:06)', input: '{"moved":true}' }),
      ]);
      const after = await scheduler.send(new GetScheduleCommand({ Name: scheduleInput.Name, GroupName: 'timebox' }));
      expect(after.CreationDate).toEqual(before.CreationDate);
      expect(after.ScheduleExpression).toBe('at(2030-02-03T04:05:06)');
      expect(standIn.callsTo('UpdateSchedule')[0]).toMatchObject({ service: 'scheduler', input: expect.objectContaining({ Name: scheduleInput.Name }) });

      const missing = await failure(scheduler.send(new UpdateScheduleCommand({ ...scheduleInput, Name: 'timebox-revoke-nope' })));
      expect(missing.name).toBe('ResourceNotFoundException');
      expect(missing.$metadata?.httpStatusCode).toBe(404);
      const invalid = await failure(scheduler.send(new UpdateScheduleCommand({ ...scheduleInput, ScheduleExpression: 'at(tomorrow)' })));
      expect(invalid.name).toBe('ValidationException');
      expect(standIn.schedules()[0]?.expression).toBe('at(2030-02-03T04:05:06)');
    });
  });

  describe('Lambda', () => {
    const FUNCTION = 'timebox-worker';
    const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

    it('accepts an Event invocation with 202 and records its payload', async () => {
      const out = await lambda.send(new InvokeCommand({ FunctionName: FUNCTION, InvocationType: 'Event', Payload: encode({ job: 'grant', id: 1 }) }));
      expect(out.StatusCode).toBe(202);
      expect(out.FunctionError).toBeUndefined();
      expect(standIn.invocations()).toEqual([{ functionName: FUNCTION, invocationType: 'Event', payload: '{"job":"grant","id":1}', at: expect.any(Number) }]);
      expect(standIn.calls.map((c) => [c.service, c.operation])).toEqual([['lambda', 'Invoke']]);
      expect(standIn.callsTo('Invoke')[0]?.input).toEqual({ FunctionName: FUNCTION, InvocationType: 'Event', Payload: '{"job":"grant","id":1}' });
    });

    it('filters invocations by function (name or ARN) and hands each one over exactly once', async () => {
      const arn = `arn:aws:lambda:us-east-1:123456789012:function:${FUNCTION}`;
      await lambda.send(new InvokeCommand({ FunctionName: FUNCTION, InvocationType: 'Event', Payload: encode({ n: 1 }) }));
      await lambda.send(new InvokeCommand({ FunctionName: 'other', InvocationType: 'Event', Payload: encode({ n: 2 }) }));
      await lambda.send(new InvokeCommand({ FunctionName: arn, InvocationType: 'Event', Payload: encode({ n: 3 }) }));
      expect(standIn.invocations(FUNCTION).map((i) => i.payload)).toEqual(['{"n":1}', '{"n":3}']);
      expect(standIn.invocations(FUNCTION)[1]?.functionName).toBe(arn);

      expect(standIn.takeInvocations(FUNCTION).map((i) => i.payload)).toEqual(['{"n":1}', '{"n":3}']);
      expect(standIn.takeInvocations(FUNCTION)).toEqual([]);
      expect(standIn.takeInvocations().map((i) => i.functionName)).toEqual(['other']);
      expect(standIn.invocations()).toEqual([]);
      // Taking does not rewrite history: every call is still in the log.
      expect(standIn.callsTo('Invoke')).toHaveLength(3);
    });

    it('answers a RequestResponse invocation with 200 and a null payload', async () => {
      const out = await lambda.send(new InvokeCommand({ FunctionName: FUNCTION, Payload: encode({}) }));
      expect(out.StatusCode).toBe(200);
      expect(new TextDecoder().decode(out.Payload)).toBe('null');
      expect(standIn.invocations()[0]?.invocationType).toBe('RequestResponse');
    });

    it('rejects a payload that is not JSON, like Lambda', async () => {
      const err = await failure(lambda.send(new InvokeCommand({ FunctionName: FUNCTION, InvocationType: 'Event', Payload: new TextEncoder().encode('not json') })));
      expect(err.name).toBe('InvalidRequestContentException');
      expect(err.$metadata?.httpStatusCode).toBe(400);
      expect(standIn.invocations()).toEqual([]);
    });

    it('answers injected faults with the error class the SDK expects', async () => {
      standIn.injectFault('Invoke', { type: 'TooManyRequestsException', message: 'Rate Exceeded.' });
      const throttled = await failure(lambda.send(new InvokeCommand({ FunctionName: FUNCTION, InvocationType: 'Event', Payload: encode({}) })));
      expect(throttled.name).toBe('TooManyRequestsException');
      expect(throttled).toBeInstanceOf(TooManyRequestsException);
      expect(throttled.message).toBe('Rate Exceeded.');
      expect(throttled.$metadata?.httpStatusCode).toBe(429);

      standIn.injectFault('Invoke', { type: 'ServiceException', message: 'boom' });
      const boom = await failure(lambda.send(new InvokeCommand({ FunctionName: FUNCTION, InvocationType: 'Event', Payload: encode({}) })));
      expect(boom).toBeInstanceOf(ServiceException);
      expect(boom.message).toBe('boom');
      expect(boom.$fault).toBe('server');
      expect(boom.$metadata?.httpStatusCode).toBe(500);

      standIn.injectFault('Invoke', { type: 'ResourceNotFoundException', status: 404 });
      expect((await failure(lambda.send(new InvokeCommand({ FunctionName: FUNCTION, InvocationType: 'Event' })))).name).toBe('ResourceNotFoundException');

      // Faulted calls hand nothing over; the next one goes through.
      expect(standIn.invocations()).toEqual([]);
      expect((await lambda.send(new InvokeCommand({ FunctionName: FUNCTION, InvocationType: 'Event' }))).StatusCode).toBe(202);
      expect(standIn.invocations()).toEqual([expect.objectContaining({ payload: '' })]);
    });
  });

  describe('Secrets Manager', () => {
    const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:timebox/slack-AbCdEf';

    it('returns a stored secret by ARN or by name', async () => {
      standIn.putSecret(ARN, '{"signingSecret":"s3cr3t"}');
      const byArn = await secrets.send(new GetSecretValueCommand({ SecretId: ARN }));
      expect(byArn).toMatchObject({ ARN, Name: 'timebox/slack', SecretString: '{"signingSecret":"s3cr3t"}', VersionStages: ['AWSCURRENT'] });
      expect(byArn.VersionId).toEqual(expect.any(String));
      expect(byArn.CreatedDate).toBeInstanceOf(Date);
      const byName = await secrets.send(new GetSecretValueCommand({ SecretId: 'timebox/slack' }));
      expect(byName.SecretString).toBe('{"signingSecret":"s3cr3t"}');
      expect(standIn.calls.map((c) => [c.service, c.operation, c.input])).toEqual([
        ['secretsmanager', 'GetSecretValue', { SecretId: ARN }],
        ['secretsmanager', 'GetSecretValue', { SecretId: 'timebox/slack' }],
      ]);

      standIn.putSecret('plain-name', 'v1');
      const plain = await secrets.send(new GetSecretValueCommand({ SecretId: 'plain-name' }));
      expect(plain).toMatchObject({ Name: 'plain-name', SecretString: 'v1' });
      expect(plain.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:plain-name-.{6}$/);
      standIn.putSecret('plain-name', 'v2');
      expect((await secrets.send(new GetSecretValueCommand({ SecretId: 'plain-name' }))).SecretString).toBe('v2');
    });

    it('answers unknown secrets and versions with ResourceNotFoundException', async () => {
      const err = await failure(secrets.send(new GetSecretValueCommand({ SecretId: 'nope' })));
      expect(err.name).toBe('ResourceNotFoundException');
      expect(err).toBeInstanceOf(SecretNotFoundException);
      expect(err.$metadata?.httpStatusCode).toBe(400);

      standIn.putSecret('known', 'x');
      const stage = await failure(secrets.send(new GetSecretValueCommand({ SecretId: 'known', VersionStage: 'AWSPREVIOUS' })));
      expect(stage.name).toBe('ResourceNotFoundException');

      standIn.injectFault('GetSecretValue', { type: 'InternalServiceError' });
      const boom = await failure(secrets.send(new GetSecretValueCommand({ SecretId: 'known' })));
      expect(boom.name).toBe('InternalServiceError');
      expect(boom.$fault).toBe('server');
    });
  });

  it('env() points clients without an explicit endpoint at the stand-in', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, standIn.env());
    try {
      standIn.addUser({ userId: USER_ID, email: 'alice@example.com' });
      const envSso = new SSOAdminClient({});
      const envIdentity = new IdentitystoreClient({});
      const envScheduler = new SchedulerClient({});
      const envLambda = new LambdaClient({});
      const envSecrets = new SecretsManagerClient({});
      standIn.putSecret('timebox/slack', 'x');
      await envSso.send(new ListAccountAssignmentsCommand({ InstanceArn: INSTANCE, AccountId: ACCOUNT, PermissionSetArn: PERMISSION_SET }));
      await envIdentity.send(
        new GetUserIdCommand({ IdentityStoreId: STORE, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice@example.com' } } }),
      );
      await envScheduler.send(new ListSchedulesCommand({}));
      expect((await envLambda.send(new InvokeCommand({ FunctionName: 'timebox-worker', InvocationType: 'Event' }))).StatusCode).toBe(202);
      expect((await envSecrets.send(new GetSecretValueCommand({ SecretId: 'timebox/slack' }))).SecretString).toBe('x');
      expect(standIn.calls.map((c) => c.service)).toEqual(['sso-admin', 'identitystore', 'scheduler', 'lambda', 'secretsmanager']);
      for (const client of [envSso, envIdentity, envScheduler, envLambda, envSecrets]) client.destroy();
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});
