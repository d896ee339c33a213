import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, GetScheduleCommand, ResourceNotFoundException, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { AdvanceJob, JobScheduler } from '../../app/ports';

export interface EventBridgeSchedulerOptions {
  groupName: string;
  /** The worker function: Scheduler invokes it with `{"requestId": …}`. */
  targetArn: string;
  /** Role Scheduler assumes to invoke the target. */
  roleArn: string;
  /** SQS queue for invocations that fail every retry. */
  deadLetterArn?: string;
}

/** One schedule per request, named after it: a retried call can never make a second one. */
export function scheduleName(requestId: string): string {
  const name = `timebox-${requestId}`.replace(/[^0-9a-zA-Z\-_.]/g, '_');
  return name.slice(0, 64);
}

/**
 * `at()` takes whole seconds and Scheduler fires within the minute after. Rounding up to the
 * next minute means a schedule never fires before the window ends; the sweep covers the rest.
 */
export function atExpression(at: number): string {
  const minute = Math.ceil(at / 60_000) * 60_000;
  return `at(${new Date(minute).toISOString().slice(0, 19)})`;
}

/** EventBridge Scheduler: fires the worker once at a time, then deletes itself. */
export class EventBridgeScheduler implements JobScheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly options: EventBridgeSchedulerOptions,
  ) {}

  async scheduleAt(job: AdvanceJob, at: number): Promise<void> {
    const Name = scheduleName(job.requestId);
    const ScheduleExpression = atExpression(at);
    const input = {
      Name,
      GroupName: this.options.groupName,
      ScheduleExpression,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      ActionAfterCompletion: 'DELETE' as const,
      Description: `Timebox: look at ${job.requestId} again`,
      Target: {
        Arn: this.options.targetArn,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify(job),
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
        ...(this.options.deadLetterArn ? { DeadLetterConfig: { Arn: this.options.deadLetterArn } } : {}),
      },
      // The same request and time give the same token, so a retried call is a no-op.
      ClientToken: `${Name}-${Math.floor(at / 1000)}`.slice(0, 64),
    };
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (err) {
      if (!(err instanceof ConflictException)) throw err;
      // A schedule for this request exists (an expiry, now a revoke): keep it if it is the same time
      // with the same input (its receipts of what Timebox created), else replace it.
      const existing = await this.client.send(new GetScheduleCommand({ Name, GroupName: this.options.groupName })).catch(() => undefined);
      if (existing?.ScheduleExpression === ScheduleExpression && existing.Target?.Input === input.Target.Input) return;
      await this.cancel(job);
      await this.client.send(new CreateScheduleCommand(input));
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
