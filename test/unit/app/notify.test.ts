/**
 * Telling people: the approvals-channel message follows every change people should see, the
 * requester gets a DM per piece of grant news (and the older "active" DM loses its End button),
 * and a failing Slack never holds up access or its removal.
 */
import { decideRequest } from '../../../src/app/decide-request';
import { advanceRequest } from '../../../src/app/advance-request';
import { sweepDueRequests } from '../../../src/app/sweep';
import { messageOf, type AccessRequest } from '../../../src/domain/access-request';

const channelRef = (r: AccessRequest) => messageOf(r, 'channel')?.ref;
const dmRef = (r: AccessRequest) => messageOf(r, 'requester-dm')?.ref;
import {
  ALICE,
  HOUR,
  MINUTE,
  accountTarget,
  askForAccounts,
  grantStatuses,
  makeDeps,
  passTime,
  stored,
  type TestWorld,
} from '../../support/in-memory-ports';

const shown = (sent: { request: AccessRequest }[]) => sent.map((s) => grantStatuses(s.request));

/** Staging ReadOnly (auto) goes active at T0; production ReadOnly waits for Alice. */
async function mixed(world: TestWorld): Promise<string> {
  const filed = await askForAccounts(world, ['staging', 'production'], ['ReadOnly']);
  await world.queue.runPending();
  return filed.id;
}

async function approve(world: TestWorld, requestId: string, grantId?: string): Promise<void> {
  await decideRequest(world.deps, { requestId, decision: 'approve', clickerSlackUserId: ALICE.slackUserId, ...(grantId ? { grantId } : {}) });
  await world.queue.runPending();
}

describe('the approvals channel', () => {
  it('gets one post, then an update of that message per change', async () => {
    const world = makeDeps();
    const id = await mixed(world);
    expect(shown(world.notifier.posts)).toEqual(['1=ACTIVE,2=PENDING']);
    const ref = world.notifier.posts[0]?.ref;
    expect(channelRef(await stored(world, id))).toEqual(ref);

    world.clock.advance(10 * MINUTE);
    await approve(world, id);
    await passTime(world, 50 * MINUTE);
    await passTime(world, 10 * MINUTE);

    expect(world.notifier.posts).toHaveLength(1);
    expect(shown(world.notifier.updates)).toEqual(['1=ACTIVE,2=ACTIVE', '1=ENDED,2=ACTIVE', '1=ENDED,2=ENDED']);
    expect(world.notifier.updates.every((u) => u.ref.ts === ref?.ts && u.ref.channel === ref?.channel)).toBe(true);

    // Nothing new: running the worker again tells nobody anything.
    await advanceRequest(world.deps, id);
    expect(world.notifier.updates).toHaveLength(3);
    expect(world.notifier.dms).toHaveLength(4);
  });

  it('shows a partial approval', async () => {
    const world = makeDeps({});
    world.deps.policy.rules = world.deps.policy.rules.map((r) => (r.name === 'any-account' ? { ...r, approvalsRequired: 2 } : r));
    const filed = await askForAccounts(world, ['production'], ['Admin']);
    await world.queue.runPending();
    await approve(world, filed.id);
    expect(world.notifier.updates.map((u) => u.request.grants[0]?.approvals.length)).toEqual([1]);
    // The requester heard of the filing, then of the first approval.
    expect(world.notifier.dms.map((d) => d.request.grants[0]?.approvals.length)).toEqual([0, 1]);
  });

  it('a failing channel holds back neither the grant nor the DM, and the sweep posts it later', async () => {
    const world = makeDeps();
    world.notifier.fail('postToApprovers', undefined, Infinity);
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ACTIVE');
    expect(world.notifier.posts).toEqual([]);
    expect(world.notifier.dmStatuses()).toEqual(['1=ACTIVE']);

    world.notifier.heal();
    // Retries back off (30 s, doubling per failed pass): a few minutes on, the sweep tries again.
    world.clock.advance(5 * MINUTE);
    expect((await sweepDueRequests(world.deps)).dispatched).toEqual([filed.id]);
    await world.queue.runPending();
    expect(shown(world.notifier.posts)).toEqual(['1=ACTIVE']);
    expect(world.notifier.dms).toHaveLength(1);
    expect((await sweepDueRequests(world.deps)).dispatched).toEqual([]);
  });

  it('posts afresh when the message is gone while grants still wait for a decision', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging', 'production'], ['Admin']);
    await world.queue.runPending();
    world.notifier.fail('updateApproverMessage', 'gone');
    await approve(world, filed.id, '1');
    expect(world.notifier.posts).toHaveLength(2);
    const request = await stored(world, filed.id);
    expect(channelRef(request)).toEqual(world.notifier.posts[1]?.ref);
    expect(grantStatuses(request)).toBe('1=ACTIVE,2=PENDING');
  });

  it('gives up on a gone message once nothing waits for a decision', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['production'], ['Admin']);
    await world.queue.runPending();
    world.notifier.fail('updateApproverMessage', 'gone');
    await approve(world, filed.id);
    expect(world.notifier.posts).toHaveLength(1);
    expect((await sweepDueRequests(world.deps)).dispatched).toEqual([]);
  });

  it('records a message posted in a pass whose write lost a race, so it is not posted twice', async () => {
    const world = makeDeps();
    world.store.injectFault({ op: 'saveRequest', when: (w) => channelRef(w.item as AccessRequest) !== undefined, error: 'conflict' });
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    await sweepDueRequests(world.deps);
    await world.queue.runPending();
    expect(world.notifier.posts).toHaveLength(1);
    expect(channelRef(await stored(world, filed.id))).toEqual(world.notifier.posts[0]?.ref);
  });

  it('reliability-3: records a replacement for a gone message posted in a pass whose write lost a race, so its buttons are not refused', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging', 'production'], ['Admin']);
    await world.queue.runPending();
    const original = channelRef(await stored(world, filed.id));
    world.notifier.fail('updateApproverMessage', 'gone');
    // The pass that posts the replacement loses its write to another one.
    const recordsReplacement = (item: unknown) => {
      const ref = channelRef(item as AccessRequest);
      return ref !== undefined && ref.ts !== original?.ts;
    };
    world.store.injectFault({ op: 'saveRequest', when: (w) => recordsReplacement(w.item), error: 'conflict' });
    await approve(world, filed.id, '1');
    expect(world.notifier.posts).toHaveLength(2);
    expect(channelRef(await stored(world, filed.id))).toEqual(world.notifier.posts[1]?.ref);
  });
});

describe('the requester', () => {
  it('gets a DM per piece of grant news; each new DM closes the older active one', async () => {
    const world = makeDeps();
    const id = await mixed(world);
    world.clock.advance(10 * MINUTE);
    await approve(world, id);
    await passTime(world, 50 * MINUTE);
    await passTime(world, 10 * MINUTE);

    expect(world.notifier.dmStatuses()).toEqual(['1=ACTIVE,2=PENDING', '1=ACTIVE,2=ACTIVE', '1=ENDED,2=ACTIVE', '1=ENDED,2=ENDED']);
    const dms = world.notifier.dms.map((d) => d.ref);
    // Each "active" DM is closed (its End button goes) when the next one is sent.
    expect(world.notifier.closedDms.map((c) => c.ref)).toEqual(dms.slice(0, 3));
    expect(dmRef(await stored(world, id))).toBeUndefined();
  });

  it('the latest DM while access is active is the one with the End button', async () => {
    const world = makeDeps();
    const id = await mixed(world);
    expect(dmRef(await stored(world, id))).toEqual(world.notifier.dms[0]?.ref);
    await approve(world, id);
    expect(dmRef(await stored(world, id))).toEqual(world.notifier.dms[1]?.ref);
  });

  it('a DM that fails is sent by a later pass; the grant does not wait for it', async () => {
    const world = makeDeps();
    world.notifier.fail('tellRequester', undefined, Infinity);
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ACTIVE');
    expect(world.notifier.dms).toEqual([]);

    world.notifier.heal();
    world.clock.advance(5 * MINUTE);
    await sweepDueRequests(world.deps);
    await world.queue.runPending();
    expect(world.notifier.dmStatuses()).toEqual(['1=ACTIVE']);
  });

  it('a Slack that fails every call still lets the window end on time', async () => {
    const world = makeDeps();
    for (const method of ['postToApprovers', 'updateApproverMessage', 'tellRequester', 'closeActiveDm'] as const) world.notifier.fail(method, new Error('slack down'), Infinity);
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    expect(world.scheduler.armedFor(filed.id)?.at).toBe((await stored(world, filed.id)).grants[0]?.endsAt);
    await passTime(world, HOUR);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ENDED');
    expect(world.provisioner.has(accountTarget('staging', 'ReadOnly'))).toBe(false);
  });

  it('an "active" DM sent in a pass whose write lost a race is closed too once it is out of date', async () => {
    const world = makeDeps();
    // The notify pass's write loses a race (say, a click landed meanwhile), after Slack got the DM.
    world.store.injectFault({ op: 'saveRequest', when: (w) => dmRef(w.item as AccessRequest) !== undefined, error: 'conflict' });
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    await passTime(world, HOUR);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ENDED');

    const activeDms = world.notifier.dms.filter((d) => d.request.grants.some((g) => g.status === 'ACTIVE')).map((d) => d.ref.ts);
    expect(activeDms.length).toBeGreaterThan(0);
    // Every DM that said "active" has been closed by the time access is gone: no End button left on a stale one.
    expect(world.notifier.closedDms.map((c) => c.ref.ts).sort()).toEqual(activeDms.sort());
  });
});

describe('news Slack keeps failing', () => {
  it('backs off between passes instead of retrying on every sweep', async () => {
    const world = makeDeps();
    world.notifier.fail('tellRequester', undefined, Infinity);
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    const request = await stored(world, filed.id);
    const retryAt = request.newsRetryAt ?? 0;
    expect(retryAt).toBeGreaterThan(world.clock.now());
    world.clock.advance(retryAt - world.clock.now() - 1);
    expect((await sweepDueRequests(world.deps)).dispatched).toEqual([]);
    world.clock.advance(1);
    expect((await sweepDueRequests(world.deps)).dispatched).toEqual([filed.id]);
  });

  it('gives up the news of a request that is over after newsAttempts passes, audited, and it leaves the due list', async () => {
    const world = makeDeps();
    world.deps.options.newsAttempts = 3;
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly'], { durationMs: 5 * MINUTE });
    await world.queue.runPending();
    world.notifier.fail('tellRequester', undefined, Infinity);
    await passTime(world, 5 * MINUTE);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ENDED');
    // The sweep finds news whose retry is due (15 minutes is the longest backoff).
    for (let pass = 0; pass < 10; pass++) {
      world.clock.advance(15 * MINUTE);
      await sweepDueRequests(world.deps);
      await world.queue.runPending();
    }

    expect(await world.store.auditTypes(filed.id)).toContain('news_given_up');
    const given = (await world.store.listAudit(filed.id)).filter((e) => e.type === 'news_given_up');
    expect(given).toHaveLength(1);
    expect(given[0]?.detail).toMatch(/after 3 attempts: the requester: .*ratelimited/);
    const over = await stored(world, filed.id);
    expect(over.newsAttempts).toBeUndefined();
    expect((await sweepDueRequests(world.deps)).dispatched).toEqual([]);
  });

  it('a request that only waits to tell someone never goes before one whose window has ended', async () => {
    const world = makeDeps();
    world.notifier.fail('postToApprovers', undefined, Infinity);
    const newsOnly = await askForAccounts(world, ['production'], ['Admin']);
    await world.queue.runPending();
    world.notifier.heal();
    const windowEnds = await askForAccounts(world, ['staging'], ['ReadOnly'], { durationMs: 5 * MINUTE });
    await world.queue.runPending();
    world.clock.advance(10 * MINUTE);
    const { dispatched } = await sweepDueRequests(world.deps);
    expect(dispatched).toEqual([windowEnds.id, newsOnly.id]);
  });
});
