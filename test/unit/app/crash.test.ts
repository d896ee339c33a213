/**
 * A worker that dies between two writes (every write from some point on throws, as if the
 * process were gone), or loses races: the next worker run, found by the timer or the sweep,
 * completes what was started, without creating twice, losing audit events, or leaking access.
 */
import { advanceRequest } from '../../../src/app/advance-request';
import { decideRequest } from '../../../src/app/decide-request';
import { DEFAULT_WORKFLOW_OPTIONS } from '../../../src/app/deps';
import { sweepDueRequests } from '../../../src/app/sweep';
import type { AccessRequest } from '../../../src/domain/access-request';
import { TimeboxError } from '../../../src/domain/errors';
import type { Lease } from '../../../src/domain/lease';
import { PRE_EXISTING } from '../../../src/domain/lease';
import {
  ALICE,
  CrashError,
  HOUR,
  accountTarget,
  askForAccounts,
  askForGroups,
  grantStatuses,
  groupTarget,
  makeDeps,
  passTime,
  stored,
  type TestWorld,
  type WriteAttempt,
} from '../../support/in-memory-ports';

const CLAIM = DEFAULT_WORKFLOW_OPTIONS.claimMs;
const STAGING_RO = accountTarget('staging', 'ReadOnly');

const savesGrant = (status: string) => (w: WriteAttempt) => w.op === 'saveRequest' && (w.item as AccessRequest).grants.some((g) => g.status === status);

/** The process is back; time passes until the claim runs out, and the sweep hands out what is due. */
async function restartAndSweep(world: TestWorld, after = CLAIM): Promise<void> {
  world.store.recover();
  world.queue.dropPending();
  world.clock.advance(after);
  await sweepDueRequests(world.deps);
  await world.queue.runPending();
}

describe('a crash between two writes', () => {
  it('after AWS created the assignment, before the grant was recorded ACTIVE: the next run finishes it without creating again', async () => {
    const world = makeDeps();
    world.store.crashAt(savesGrant('ACTIVE'));
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await expect(world.queue.runPending()).rejects.toThrow(CrashError);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=GRANTING');
    expect(world.provisioner.has(STAGING_RO)).toBe(true);

    await restartAndSweep(world);
    const request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ACTIVE');
    expect(request.grants[0]?.timeboxOwned).toBe(true);
    expect(world.provisioner.createsOf(STAGING_RO)).toBe(1);
    expect(world.notifier.dmStatuses()).toEqual(['1=ACTIVE']);

    await passTime(world, HOUR);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ENDED');
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
  });

  it('right after AWS accepted the create, before its operation id was on the lease: still Timebox\'s, still removed', async () => {
    const world = makeDeps();
    world.store.crashAt((w) => w.op === 'putLease' && ((w.item as Lease).operations ?? []).length > 0);
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await expect(world.queue.runPending()).rejects.toThrow(CrashError);
    expect(world.provisioner.has(STAGING_RO)).toBe(true);

    await restartAndSweep(world);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ACTIVE');
    expect(world.provisioner.createsOf(STAGING_RO)).toBe(1);
    await passTime(world, HOUR);
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
  });

  it('after a group membership was created, before its MembershipId was recorded: the window\'s end still removes it', async () => {
    const world = makeDeps();
    const filed = await askForGroups(world, ['oncall']);
    await world.queue.runPending();
    world.store.crashAt((w) => w.op === 'putLease' && (w.item as Lease).membershipId !== undefined);
    await decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: ALICE.slackUserId });
    await expect(world.queue.runPending()).rejects.toThrow(CrashError);
    const created = world.provisioner.membershipIdOf(groupTarget());
    expect(created).toBeDefined();

    await restartAndSweep(world);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ACTIVE');
    await passTime(world, HOUR);
    await passTime(world, 10 * DEFAULT_WORKFLOW_OPTIONS.revokeRetryMs);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ENDED');
    expect(world.provisioner.has(groupTarget())).toBe(false);
  });

  it('at the write that records a grant as granted: its status and its audit event land together or not at all, and the next run writes both once', async () => {
    const world = makeDeps();
    world.store.crashAt(savesGrant('ACTIVE'));
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await expect(world.queue.runPending()).rejects.toThrow(CrashError);
    expect(grantStatuses(await stored(world, filed.id))).not.toBe('1=ACTIVE');
    expect(await world.store.auditTypes(filed.id, '1')).not.toContain('granted');

    await restartAndSweep(world);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ACTIVE');
    expect((await world.store.auditTypes(filed.id, '1')).filter((t) => t === 'granted')).toHaveLength(1);
    expect(world.provisioner.createsOf(STAGING_RO)).toBe(1);
  });

  it('at the write that files a request: nothing is stored, nothing is granted, nothing is logged', async () => {
    const world = makeDeps();
    world.store.crashAt((w) => w.op === 'createRequest');
    await expect(askForAccounts(world, ['staging'], ['ReadOnly'])).rejects.toThrow(CrashError);
    await restartAndSweep(world, 1000);
    expect(await world.store.listDue(Infinity)).toEqual([]);
    expect(world.provisioner.createsOf(STAGING_RO)).toBe(0);
  });

  it('after AWS removed the assignment, before the grant was recorded ENDED: the next run ends it as removed', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    world.store.crashAt(savesGrant('ENDED'));
    world.clock.advance(HOUR);
    await expect(passTime(world, 0)).rejects.toThrow(CrashError);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=REVOKING');
    expect(world.provisioner.has(STAGING_RO)).toBe(false);

    await restartAndSweep(world);
    const request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ENDED');
    expect(request.grants[0]?.keptBecause).toBeUndefined();
  });

  it('after forgetting the lease of a pre-existing assignment, before ENDED: the next run still says it was kept, and keeps it', async () => {
    const world = makeDeps();
    world.provisioner.adminAdd(STAGING_RO);
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    world.store.crashAt(savesGrant('ENDED'));
    world.clock.advance(HOUR);
    await expect(passTime(world, 0)).rejects.toThrow(CrashError);

    await restartAndSweep(world);
    const request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ENDED');
    expect(request.grants[0]?.keptBecause).toBe(PRE_EXISTING);
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
  });

  it('in the middle of removal (AWS accepted the delete, its operation id not yet on the lease): the next run finishes it', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    world.store.crashAt((w) => w.op === 'putLease' && ((w.item as Lease).operations ?? []).some((o) => o.kind === 'delete'));
    world.clock.advance(HOUR);
    await expect(passTime(world, 0)).rejects.toThrow(CrashError);
    expect(world.store.leaseOf(STAGING_RO)?.deleting).toBe(true);

    await restartAndSweep(world);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ENDED');
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
  });
});

describe('a restart that loses the in-process timers', () => {
  it('the sweep re-arms a window\'s end due within its lookahead, and the window ends on time', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    world.scheduler.takeDue(Infinity); // the process restarts: its timers are gone
    world.clock.advance(HOUR - 60_000);

    const swept = await sweepDueRequests(world.deps, 5 * 60_000);
    expect(swept.dispatched).toEqual([]);
    expect(swept.scheduled).toEqual([filed.id]);
    expect(world.scheduler.armedFor(filed.id)?.at).toBe((await stored(world, filed.id)).grants[0]?.endsAt);
    await passTime(world, 60_000);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ENDED');
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
  });
});

describe('lost races and store errors', () => {
  it('a conflicting write while granting is re-read and re-applied: one create, ACTIVE', async () => {
    const world = makeDeps();
    world.store.injectFault({ when: savesGrant('ACTIVE'), error: 'conflict', times: 3 });
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ACTIVE');
    expect(world.provisioner.createsOf(STAGING_RO)).toBe(1);
  });

  it('a conflict on a lease write is re-read too', async () => {
    const world = makeDeps();
    world.store.injectFault({ op: 'putLease', error: 'conflict', nth: 1 });
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ACTIVE');
    expect(world.store.leaseOf(STAGING_RO)?.holders).toEqual([`${filed.id}/1`]);
  });

  it('a click that keeps losing races is refused with "try again", and changes nothing', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['production'], ['Admin']);
    await world.queue.runPending();
    world.store.injectFault({ op: 'saveRequest', error: 'conflict', times: 100 });
    const err = await decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: ALICE.slackUserId }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeboxError);
    expect((err as TimeboxError).code).toBe('conflict');
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=PENDING');
  });

  it('a store error on the ACTIVE write counts as an attempt; the retry finds the assignment there and finishes', async () => {
    const world = makeDeps();
    world.store.injectFault({ when: savesGrant('ACTIVE'), error: new Error('ProvisionedThroughputExceededException') });
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    let request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=GRANTING');
    expect(request.grants[0]?.grantAttempts).toBe(1);

    await passTime(world, CLAIM);
    request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ACTIVE');
    expect(request.grants[0]?.timeboxOwned).toBe(true);
    expect(world.provisioner.createsOf(STAGING_RO)).toBe(1);
  });

  it('two workers on one request at once: one create, one ACTIVE', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await Promise.all([advanceRequest(world.deps, filed.id), advanceRequest(world.deps, filed.id)]);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ACTIVE');
    expect(world.provisioner.createsOf(STAGING_RO)).toBe(1);
    expect((await world.store.auditTypes(filed.id, '1')).filter((t) => t === 'granted')).toHaveLength(1);
  });
});
