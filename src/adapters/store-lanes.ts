import type { Store } from '../app/ports';
import { OrderedWaiters, workOrder } from './work-order';

/**
 * Which work a store call serves. 'access' is the worker moving grants on (granting, revoking,
 * expiring): it must not wait for anyone's backlog. 'interactive' is what a person is waiting on
 * (the Slack door: filing, clicks, the answer to a command): it takes turns with its own kind
 * only, so it never queues behind the process's background work. 'routine' is everything else
 * (telling people, Home refreshes, the sweep's reads): it takes turns.
 */
export type StoreLane = 'access' | 'interactive' | 'routine';

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
 * Calls a person is waiting on, in flight at once (one while access work is under way): places
 * of their own, so a backlog of news and Home refreshes never stands between a person and their
 * answer, and few, so an access call still waits behind at most a couple of calls.
 */
export const INTERACTIVE_CALLS_AT_ONCE = 2;

/**
 * A number of places; a finishing call hands its place on. Waiting calls go in the order of the
 * work they belong to (work-order.ts) when `byWork`, else first come, first served.
 */
class Places {
  private running = 0;
  private readonly waiting = new OrderedWaiters<() => void>();
  private arrivals = 0;

  constructor(
    private readonly places: () => number,
    private readonly byWork = false,
  ) {}

  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.running < this.places() && this.waiting.length === 0) this.running += 1;
    else {
      const order = this.byWork ? workOrder() : ++this.arrivals;
      await new Promise<void>((resolve) => this.waiting.insert(order, resolve));
    }
    try {
      return await call();
    } finally {
      this.running -= 1;
      // In work order, the place is handed on once the work whose call just finished has had its
      // turn to ask for the next one (its continuation runs first), so that call can go first.
      if (this.byWork) setImmediate(() => this.handOn());
      else this.handOn();
    }
  }

  /** Gives free places (after a call, or once access work is over) to those waiting. */
  handOn(): void {
    while (this.running < this.places() && this.waiting.length > 0) {
      this.running += 1;
      this.waiting.take()?.();
    }
  }
}

/**
 * One store shared by two lanes, so that a flood of requests (their filing, and their news
 * retries against a refusing Slack) cannot delay another person's grant or revoke: access calls
 * go straight to the store, routine calls queue here (first come, first served) for one of
 * ROUTINE_CALLS_AT_ONCE places. Measured before this existed: with 80 requests being filed and
 * notified at once, each of an unrelated grant's store calls waited behind 30-60 others, and the
 * grant took 10-14 s to become active instead of well under a second.
 */
export class StoreLanes {
  private accessWork = 0;
  private readonly routinePlaces: Places;
  private readonly interactivePlaces: Places;

  constructor(
    private readonly store: Store,
    routineAtOnce = ROUTINE_CALLS_AT_ONCE,
  ) {
    this.routinePlaces = new Places(() => (this.accessWork > 0 ? Math.min(ROUTINE_CALLS_BESIDE_ACCESS, routineAtOnce) : routineAtOnce));
    // A person filed first is answered first: their next call goes before a later person's first.
    this.interactivePlaces = new Places(() => (this.accessWork > 0 ? 1 : INTERACTIVE_CALLS_AT_ONCE), true);
  }

  /** The store as seen from one lane: the same methods, gated for the routine and interactive lanes. */
  lane(lane: StoreLane): Store {
    if (lane === 'access') return this.store;
    const store = this.store;
    const places = lane === 'interactive' ? this.interactivePlaces : this.routinePlaces;
    // Every method of the port is one asynchronous call to the store, so every one is gated alike,
    // including any the port gains later.
    return new Proxy(store, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => places.run(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      },
    });
  }

  /**
   * Runs a piece of access work (one worker job): while any is under way, routine calls get only
   * ROUTINE_CALLS_BESIDE_ACCESS places (and interactive ones one), so the job's calls, one after
   * another, each find the store nearly free rather than behind a full set of other calls.
   */
  async serveAccess<T>(work: () => Promise<T>): Promise<T> {
    this.accessWork += 1;
    try {
      return await work();
    } finally {
      this.accessWork -= 1;
      // Places the other lanes gave up for the access work are theirs again.
      this.routinePlaces.handOn();
      this.interactivePlaces.handOn();
    }
  }

  /** Routine calls in flight and waiting (for diagnostics and tests). */
  get routineLoad(): { running: number; waiting: number } {
    return this.routinePlaces.load;
  }

  /** Interactive calls in flight and waiting (for diagnostics and tests). */
  get interactiveLoad(): { running: number; waiting: number } {
    return this.interactivePlaces.load;
  }
}
