import type { AdvanceJob, JobQueue, Logger } from '../../app/ports';

export type JobHandler = (job: AdvanceJob) => Promise<unknown>;

/**
 * Runs jobs in this process, soon after they are dispatched, one at a time per request (so two
 * clicks on one request do not race each other here; across processes the store's conditional
 * writes still decide). Nothing is lost on a crash: the request's state in the store says what
 * is left to do, and the sweep hands it out again.
 */
export class InProcessJobQueue implements JobQueue {
  private handler: JobHandler | undefined;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly logger: Logger) {}

  /** Set once the worker exists (the worker's own deps include this queue). */
  bind(handler: JobHandler): void {
    this.handler = handler;
  }

  async dispatch(job: AdvanceJob): Promise<void> {
    if (this.closed) return;
    const previous = this.chains.get(job.requestId) ?? Promise.resolve();
    const run = previous.then(() => this.runJob(job));
    this.chains.set(job.requestId, run);
    this.inFlight.add(run);
    void run.finally(() => {
      this.inFlight.delete(run);
      if (this.chains.get(job.requestId) === run) this.chains.delete(job.requestId);
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

  private async runJob(job: AdvanceJob): Promise<void> {
    if (!this.handler || this.closed) return;
    try {
      await this.handler(job);
    } catch (err) {
      // The request keeps its state; the sweep will hand it out again.
      this.logger.error({ requestId: job.requestId, err: err instanceof Error ? err.message : String(err) }, 'job failed');
    }
  }
}
