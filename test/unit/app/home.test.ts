/** App Home's use cases over in-memory ports: what a Home holds, one publish per person at a time, and never a thrown error. */
import { homeContent, refreshHomes, showHome } from '../../../src/app/home';
import type { HomeContent, HomeTab } from '../../../src/app/ports';
import { ALICE, BOB, REQUESTER, askForAccounts, grantStatuses, makeDeps, stored } from '../../support/in-memory-ports';

/** A HomeTab that records every publish; `hold` makes publishes wait until released, `fail` makes them throw. */
class RecordingHomeTab implements HomeTab {
  readonly published: HomeContent[] = [];
  inFlight = 0;
  maxInFlight = 0;
  fail = false;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  async publish(content: HomeContent): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.gate;
      if (this.fail) throw new Error('views.publish: internal_error');
      this.published.push(content);
    } finally {
      this.inFlight--;
    }
  }
  async userIdForEmail(email: string): Promise<string | undefined> {
    return email === ALICE.email ? ALICE.slackUserId : undefined;
  }
}

describe('daily-use: App Home use cases', () => {
  test('the requester\'s Home holds their active, pending and finished requests; an approver\'s holds what waits for them, nobody else\'s', async () => {
    const home = new RecordingHomeTab();
    const world = makeDeps({ home });
    const active = await askForAccounts(world, ['staging'], ['ReadOnly']);
    const pending = await askForAccounts(world, ['production'], ['Admin']);
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, active.id))).toBe('1=ACTIVE');

    const own = await homeContent(world.deps, REQUESTER.slackUserId);
    expect(own.active.map((r) => r.id)).toEqual([active.id]);
    expect(own.pending.map((r) => r.id)).toEqual([pending.id]);
    expect(own.toDecide).toEqual([]);
    expect((await homeContent(world.deps, ALICE.slackUserId)).toDecide.map((r) => r.id)).toEqual([pending.id]);
    expect((await homeContent(world.deps, BOB.slackUserId)).toDecide.map((r) => r.id)).toEqual([pending.id]);
    // Carol approves nothing here.
    expect((await homeContent(world.deps, 'U0CAROL001')).toDecide).toEqual([]);
  });

  test('two changes at once for one person: publishes never overlap, and the last one shows the latest state', async () => {
    const home = new RecordingHomeTab();
    const world = makeDeps({ home });
    const first = await askForAccounts(world, ['production'], ['Admin']);
    home.hold();
    const a = showHome(world.deps, REQUESTER.slackUserId);
    const second = await askForAccounts(world, ['production'], ['ReadOnly']);
    const b = showHome(world.deps, REQUESTER.slackUserId);
    const c = showHome(world.deps, REQUESTER.slackUserId);
    home.release();
    await Promise.all([a, b, c]);
    expect(home.maxInFlight).toBe(1);
    // One under way, then one more for both later asks, reading the store afresh.
    expect(home.published).toHaveLength(2);
    expect(home.published.at(-1)!.pending.map((r) => r.id).sort()).toEqual([first.id, second.id].sort());
  });

  test('a failing Home never throws: the worker grants and tells people all the same', async () => {
    const home = new RecordingHomeTab();
    home.fail = true;
    const world = makeDeps({ home });
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ACTIVE');
    expect(world.notifier.dms.length).toBeGreaterThan(0);
    await expect(refreshHomes(world.deps, await stored(world, filed.id))).resolves.toBeUndefined();
  });

  test('after a change, the requester\'s Home and those of the rule\'s approvers (by Slack id, and by email through Slack) are republished, once per change', async () => {
    const home = new RecordingHomeTab();
    const world = makeDeps({ home });
    const filed = await askForAccounts(world, ['production'], ['Admin']);
    await world.queue.runPending();
    const who = () => home.published.map((c) => c.slackUserId).sort();
    expect(who()).toEqual([ALICE.slackUserId, BOB.slackUserId, REQUESTER.slackUserId].sort());
    await refreshHomes(world.deps, await stored(world, filed.id));
    expect(home.published).toHaveLength(3); // nothing changed: nothing published
  });
});
