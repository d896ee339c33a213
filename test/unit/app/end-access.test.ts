/** Ending access early: who may, what it ends, and what it leaves to the worker and the sweep. */
import { decideRequest } from '../../../src/app/decide-request';
import { DEFAULT_WORKFLOW_OPTIONS } from '../../../src/app/deps';
import { endAccess, whatKeepsAccess } from '../../../src/app/end-access';
import { sweepDueRequests } from '../../../src/app/sweep';
import { requestStatus } from '../../../src/domain/access-request';
import { TimeboxError } from '../../../src/domain/errors';
import {
  ALICE,
  HOUR,
  MALLORY,
  MINUTE,
  REQUESTER,
  accountTarget,
  askForAccounts,
  grantStatuses,
  makeDeps,
  makePolicy,
  rule,
  stored,
  type TestWorld,
} from '../../support/in-memory-ports';

/** Staging and production ReadOnly are both auto-approved. */
const autoBoth = () => makeDeps({ policy: makePolicy({ rules: [rule({ name: 'readonly', accountIds: ['*'], permissionSets: ['ReadOnly'], autoApprove: true, approvalsRequired: 0, approvers: [ALICE.slackUserId] })] }) });

async function twoActive(world: TestWorld): Promise<string> {
  const filed = await askForAccounts(world, ['staging', 'production'], ['ReadOnly']);
  await world.queue.runPending();
  expect(grantStatuses(await stored(world, filed.id))).toBe('1=ACTIVE,2=ACTIVE');
  return filed.id;
}

async function refusal(promise: Promise<unknown>): Promise<TimeboxError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TimeboxError) return err;
    throw err;
  }
  throw new Error('expected a TimeboxError');
}

describe('endAccess', () => {
  it('ends every active grant of the request now, cancels the timer, and removes the access', async () => {
    const world = autoBoth();
    const id = await twoActive(world);
    world.clock.advance(10 * MINUTE);
    const ended = await endAccess(world.deps, { requestId: id, bySlackUserId: REQUESTER.slackUserId });
    expect(ended.grants.map((g) => g.endedEarlyBy?.slackUserId)).toEqual([REQUESTER.slackUserId, REQUESTER.slackUserId]);
    expect(ended.grants.map((g) => g.endsAt)).toEqual([world.clock.now(), world.clock.now()]);
    expect(world.scheduler.calls.at(-1)).toEqual({ op: 'cancel', job: { requestId: id } });
    expect(world.queue.pendingJobs).toEqual([{ requestId: id }]);

    await world.queue.runPending();
    const request = await stored(world, id);
    expect(grantStatuses(request)).toBe('1=ENDED,2=ENDED');
    expect(requestStatus(request)).toBe('ENDED');
    expect(world.provisioner.everything()).toEqual([]);
    const endedEarly = (await world.store.listAudit(id)).filter((e) => e.type === 'ended_early');
    expect(endedEarly.map((e) => [e.grantId, e.actor])).toEqual([
      ['1', REQUESTER.slackUserId],
      ['2', REQUESTER.slackUserId],
    ]);
    expect(world.notifier.dmStatuses().at(-1)).toBe('1=ENDED,2=ENDED');
  });

  it('an approver of the rule may end it; anyone else is refused, audited, and changes nothing', async () => {
    const world = autoBoth();
    const id = await twoActive(world);
    const before = await stored(world, id);

    const err = await refusal(endAccess(world.deps, { requestId: id, bySlackUserId: MALLORY.slackUserId }));
    expect(err.code).toBe('not_allowed_to_end');
    // Only the log grew (the refusal is recorded in a write of the request); no grant changed.
    expect((await stored(world, id)).grants).toEqual(before.grants);
    expect(world.provisioner.everything()).toHaveLength(2);
    expect((await world.store.listAudit(id)).filter((e) => e.type === 'end_refused').map((e) => e.actor)).toEqual([MALLORY.slackUserId]);

    await endAccess(world.deps, { requestId: id, bySlackUserId: ALICE.slackUserId });
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, id))).toBe('1=ENDED,2=ENDED');
    expect(world.provisioner.everything()).toEqual([]);
  });

  it('refuses to end what is not active yet, and a second end', async () => {
    const world = makeDeps();
    const pending = await askForAccounts(world, ['production'], ['Admin']);
    await world.queue.runPending();
    expect((await refusal(endAccess(world.deps, { requestId: pending.id, bySlackUserId: REQUESTER.slackUserId }))).code).toBe('not_active_yet');

    const active = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    await endAccess(world.deps, { requestId: active.id, bySlackUserId: REQUESTER.slackUserId });
    expect((await refusal(endAccess(world.deps, { requestId: active.id, bySlackUserId: REQUESTER.slackUserId }))).code).toBe('already_ending');
  });

  it('if the hand-off to the worker fails, the sweep still revokes it', async () => {
    const world = autoBoth();
    const id = await twoActive(world);
    world.queue.failNext();
    await endAccess(world.deps, { requestId: id, bySlackUserId: REQUESTER.slackUserId });
    expect(world.queue.pendingJobs).toEqual([]);
    expect(world.provisioner.everything()).toHaveLength(2);

    const swept = await sweepDueRequests(world.deps);
    expect(swept.dispatched).toEqual([id]);
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, id))).toBe('1=ENDED,2=ENDED');
    expect(world.provisioner.everything()).toEqual([]);
  });

  it('reliability-3: the requester\'s end withdraws a grant still waiting for approval: an approval afterwards is refused, audited, and grants nothing', async () => {
    const world = makeDeps();
    // Staging ReadOnly is auto-approved and goes active; production ReadOnly waits for Alice.
    const filed = await askForAccounts(world, ['staging', 'production'], ['ReadOnly']);
    await world.queue.runPending();
    await endAccess(world.deps, { requestId: filed.id, bySlackUserId: REQUESTER.slackUserId });
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ENDED,2=CANCELLED');
    expect((await world.store.listAudit(filed.id)).filter((e) => e.grantId === '2').map((e) => `${e.type}:${e.from ?? ''}>${e.to ?? ''}`)).toEqual(['requested:>PENDING', 'cancelled:PENDING>CANCELLED']);

    const refusal = await decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: ALICE.slackUserId }).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(TimeboxError);
    expect(refusal).toMatchObject({ code: 'already_decided', message: `Request ${filed.id} is already cancelled.` });
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ENDED,2=CANCELLED');
    expect(world.provisioner.has(accountTarget('prod', 'ReadOnly'))).toBe(false);
  });
});

describe('ending while a grant is still being granted', () => {
  it('a grant that goes active after the requester ended the request can still be ended', async () => {
    const world = autoBoth();
    const prod = accountTarget('prod', 'ReadOnly');
    world.provisioner.onCreate({ kind: 'in_progress' }, { target: prod });
    const filed = await askForAccounts(world, ['staging', 'production'], ['ReadOnly']);
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ACTIVE,2=GRANTING');

    await endAccess(world.deps, { requestId: filed.id, bySlackUserId: REQUESTER.slackUserId });
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ENDED,2=GRANTING');

    // AWS finishes the slow create; the worker resumes the grant.
    world.provisioner.completeOperation(world.provisioner.operationIds('IN_PROGRESS')[0] as string);
    world.clock.advance(DEFAULT_WORKFLOW_OPTIONS.claimMs);
    await sweepDueRequests(world.deps);
    await world.queue.runPending();

    // The requester asked for all of it to end: either it ends on its own, or End ends it now.
    if ((await stored(world, filed.id)).grants[1]?.status === 'ACTIVE') {
      await endAccess(world.deps, { requestId: filed.id, bySlackUserId: REQUESTER.slackUserId });
      await world.queue.runPending();
    }
    expect(world.provisioner.has(prod)).toBe(false);
  });
});

describe('whatKeepsAccess', () => {
  it('says which targets will outlive the window, and why', async () => {
    const world = makeDeps();
    world.provisioner.adminAdd(accountTarget('staging', 'ReadOnly'));
    const standing = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    expect(await whatKeepsAccess(world.deps, await stored(world, standing.id))).toEqual(['it existed before Timebox granted it']);

    const world2 = makeDeps();
    const first = await askForAccounts(world2, ['staging'], ['ReadOnly']);
    await world2.queue.runPending();
    expect(await whatKeepsAccess(world2.deps, await stored(world2, first.id))).toEqual([]);
    world2.clock.advance(HOUR / 2);
    const second = await askForAccounts(world2, ['staging'], ['ReadOnly']);
    await world2.queue.runPending();
    const reasons = await whatKeepsAccess(world2.deps, await stored(world2, first.id));
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toContain(second.id);
  });
});
