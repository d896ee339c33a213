/** Revokes go first: under load, ending access on time matters more than starting it. */
export type CallPriority = 'revoke' | 'normal';

interface Waiter {
  priority: CallPriority;
  resolve: () => void;
}

/**
 * A token bucket across everything this process sends to one API: `perSecond` calls a second
 * sustained, and up to `burst` at once when the bucket is full (nothing was sent for a while), so
 * the few look-ups of one request go out together instead of 1/perSecond apart. Identity Center
 * throttles around 20 TPS per account: `burst + perSecond` is the most that can go out in any one
 * second, so keep it at or under that. Tokens are taken when a call actually goes out, the bucket
 * never holds more than `burst` (a stalled event loop releases at most that many at once), and
 * waiting revoke calls go before the rest.
 */
export class RateLimiter {
  private tokens: number;
  private refilledAt: number;
  private readonly waiting: Waiter[] = [];
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
    return new Promise((resolve) => {
      const waiter = { priority, resolve };
      // Revokes queue ahead of every normal call, behind earlier revokes.
      const at = priority === 'revoke' ? this.waiting.findIndex((w) => w.priority !== 'revoke') : -1;
      if (at === -1) this.waiting.push(waiter);
      else this.waiting.splice(at, 0, waiter);
      this.pump();
    });
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1000);
    this.refilledAt = now;
  }

  private pump(): void {
    if (this.timer) return;
    this.refill();
    while (this.tokens >= 1 && this.waiting.length > 0) {
      this.tokens -= 1;
      this.waiting.shift()?.resolve();
    }
    if (this.waiting.length > 0) {
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
