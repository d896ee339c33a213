/** A request or decision once stored stands when the hand-off to the worker fails: logged, reported, and swept up. */
import { decideRequest } from '../../../src/app/decide-request';
import { submitRequest } from '../../../src/app/submit-request';
import { sweepDueRequests } from '../../../src/app/sweep';
import { ALICE, HOUR, REQUESTER, askForAccounts, grantStatuses, makeDeps, stored } from '../../support/in-memory-ports';

describe('reliability-3: a stored request or decision stands when the hand-off to the worker fails', () => {
  it('filing: the request is stored and reported as not handed off (no error), the failure is logged, and the sweep hands it over', async () => {
    const world = makeDeps();
    world.queue.failNext();
    const filed = await submitRequest(world.deps, {
      requesterSlackUserId: REQUESTER.slackUserId,
      spec: { kind: 'account', accounts: ['production'], permissionSets: ['ReadOnly'] },
      durationMs: HOUR,
      reason: 'hand-off fails',
    });
    expect(filed.handedOff).toBe(false);
    expect(grantStatuses(await stored(world, filed.request.id))).toBe('1=PENDING');
    expect(world.queue.dispatched).toEqual([]);
    expect(world.logger.entries).toContainEqual(expect.objectContaining({ level: 'warn', obj: expect.objectContaining({ requestId: filed.request.id }), msg: expect.stringContaining('could not hand the new request to the worker') }));

    expect((await sweepDueRequests(world.deps)).dispatched).toEqual([filed.request.id]);
    await world.queue.runPending();
    expect(world.notifier.posts.map((p) => p.request.id)).toEqual([filed.request.id]);
  });

  it('deciding: the approval is stored and reported as not handed off (no error), the failure is logged, and the sweep grants it', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['production'], ['ReadOnly']);
    await world.queue.runPending();
    world.queue.failNext();
    const result = await decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: ALICE.slackUserId });
    expect(result.handedOff).toBe(false);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=APPROVED');
    expect(world.queue.pendingJobs).toEqual([]);
    expect(world.logger.entries).toContainEqual(expect.objectContaining({ level: 'warn', msg: expect.stringContaining('could not hand the decision to the worker') }));

    expect((await sweepDueRequests(world.deps)).dispatched).toEqual([filed.id]);
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ACTIVE');
  });
});

describe('reliability-3: limits.maxPendingPerRequester and a retried interaction', () => {
  it('the interaction that filed the last request the limit allows, delivered again: answered as filed and handed over, not refused and not "could not pass it on"', async () => {
    const world = makeDeps();
    const max = world.deps.policy.limits.maxPendingPerRequester;
    const file = (key: string) =>
      submitRequest(world.deps, {
        requesterSlackUserId: REQUESTER.slackUserId,
        spec: { kind: 'account', accounts: ['production'], permissionSets: ['ReadOnly'] },
        durationMs: HOUR,
        reason: 'up to the limit',
        idempotencyKey: key,
      });
    let last;
    for (let i = 1; i <= max; i++) last = await file(`trigger-${i}`);
    const again = await file(`trigger-${max}`);
    expect(again).toEqual({ request: expect.objectContaining({ id: last!.request.id }), handedOff: true });
    await expect(file('trigger-one-more')).rejects.toMatchObject({ code: 'too_many_pending' });
  });
});
