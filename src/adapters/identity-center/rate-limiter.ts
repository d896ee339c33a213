import { OrderedWaiters, workOrder } from '../work-order';

/** Revokes go first: under load, ending access on time matters more than starting it. */
export type CallPriority = 'revoke' | 'normal';

/**
 * A token bucket across everything this process sends to one API: `perSecond` calls a second
 * sustained, and up to `burst` at once when the bucket is full (nothing was sent for a while), so
 * the few look-ups of one request go out together instead of 1/perSecond apart. Identity Center
 * throttles around 20 TPS per account: `burst + perSecond` is the most that can go out in any one
 * second, so keep it at or under that. Tokens are taken when a call actually goes out, the bucket
 * never holds more than `burst` (a stalled event loop releases at most that many at once), and
 * waiting revoke calls go before the rest. Among calls of one priority, the work started first
 * goes first (work-order.ts): a grant queued early makes its next call before the grants queued
 * after it make their first, so grants finish one after another instead of all at the end.
 */
export class RateLimiter {
  private tokens: number;
  private refilledAt: number;
  private readonly revokes = new OrderedWaiters<() => void>();
  private readonly others = new OrderedWaiters<() => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly burst = 1,
  ) {
    this.tokens = burst;
    this.refilledAt = now();
  }

  take(priority: CallPriority = 'normal'): Promise<void> {
    const order = workOrder();
    return new Promise((resolve) => {
      (priority === 'revoke' ? this.revokes : this.others).insert(order, resolve);
      this.pump();
    });
  }

  private get waiting(): number {
    return this.revokes.length + this.others.length;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
    this.refilledAt = now;
  }

  private pump(): void {
    if (this.timer) return;
    this.refill();
    while (this.tokens >= 1 && this.waiting > 0) {
      this.tokens -= 1;
      (this.revokes.take() ?? this.others.take())?.();
    }
    if (this.waiting > 0) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.pump();
        },
        Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.perSecond)),
      );
      this.timer.unref();
    }
  }
}
