import type { AdvanceJob, JobQueue, Logger } from '../../app/ports';

export interface JobHandlers {
  /** Moves the request on (grant, revoke, expire). */
  work(job: AdvanceJob): Promise<unknown>;
  /** Tells people about it (Slack). */
  notify(job: AdvanceJob): Promise<unknown>;
}

/**
 * Runs jobs in this process, in two lanes per request: work runs one at a time per request (two
 * clicks on one request do not race here; across processes the store's conditional writes still
 * decide), and after each piece of work a notification runs in its own lane, so a slow or
 * failing Slack never holds up a grant or a revoke. Nothing is lost on a crash: the request's
 * state in the store says what is left to do, and the sweep hands it out again.
 */
export class InProcessJobQueue implements JobQueue {
  private handlers: JobHandlers | undefined;
  private readonly workChains = new Map<string, Promise<void>>();
  private readonly notifyChains = new Map<string, Promise<void>>();
  /** Requests with a notification queued but not started: one queued run covers any number of asks. */
  private readonly notifyQueued = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly logger: Logger) {}

  /** Set once the worker exists (the worker's own deps include this queue). */
  bind(handlers: JobHandlers): void {
    this.handlers = handlers;
  }

  async dispatch(job: AdvanceJob): Promise<void> {
    if (this.closed) return;
    this.enqueue(this.workChains, job, async () => {
      await this.run('work', job);
      this.queueNotification(job);
    });
  }

  /** Resolves when every dispatched job (and any it dispatched) has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops taking jobs and waits for the running ones. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  private queueNotification(job: AdvanceJob): void {
    if (this.closed || this.notifyQueued.has(job.requestId)) return;
    this.notifyQueued.add(job.requestId);
    this.enqueue(this.notifyChains, job, async () => {
      this.notifyQueued.delete(job.requestId);
      await this.run('notify', job);
    });
  }

  private enqueue(chains: Map<string, Promise<void>>, job: AdvanceJob, task: () => Promise<void>): void {
    const previous = chains.get(job.requestId) ?? Promise.resolve();
    const run = previous.then(task);
    chains.set(job.requestId, run);
    this.inFlight.add(run);
    void run.finally(() => {
      this.inFlight.delete(run);
      if (chains.get(job.requestId) === run) chains.delete(job.requestId);
    });
  }

  private async run(lane: keyof JobHandlers, job: AdvanceJob): Promise<void> {
    if (!this.handlers || this.closed) return;
    try {
      await this.handlers[lane](job);
    } catch (err) {
      // The request keeps its state; the sweep will hand it out again.
      this.logger.error({ requestId: job.requestId, lane, err: err instanceof Error ? err.message : String(err) }, 'job failed');
    }
  }
}
