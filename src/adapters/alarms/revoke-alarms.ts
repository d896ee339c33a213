import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Alarms, Logger, Notifier, StuckRevoke } from '../../app/ports';

/** The CloudWatch namespace and metric the stack's RevokeStuck alarm watches (infra/lib/timebox-stack.ts). */
export const STUCK_REVOKE_METRIC = { namespace: 'Timebox', name: 'RevokeStuck' } as const;

function minutes(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

/**
 * A stuck revoke, everywhere: an error log line on every failed attempt past the threshold, and
 * one loud message to the approvals channel when it first crosses it. Slack failing to take the
 * message is logged, never thrown: the revoke's own retries go on regardless.
 */
export class LoggedAlarms implements Alarms {
  constructor(
    private readonly logger: Logger,
    private readonly notifier: Notifier,
  ) {}

  async revokeStuck(stuck: StuckRevoke): Promise<void> {
    this.logger.error({ ...stuck, alarm: 'revoke_stuck' }, 'a revoke keeps failing: access is outliving its window until the cause is fixed');
    if (!stuck.first) return;
    const text =
      `:rotating_light: *Timebox cannot remove access.* ${stuck.target} (request \`${stuck.requestId}\`, grant ${stuck.grantId}) ` +
      `should have ended ${minutes(stuck.overdueMs)} ago; ${stuck.attempts} attempts failed, the last with: ${stuck.reason}. ` +
      'Timebox keeps retrying; fix the cause (often the permissions of Timebox\'s AWS role) or remove the assignment by hand.';
    await this.notifier.alertApprovers(text).catch((err: unknown) => this.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'could not post the stuck-revoke alarm to the approvals channel'));
  }
}

/**
 * On Lambda: the same, plus one RevokeStuck data point in CloudWatch's embedded metric format,
 * written to the function's log, so no metric API call sits on the revoke path.
 */
export class CloudWatchAlarms extends LoggedAlarms {
  override async revokeStuck(stuck: StuckRevoke): Promise<void> {
    const metrics = new Metrics({ namespace: STUCK_REVOKE_METRIC.namespace, serviceName: 'timebox' });
    metrics.addMetric(STUCK_REVOKE_METRIC.name, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    await super.revokeStuck(stuck);
  }
}
