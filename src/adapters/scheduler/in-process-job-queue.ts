import type { AdvanceJob, JobQueue, Logger } from '../../app/ports';

export interface JobHandlers {
  /** Moves the request on (grant, revoke, expire). */
  work(job: AdvanceJob): Promise<unknown>;
  /** Tells people about it (Slack). */
  notify(job: AdvanceJob): Promise<unknown>;
  /**
   * Hands out again what is due in the store (the sweep). Called when dispatches were turned away
   * because the queue was full, once it has room again: a backlog is data in the store, not work
   * held in memory.
   */
  refill?(): Promise<unknown>;
}

/** Work jobs running at once (a grant mostly waits for Identity Center's rate limit). */
export const WORK_AT_ONCE = 32;
/** Request ids waiting for a place beyond those; dispatches past this stay due in the store. */
export const WORK_QUEUED = 256;

/** Why a job was dispatched: a timer fell due (a window's end, a retry: never queued), or new work. */
export type Dispatched = 'due' | 'new';

/**
 * Runs jobs in this process, in two lanes per request: work runs one at a time per request (two
 * clicks on one request do not race here; across processes the store's conditional writes still
 * decide), and after each piece of work a notification runs in its own lane, so a slow or
 * failing Slack never holds up a grant or a revoke. Nothing is lost on a crash: the request's
 * state in the store says what is left to do, and the sweep hands it out again.
 *
 * Memory is bounded whatever the backlog: at most WORK_AT_ONCE new jobs run, at most WORK_QUEUED
 * request ids wait (one entry per request), and a dispatch beyond that is turned away: its
 * request is already stored and due, and `refill` (the sweep) hands it out once there is room.
 * A timer's job ('due': windows ending, revoke retries) never waits behind new work: it starts
 * at once, so revokes keep their place at the head of Identity Center's rate limit.
 */
export class InProcessJobQueue implements JobQueue {
  private handlers: JobHandlers | undefined;
  /** Requests whose work is running, with the job to run again after it if dispatched meanwhile. */
  private readonly running = new Map<string, { again?: AdvanceJob }>();
  private newRunning = 0;
  /** Request ids waiting for a place, oldest first (a Map keeps insertion order), with their job. */
  private readonly waiting = new Map<string, AdvanceJob>();
  private turnedAway = 0;
  private refilling: Promise<void> | undefined;
  private readonly notifyChains = new Map<string, Promise<void>>();
  /** Requests with a notification queued but not started: one queued run covers any number of asks. */
  private readonly notifyQueued = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly logger: Logger,
    private readonly limits: { atOnce: number; queued: number } = { atOnce: WORK_AT_ONCE, queued: WORK_QUEUED },
  ) {}

  /** Set once the worker exists (the worker's own deps include this queue). */
  bind(handlers: JobHandlers): void {
    this.handlers = handlers;
  }

  /** Jobs running, ids waiting, and dispatches turned away (left due in the store) so far. */
  get load(): { running: number; waiting: number; turnedAway: number } {
    return { running: this.running.size, waiting: this.waiting.size, turnedAway: this.turnedAway };
  }

  async dispatch(job: AdvanceJob, why: Dispatched = 'new'): Promise<void> {
    if (this.closed) return;
    const current = this.running.get(job.requestId);
    if (current) {
      // Runs once more after the running work, in its place (whatever it was asked for meanwhile).
      current.again = merge(current.again, job);
      return;
    }
    const queued = this.waiting.get(job.requestId);
    if (why === 'due') {
      if (queued) this.waiting.delete(job.requestId);
      this.start(merge(queued, job), false);
      return;
    }
    if (queued) {
      this.waiting.set(job.requestId, merge(queued, job));
    } else if (this.newRunning < this.limits.atOnce && this.waiting.size === 0) {
      this.start(job, true);
    } else if (this.waiting.size < this.limits.queued) {
      this.waiting.set(job.requestId, job);
    } else {
      // Stored and due already: the sweep hands it out again once there is room.
      this.turnedAway += 1;
    }
  }

  /** Resolves when every dispatched job (and any it dispatched) has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops taking jobs and waits for the running ones (waiting ones stay due in the store). */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting.clear();
    await this.drain();
  }

  private start(job: AdvanceJob, counted: boolean): void {
    const entry: { again?: AdvanceJob } = {};
    this.running.set(job.requestId, entry);
    if (counted) this.newRunning += 1;
    this.track(
      (async () => {
        let next: AdvanceJob | undefined = job;
        while (next) {
          await this.run('work', next);
          this.queueNotification(next);
          next = entry.again;
          entry.again = undefined;
        }
      })().finally(() => {
        this.running.delete(job.requestId);
        if (counted) this.newRunning -= 1;
        this.startWaiting();
      }),
    );
  }

  private startWaiting(): void {
    while (!this.closed && this.newRunning < this.limits.atOnce && this.waiting.size > 0) {
      const [requestId, job] = this.waiting.entries().next().value as [string, AdvanceJob];
      this.waiting.delete(requestId);
      this.start(job, true);
    }
    if (this.turnedAway > 0 && !this.refilling && !this.closed && this.waiting.size <= this.limits.queued / 2 && this.handlers?.refill) {
      // Ask the store for what is due once per time the queue had to turn work away.
      this.turnedAway = 0;
      const refill = this.handlers.refill;
      this.refilling = this.track(
        (async () => {
          try {
            await refill();
          } catch (err) {
            this.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'could not hand out the due work the queue had turned away; the sweep will');
          }
        })().finally(() => (this.refilling = undefined)),
      );
    }
  }

  private queueNotification(job: AdvanceJob): void {
    if (this.closed || this.notifyQueued.has(job.requestId)) return;
    this.notifyQueued.add(job.requestId);
    const previous = this.notifyChains.get(job.requestId) ?? Promise.resolve();
    const run = previous.then(async () => {
      this.notifyQueued.delete(job.requestId);
      await this.run('notify', job);
    });
    this.notifyChains.set(job.requestId, run);
    void this.track(run).finally(() => {
      if (this.notifyChains.get(job.requestId) === run) this.notifyChains.delete(job.requestId);
    });
  }

  private track(run: Promise<void>): Promise<void> {
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return run;
  }

  private async run(lane: 'work' | 'notify', job: AdvanceJob): Promise<void> {
    if (!this.handlers || this.closed) return;
    try {
      await this.handlers[lane](job);
    } catch (err) {
      // The request keeps its state; the sweep will hand it out again.
      this.logger.error({ requestId: job.requestId, lane, err: err instanceof Error ? err.message : String(err) }, 'job failed');
    }
  }
}

/** Two asks for the same request as one: the later one, keeping the targets a window's end named. */
function merge(earlier: AdvanceJob | undefined, later: AdvanceJob): AdvanceJob {
  if (!earlier) return later;
  const created = later.created ?? earlier.created;
  return { ...earlier, ...later, ...(created ? { created } : {}) };
}
