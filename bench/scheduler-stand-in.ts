/**
 * EventBridge Scheduler's firing, which the AWS stand-in does not do: every one-time schedule
 * Timebox creates there (`at(yyyy-mm-ddThh:mm:ss)`, UTC) fires at a random moment within the
 * minute that starts at its time (what Scheduler does with FlexibleTimeWindow OFF), invokes its
 * target (the function its target ARN names: the worker, or the sweep as the waiter for schedules
 * fired ahead of their time) with the schedule's input, and is deleted (ActionAfterCompletion
 * DELETE). A schedule replaced or deleted before its time does not fire.
 */
import type { AwsStandIn, StandInSchedule } from '../test/support/aws-stand-in';

export interface Firing {
  name: string;
  /** The at() time, ms. */
  scheduledFor: number;
  firedAt: number;
  /** The function the schedule invoked. */
  targetArn: string;
  input: string;
}

interface Plan {
  signature: string;
  timer: NodeJS.Timeout;
}

export class SchedulerStandIn {
  readonly firings: Firing[] = [];
  private readonly plans = new Map<string, Plan>();
  private readonly poller: NodeJS.Timeout;

  constructor(
    private readonly aws: AwsStandIn,
    private readonly fire: (targetArn: string, input: unknown) => void,
    private readonly random: () => number = Math.random,
  ) {
    this.poller = setInterval(() => this.plan(), 50);
  }

  close(): void {
    clearInterval(this.poller);
    for (const p of this.plans.values()) clearTimeout(p.timer);
    this.plans.clear();
  }

  private plan(): void {
    const live = new Map(this.aws.schedules().map((s) => [`${s.groupName}/${s.name}`, s]));
    for (const [key, plan] of this.plans) {
      const s = live.get(key);
      if (!s || signatureOf(s) !== plan.signature) {
        clearTimeout(plan.timer);
        this.plans.delete(key);
      }
    }
    for (const [key, s] of live) {
      if (this.plans.has(key)) continue;
      const at = /^at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)$/.exec(s.expression)?.[1];
      if (!at) continue;
      const scheduledFor = Date.parse(`${at}Z`);
      const fireAt = scheduledFor + this.random() * 60_000;
      const signature = signatureOf(s);
      const timer = setTimeout(() => {
        this.plans.delete(key);
        const current = this.aws.schedules().find((x) => `${x.groupName}/${x.name}` === key);
        if (!current || signatureOf(current) !== signature) return;
        this.aws.removeSchedule(s.name, s.groupName);
        this.firings.push({ name: s.name, scheduledFor, firedAt: Date.now(), targetArn: s.targetArn, input: s.input ?? '' });
        this.fire(s.targetArn, s.input ? JSON.parse(s.input) : {});
      }, Math.max(0, fireAt - Date.now()));
      timer.unref();
      this.plans.set(key, { signature, timer });
    }
  }
}

/** What a schedule does: replaced with another time, input or target, it is a new plan. */
function signatureOf(s: StandInSchedule): string {
  return `${s.expression}|${s.targetArn}|${s.input ?? ''}`;
}
