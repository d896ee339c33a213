import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which piece of work came first. Every Slack request the door takes, and every job the worker
 * starts, gets the next number of one counter, and everything it does asynchronously carries that
 * number (AsyncLocalStorage). Where calls wait for a shared resource (the store's places for the
 * door, Identity Center's rate limit), the one with the lowest number goes first, so the work
 * started first is finished first: a person filed a moment ago is answered before the next
 * one's first step, and a grant queued early is created before the grants queued after it take
 * their first look at AWS. First come, first served by the piece of work, not by the single call,
 * which would interleave everything and finish nothing until all of it was done.
 */
const current = new AsyncLocalStorage<number>();
let counter = 0;

/** The order of the work this call belongs to, or (outside any) the next number: after everything started before it. */
export function workOrder(): number {
  return current.getStore() ?? ++counter;
}

/** Runs `work` as a new piece of work, numbered after everything started before it. */
export function asNewWork<T>(work: () => T): T {
  return current.run(++counter, work);
}

/** Runs `work` as part of the piece of work numbered `order` (a job handed on keeps its place). */
export function asWork<T>(order: number, work: () => T): T {
  return current.run(order, work);
}

/** Waiters in the order of their work: `insert` places one after every waiter of the same or an earlier order. */
export class OrderedWaiters<T> {
  private readonly items: Array<{ order: number; item: T }> = [];

  get length(): number {
    return this.items.length;
  }

  insert(order: number, item: T): void {
    let at = this.items.length;
    // Usually the newest: search from the back.
    while (at > 0 && this.items[at - 1]!.order > order) at--;
    this.items.splice(at, 0, { order, item });
  }

  /** The first waiter, removed. */
  take(): T | undefined {
    return this.items.shift()?.item;
  }
}
