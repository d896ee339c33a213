/** The stuck-revoke alarm on Lambda: one embedded-metric-format data point per failed attempt, the channel told once. */
import { CloudWatchAlarms, STUCK_REVOKE_METRIC } from '../../../src/adapters/alarms/revoke-alarms';
import type { StuckRevoke } from '../../../src/app/ports';
import { RecordingNotifier, SilentLogger } from '../../support/in-memory-ports';

const STUCK: StuckRevoke = { requestId: 'R-0000000001', grantId: '1', target: 'Admin on production (222222222222) for ann@example.com', attempts: 5, overdueMs: 16 * 60_000, reason: 'AccessDeniedException', first: true };

/** What the alarms write to stdout (where Lambda's log, and so CloudWatch's EMF extraction, reads). */
function emfLines(run: () => Promise<void>): Promise<Array<Record<string, unknown>>> {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return run()
    .finally(() => spy.mockRestore())
    .then(() => lines.flatMap((l) => l.split('\n')).filter((l) => l.includes('_aws')).map((l) => JSON.parse(l) as Record<string, unknown>));
}

describe('CloudWatchAlarms', () => {
  it('writes one RevokeStuck data point in embedded metric format, and posts to the approvals channel on the first', async () => {
    const notifier = new RecordingNotifier();
    const alarms = new CloudWatchAlarms(new SilentLogger(), notifier);
    const emitted = await emfLines(() => alarms.revokeStuck(STUCK));
    expect(emitted).toHaveLength(1);
    const metrics = (emitted[0]?._aws as { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string; Unit: string }> }> }).CloudWatchMetrics;
    expect(metrics[0]?.Namespace).toBe(STUCK_REVOKE_METRIC.namespace);
    expect(metrics[0]?.Metrics).toEqual([expect.objectContaining({ Name: STUCK_REVOKE_METRIC.name, Unit: 'Count' })]);
    expect(emitted[0]?.[STUCK_REVOKE_METRIC.name]).toBe(1);
    expect(notifier.alerts).toHaveLength(1);
    expect(notifier.alerts[0]).toContain('Admin on production (222222222222) for ann@example.com');
    expect(notifier.alerts[0]).toContain('16 min');
  });

  it('later attempts emit the metric again (the alarm stays raised) without posting again', async () => {
    const notifier = new RecordingNotifier();
    const alarms = new CloudWatchAlarms(new SilentLogger(), notifier);
    const emitted = await emfLines(() => alarms.revokeStuck({ ...STUCK, attempts: 6, first: false }));
    expect(emitted).toHaveLength(1);
    expect(notifier.alerts).toEqual([]);
  });
});
