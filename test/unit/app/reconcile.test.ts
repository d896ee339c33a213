/**
 * The reconciler: compares the leases (what Timebox believes it holds) with the fake Identity
 * Center and repairs what crashes and failures left: stale holders, orphans, and operations
 * AWS had not finished when Timebox gave up on them.
 */
import { decideRequest } from '../../../src/app/decide-request';
import { reconcileAssignments } from '../../../src/app/reconcile-assignments';
import { advanceRequest } from '../../../src/app/advance-request';
import { sweepDueRequests } from '../../../src/app/sweep';
import { DEFAULT_WORKFLOW_OPTIONS } from '../../../src/app/deps';
import { targetKey } from '../../../src/domain/grant-target';
import {
  BOB,
  HOUR,
  MINUTE,
  PRINCIPAL,
  accountTarget,
  askForAccounts,
  grantStatuses,
  makeDeps,
  passTime,
  stored,
  type TestWorld,
  fileStagingReadOnly,
} from '../../support/in-memory-ports';

const CLAIM = DEFAULT_WORKFLOW_OPTIONS.claimMs;
const STAGING_RO = accountTarget('staging', 'ReadOnly');


/** Dana's staging ReadOnly grant, FAILED after five thrown creates; what the attempts left is on the lease. */
async function failedAfterFiveAttempts(world: TestWorld): Promise<string> {
  const id = await fileStagingReadOnly(world);
  for (let i = 0; i < 5 && (await stored(world, id)).grants[0]?.status === 'GRANTING'; i++) await passTime(world, CLAIM);
  expect(grantStatuses(await stored(world, id))).toBe('1=FAILED');
  return id;
}

describe('reconcileAssignments', () => {
  it('one lease AWS refuses to show (AccessDenied after an IAM change) is reported; every other lease is still reconciled', async () => {
    const world = makeDeps();
    const orphans = [accountTarget('staging', 'ReadOnly'), accountTarget('prod', 'ReadOnly'), accountTarget('prod', 'Admin')];
    // Orphans a crash left: created by Timebox, held by no grant.
    for (const target of orphans) {
      world.provisioner.adminAdd(target);
      await world.store.putLease({ key: targetKey(target), target, holders: [], createdByTimebox: true, operations: [], deleting: false, generation: 'gen-1', version: 1, updatedAt: world.clock.now() }, undefined);
    }
    world.provisioner.failLookups(orphans[0]!, new Error('AccessDeniedException: not authorized to perform sso:ListAccountAssignments'));

    const report = await reconcileAssignments(world.deps);
    expect(report.checked).toBe(3);
    expect(report.failed).toHaveLength(1);
    expect(report.orphansRevoked).toHaveLength(2);
    expect(world.provisioner.has(orphans[0]!)).toBe(true);
    expect(world.provisioner.has(orphans[1]!)).toBe(false);
    expect(world.provisioner.has(orphans[2]!)).toBe(false);

    world.provisioner.clearLookupFaults();
    expect((await reconcileAssignments(world.deps)).orphansRevoked).toHaveLength(1);
    expect(world.provisioner.has(orphans[0]!)).toBe(false);
  });

  it('a grant failed after five attempts with no AWS operation outstanding lets go of its lease at once: nothing for the reconciler to do', async () => {
    const world = makeDeps();
    world.provisioner.onCreate({ kind: 'throw' }, { times: 5 });
    await failedAfterFiveAttempts(world);
    expect(world.store.leaseOf(STAGING_RO)).toBeUndefined();
    const report = await reconcileAssignments(world.deps);
    expect(report).toMatchObject({ checked: 0, orphansRevoked: [], staleHoldersRemoved: [] });
    expect(world.provisioner.calls.remove).toEqual([]);
  });

  it('removes a stale holder (its grant ended without letting go: a crash between steps) but keeps the target for the live grant that shares it', async () => {
    const world = makeDeps();
    const first = await fileStagingReadOnly(world);
    const live = await fileStagingReadOnly(world);
    expect(grantStatuses(await stored(world, live))).toBe('1=ACTIVE');
    // What a crash between the grant's end and its release would leave: ENDED, still on the lease.
    const crashed = await stored(world, first);
    await world.store.saveRequest({ ...crashed, grants: crashed.grants.map((g) => ({ ...g, status: 'ENDED' as const, endedAt: world.clock.now() })) });

    const report = await reconcileAssignments(world.deps);
    expect(report.staleHoldersRemoved).toEqual([first]);
    expect(world.store.leaseOf(STAGING_RO)?.holders).toEqual([`${live}/1`]);
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
    const reconciled = (await world.store.listAudit(first)).filter((e) => e.type === 'reconciled');
    expect(reconciled).toEqual([expect.objectContaining({ grantId: '1', detail: expect.stringContaining('ended') })]);

    // With the stale holder gone, the live window's end removes it.
    await passTime(world, HOUR);
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
  });

  it('removes an orphan: created by Timebox, held by a request the store lost', async () => {
    const world = makeDeps();
    const id = await fileStagingReadOnly(world);
    world.store.forgetRequest(id);
    world.scheduler.takeDue(Infinity); // and its timer is gone too

    const report = await reconcileAssignments(world.deps);
    expect(report.staleHoldersRemoved).toEqual([id]);
    expect(report.orphansRevoked).toHaveLength(1);
    expect(report.orphansRevoked[0]).toContain(PRINCIPAL);
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
    expect(world.store.leaseOf(STAGING_RO)).toBeUndefined();
  });

  it('never removes a target that was there before Timebox, even with no holder left', async () => {
    const world = makeDeps();
    world.provisioner.adminAdd(STAGING_RO);
    const id = await fileStagingReadOnly(world);
    world.store.forgetRequest(id);

    const report = await reconcileAssignments(world.deps);
    expect(report.notCreatedByTimebox).toHaveLength(1);
    expect(report.orphansRevoked).toEqual([]);
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
    expect(world.provisioner.calls.remove).toEqual([]);
    expect(world.store.leaseOf(STAGING_RO)).toBeUndefined();
  });

  it('reports an active grant whose target someone else removed, and changes nothing', async () => {
    const world = makeDeps();
    const id = await fileStagingReadOnly(world);
    world.provisioner.adminRemove(STAGING_RO);
    const report = await reconcileAssignments(world.deps);
    expect(report.missingWhileActive).toEqual([expect.stringContaining(`${id}/1`)]);
    expect(world.store.leaseOf(STAGING_RO)?.holders).toEqual([`${id}/1`]);
    expect(grantStatuses(await stored(world, id))).toBe('1=ACTIVE');
  });

  it('leak (b): keeps a lease while a create it started is IN_PROGRESS, and removes the orphan once AWS says SUCCEEDED', async () => {
    const world = makeDeps();
    world.provisioner.onCreate({ kind: 'in_progress' });
    world.provisioner.onCreate({ kind: 'throw' }, { times: 5 });
    const id = await fileStagingReadOnly(world);
    for (let i = 0; i < 5; i++) await passTime(world, CLAIM);
    expect(grantStatuses(await stored(world, id))).toBe('1=FAILED');
    const [opId] = world.provisioner.operationIds('IN_PROGRESS');

    let report = await reconcileAssignments(world.deps);
    expect(report.waitingForAws).toEqual([expect.stringContaining(opId as string)]);
    expect(report.orphansRevoked).toEqual([]);
    expect(world.store.leaseOf(STAGING_RO)?.operations.map((o) => o.id)).toEqual([opId]);

    // AWS finishes the old create after all: the assignment appears, and nobody holds it.
    world.provisioner.completeOperation(opId as string);
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
    world.clock.advance(5 * MINUTE);
    report = await reconcileAssignments(world.deps);
    expect(report.waitingForAws).toEqual([]);
    expect(report.orphansRevoked).toHaveLength(1);
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
    expect(world.store.leaseOf(STAGING_RO)).toBeUndefined();
  });

  it('an IN_PROGRESS create that ends FAILED leaves nothing to remove', async () => {
    const world = makeDeps();
    world.provisioner.onCreate({ kind: 'in_progress' });
    world.provisioner.onCreate({ kind: 'throw' }, { times: 5 });
    const id = await fileStagingReadOnly(world);
    for (let i = 0; i < 5; i++) await passTime(world, CLAIM);
    expect(grantStatuses(await stored(world, id))).toBe('1=FAILED');
    const [opId] = world.provisioner.operationIds('IN_PROGRESS');
    world.provisioner.completeOperation(opId as string, 'FAILED');

    const report = await reconcileAssignments(world.deps);
    expect(report.orphansRevoked).toEqual([]);
    expect(world.store.leaseOf(STAGING_RO)).toBeUndefined();
    expect(world.provisioner.calls.remove).toEqual([]);
  });

  it('one lease that cannot be checked does not stop the others', async () => {
    const world = makeDeps();
    const first = await fileStagingReadOnly(world);
    const filed = await askForAccounts(world, ['staging'], ['Admin']);
    await world.queue.runPending();
    await decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: BOB.slackUserId });
    await world.queue.runPending();
    const stagingAdmin = accountTarget('staging', 'Admin');
    expect(world.provisioner.has(stagingAdmin)).toBe(true);
    // Both requests are lost; AWS cannot be asked about one of the two targets.
    world.store.forgetRequest(first);
    world.store.forgetRequest(filed.id);
    world.provisioner.failLookups(STAGING_RO);

    const report = await reconcileAssignments(world.deps);
    expect(report.checked).toBe(2);
    expect(report.failed).toHaveLength(1);
    expect(report.orphansRevoked).toHaveLength(1);
    expect(world.provisioner.has(stagingAdmin)).toBe(false);
    expect(world.provisioner.has(STAGING_RO)).toBe(true);

    // Next time AWS answers, and the other orphan goes too.
    world.provisioner.clearLookupFaults();
    const again = await reconcileAssignments(world.deps);
    expect(again.failed).toEqual([]);
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
  });

  it('leaves a lease alone while a revoke is removing it, even once that revoke is overdue: the revoke, still on the lease, is retried by the sweep and finishes it', async () => {
    const world = makeDeps();
    const id = await fileStagingReadOnly(world);
    world.provisioner.onRemove({ kind: 'throw' });
    await passTime(world, HOUR);
    expect(grantStatuses(await stored(world, id))).toBe('1=REVOKING');
    expect(world.store.leaseOf(STAGING_RO)?.deleting).toBe(true);

    await reconcileAssignments(world.deps);
    expect(world.provisioner.removesOf(STAGING_RO)).toHaveLength(1);
    expect(world.provisioner.has(STAGING_RO)).toBe(true);

    // The revoke's worker is gone (its retries never ran). Its grant is still REVOKING and still
    // on the lease, so the reconciler does not race it; the sweep hands the grant back to a worker.
    world.scheduler.takeDue(Infinity);
    world.clock.advance(CLAIM);
    const report = await reconcileAssignments(world.deps);
    expect(report.orphansRevoked).toEqual([]);
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
    expect((await sweepDueRequests(world.deps)).dispatched).toEqual([id]);
    await advanceRequest(world.deps, id);
    expect(grantStatuses(await stored(world, id))).toBe('1=ENDED');
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
    expect(world.store.leaseOf(STAGING_RO)).toBeUndefined();
  });
});
