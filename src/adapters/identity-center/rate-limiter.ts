/**
 * Spaces calls at least 1/perSecond apart, across everything this process sends to one API.
 * Identity Center throttles around 20 TPS per account; staying under it keeps grants and revokes
 * out of retry storms when many land at once.
 */
export class RateLimiter {
  private nextFreeAt = 0;
  private readonly spacingMs: number;

  constructor(
    perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.spacingMs = 1000 / perSecond;
  }

  async take(): Promise<void> {
    // Slots are taken when a call actually goes out, not booked in advance: after a stalled
    // event loop, callers that all wake at once still leave one at a time.
    for (;;) {
      const now = this.now();
      if (now >= this.nextFreeAt) {
        this.nextFreeAt = now + this.spacingMs;
        return;
      }
      await this.sleep(this.nextFreeAt - now);
    }
  }
}
