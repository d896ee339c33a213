import type { AccessRequest } from '../../domain/access-request';
import type { AdvanceJob, JobQueue, Logger } from '../../app/ports';
import { asWork, workOrder } from '../work-order';

export interface JobHandlers {
  /** Moves the request on (grant, revoke, expire), from `written` when the dispatcher gave it; resolves to the request as it left it. */
  work(job: AdvanceJob, written?: AccessRequest): Promise<AccessRequest | undefined>;
  /** Tells people about it (Slack), from `known` when this process knows its latest version; resolves to the request as it left it. */
  notify(job: AdvanceJob, known?: AccessRequest): Promise<AccessRequest | undefined>;
}

/** How long a stop waits for news not yet started (of work done before it) before leaving it to the store. */
export const NEWS_GRACE_MS = 5_000;

/** Requests whose latest version this queue remembers (the most recently handled). */
const REMEMBERED = 1000;

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
  /**
   * The newest version of each request that this process's work and news left behind: a
   * notification starts from it instead of a read. Newest by version, so a work run that read
   * the request before a news pass wrote it never takes that pass's place (which would tell
   * people again what they were already told).
   */
  private readonly newest = new Map<string, AccessRequest>();
  private closed = false;
  /** Set once a stop's grace for news is over: news passes not started are left to the store. */
  private newsStopped = false;

  constructor(private readonly logger: Logger) {}

  /** Set once the worker exists (the worker's own deps include this queue). */
  bind(handlers: JobHandlers): void {
    this.handlers = handlers;
  }

  async dispatch(job: AdvanceJob, written?: AccessRequest): Promise<void> {
    if (this.closed) return;
    // The job keeps the place of the work that dispatched it (a filing, a click), else takes the next:
    // where its calls wait (Identity Center's rate limit), earlier work goes first.
    const order = workOrder();
    this.enqueue(this.workChains, job, () =>
      asWork(order, async () => {
        // Work not started by the time the queue closes stays due in the store for the next process.
        if (this.closed) return;
        await this.run('work', job, written);
        this.queueNotification(job);
      }),
    );
  }

  /** Resolves when every dispatched job (and any it dispatched) has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Stops taking jobs and waits for the running ones, and for the news of what they (and the
   * work before them) did: people are told what was done before the stop, so a restarted process
   * does not tell them again. Work not yet started is left to the store, and so is news not yet
   * started once `newsGraceMs` has passed.
   */
  async close(newsGraceMs = NEWS_GRACE_MS): Promise<void> {
    this.closed = true;
    const grace = new Promise<void>((resolve) => setTimeout(resolve, newsGraceMs).unref());
    await Promise.race([this.drain(), grace]);
    // Past the grace (a flood, a slow Slack), news not yet started is left due in the store for the
    // next process: a stop must not outlast a process manager's patience. What is running finishes.
    this.newsStopped = true;
    await this.drain();
  }

  private queueNotification(job: AdvanceJob): void {
    if (this.notifyQueued.has(job.requestId)) return;
    this.notifyQueued.add(job.requestId);
    this.enqueue(this.notifyChains, job, async () => {
      this.notifyQueued.delete(job.requestId);
      if (this.newsStopped) return;
      await this.run('notify', job, this.newest.get(job.requestId));
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

  private async run(lane: keyof JobHandlers, job: AdvanceJob, known?: AccessRequest): Promise<void> {
    if (!this.handlers) return;
    try {
      this.remember(await this.handlers[lane](job, known));
    } catch (err) {
      // The request keeps its state; the sweep will hand it out again.
      this.logger.error({ requestId: job.requestId, lane, err: err instanceof Error ? err.message : String(err) }, 'job failed');
      // What it left is unknown: the next notification reads the store.
      this.newest.delete(job.requestId);
    }
  }

  private remember(request: AccessRequest | undefined): void {
    if (!request) return;
    const before = this.newest.get(request.id);
    if (before && before.version > request.version) return;
    this.newest.delete(request.id);
    this.newest.set(request.id, request);
    if (this.newest.size > REMEMBERED) this.newest.delete(this.newest.keys().next().value as string);
  }
}
