/**
 * The real Identity Center adapter, with real SDK v3 clients, against the wire-level AWS stand-in:
 * serialisation, polling, error classes and retries are the SDK's and the adapter's own.
 */
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { AssignmentStillInProgressError } from '../../../src/app/ports';
import {
  IdentityCenterAdapter,
  type IdentityCenterOptions,
  type Provisioner,
} from '../../../src/adapters/identity-center/identity-center-adapter';
import type { ProvisionTarget } from '../../../src/domain/grant-target';
import { AwsStandIn, type StandInAssignment } from '../../support/aws-stand-in';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-1111111111111111';
const STORE = 'd-9067000000';
const PERMISSION_SET = 'arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222';
const ACCOUNT = '111122223333';
const ALICE = '9067c0ffee-0a1b2c3d-1111-2222-3333-444455556666';
const BOB = '9067c0ffee-0a1b2c3d-1111-2222-3333-777788889999';
const ONCALL = '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000001';
const ADMINS = '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000002';
const credentials = { accessKeyId: 'AKIASTANDINDUMMYKEY0', secretAccessKey: 'dummy' };

const account: ProvisionTarget = { kind: 'account', principalId: ALICE, accountId: ACCOUNT, permissionSetArn: PERMISSION_SET };
const oncall: ProvisionTarget = { kind: 'group', principalId: ALICE, groupId: ONCALL };
const standInAssignment: StandInAssignment = {
  instanceArn: INSTANCE,
  accountId: ACCOUNT,
  permissionSetArn: PERMISSION_SET,
  principalId: ALICE,
  principalType: 'USER',
};

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`, { cause: err });
  }
  throw new Error('expected the call to fail');
}

describe('IdentityCenterAdapter against the AWS stand-in', () => {
  let standIn: AwsStandIn;
  let ssoAdmin: SSOAdminClient;
  let identityStore: IdentitystoreClient;
  let sleeps: number[];

  /** Sleeps are recorded, not waited: polls and backoffs run at once. */
  const adapter = (options: Partial<IdentityCenterOptions> = {}): IdentityCenterAdapter =>
    new IdentityCenterAdapter(ssoAdmin, identityStore, {
      instanceArn: INSTANCE,
      identityStoreId: STORE,
      maxCallsPerSecond: 1000,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...options,
    });

  beforeEach(async () => {
    standIn = await AwsStandIn.start();
    // One attempt: the SDK's own retries would hide what the adapter does with each answer.
    const base = { endpoint: standIn.url, region: 'us-east-1', credentials, maxAttempts: 1 };
    ssoAdmin = new SSOAdminClient(base);
    identityStore = new IdentitystoreClient(base);
    sleeps = [];
    standIn.addUser({ userId: ALICE, email: 'alice@example.com', identityStoreId: STORE });
    standIn.addUser({ userId: BOB, email: 'bob@example.com', identityStoreId: STORE });
    standIn.addGroup({ groupId: ONCALL, displayName: 'oncall', identityStoreId: STORE });
    standIn.addGroup({ groupId: ADMINS, displayName: 'admins', identityStoreId: STORE });
  });

  afterEach(async () => {
    ssoAdmin.destroy();
    identityStore.destroy();
    await standIn.close();
  });

  it('is a Provisioner', () => {
    const provisioner: Provisioner = adapter();
    expect(typeof provisioner.operationStatus).toBe('function');
  });

  describe('users', () => {
    it('finds a user id by email, and undefined for nobody', async () => {
      const ic = adapter();
      expect(await ic.findUserIdByEmail('Alice@Example.com')).toBe(ALICE);
      expect(await ic.findUserIdByEmail('mallory@example.com')).toBeUndefined();
      expect(standIn.callsTo('GetUserId')[0]?.input).toEqual({
        IdentityStoreId: STORE,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'Alice@Example.com' } },
      });
    });

    it('lets other Identity Store errors through', async () => {
      standIn.injectFault('GetUserId', { type: 'AccessDeniedException' });
      expect((await failure(adapter().findUserIdByEmail('alice@example.com'))).name).toBe('AccessDeniedException');
    });
  });

  describe('account assignments', () => {
    it('creates, looks up and removes an assignment, reporting each operation id before polling', async () => {
      const ic = adapter();
      const started: Array<{ id: string; describesSoFar: number }> = [];
      const hooks = {
        onStarted: async (id: string) => {
          started.push({
            id,
            describesSoFar:
              standIn.callsTo('DescribeAccountAssignmentCreationStatus').length + standIn.callsTo('DescribeAccountAssignmentDeletionStatus').length,
          });
        },
      };
      expect(await ic.lookup(account)).toEqual({ present: false });

      expect(await ic.create(account, hooks)).toEqual({ ok: true });
      expect(standIn.hasAssignment(standInAssignment)).toBe(true);
      const creationId = (standIn.callsTo('DescribeAccountAssignmentCreationStatus')[0]?.input as { AccountAssignmentCreationRequestId?: string })
        .AccountAssignmentCreationRequestId;
      expect(started).toEqual([{ id: creationId, describesSoFar: 0 }]);
      expect(standIn.callsTo('CreateAccountAssignment')[0]?.input).toEqual({
        InstanceArn: INSTANCE,
        TargetId: ACCOUNT,
        TargetType: 'AWS_ACCOUNT',
        PermissionSetArn: PERMISSION_SET,
        PrincipalType: 'USER',
        PrincipalId: ALICE,
      });
      expect(await ic.lookup(account)).toEqual({ present: true });

      expect(await ic.remove(account, undefined, hooks)).toEqual({ ok: true });
      expect(standIn.hasAssignment(standInAssignment)).toBe(false);
      const deletionId = (standIn.callsTo('DescribeAccountAssignmentDeletionStatus')[0]?.input as { AccountAssignmentDeletionRequestId?: string })
        .AccountAssignmentDeletionRequestId;
      expect(started[1]).toEqual({ id: deletionId, describesSoFar: 2 }); // only the creation's polls
      expect(await ic.lookup(account)).toEqual({ present: false });
    });

    it('looks through every page and only at USER principals', async () => {
      for (let i = 0; i < 120; i++) standIn.addAssignment({ ...standInAssignment, principalId: `other-${i}` });
      standIn.addAssignment({ ...standInAssignment, principalType: 'GROUP', principalId: BOB });
      const ic = adapter();
      expect(await ic.lookup({ ...account, principalId: BOB })).toEqual({ present: false });
      standIn.addAssignment(standInAssignment);
      expect(await ic.lookup(account)).toEqual({ present: true });
      expect(standIn.callsTo('ListAccountAssignments').length).toBeGreaterThanOrEqual(4); // 2 pages each
    });

    it('returns FAILED as a refusal with its reason', async () => {
      standIn.failNextCreation('Permission set is not provisioned');
      expect(await adapter().create(account)).toEqual({ ok: false, reason: 'Permission set is not provisioned' });
      expect(standIn.hasAssignment(standInAssignment)).toBe(false);
    });

    it('throws AssignmentStillInProgressError past the poll budget, and reports the status later', async () => {
      standIn.setCreationPolls(10);
      const ic = adapter({ pollDelaysMs: [10, 20], pollBudgetMs: 50 });
      let startedId: string | undefined;
      const err = await failure(ic.create(account, { onStarted: async (id) => void (startedId = id) }));
      expect(err).toBeInstanceOf(AssignmentStillInProgressError);
      expect((err as AssignmentStillInProgressError).operationId).toBe(startedId);
      expect(sleeps).toEqual([10, 20, 20]); // 50 ms of budget spent
      expect(standIn.callsTo('DescribeAccountAssignmentCreationStatus')).toHaveLength(3);

      const id = startedId ?? '';
      const statuses: string[] = [];
      for (let i = 0; i < 8; i++) statuses.push(await ic.operationStatus('create', id));
      expect(statuses).toEqual([...Array<string>(7).fill('IN_PROGRESS'), 'SUCCEEDED']);
      expect(standIn.hasAssignment(standInAssignment)).toBe(true);
    });

    it('reports deletion status and fails loudly on unknown operation ids', async () => {
      standIn.addAssignment(standInAssignment);
      standIn.setDeletionPolls(5);
      const ic = adapter({ pollDelaysMs: [10], pollBudgetMs: 0 });
      let startedId = '';
      await expect(ic.remove(account, undefined, { onStarted: async (id) => void (startedId = id) })).rejects.toBeInstanceOf(
        AssignmentStillInProgressError,
      );
      expect(await ic.operationStatus('delete', startedId)).toBe('IN_PROGRESS');
      // A deletion id is not a creation id.
      expect((await failure(ic.operationStatus('create', startedId))).name).toBe('ResourceNotFoundException');
      // AWS finishes the deletion in its own time (a creation of the same assignment conflicts while it runs).
      standIn.completeOperations();
      standIn.failNextCreation('nope');
      standIn.setCreationPolls(0);
      let failedId = '';
      expect(await adapter().create(account, { onStarted: async (id) => void (failedId = id) })).toEqual({ ok: false, reason: 'nope' });
      expect(await ic.operationStatus('create', failedId)).toBe('FAILED');
    });

    it('waits out ConflictException and throttling on create and delete, up to conflictAttempts', async () => {
      standIn.setCreationPolls(0);
      standIn.injectFault('CreateAccountAssignment', { type: 'ConflictException' }, 2);
      standIn.injectFault('CreateAccountAssignment', { type: 'ThrottlingException' }, 1);
      const ic = adapter({ conflictAttempts: 4 });
      expect(await ic.create(account)).toEqual({ ok: true });
      expect(standIn.callsTo('CreateAccountAssignment')).toHaveLength(4);
      expect(sleeps).toHaveLength(3 + 1); // three backoffs, then one poll (AWS always answers IN_PROGRESS first)

      standIn.injectFault('DeleteAccountAssignment', { type: 'ConflictException' }, 4);
      expect((await failure(ic.remove(account, undefined))).name).toBe('ConflictException');
      expect(standIn.callsTo('DeleteAccountAssignment')).toHaveLength(4);
      expect(standIn.hasAssignment(standInAssignment)).toBe(true);

      // Anything else is not retried.
      standIn.injectFault('DeleteAccountAssignment', { type: 'ValidationException' }, 1);
      expect((await failure(ic.remove(account, undefined))).name).toBe('ValidationException');
      expect(standIn.callsTo('DeleteAccountAssignment')).toHaveLength(5);
    });

    it('keeps at most maxOutstandingCreates creations in flight', async () => {
      standIn.setCreationPolls(3);
      const ic = adapter({ maxOutstandingCreates: 2 });
      const targets = [0, 1, 2, 3, 4].map((i): ProvisionTarget => ({ ...account, accountId: `11112222333${i}` }));
      const outcomes = await Promise.all(targets.map((t) => ic.create(t)));
      expect(outcomes).toEqual(targets.map(() => ({ ok: true })));
      expect(standIn.callsTo('CreateAccountAssignment')).toHaveLength(5);
      expect(standIn.maxOutstandingCreations).toBe(2);
    });

  });

  describe('group memberships', () => {
    it('creates a membership and returns its id, without an operation to wait for', async () => {
      const onStarted = jest.fn(async () => undefined);
      const outcome = await adapter().create(oncall, { onStarted });
      const [membership] = standIn.membershipsOf(ALICE);
      expect(outcome).toEqual({ ok: true, membershipId: membership?.membershipId });
      expect(membership).toMatchObject({ groupId: ONCALL, userId: ALICE });
      expect(onStarted).not.toHaveBeenCalled();
      expect(standIn.callsTo('CreateGroupMembership').map((c) => c.input)).toEqual([
        { IdentityStoreId: STORE, GroupId: ONCALL, MemberId: { UserId: ALICE } },
      ]);
      expect(standIn.calls.filter((c) => c.service === 'sso-admin')).toEqual([]);
    });

    it('answers "already a member" with the existing membership, not a second one', async () => {
      const standing = standIn.addMembership({ groupId: ONCALL, userId: ALICE });
      expect(await adapter().create(oncall)).toEqual({ ok: true, membershipId: standing });
      expect(standIn.membershipsOf(ALICE).map((m) => m.membershipId)).toEqual([standing]);
      expect(standIn.callsTo('CreateGroupMembership')).toHaveLength(1);
      expect(standIn.callsTo('GetGroupMembershipId')).toHaveLength(1);
      expect(sleeps).toEqual([]);
    });

    it('retries a ConflictException that was a concurrent modification, not a duplicate', async () => {
      standIn.injectFault('CreateGroupMembership', { type: 'ConflictException', message: 'concurrent modification' });
      const outcome = await adapter().create(oncall);
      expect(outcome).toEqual({ ok: true, membershipId: standIn.membershipsOf(ALICE)[0]?.membershipId });
      expect(standIn.callsTo('CreateGroupMembership')).toHaveLength(2);
      expect(standIn.callsTo('GetGroupMembershipId')).toHaveLength(1);
      expect(sleeps).toHaveLength(1);
    });

    it('gives up on conflicts and throttling after conflictAttempts, and does not retry other errors', async () => {
      standIn.injectFault('CreateGroupMembership', { type: 'ThrottlingException' }, 3);
      const ic = adapter({ conflictAttempts: 3 });
      expect((await failure(ic.create(oncall))).name).toBe('ThrottlingException');
      expect(standIn.callsTo('CreateGroupMembership')).toHaveLength(3);
      expect(standIn.isMember({ groupId: ONCALL, userId: ALICE })).toBe(false);

      standIn.injectFault('CreateGroupMembership', { type: 'InternalServerException' });
      expect((await failure(ic.create(oncall))).name).toBe('InternalServerException');
      expect(standIn.callsTo('CreateGroupMembership')).toHaveLength(4);
    });

    it('refuses (ok: false) a missing group or user, and throws on ids AWS rejects', async () => {
      const ic = adapter();
      const missingGroup = await ic.create({ kind: 'group', principalId: ALICE, groupId: '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-00000000dead' });
      expect(missingGroup).toEqual({ ok: false, reason: expect.stringContaining('ResourceNotFoundException') });
      const missingUser = await ic.create({ kind: 'group', principalId: '9067c0ffee-0a1b2c3d-1111-2222-3333-00000000dead', groupId: ONCALL });
      expect(missingUser.ok).toBe(false);
      expect((await failure(ic.create({ kind: 'group', principalId: 'ic-alice', groupId: ONCALL }))).name).toBe('ValidationException');
      expect(standIn.callsTo('CreateGroupMembership')).toHaveLength(3); // none retried
    });

    it('looks a membership up, with its id', async () => {
      const ic = adapter();
      expect(await ic.lookup(oncall)).toEqual({ present: false });
      const id = standIn.addMembership({ groupId: ONCALL, userId: ALICE });
      expect(await ic.lookup(oncall)).toEqual({ present: true, membershipId: id });
      expect(await ic.lookup({ ...oncall, groupId: ADMINS })).toEqual({ present: false });
      // An unknown group means not a member, too.
      expect(await ic.lookup({ ...oncall, groupId: '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-00000000dead' })).toEqual({ present: false });
      standIn.injectFault('GetGroupMembershipId', { type: 'AccessDeniedException' });
      expect((await failure(ic.lookup(oncall))).name).toBe('AccessDeniedException');
    });

    it('removes exactly the given membership, and treats an already-gone one as done', async () => {
      const ic = adapter();
      const created = await ic.create(oncall);
      const mine = created.ok ? created.membershipId : undefined;
      const alsoAdmin = standIn.addMembership({ groupId: ADMINS, userId: ALICE });
      const bobs = standIn.addMembership({ groupId: ONCALL, userId: BOB });

      expect(await ic.remove(oncall, mine)).toEqual({ ok: true });
      expect(standIn.callsTo('DeleteGroupMembership').map((c) => c.input)).toEqual([{ IdentityStoreId: STORE, MembershipId: mine }]);
      expect(standIn.membershipsOf(ALICE).map((m) => m.membershipId)).toEqual([alsoAdmin]);
      expect(standIn.membershipsOf(BOB).map((m) => m.membershipId)).toEqual([bobs]);

      expect(await ic.remove(oncall, mine)).toEqual({ ok: true }); // ResourceNotFoundException: already gone
      expect(standIn.callsTo('DeleteGroupMembership')).toHaveLength(2);
    });

    it('never removes a membership it was not given the id of', async () => {
      const standing = standIn.addMembership({ groupId: ONCALL, userId: ALICE });
      const err = await failure(adapter().remove(oncall, undefined));
      expect(err.message).toContain('membership id');
      expect(standIn.callsTo('DeleteGroupMembership')).toEqual([]);
      expect(standIn.membershipsOf(ALICE).map((m) => m.membershipId)).toEqual([standing]);
    });

    it('retries conflicts and throttling on removal, and lets other errors through', async () => {
      const id = standIn.addMembership({ groupId: ONCALL, userId: ALICE });
      standIn.injectFault('DeleteGroupMembership', { type: 'ThrottlingException' }, 1);
      standIn.injectFault('DeleteGroupMembership', { type: 'ConflictException' }, 1);
      const ic = adapter();
      expect(await ic.remove(oncall, id)).toEqual({ ok: true });
      expect(standIn.callsTo('DeleteGroupMembership')).toHaveLength(3);
      expect(standIn.isMember({ groupId: ONCALL, userId: ALICE })).toBe(false);

      const again = standIn.addMembership({ groupId: ONCALL, userId: ALICE });
      standIn.injectFault('DeleteGroupMembership', { type: 'InternalServerException' });
      expect((await failure(ic.remove(oncall, again))).name).toBe('InternalServerException');
      expect(standIn.isMember({ groupId: ONCALL, userId: ALICE })).toBe(true);
    });
  });
});
