import { RateLimiter } from '../../../src/adapters/identity-center/rate-limiter';

describe('RateLimiter (Identity Center calls)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  test('lets one call out per slot, and a waiting revoke goes before waiting normal calls', async () => {
    const limiter = new RateLimiter(10); // one slot every 100 ms
    const order: string[] = [];
    const calls = ['n1', 'n2', 'n3'].map((name) => limiter.take('normal').then(() => order.push(name)));
    calls.push(limiter.take('revoke').then(() => order.push('r1')));
    calls.push(limiter.take('revoke').then(() => order.push('r2')));
    await jest.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['n1']); // only the first slot is free
    await jest.advanceTimersByTimeAsync(100);
    expect(order).toEqual(['n1', 'r1']);
    await jest.advanceTimersByTimeAsync(300);
    await Promise.all(calls);
    expect(order).toEqual(['n1', 'r1', 'r2', 'n2', 'n3']);
  });

  test('never lets two calls out in the same slot, even after the clock jumps (a stalled event loop)', async () => {
    const limiter = new RateLimiter(5); // one slot every 200 ms
    let released = 0;
    const all = Array.from({ length: 6 }, () => limiter.take().then(() => released++));
    await jest.advanceTimersByTimeAsync(0);
    expect(released).toBe(1);
    await jest.advanceTimersByTimeAsync(200);
    expect(released).toBe(2);
    jest.setSystemTime(Date.now() + 10_000); // ten seconds pass without any timer running
    await jest.advanceTimersByTimeAsync(200);
    expect(released).toBe(3); // one per slot, not a burst of everything that waited
    await jest.advanceTimersByTimeAsync(600);
    await Promise.all(all);
    expect(released).toBe(6);
  });
});
