/**
 * Reminders with in-memory ports: the timer is armed for each reminder, each one mentions the
 * approvers in the approval message's thread, they stop at reminders.max or at a decision, and a
 * reminder Slack fails to take is tried again with the news.
 */
import { decideRequest } from '../../../src/app/decide-request';
import { messageOf } from '../../../src/domain/access-request';
import { ALICE, MINUTE, askForAccounts, makeDeps, makePolicy, passTime, stored, type TestWorld } from '../../support/in-memory-ports';

const REMINDERS = { afterMs: 15 * MINUTE, backoff: 2, max: 3 };

async function waiting(world: TestWorld): Promise<string> {
  const filed = await askForAccounts(world, ['production'], ['Admin']);
  await world.queue.runPending();
  return filed.id;
}

describe('daily-use: reminders and who gets told (reminders, in-memory)', () => {
  test('the timer is armed for 15m, then 30m and 60m later; each reminder goes to the approval message\'s thread; none past reminders.max', async () => {
    const world = makeDeps({ policy: makePolicy({ reminders: REMINDERS }) });
    const id = await waiting(world);
    const filedAt = (await stored(world, id)).createdAt;
    const channel = messageOf(await stored(world, id), 'channel')?.ref;
    const times: number[] = [];
    for (let n = 1; n <= 3; n++) {
      const at = world.scheduler.armedFor(id)?.at ?? 0;
      times.push((at - filedAt) / MINUTE);
      await passTime(world, at - world.clock.now());
      expect(world.notifier.reminders).toHaveLength(n);
      expect(world.notifier.reminders.at(-1)?.ref).toEqual(channel);
    }
    expect(times).toEqual([15, 45, 105]);
    expect(world.notifier.reminders).toHaveLength(3);
    // The next time armed is the expiry: no fourth reminder.
    expect(world.scheduler.armedFor(id)?.at).toBe((await stored(world, id)).expiresAt);
  });

  test('a decision stops the reminders', async () => {
    const world = makeDeps({ policy: makePolicy({ reminders: REMINDERS }) });
    const id = await waiting(world);
    await decideRequest(world.deps, { requestId: id, decision: 'deny', clickerSlackUserId: ALICE.slackUserId });
    await world.queue.runPending();
    await passTime(world, 60 * MINUTE);
    expect(world.notifier.reminders).toEqual([]);
  });

  test('a reminder Slack fails to take is tried again at the news retry, and counted once', async () => {
    const world = makeDeps({ policy: makePolicy({ reminders: REMINDERS }) });
    const id = await waiting(world);
    world.notifier.fail('remindApprovers');
    await passTime(world, 15 * MINUTE);
    expect(world.notifier.reminders).toEqual([]);
    const retryAt = world.scheduler.armedFor(id)?.at ?? 0;
    expect(retryAt - world.clock.now()).toBeGreaterThan(0);
    expect(retryAt - world.clock.now()).toBeLessThanOrEqual(world.deps.options.newsRetryMs);
    await passTime(world, retryAt - world.clock.now());
    expect(world.notifier.reminders).toHaveLength(1);
    expect(messageOf(await stored(world, id), 'reminders')?.shown).toBe('1');
  });
});

describe('daily-use: reminders and who gets told (notify: dm with nobody to DM, in-memory)', () => {
  test('a rule asking only by DM whose approvers name nobody to DM ("*") is posted in the approvals channel, or nobody could decide it', async () => {
    const world = makeDeps();
    world.deps.policy.rules = world.deps.policy.rules.map((r) => (r.name === 'any-account' ? { ...r, approvers: ['*'], notify: 'dm' as const } : r));
    await waiting(world);
    expect(world.notifier.posts).toHaveLength(1);
    expect(world.notifier.approverDms).toEqual([]);
  });

  test('one asking only by DM posts nothing in the channel, before or after the decision', async () => {
    const world = makeDeps();
    world.deps.policy.rules = world.deps.policy.rules.map((r) => (r.name === 'any-account' ? { ...r, notify: 'dm' as const } : r));
    const id = await waiting(world);
    expect(world.notifier.approverDms.map((d) => d.ref.channel).sort()).toEqual(['D_U0ALICE001', 'D_U0BOB00001']);
    await decideRequest(world.deps, { requestId: id, decision: 'deny', clickerSlackUserId: ALICE.slackUserId });
    await world.queue.runPending();
    expect(world.notifier.posts).toEqual([]);
    expect(world.notifier.updates.map((u) => u.ref.channel).sort()).toEqual(['D_U0ALICE001', 'D_U0BOB00001']);
  });
});
