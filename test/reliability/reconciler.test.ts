import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { grantTransitions, withGrant } from '../../src/domain/access-request';
import { targetKey } from '../../src/domain/grant-target';
import { eventually } from '../support/eventually';
import { ACCOUNTS, GROUPS, INSTANCE_ARN, PEOPLE, PERMISSION_SETS, TimeboxHarness, testConfigYaml } from '../support/timebox-harness';

const target = (who: keyof typeof PEOPLE) => ({ kind: 'account' as const, accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.ReadOnly, principalId: PEOPLE[who].principalId });

/**
 * The reconciler compares the assignments Timebox believes it made (its leases) with what
 * Identity Center reports for those triples. It removes only orphans Timebox created.
 */
describe('Reconciler', () => {
  let h: TimeboxHarness;
  beforeEach(async () => {
    h = await TimeboxHarness.start();
  });
  afterEach(async () => {
    await h.stop();
  });

  /** Files an auto-approved 1h grant and waits until it is active. */
  async function activeGrant(who: keyof typeof PEOPLE) {
    const id = await h.file(who, 'staging ReadOnly 1h reconcile me');
    return h.waitForStatus(id, 'ACTIVE');
  }

  /** Marks a request ENDED in the store without touching AWS: what a crash between steps could leave. */
  async function endWithoutRevoking(id: string) {
    const store = h.runtime.deps.store;
    await h.runtime.queue.drain(); // let the ACTIVE notifications finish writing first
    const active = (await store.getRequest(id))!;
    const grant = active.grants[0]!;
    const revoking = grantTransitions.startRevoking(grant, Date.now() + 60_000, id).grant;
    await store.saveRequest(withGrant(active, grantTransitions.end(revoking, Date.now(), undefined, id).grant));
  }

  test('an orphan Timebox created (its grant ended, the assignment still there) is revoked and audited', async () => {
    const grant = await activeGrant('dave');
    await endWithoutRevoking(grant.id);
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);

    const report = await h.runtime.reconcile();
    expect(report.orphansRevoked).toHaveLength(1);
    expect(report.staleHoldersRemoved).toEqual([grant.id]);
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
    expect(await h.runtime.deps.store.getLease(targetKey(target('dave')))).toBeUndefined();
    expect((await h.audit(grant.id)).filter((e) => e.type === 'reconciled')).toEqual([expect.objectContaining({ actor: 'timebox' })]);
  });

  test('an assignment Timebox did not create is never touched, only reported', async () => {
    h.aws.addAssignment({ instanceArn: INSTANCE_ARN, ...target('carol'), principalType: 'USER' });
    const grant = await activeGrant('carol');
    await endWithoutRevoking(grant.id);

    const report = await h.runtime.reconcile();
    expect(report.notCreatedByTimebox).toHaveLength(1);
    expect(report.orphansRevoked).toEqual([]);
    expect(h.hasAssignment('carol', 'staging', 'ReadOnly')).toBe(true);
    expect(h.aws.callsTo('DeleteAccountAssignment')).toHaveLength(0);
  });

  test('a live grant is left alone; an ended co-holder is released without removing the assignment', async () => {
    const first = await activeGrant('dave');
    const second = await activeGrant('dave');
    await endWithoutRevoking(first.id);

    const report = await h.runtime.reconcile();
    expect(report.staleHoldersRemoved).toEqual([first.id]);
    expect(report.orphansRevoked).toEqual([]);
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);
    expect((await h.runtime.deps.store.getLease(targetKey(target('dave'))))!.holders).toEqual([`${second.id}/1`]);
  });

  test('an active grant whose assignment someone removed outside Timebox is reported, not silently recreated', async () => {
    const grant = await activeGrant('dave');
    // Someone deletes it in the AWS console.
    await h.runtime.deps.provisioner.remove(target('dave'), undefined);
    const creates = h.aws.callsTo('CreateAccountAssignment').length;

    const report = await h.runtime.reconcile();
    expect(report.missingWhileActive).toEqual([expect.stringContaining(grant.id)]);
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(creates);
    expect((await h.request(grant.id)).status).toBe('ACTIVE');
  });

  test('an admin makes the same assignment by hand during a window: the report names it, with when and by which request it will be removed (Identity Center shows the two as one)', async () => {
    const grant = await activeGrant('dave');
    const stored = (await h.runtime.deps.store.getRequest(grant.id))!;
    const endsAt = stored.grants[0]!.endsAt!;
    // The admin's CreateAccountAssignment of an assignment that exists changes nothing AWS can show.
    const creates = h.aws.callsTo('CreateAccountAssignment').length;
    await h.runtime.deps.provisioner.create(target('dave'));
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(creates + 1);

    const report = await h.runtime.reconcile();
    expect(report.heldForWindows).toEqual([`${PEOPLE.dave.principalId} on ${ACCOUNTS.staging} with ${PERMISSION_SETS.ReadOnly}: removed at ${new Date(endsAt).toISOString()} (${grant.id})`]);
    expect(report.orphansRevoked).toEqual([]);
    expect(report.notCreatedByTimebox).toEqual([]);
  });

  test('a lease item no schema version can read (a newer release wrote it during a rollback, or it is corrupt) is skipped and named; the other leases are still reconciled', async () => {
    const grant = await activeGrant('dave');
    await endWithoutRevoking(grant.id);
    // A lease written by a newer release, for another target.
    await h.runtime.dynamo.send(
      new PutItemCommand({
        TableName: 'timebox',
        Item: { pk: { S: 'LEASE#from-the-future' }, sk: { S: 'LEASE' }, kind: { S: 'lease' }, schemaVersion: { N: '99' }, version: { N: '1' }, dueKey: { S: 'LEASE' }, dueAt: { N: '1' }, lease: { M: { shape: { S: 'unknown' } } } },
      }),
    );

    const report = await h.runtime.reconcile();
    expect(report.unreadable).toEqual(['from-the-future']);
    expect(report.orphansRevoked).toHaveLength(1);
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
    // Still there, untouched, for the release that can read it.
    expect((await h.runtime.dynamo.send(new GetItemCommand({ TableName: 'timebox', Key: { pk: { S: 'LEASE#from-the-future' }, sk: { S: 'LEASE' } } }))).Item).toBeDefined();
  });

  test('a window whose request dropped out of the due index (the embedded store killed between its index and item writes) is still revoked: the reconciler hands over a live grant whose work is overdue', async () => {
    const grant = await activeGrant('dave');
    await h.runtime.queue.drain();
    // What a SIGKILL inside dynalite's write can leave: the item as it was, its `due` index entry
    // already deleted. Here: the window over, and the request in no index the sweep reads.
    // The store's own marshalling options: a document client built on its client shares its middleware.
    const doc = DynamoDBDocumentClient.from(h.runtime.dynamo, { marshallOptions: { removeUndefinedValues: true } });
    const key = { pk: `REQ#${grant.id}`, sk: 'REQUEST' };
    const { dueKey: _k, dueAt: _a, ...item } = (await doc.send(new GetCommand({ TableName: 'timebox', Key: key }))).Item!;
    const request = item.request as { grants: Array<{ endsAt: number }> };
    request.grants[0]!.endsAt = Date.now() - 1_000;
    await doc.send(new PutCommand({ TableName: 'timebox', Item: item }));
    await h.runtime.sweep();
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);

    const report = await h.runtime.reconcile();
    expect(report.overdueHandedOver).toEqual([grant.id]);
    await h.waitForStatus(grant.id, 'ENDED');
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
  });

  test('with nothing wrong, the reconciler changes nothing (and names what the window will remove)', async () => {
    const grant = await activeGrant('dave');
    const before = h.aws.calls.length;
    const report = await h.runtime.reconcile();
    expect(report).toEqual({ checked: 1, orphansRevoked: [], staleHoldersRemoved: [], notCreatedByTimebox: [], missingWhileActive: [], ownershipRecorded: [], overdueHandedOver: [], waitingForAws: [], failed: [], unreadable: [], heldForWindows: [expect.stringContaining(grant.id)] });
    expect(h.aws.calls.slice(before).map((c) => c.operation)).toEqual(['ListAccountAssignments']);
  });
});

const STAGING_ADMIN_AUTO = `
  - name: staging-admin-auto
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 8h`;

/**
 * A lease is re-created each time a target is granted again after its last window ended. A
 * reconciler pass reads every lease first and handles them one by one, each costing AWS calls:
 * a lease re-created during the pass must never be taken for the one the pass read.
 */
describe("a lease's identity: a reconciler pass acting on an old read", () => {
  let h: TimeboxHarness;
  beforeEach(async () => {
    h = await TimeboxHarness.start({ configYaml: testConfigYaml(STAGING_ADMIN_AUTO) });
  });
  afterEach(async () => {
    await h.stop();
  });

  /** Carol's staging ReadOnly grant: the oldest lease, so the first a pass handles. */
  async function slowLease() {
    await h.waitForStatus(await h.file('carol', 'staging ReadOnly 1h the slow lease'), 'ACTIVE');
  }

  /** A reconciler pass that has read every lease, held on its AWS look-up of carol's lease while `meanwhile` runs. */
  async function reconcileHeldDuring(meanwhile: () => Promise<void>) {
    const held = h.aws.hold('ListAccountAssignments', (input) => (input as { PermissionSetArn?: string }).PermissionSetArn === PERMISSION_SETS.ReadOnly);
    const pass = h.runtime.reconcile();
    await held.arrived;
    await meanwhile();
    held.release();
    return pass;
  }

  /** Ends `who`'s request `id` at once and files `text` again, as a renewal would. */
  async function endAndAskAgain(who: 'dave', id: string, text: string): Promise<string> {
    await h.command(who, `end ${id}`);
    await h.waitForStatus(id, 'ENDED');
    const renewed = await h.file(who, text);
    await h.waitForStatus(renewed, 'ACTIVE');
    return renewed;
  }

  test('an account: the window ends and the same person is granted it again during the pass; the new window keeps its assignment and its lease', async () => {
    await slowLease();
    const first = await h.file('dave', 'staging Admin 1h first window');
    await h.waitForStatus(first, 'ACTIVE');
    let renewed = '';
    const report = await reconcileHeldDuring(async () => {
      renewed = await endAndAskAgain('dave', first, 'staging Admin 1h and again');
    });

    expect(report.orphansRevoked).toEqual([]);
    expect(h.hasAssignment('dave', 'staging', 'Admin')).toBe(true);
    expect((await h.request(renewed)).status).toBe('ACTIVE');
    const lease = await h.runtime.deps.store.getLease(targetKey({ kind: 'account', accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.Admin, principalId: PEOPLE.dave.principalId }));
    expect(lease).toMatchObject({ holders: [`${renewed}/1`], createdByTimebox: true });
  });

  test('a group: the membership granted again during the pass keeps its new id, and is removed when its own window ends', async () => {
    await slowLease();
    const first = await h.file('dave', 'group oncall 1h first window');
    await h.waitForStatus(first, 'ACTIVE');
    let renewed = '';
    const report = await reconcileHeldDuring(async () => {
      renewed = await endAndAskAgain('dave', first, 'group oncall 1h and again');
    });

    expect(report.orphansRevoked).toEqual([]);
    expect(h.isMember('dave', 'oncall')).toBe(true);
    const membershipNow = h.aws.membershipsOf(PEOPLE.dave.principalId).find((m) => m.groupId === GROUPS.oncall)?.membershipId;
    const lease = await h.runtime.deps.store.getLease(targetKey({ kind: 'group', groupId: GROUPS.oncall, principalId: PEOPLE.dave.principalId }));
    expect(lease).toMatchObject({ holders: [`${renewed}/1`], createdByTimebox: true, membershipId: membershipNow });

    // The second window's end removes the membership Timebox created for it.
    await h.command('dave', `end ${renewed}`);
    await h.waitForStatus(renewed, 'ENDED');
    expect(h.isMember('dave', 'oncall')).toBe(false);
  });

  test('a grant joining a lease while the same target is ended and granted again joins the new lease, never writes the old one over it', async () => {
    const first = await h.file('dave', 'staging Admin 1h first window');
    await h.waitForStatus(first, 'ACTIVE');
    // Dave's second request reads the lease, then waits on its AWS look-up...
    const held = h.aws.hold('ListAccountAssignments', (input) => (input as { PermissionSetArn?: string }).PermissionSetArn === PERMISSION_SETS.Admin);
    const joining = await h.file('dave', 'staging Admin 1h joins the first');
    await held.arrived;
    // ...while the first window ends and a third request creates the lease again.
    const third = await endAndAskAgain('dave', first, 'staging Admin 1h a new lifetime');
    held.release();
    await h.waitForStatus(joining, 'ACTIVE');

    const lease = await h.runtime.deps.store.getLease(targetKey({ kind: 'account', accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.Admin, principalId: PEOPLE.dave.principalId }));
    expect([...(lease?.holders ?? [])].sort()).toEqual([`${joining}/1`, `${third}/1`].sort());
    // Each window's end lets go of its own hold: the assignment goes with the last of them.
    await h.command('dave', `end ${third}`);
    await h.waitForStatus(third, 'ENDED');
    expect(h.hasAssignment('dave', 'staging', 'Admin')).toBe(true);
    await h.command('dave', `end ${joining}`);
    await h.waitForStatus(joining, 'ENDED');
    expect(h.hasAssignment('dave', 'staging', 'Admin')).toBe(false);
  });
});

describe("a lease's identity: a stuck revoke and a reconciler pass", () => {
  let h: TimeboxHarness;
  beforeEach(async () => {
    // A short claim, so the stuck revoke's lease is past it when the pass reads it; retries 2 s apart.
    h = await TimeboxHarness.start({ configYaml: testConfigYaml(STAGING_ADMIN_AUTO), workflow: { claimMs: 1_000, revokeRetryMs: 2_000 } });
  });
  afterEach(async () => {
    await h.stop();
  });

  test('the stuck revoke succeeds and the person is granted again during the pass: the new window keeps its assignment', async () => {
    const key = targetKey({ kind: 'account', accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.Admin, principalId: PEOPLE.dave.principalId });
    h.aws.injectFault('DeleteAccountAssignment', { type: 'AccessDeniedException', message: 'not authorized' }, 1_000);
    const stuck = await h.file('dave', 'staging Admin 2s revoke gets stuck');
    await eventually(async () => (await h.request(stuck)).grants[0]?.revokeAttempts, 15_000, 'a failed revoke attempt');
    // Past the revoke's claim, between two of its retries.
    await eventually(async () => {
      const lease = await h.runtime.deps.store.getLease(key);
      return lease?.deleting && Date.now() - lease.updatedAt > 1_100;
    }, 10_000, 'the deleting lease to be past its claim');

    const held = h.aws.hold('ListAccountAssignments', (input) => (input as { PermissionSetArn?: string }).PermissionSetArn === PERMISSION_SETS.Admin);
    const pass = h.runtime.reconcile();
    await held.arrived;
    h.aws.clearFaults('DeleteAccountAssignment');
    await h.waitForStatus(stuck, 'ENDED', 15_000);
    expect(h.hasAssignment('dave', 'staging', 'Admin')).toBe(false);
    const renewed = await h.file('dave', 'staging Admin 1h after the stuck one');
    await h.waitForStatus(renewed, 'ACTIVE');
    held.release();
    await pass;

    expect(h.hasAssignment('dave', 'staging', 'Admin')).toBe(true);
    expect((await h.runtime.deps.store.getLease(key))?.holders).toEqual([`${renewed}/1`]);
  });
});

