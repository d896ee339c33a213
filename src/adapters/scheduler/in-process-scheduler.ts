import type { AdvanceJob, Clock, JobQueue, JobScheduler } from '../../app/ports';
import { asNewWork } from '../work-order';

// setTimeout cannot wait longer than 2^31-1 ms; the sweep re-arms far timers as they come near.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Timers in this process. They are only a fast path: every due time is also in the store's due
 * index, and the sweep (at start-up and every 30 s) re-arms or runs anything a restart lost.
 */
export class InProcessScheduler implements JobScheduler {
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout; job: string }>();
  private closed = false;

  constructor(
    private readonly queue: JobQueue,
    private readonly clock: Clock,
  ) {}

  async scheduleAt(job: AdvanceJob, at: number): Promise<void> {
    if (this.closed) return;
    const existing = this.timers.get(job.requestId);
    if (existing && existing.at === at && existing.job === JSON.stringify(job)) return;
    if (existing) clearTimeout(existing.timer);
    const delay = Math.min(Math.max(0, at - this.clock.now()), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.timers.delete(job.requestId);
      // What a timer starts is new work (work-order.ts), as after a restart, not part of what armed it.
      void asNewWork(() => this.queue.dispatch(job));
    }, delay);
    timer.unref();
    this.timers.set(job.requestId, { at, timer, job: JSON.stringify(job) });
  }

  async cancel(job: AdvanceJob): Promise<void> {
    const existing = this.timers.get(job.requestId);
    if (existing) clearTimeout(existing.timer);
    this.timers.delete(job.requestId);
  }

  get pending(): number {
    return this.timers.size;
  }

  close(): void {
    this.closed = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
