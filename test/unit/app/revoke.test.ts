/**
 * Window ends and what they remove: a target another grant still holds stays, a target that was
 * there before Timebox stays, what Timebox created goes (by its membership id for groups), and a
 * removal AWS refuses is retried, never dropped.
 */
import { reconcileAssignments } from '../../../src/app/reconcile-assignments';
import { DEFAULT_WORKFLOW_OPTIONS } from '../../../src/app/deps';
import { PRE_EXISTING } from '../../../src/domain/lease';
import {
  HOUR,
  MINUTE,
  accountTarget,
  askForAccounts,
  grantStatuses,
  groupTarget,
  inOrder,
  makeDeps,
  makePolicy,
  passTime,
  rule,
  stored,
  activeStagingReadOnly,
  activeOncall,
} from '../../support/in-memory-ports';

const REVOKE_RETRY = DEFAULT_WORKFLOW_OPTIONS.revokeRetryMs;
const STAGING_RO = accountTarget('staging', 'ReadOnly');

/** Staging ReadOnly (auto-approved) for Dana, granted; returns the request id. */

/** Dana in the oncall group, approved by Alice and granted. */

describe('a target held by several windows', () => {
  it('stays while another grant holds it, and goes after the last', async () => {
    const world = makeDeps();
    const first = await activeStagingReadOnly(world);
    world.clock.advance(30 * MINUTE);
    const second = await activeStagingReadOnly(world);
    expect(world.provisioner.createsOf(STAGING_RO)).toBe(1);
    expect((await stored(world, second)).grants[0]?.timeboxOwned).toBe(true);

    await passTime(world, 30 * MINUTE);
    const firstEnded = await stored(world, first);
    expect(grantStatuses(firstEnded)).toBe('1=ENDED');
    expect(firstEnded.grants[0]?.keptBecause).toContain(second);
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
    expect(inOrder(await world.store.auditTypes(first, '1'), ['revoke_started', 'assignment_kept', 'revoked'])).toBe(true);

    await passTime(world, 30 * MINUTE);
    expect(grantStatuses(await stored(world, second))).toBe('1=ENDED');
    expect((await stored(world, second)).grants[0]?.keptBecause).toBeUndefined();
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
    expect(world.provisioner.removesOf(STAGING_RO)).toHaveLength(1);
    expect(world.store.leaseOf(STAGING_RO)).toBeUndefined();
  });
});

describe('a target that was there before Timebox', () => {
  it('is never removed, and the grant says why', async () => {
    const world = makeDeps();
    world.provisioner.adminAdd(STAGING_RO);
    const id = await activeStagingReadOnly(world);
    const active = await stored(world, id);
    expect(world.provisioner.calls.create).toEqual([]);
    expect(active.grants[0]?.timeboxOwned).toBe(false);
    // Nothing Timebox created, so the window's timer carries nothing to remove.
    expect(world.scheduler.armedFor(id)?.job.created).toBeUndefined();

    await passTime(world, HOUR);
    const ended = await stored(world, id);
    expect(grantStatuses(ended)).toBe('1=ENDED');
    expect(ended.grants[0]?.keptBecause).toBe(PRE_EXISTING);
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
    expect(world.provisioner.calls.remove).toEqual([]);
    expect(world.store.leaseOf(STAGING_RO)).toBeUndefined();
  });

  it('stays when two windows that both found it there end', async () => {
    const world = makeDeps();
    world.provisioner.adminAdd(STAGING_RO);
    await activeStagingReadOnly(world);
    world.clock.advance(10 * MINUTE);
    await activeStagingReadOnly(world);
    await passTime(world, 2 * HOUR);
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
    expect(world.provisioner.calls.remove).toEqual([]);
  });

  it.each(['the first window ends first', 'the second window ends first'])('standing assignment removed during a window, then created by a second grant: removed once both end (%s)', async (order) => {
    const world = makeDeps();
    world.provisioner.adminAdd(STAGING_RO);
    const firstLonger = order === 'the second window ends first';
    const first = await activeStagingReadOnly(world, firstLonger ? 2 * HOUR : HOUR);
    expect((await stored(world, first)).grants[0]?.timeboxOwned).toBe(false);

    // An admin removes the standing assignment; a second grant finds it gone and creates it.
    world.clock.advance(10 * MINUTE);
    world.provisioner.adminRemove(STAGING_RO);
    const second = await activeStagingReadOnly(world, firstLonger ? 30 * MINUTE : HOUR);
    expect(world.provisioner.createsOf(STAGING_RO)).toBe(1);
    expect((await stored(world, second)).grants[0]?.timeboxOwned).toBe(true);

    await passTime(world, 3 * HOUR);
    expect(grantStatuses(await stored(world, first))).toBe('1=ENDED');
    expect(grantStatuses(await stored(world, second))).toBe('1=ENDED');
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
  });
});

describe('group memberships', () => {
  it('keeps a membership that was there before', async () => {
    const world = makeDeps();
    const standing = world.provisioner.adminAdd(groupTarget());
    const id = await activeOncall(world);
    expect(world.provisioner.calls.create).toEqual([]);
    await passTime(world, HOUR);
    const ended = await stored(world, id);
    expect(grantStatuses(ended)).toBe('1=ENDED');
    expect(ended.grants[0]?.keptBecause).toBe(PRE_EXISTING);
    expect(world.provisioner.membershipIdOf(groupTarget())).toBe(standing);
    expect(world.provisioner.calls.remove).toEqual([]);
  });

  it('removes the membership it created, by its MembershipId', async () => {
    const world = makeDeps();
    const id = await activeOncall(world);
    const created = world.provisioner.membershipIdOf(groupTarget());
    expect(created).toBeDefined();
    expect((await stored(world, id)).grants[0]?.membershipId).toBe(created);
    expect(world.scheduler.armedFor(id)?.job.created).toEqual([{ grantId: '1', target: groupTarget(), membershipId: created }]);

    await passTime(world, HOUR);
    expect(grantStatuses(await stored(world, id))).toBe('1=ENDED');
    expect(world.provisioner.calls.remove).toEqual([{ target: groupTarget(), membershipId: created }]);
    expect(world.provisioner.has(groupTarget())).toBe(false);
  });

  it('removes only its own MembershipId: a membership an admin re-made mid-window stays', async () => {
    const world = makeDeps();
    await activeOncall(world);
    const created = world.provisioner.membershipIdOf(groupTarget());
    world.provisioner.adminRemove(groupTarget());
    const remade = world.provisioner.adminAdd(groupTarget());
    expect(remade).not.toBe(created);

    await passTime(world, HOUR);
    expect(world.provisioner.calls.remove.map((c) => c.membershipId)).toEqual([created]);
    expect(world.provisioner.membershipIdOf(groupTarget())).toBe(remade);
  });

  it('a membership shared by two windows stays until the last ends', async () => {
    const world = makeDeps();
    const first = await activeOncall(world);
    world.clock.advance(20 * MINUTE);
    const second = await activeOncall(world);
    await passTime(world, 40 * MINUTE);
    expect(grantStatuses(await stored(world, first))).toBe('1=ENDED');
    expect(world.provisioner.has(groupTarget())).toBe(true);
    await passTime(world, 20 * MINUTE);
    expect(grantStatuses(await stored(world, second))).toBe('1=ENDED');
    expect(world.provisioner.has(groupTarget())).toBe(false);
  });
});

describe('a removal AWS refuses', () => {
  it('is retried with a growing delay until it succeeds; access is never reported gone before it is', async () => {
    const world = makeDeps();
    const id = await activeStagingReadOnly(world);
    world.provisioner.onRemove({ kind: 'throw', error: new Error('ThrottlingException: Rate exceeded') }, { times: 2 });

    await passTime(world, HOUR);
    let request = await stored(world, id);
    expect(grantStatuses(request)).toBe('1=REVOKING');
    expect(request.grants[0]).toMatchObject({ revokeAttempts: 1, lastError: expect.stringContaining('ThrottlingException') });
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
    expect(world.scheduler.armedFor(id)?.at).toBe(world.clock.now() + REVOKE_RETRY);
    expect(world.notifier.dmStatuses()).toEqual(['1=ACTIVE']);

    await passTime(world, REVOKE_RETRY);
    request = await stored(world, id);
    expect(request.grants[0]?.revokeAttempts).toBe(2);
    expect(world.scheduler.armedFor(id)?.at).toBe(world.clock.now() + 2 * REVOKE_RETRY);

    await passTime(world, 2 * REVOKE_RETRY);
    request = await stored(world, id);
    expect(grantStatuses(request)).toBe('1=ENDED');
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
    expect((await world.store.auditTypes(id, '1')).filter((t) => t === 'revoke_failed')).toHaveLength(2);
    expect(world.notifier.dmStatuses()).toEqual(['1=ACTIVE', '1=ENDED']);
  });

  it('still failing 15 minutes past the window\'s end raises the stuck-revoke alarm once (audited), whatever the attempt count; retries go on', async () => {
    const world = makeDeps({ options: { revokeStuckAttempts: 1000 } });
    const id = await activeStagingReadOnly(world);
    world.provisioner.onRemove({ kind: 'throw', error: new Error('AccessDeniedException: not authorized to perform sso:DeleteAccountAssignment') }, { times: 1000 });

    await passTime(world, HOUR);
    for (let t = 0; t < 14; t++) await passTime(world, MINUTE);
    expect(world.notifier.alerts).toEqual([]);
    for (let t = 0; t < 10; t++) await passTime(world, 5 * MINUTE);
    expect(world.notifier.alerts).toHaveLength(1);
    expect(world.notifier.alerts[0]).toContain(id);
    expect(world.notifier.alerts[0]).toContain('AccessDeniedException');
    expect((await world.store.auditTypes(id, '1')).filter((t) => t === 'revoke_stuck')).toHaveLength(1);
    const request = await stored(world, id);
    expect(grantStatuses(request)).toBe('1=REVOKING');
    expect(request.grants[0]?.stuckSince).toBeDefined();
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
  });

  it('a removal AWS reports FAILED is retried too', async () => {
    const world = makeDeps();
    const id = await activeStagingReadOnly(world);
    world.provisioner.onRemove({ kind: 'failed', reason: 'InternalFailure' });
    await passTime(world, HOUR);
    const request = await stored(world, id);
    expect(grantStatuses(request)).toBe('1=REVOKING');
    expect(request.grants[0]?.lastError).toContain('InternalFailure');
    await passTime(world, REVOKE_RETRY);
    expect(grantStatuses(await stored(world, id))).toBe('1=ENDED');
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
  });
});

describe('what a failed grant leaves behind', () => {
  it('a create that FAILED does not make a later standing assignment Timebox\'s to remove', async () => {
    const world = makeDeps();
    world.provisioner.onCreate({ kind: 'failed', reason: 'ConflictException' });
    const failed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, failed.id))).toBe('1=FAILED');

    // An admin then gives Dana a standing staging ReadOnly; later she asks Timebox for it too.
    world.clock.advance(10 * MINUTE);
    world.provisioner.adminAdd(STAGING_RO);
    const later = await activeStagingReadOnly(world);
    expect(world.provisioner.createsOf(STAGING_RO)).toBe(1); // only the failed attempt

    await passTime(world, HOUR);
    expect(grantStatuses(await stored(world, later))).toBe('1=ENDED');
    // Timebox never created this assignment: it must survive the window's end.
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
  });

  it('a grant FAILED after 5 attempts (nothing created, nothing in flight) does not keep a later window\'s target alive', async () => {
    const world = makeDeps();
    world.provisioner.onCreate({ kind: 'throw' }, { times: 5 });
    const failed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    for (let i = 0; i < 4; i++) await passTime(world, DEFAULT_WORKFLOW_OPTIONS.claimMs);
    expect(grantStatuses(await stored(world, failed.id))).toBe('1=FAILED');

    const later = await activeStagingReadOnly(world);
    await passTime(world, HOUR);
    const ended = await stored(world, later);
    expect(grantStatuses(ended)).toBe('1=ENDED');
    // No live grant needs it: the window's end removes it (not "still needed by" the failed request).
    expect(ended.grants[0]?.keptBecause).toBeUndefined();
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
  });

  it('a grant FAILED after 5 attempts (nothing created) does not make a later standing assignment Timebox\'s to remove, even for the reconciler', async () => {
    const world = makeDeps();
    world.provisioner.onCreate({ kind: 'throw' }, { times: 5 });
    const failed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    for (let i = 0; i < 4; i++) await passTime(world, DEFAULT_WORKFLOW_OPTIONS.claimMs);
    expect(grantStatuses(await stored(world, failed.id))).toBe('1=FAILED');
    expect(world.provisioner.everything()).toEqual([]);

    world.provisioner.adminAdd(STAGING_RO);
    const later = await activeStagingReadOnly(world);
    await passTime(world, HOUR);
    expect(grantStatuses(await stored(world, later))).toBe('1=ENDED');
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
    await reconcileAssignments(world.deps);
    expect(world.provisioner.has(STAGING_RO)).toBe(true);
  });
});

describe('policy edge', () => {
  it('a grant filed under a rule later removed from the config still ends and is removed', async () => {
    const world = makeDeps();
    const id = await activeStagingReadOnly(world);
    world.deps.policy = makePolicy({ rules: [rule({ name: 'other', accountIds: ['*'], permissionSets: ['Admin'] })] });
    await passTime(world, HOUR);
    expect(grantStatuses(await stored(world, id))).toBe('1=ENDED');
    expect(world.provisioner.has(STAGING_RO)).toBe(false);
  });
});
