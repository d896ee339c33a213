/**
 * A config edit narrowed Timebox's IAM (or anything else keeps AWS refusing the revoke): the
 * revoke is retried, and once it has failed `alerts.revokeStuckAttempts` times it raises the
 * stuck-revoke alarm (an error log line and a loud approvals-channel message locally; on AWS also
 * a CloudWatch metric: see test/unit/adapters/revoke-alarms.test.ts and the infra tests). It never
 * gives up: once AWS accepts, the access goes.
 */
import { APPROVAL_CHANNEL, testConfigYaml, type TimeboxHarness } from '../support/timebox-harness';
import { eventually } from '../support/eventually';
import { DAVE_STAGING_READONLY, holds, startHarness } from './fault-helpers';

let h: TimeboxHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const ALARM = 'Timebox cannot remove access';

describe('a revoke that keeps failing', () => {
  test('AccessDenied on every DeleteAccountAssignment: after 3 attempts one loud approvals-channel message names the access, the request and the error; the revoke goes on and succeeds once AWS allows it', async () => {
    const config = `${testConfigYaml()}alerts:\n  revokeStuckAttempts: 3\n`;
    h = await startHarness({ configYaml: config, workflow: { revokeRetryMs: 100 }, sweepIntervalMs: 200 });
    const harness = h;
    harness.aws.injectFault('DeleteAccountAssignment', { type: 'AccessDeniedException', message: 'User is not authorized to perform: sso:DeleteAccountAssignment' }, 1_000_000);
    const id = await harness.file('dave', 'staging ReadOnly 1s iam was narrowed');
    await harness.waitForStatus(id, 'ACTIVE');

    const alarm = await harness.slack.waitFor(() => harness.slack.messagesIn(APPROVAL_CHANNEL).find((m) => (m.text ?? '').includes(ALARM)), 20_000, 'the stuck-revoke alarm');
    expect(alarm.text).toContain(id);
    expect(alarm.text).toContain('ReadOnly on staging');
    expect(alarm.text).toContain('dave@example.com');
    expect(alarm.text).toContain('not authorized');
    expect(holds(harness, DAVE_STAGING_READONLY)).toBe(true);
    const stuck = (await harness.audit(id)).filter((e) => e.type === 'revoke_stuck');
    expect(stuck).toHaveLength(1);
    expect(stuck[0]?.detail).toMatch(/^3 attempts/);

    // Retries go on, and the alarm is not posted again on each.
    const failuresSoFar = (await harness.audit(id)).filter((e) => e.type === 'revoke_failed').length;
    await eventually(async () => (await harness.audit(id)).filter((e) => e.type === 'revoke_failed').length > failuresSoFar + 1 || undefined, 20_000, 'more revoke attempts');
    expect(harness.slack.messagesIn(APPROVAL_CHANNEL).filter((m) => (m.text ?? '').includes(ALARM))).toHaveLength(1);

    harness.aws.clearFaults('DeleteAccountAssignment');
    await harness.waitForStatus(id, 'ENDED', 30_000);
    expect(holds(harness, DAVE_STAGING_READONLY)).toBe(false);
  });
});
