import { grantTransitions, withGrant } from '../../src/domain/access-request';
import { targetKey } from '../../src/domain/grant-target';
import { ACCOUNTS, INSTANCE_ARN, PEOPLE, PERMISSION_SETS, TimeboxHarness } from '../support/timebox-harness';

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
    const revoking = grantTransitions.startRevoking(grant, Date.now() + 60_000, id);
    await store.saveRequest(withGrant(active, grantTransitions.end(revoking, Date.now(), undefined, id)));
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

  test('with nothing wrong, the reconciler changes nothing (and names what the window will remove)', async () => {
    const grant = await activeGrant('dave');
    const before = h.aws.calls.length;
    const report = await h.runtime.reconcile();
    expect(report).toEqual({ checked: 1, orphansRevoked: [], staleHoldersRemoved: [], notCreatedByTimebox: [], missingWhileActive: [], waitingForAws: [], failed: [], heldForWindows: [expect.stringContaining(grant.id)] });
    expect(h.aws.calls.slice(before).map((c) => c.operation)).toEqual(['ListAccountAssignments']);
  });
});
