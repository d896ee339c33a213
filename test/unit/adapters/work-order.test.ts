/** Earlier work goes first where calls wait: a person filed first is answered first, a grant queued first is created first. */
import { RateLimiter } from '../../../src/adapters/identity-center/rate-limiter';
import { INTERACTIVE_CALLS_AT_ONCE, StoreLanes } from '../../../src/adapters/store-lanes';
import { asNewWork } from '../../../src/adapters/work-order';
import { heldStore } from '../../support/in-memory-ports';

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('performance-2: earlier work goes first where calls wait', () => {
  test('the store places of the Slack door: a person whose filing started first gets their next store call before later people get their first (so the first is answered first, not all at the end)', async () => {
    const { store, started, releases } = heldStore();
    const door = new StoreLanes(store).lane('interactive');
    // Each person's filing is two store calls, one after the other; more people than places.
    const people = Array.from({ length: INTERACTIVE_CALLS_AT_ONCE + 2 }, (_, i) => `p${i}`);
    const filings = people.map((p) =>
      asNewWork(async () => {
        await door.getRequest(`${p}-first`);
        await door.getRequest(`${p}-second`);
      }),
    );
    let done = false;
    const all = Promise.all(filings).then(() => (done = true));
    while (!done) {
      await flush();
      releases.shift()?.();
      await flush();
    }
    await all;
    // Not p0-first, p1-first, p2-first, p3-first, p0-second…: each person's second call goes before anyone later's first.
    expect(started).toEqual(['p0-first', 'p1-first', 'p0-second', 'p1-second', 'p2-first', 'p3-first', 'p2-second', 'p3-second']);
  });

  describe('Identity Center rate limit', () => {
    beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
    afterEach(() => jest.useRealTimers());

    test('a grant queued first makes its next call before the grants queued after it make their first; a revoke still goes before both', async () => {
      const limiter = new RateLimiter(10); // one call every 100 ms
      const order: string[] = [];
      const grant = (name: string) =>
        asNewWork(async () => {
          await limiter.take();
          order.push(`${name} look`);
          await limiter.take();
          order.push(`${name} create`);
        });
      const grants = [grant('g1'), grant('g2'), grant('g3')];
      await jest.advanceTimersByTimeAsync(0);
      expect(order).toEqual(['g1 look']);
      const revoke = asNewWork(() => limiter.take('revoke').then(() => order.push('revoke')));
      await jest.advanceTimersByTimeAsync(1000);
      await Promise.all([...grants, revoke]);
      expect(order).toEqual(['g1 look', 'revoke', 'g1 create', 'g2 look', 'g2 create', 'g3 look', 'g3 create']);
    });
  });
});
