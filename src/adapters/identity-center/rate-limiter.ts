/** Revokes go first: under load, ending access on time matters more than starting it. */
export type CallPriority = 'revoke' | 'normal';

interface Waiter {
  priority: CallPriority;
  resolve: () => void;
}

/**
 * Spaces calls at least 1/perSecond apart, across everything this process sends to one API.
 * Identity Center throttles around 20 TPS per account; staying under it keeps grants and revokes
 * out of retry storms when many land at once. Slots are taken when a call actually goes out (so
 * a stalled event loop cannot release a burst), and waiting revoke calls go before the rest.
 */
export class RateLimiter {
  private nextFreeAt = 0;
  private readonly spacingMs: number;
  private readonly waiting: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.spacingMs = 1000 / perSecond;
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

  private pump(): void {
    if (this.timer) return;
    const now = this.now();
    if (now >= this.nextFreeAt) {
      const next = this.waiting.shift();
      if (!next) return;
      this.nextFreeAt = now + this.spacingMs;
      next.resolve();
    }
    if (this.waiting.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, Math.max(1, this.nextFreeAt - this.now()));
      this.timer.unref();
    }
  }
}
