import { ConflictException, CreateScheduleCommand, type CreateScheduleCommandInput, DeleteScheduleCommand, GetScheduleCommand, ResourceNotFoundException, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { AdvanceJob, JobScheduler, Logger } from '../../app/ports';

export interface EventBridgeSchedulerOptions {
  groupName: string;
  /** The worker function: Scheduler invokes it with `{"requestId": …}`. */
  targetArn: string;
  /** Role Scheduler assumes to invoke the target. */
  roleArn: string;
  /** SQS queue for invocations that fail every retry. */
  deadLetterArn?: string;
  /**
   * A function that takes a job with `notBefore`, waits until then, and hands it to the worker
   * (the sweep function). Given, schedules fire ahead of their time and target it, so a window's
   * revoke starts at its end; the waiting never holds one of the worker's reserved slots.
   */
  waiterArn?: string;
  /**
   * Hands a job (with its notBefore) to the waiter at once: for a time too soon to fire ahead
   * (a short window, or a timer armed again within a minute or so of its end), so it is still
   * on time. The schedule for the minute after is made first, as the backup; a failed hand-off
   * is logged and leaves it standing.
   */
  handOff?: (job: AdvanceJob) => Promise<void>;
  logger: Pick<Logger, 'warn'>;
}

/** The longest the waiter waits for a job's time: schedules fire at most 2 minutes ahead, hand-offs no earlier than this. */
export const MAX_WAIT_MS = 150_000;

/** One schedule per request, named after it: a retried call can never make a second one. */
export function scheduleName(requestId: string): string {
  const name = `timebox-${requestId}`.replace(/[^0-9a-zA-Z\-_.]/g, '_');
  return name.slice(0, 64);
}

const MINUTE = 60_000;
/** Scheduler needs a schedule's time to be this far ahead to be sure to fire it. */
const SCHEDULE_MARGIN_MS = 10_000;

/**
 * When to fire for a job due at `at`. Scheduler fires an `at()` schedule somewhere within the
 * minute it names, so firing on time means naming a minute that is over before `at`: the waiter
 * (the sweep function) is then invoked 60 to 120 s early with `notBefore: at`, waits out the rest
 * and hands the job to the worker, so a window's revoke starts within a second of its end rather
 * than up to two minutes after. A job due too soon for that is scheduled for the minute after `at` instead (never
 * early, at most a minute late); the sweep covers anything Scheduler misses.
 */
export function fireTime(at: number, now: number, canFireAhead = true): { expression: string; ahead: boolean } {
  const ahead = Math.floor((at - MINUTE) / MINUTE) * MINUTE;
  const minute = canFireAhead && ahead > now + SCHEDULE_MARGIN_MS ? ahead : Math.ceil(at / MINUTE) * MINUTE;
  return { expression: `at(${new Date(minute).toISOString().slice(0, 19)})`, ahead: minute === ahead };
}

/** EventBridge Scheduler: fires the worker once at a time, then deletes itself. */
export class EventBridgeScheduler implements JobScheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly options: EventBridgeSchedulerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async scheduleAt(job: AdvanceJob, at: number): Promise<void> {
    const Name = scheduleName(job.requestId);
    const now = this.now();
    const fire = fireTime(at, now, this.options.waiterArn !== undefined);
    const ScheduleExpression = fire.expression;
    const payload: AdvanceJob = fire.ahead ? { ...job, notBefore: at } : job;
    const targetArn = fire.ahead && this.options.waiterArn ? this.options.waiterArn : this.options.targetArn;
    const input = {
      Name,
      GroupName: this.options.groupName,
      ScheduleExpression,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      ActionAfterCompletion: 'DELETE' as const,
      Description: `Timebox: look at ${job.requestId} again`,
      Target: {
        Arn: targetArn,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify(payload),
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
        ...(this.options.deadLetterArn ? { DeadLetterConfig: { Arn: this.options.deadLetterArn } } : {}),
      },
      // The same request and time give the same token, so a retried call is a no-op.
      ClientToken: `${Name}-${Math.floor(at / 1000)}`.slice(0, 64),
    };
    try {
      // The schedule first: it is the backup, so a hand-off that fails (Lambda throttling the
      // invoke, just when Lambda is in trouble) can never leave only the 5-minute sweep.
      await this.createOrReplace(job, input);
    } finally {
      // Even if Scheduler failed: the waiter alone still ends the window on time.
      if (!fire.ahead && this.options.handOff && at - now <= MAX_WAIT_MS) await this.handOff({ ...job, notBefore: at });
    }
  }

  private async createOrReplace(job: AdvanceJob, input: CreateScheduleCommandInput): Promise<void> {
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (err) {
      if (!(err instanceof ConflictException)) throw err;
      // A schedule for this request exists (an expiry, now a revoke): keep it if it is the same time
      // with the same input (its receipts of what Timebox created), else replace it.
      const existing = await this.client.send(new GetScheduleCommand({ Name: scheduleName(job.requestId), GroupName: this.options.groupName })).catch(() => undefined);
      if (existing && existing.ScheduleExpression === input.ScheduleExpression && existing.Target?.Input === input.Target?.Input) return;
      await this.cancel(job);
      await this.client.send(new CreateScheduleCommand(input));
    }
  }

  /** Best effort: the schedule made just before is the backup, so a failure is logged, not thrown. */
  private async handOff(job: AdvanceJob): Promise<void> {
    try {
      await this.options.handOff?.(job);
    } catch (err) {
      this.options.logger.warn({ requestId: job.requestId, err: String(err) }, 'could not hand the job to the waiter; the schedule for the minute after its time stands');
    }
  }

  async cancel(job: AdvanceJob): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: scheduleName(job.requestId), GroupName: this.options.groupName }));
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
  }
}
