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
