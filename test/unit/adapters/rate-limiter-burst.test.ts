import { RateLimiter } from '../../../src/adapters/identity-center/rate-limiter';

describe('performance-2: Identity Center rate limit (a token bucket)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  test('when nothing was sent for a while, up to the burst goes out at once; then the sustained rate, and never more than burst + rate in any second', async () => {
    const limiter = new RateLimiter(15, Date.now, 5);
    const sentAt: number[] = [];
    const all = Array.from({ length: 40 }, () => limiter.take().then(() => sentAt.push(Date.now())));
    await jest.advanceTimersByTimeAsync(0);
    expect(sentAt).toHaveLength(5); // the look-ups of one request do not wait 67 ms apart
    await jest.advanceTimersByTimeAsync(3_000);
    await Promise.all(all);
    for (const t of sentAt) expect(sentAt.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(20);
    // Sustained: the 35 after the burst need about 35/15 s.
    expect((sentAt.at(-1) as number) - (sentAt[0] as number)).toBeGreaterThanOrEqual(Math.floor((35 / 15) * 1000) - 1);
  });

  test('a stalled event loop releases at most the burst at once, and a waiting revoke still goes first', async () => {
    const limiter = new RateLimiter(5, Date.now, 3);
    const order: string[] = [];
    const first = Array.from({ length: 3 }, (_, i) => limiter.take().then(() => order.push(`n${i}`)));
    await jest.advanceTimersByTimeAsync(0);
    await Promise.all(first);
    const later = Array.from({ length: 6 }, (_, i) => limiter.take().then(() => order.push(`m${i}`)));
    later.push(limiter.take('revoke').then(() => order.push('r')));
    jest.setSystemTime(Date.now() + 10_000); // ten seconds pass without any timer running
    await jest.advanceTimersByTimeAsync(200);
    expect(order.slice(3)).toEqual(['r', 'm0', 'm1']);
    await jest.advanceTimersByTimeAsync(2_000);
    await Promise.all(later);
    expect(order).toHaveLength(10);
  });
});
