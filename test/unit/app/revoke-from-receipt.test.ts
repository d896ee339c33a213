/**
 * Leak (c): a window's end fires for a request the store no longer has (the table was replaced,
 * or restored from an older backup). The job itself carries what Timebox created for the window,
 * so that is removed anyway, unless a grant in the store now holds it.
 */
import { advanceRequest } from '../../../src/app/advance-request';
import { decideRequest } from '../../../src/app/decide-request';
import { DEFAULT_WORKFLOW_OPTIONS } from '../../../src/app/deps';
import {
  ALICE,
  HOUR,
  MINUTE,
  accountTarget,
  askForAccounts,
  askForGroups,
  grantStatuses,
  groupTarget,
  makeDeps,
  passTime,
  stored,
  activeStagingReadOnly,
} from '../../support/in-memory-ports';

const STAGING_RO = accountTarget('staging', 'ReadOnly');


describe('revokeFromReceipt', () => {
  it('removes what Timebox created when the whole table was replaced', async () => {
    const world = makeDeps();
    const id = await activeStagingReadOnly(world);
    world.store.wipe();

    await passTime(world, HOUR);
    expect(await world.store.getRequest(id)).toBeUndefined();
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
    expect(world.provisioner.removesOf(STAGING_RO)).toHaveLength(1);
    // Said loudly: an operator should know the store lost a request.
    expect(world.logger.entries.some((e) => e.level === 'error' && (e.obj as { requestId?: string }).requestId === id)).toBe(true);
    expect(world.store.leaseOf(STAGING_RO)).toBeUndefined();
  });

  it('removes it when only the request was lost and its lease is still there', async () => {
    const world = makeDeps();
    const id = await activeStagingReadOnly(world);
    world.store.forgetRequest(id);
    await passTime(world, HOUR);
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
    expect(world.store.leaseOf(STAGING_RO)).toBeUndefined();
  });

  it('removes exactly the membership Timebox created for a group window', async () => {
    const world = makeDeps();
    const filed = await askForGroups(world, ['oncall']);
    await world.queue.runPending();
    await decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: ALICE.slackUserId });
    await world.queue.runPending();
    const created = world.provisioner.membershipIdOf(groupTarget());
    world.store.wipe();

    await passTime(world, HOUR);
    expect(world.provisioner.calls.remove).toEqual([{ target: groupTarget(), membershipId: created }]);
    expect(world.provisioner.has(groupTarget())).toBe(false);
  });

  it('keeps a target a grant in the new store holds, and that grant\'s end then removes it', async () => {
    const world = makeDeps();
    const lost = await activeStagingReadOnly(world);
    const receipt = world.scheduler.armedFor(lost)?.job;
    expect(receipt?.created).toHaveLength(1);
    world.store.wipe();

    // In the new store Dana asks again; Timebox finds the assignment there and does not know it made it.
    world.clock.advance(30 * MINUTE);
    const fresh = await activeStagingReadOnly(world);
    expect((await stored(world, fresh)).grants[0]?.timeboxOwned).toBe(false);

    await passTime(world, 30 * MINUTE); // the lost request's window ends
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
    expect(world.store.leaseOf(STAGING_RO)?.createdByTimebox).toBe(true);

    await passTime(world, 30 * MINUTE); // the new window ends
    expect(grantStatuses(await stored(world, fresh))).toBe('1=ENDED');
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
  });

  it('leaves alone a target that is already gone, and one Timebox never created', async () => {
    const world = makeDeps();
    const created = await activeStagingReadOnly(world);
    world.provisioner.adminAdd(accountTarget('prod', 'ReadOnly'));
    const filed = await askForAccounts(world, ['production'], ['ReadOnly']);
    await world.queue.runPending();
    await decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: ALICE.slackUserId });
    await world.queue.runPending();
    const standingJob = world.scheduler.armedFor(filed.id)?.job;
    expect(standingJob?.created).toBeUndefined();
    const createdJob = world.scheduler.armedFor(created)?.job;
    world.provisioner.adminRemove(STAGING_RO);
    world.store.wipe();

    world.clock.advance(HOUR);
    await advanceRequest(world.deps, createdJob as NonNullable<typeof createdJob>);
    await advanceRequest(world.deps, standingJob as NonNullable<typeof standingJob>);
    expect(world.provisioner.calls.remove).toEqual([]);
    expect(world.provisioner.has(accountTarget('prod', 'ReadOnly'))).toBe(true);
  });

  it('a window whose removal is being retried still carries its receipt, so a store lost meanwhile leaks nothing', async () => {
    const world = makeDeps();
    const id = await activeStagingReadOnly(world);
    world.provisioner.onRemove({ kind: 'throw', error: new Error('ThrottlingException') });
    await passTime(world, HOUR);
    expect(grantStatuses(await stored(world, id))).toBe('1=REVOKING');

    // The table is replaced before the retry fires: only the retry's job can say what Timebox created.
    world.store.wipe();
    await passTime(world, DEFAULT_WORKFLOW_OPTIONS.revokeRetryMs);
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
  });
});

describe('a store restored from a backup older than the grant', () => {
  it('still has the request, but not its window: the window end\'s receipt removes what Timebox created all the same', async () => {
    const w = makeDeps();
    const target = accountTarget('prod', 'Admin');
    const filed = await askForAccounts(w, ['production'], ['Admin']);
    await w.queue.runPending();
    // The nightly backup, taken while the request was still pending.
    const store = w.store as unknown as { requests: unknown; leases: unknown };
    const backup = { requests: structuredClone(store.requests), leases: structuredClone(store.leases) };
    await decideRequest(w.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: ALICE.slackUserId });
    await w.queue.runPending();
    expect(grantStatuses(await stored(w, filed.id))).toBe('1=ACTIVE');
    expect(w.provisioner.has(target)).toBe(true);

    // The table is restored from that backup: the request is PENDING again and no lease is left.
    store.requests = backup.requests;
    store.leases = backup.leases;
    expect(grantStatuses(await stored(w, filed.id))).toBe('1=PENDING');
    await passTime(w, HOUR + MINUTE);
    expect(w.provisioner.has(target)).toBe(false);
  });
});
