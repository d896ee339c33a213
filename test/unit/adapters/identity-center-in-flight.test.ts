/**
 * The Identity Center adapter never starts a second creation of an account assignment while one
 * is in progress (real SDK clients, the wire-level AWS stand-in): it finds the creation in flight
 * and waits for it. The stand-in, like AWS, refuses a create or delete of an assignment while
 * another operation on it is IN_PROGRESS.
 */
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { CreateAccountAssignmentCommand, DeleteAccountAssignmentCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { IdentityCenterAdapter } from '../../../src/adapters/identity-center/identity-center-adapter';
import type { ProvisionTarget } from '../../../src/domain/grant-target';
import { AwsStandIn } from '../../support/aws-stand-in';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-1111111111111111';
const STORE = 'd-9067000000';
const PERMISSION_SET = 'arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222';
const ACCOUNT = '111122223333';
const ALICE = '9067c0ffee-0a1b2c3d-1111-2222-3333-444455556666';
const BOB = '9067c0ffee-0a1b2c3d-1111-2222-3333-777788889999';
const credentials = { accessKeyId: 'AKIASTANDINDUMMYKEY0', secretAccessKey: 'dummy' };

const assignmentOf = (principalId: string): Extract<ProvisionTarget, { kind: 'account' }> => ({ kind: 'account', principalId, accountId: ACCOUNT, permissionSetArn: PERMISSION_SET });
const wire = (principalId: string) => ({ InstanceArn: INSTANCE, TargetId: ACCOUNT, TargetType: 'AWS_ACCOUNT' as const, PermissionSetArn: PERMISSION_SET, PrincipalType: 'USER' as const, PrincipalId: principalId });
const standInAssignment = (principalId: string) => ({ instanceArn: INSTANCE, accountId: ACCOUNT, permissionSetArn: PERMISSION_SET, principalId });

describe('reliability: a creation already in flight', () => {
  let standIn: AwsStandIn;
  let ssoAdmin: SSOAdminClient;
  let identityStore: IdentitystoreClient;

  /** Sleeps are not waited: polls and backoffs run at once. */
  const adapter = () => new IdentityCenterAdapter(ssoAdmin, identityStore, { instanceArn: INSTANCE, identityStoreId: STORE, maxCallsPerSecond: 1000, sleep: async () => undefined });

  /** What an earlier attempt (a process since killed) left behind: a creation AWS accepted and is still carrying out. */
  async function earlierCreation(principalId: string): Promise<string> {
    const out = await ssoAdmin.send(new CreateAccountAssignmentCommand(wire(principalId)));
    return out.AccountAssignmentCreationStatus?.RequestId ?? '';
  }

  beforeEach(async () => {
    standIn = await AwsStandIn.start({ creationPolls: 2 });
    const base = { endpoint: standIn.url, region: 'us-east-1', credentials, maxAttempts: 1 };
    ssoAdmin = new SSOAdminClient(base);
    identityStore = new IdentitystoreClient(base);
  });

  afterEach(async () => {
    ssoAdmin.destroy();
    identityStore.destroy();
    await standIn.close();
  });

  it('the stand-in refuses a create or a delete of an assignment while a creation of it is in progress: ConflictException, HTTP 409, nothing started', async () => {
    await earlierCreation(ALICE);
    const create = ssoAdmin.send(new CreateAccountAssignmentCommand(wire(ALICE)));
    await expect(create).rejects.toMatchObject({ name: 'ConflictException', $metadata: { httpStatusCode: 409 } });
    await expect(ssoAdmin.send(new DeleteAccountAssignmentCommand(wire(ALICE)))).rejects.toMatchObject({ name: 'ConflictException' });
    // Another principal's assignment is another assignment.
    await expect(ssoAdmin.send(new CreateAccountAssignmentCommand(wire(BOB)))).resolves.toBeDefined();
    expect(standIn.completeOperations()).toBe(2);
  });

  it('a resumed create finds the earlier creation still in progress and waits for it (reporting its id) instead of creating again', async () => {
    const earlier = await earlierCreation(ALICE);
    const started: string[] = [];
    const outcome = await adapter().create(assignmentOf(ALICE), { onStarted: async (id) => void started.push(id) }, { mayBeInFlight: true });
    expect(outcome).toEqual({ ok: true });
    expect(started).toEqual([earlier]);
    expect(standIn.callsTo('CreateAccountAssignment')).toHaveLength(1); // the earlier one only
    expect(standIn.hasAssignment(standInAssignment(ALICE))).toBe(true);
  });

  it('a resumed create whose earlier creation finished meanwhile creates nothing: the assignment is there', async () => {
    await earlierCreation(ALICE);
    standIn.completeOperations();
    expect(await adapter().create(assignmentOf(ALICE), undefined, { mayBeInFlight: true })).toEqual({ ok: true });
    expect(standIn.callsTo('CreateAccountAssignment')).toHaveLength(1);
  });

  it('a resumed create with nothing in flight for its assignment (another principal\'s creation is) creates its own', async () => {
    await earlierCreation(BOB);
    expect(await adapter().create(assignmentOf(ALICE), undefined, { mayBeInFlight: true })).toEqual({ ok: true });
    expect(standIn.callsTo('CreateAccountAssignment')).toHaveLength(2);
    expect(standIn.hasAssignment(standInAssignment(ALICE))).toBe(true);
  });

  it('a create answered ConflictException because a creation of the assignment is in progress waits for that creation, never sends another', async () => {
    const earlier = await earlierCreation(ALICE);
    const started: string[] = [];
    expect(await adapter().create(assignmentOf(ALICE), { onStarted: async (id) => void started.push(id) })).toEqual({ ok: true });
    expect(started).toEqual([earlier]);
    // The refused one and the earlier one: no creation after the conflict.
    expect(standIn.callsTo('CreateAccountAssignment')).toHaveLength(2);
    expect(standIn.hasAssignment(standInAssignment(ALICE))).toBe(true);
  });

  it('a delete answered ConflictException because a deletion of the assignment is in progress (an earlier revoke\'s) waits for that deletion', async () => {
    standIn.addAssignment({ ...standInAssignment(ALICE), principalType: 'USER' });
    standIn.setDeletionPolls(2);
    const earlier = (await ssoAdmin.send(new DeleteAccountAssignmentCommand(wire(ALICE)))).AccountAssignmentDeletionStatus?.RequestId;
    const started: string[] = [];
    expect(await adapter().remove(assignmentOf(ALICE), undefined, { onStarted: async (id) => void started.push(id) })).toEqual({ ok: true });
    expect(started).toEqual([earlier]);
    expect(standIn.callsTo('DeleteAccountAssignment')).toHaveLength(2);
    expect(standIn.hasAssignment(standInAssignment(ALICE))).toBe(false);
  });

  it('looks through every page of creations in progress (101 of them: two pages) to find the one for its assignment', async () => {
    for (let i = 0; i < 100; i++) await earlierCreation(`9067c0ffee-0a1b2c3d-1111-2222-3333-${String(i).padStart(12, '0')}`);
    const earlier = await earlierCreation(ALICE);
    const started: string[] = [];
    expect(await adapter().create(assignmentOf(ALICE), { onStarted: async (id) => void started.push(id) }, { mayBeInFlight: true })).toEqual({ ok: true });
    expect(started).toEqual([earlier]);
    expect(standIn.callsTo('ListAccountAssignmentCreationStatus').map((c) => (c.input as { NextToken?: string }).NextToken !== undefined)).toEqual([false, true]);
    expect(standIn.callsTo('CreateAccountAssignment')).toHaveLength(101);
  });
});
