import type { Store } from '../app/ports';

/**
 * Which work a store call serves. 'access' is the worker moving grants on (granting, revoking,
 * expiring): it must not wait for anyone's backlog. 'routine' is everything else in the process
 * (filing, clicks, telling people, the sweep's reads): it takes turns.
 */
export type StoreLane = 'access' | 'routine';

/**
 * Routine store calls in flight at once. The embedded store serves calls one after another on
 * this process's own event loop, so every call queued in front of a grant's read or write delays
 * it: with this cap, an access call waits behind at most this many others, however many filings
 * and notifications a flood has queued. Enough to keep the store busy (a call is a few ms).
 */
export const ROUTINE_CALLS_AT_ONCE = 4;
/** Routine store calls in flight at once while access work is under way: they take turns with it. */
export const ROUTINE_CALLS_BESIDE_ACCESS = 1;

/**
 * One store shared by two lanes, so that a flood of requests (their filing, and their news
 * retries against a refusing Slack) cannot delay another person's grant or revoke: access calls
 * go straight to the store, routine calls queue here (first come, first served) for one of
 * ROUTINE_CALLS_AT_ONCE places. Measured before this existed: with 80 requests being filed and
 * notified at once, each of an unrelated grant's store calls waited behind 30-60 others, and the
 * grant took 10-14 s to become active instead of well under a second.
 */
export class StoreLanes {
  private routineRunning = 0;
  private accessWork = 0;
  private readonly routineWaiting: Array<() => void> = [];

  constructor(
    private readonly store: Store,
    private readonly routineAtOnce = ROUTINE_CALLS_AT_ONCE,
  ) {}

  /** The store as seen from one lane: the same methods, gated for the routine lane. */
  lane(lane: StoreLane): Store {
    if (lane === 'access') return this.store;
    const store = this.store;
    // Every method of the port is one asynchronous call to the store, so every one is gated alike,
    // including any the port gains later.
    return new Proxy(store, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => this.routine(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      },
    });
  }

  /**
   * Runs a piece of access work (one worker job): while any is under way, routine calls get only
   * ROUTINE_CALLS_BESIDE_ACCESS places, so the job's calls, one after another, each find the
   * store nearly free rather than behind a full set of routine calls.
   */
  async serveAccess<T>(work: () => Promise<T>): Promise<T> {
    this.accessWork += 1;
    try {
      return await work();
    } finally {
      this.accessWork -= 1;
      // Places routine calls gave up for the access work are theirs again.
      while (this.routineRunning < this.routinePlaces() && this.routineWaiting.length > 0) {
        this.routineRunning += 1;
        this.routineWaiting.shift()?.();
      }
    }
  }

  /** Routine calls in flight and waiting (for diagnostics and tests). */
  get routineLoad(): { running: number; waiting: number } {
    return { running: this.routineRunning, waiting: this.routineWaiting.length };
  }

  private routinePlaces(): number {
    return this.accessWork > 0 ? Math.min(ROUTINE_CALLS_BESIDE_ACCESS, this.routineAtOnce) : this.routineAtOnce;
  }

  private async routine<T>(call: () => Promise<T>): Promise<T> {
    if (this.routineRunning < this.routinePlaces() && this.routineWaiting.length === 0) this.routineRunning += 1;
    // A finishing call hands its place straight to the first one waiting, if the place is still there.
    else await new Promise<void>((resolve) => this.routineWaiting.push(resolve));
    try {
      return await call();
    } finally {
      this.routineRunning -= 1;
      if (this.routineRunning < this.routinePlaces() && this.routineWaiting.length > 0) {
        this.routineRunning += 1;
        this.routineWaiting.shift()?.();
      }
    }
  }
}
