import { ACCOUNTS, APPROVAL_CHANNEL, IDENTITY_STORE_ID, INSTANCE_ARN, PEOPLE, PERMISSION_SETS, REVOKED_WITHIN_MS, TimeboxHarness } from '../support/timebox-harness';
import { findRequestId } from '../../src/domain/request-id';
import { messageOf } from '../../src/domain/access-request';

/** Revocation removes only what Timebox added, and never loses track of a grant. */
describe('grants and revokes', () => {
  let h: TimeboxHarness;
  beforeEach(async () => {
    h = await TimeboxHarness.start();
  });
  afterEach(async () => {
    await h.stop();
  });

  test('auto-approve: granted at once, an FYI in the channel without buttons, revoked at the end', async () => {
    const { text } = await h.command('dave', 'staging readonly 2s quick look');
    expect(text).toContain('approved automatically');
    const id = findRequestId(text)!;
    await h.waitForStatus(id, 'ACTIVE');
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);
    const fyi = await h.approvalMessage(id);
    expect(JSON.stringify(fyi.blocks)).toContain('auto-approved');
    expect(JSON.stringify(fyi.blocks)).not.toContain('timebox_approve');
    await h.waitForStatus(id, 'ENDED');
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
    expect((await h.audit(id)).map((e) => e.type)).toEqual(['requested', 'auto_approved', 'grant_started', 'granted', 'revoke_started', 'revoked']);
  });

  test('an assignment that existed before the grant is kept when the window ends', async () => {
    h.aws.addAssignment({ instanceArn: INSTANCE_ARN, accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.ReadOnly, principalId: PEOPLE.dave.principalId, principalType: 'USER' });
    const id = await h.file('dave', 'staging ReadOnly 2s permanent access already');
    await h.waitForStatus(id, 'ACTIVE');
    const ended = await h.waitForStatus(id, 'ENDED');
    expect(ended.keptBecause).toContain('existed before');
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);
    expect(h.aws.callsTo('DeleteAccountAssignment')).toHaveLength(0);
    await h.slack.waitFor(() => h.dmTextsTo('dave').find((t) => t.includes(id) && t.includes('the assignment stays')), 5000, 'ended DM explaining the kept assignment');
  });

  test('overlapping grants: the assignment stays until the last Timebox window covering it ends', async () => {
    const short = await h.file('dave', 'staging ReadOnly 2s short one');
    await h.waitForStatus(short, 'ACTIVE');
    const long = await h.file('dave', 'staging ReadOnly 5s long one');
    await h.waitForStatus(long, 'ACTIVE');
    const shortEnded = await h.waitForStatus(short, 'ENDED');
    expect(shortEnded.keptBecause).toContain(long);
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);
    expect(h.aws.callsTo('DeleteAccountAssignment')).toHaveLength(0);
    await h.waitForStatus(long, 'ENDED');
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
    expect(h.aws.callsTo('DeleteAccountAssignment')).toHaveLength(1);
  });

  test('a grant made before a restart is still revoked on time after the process comes back', async () => {
    // The window must outlast the restart, even on a busy machine, for the timer to be re-armed rather than overdue.
    const id = await h.file('dave', 'staging ReadOnly 8s survive a restart');
    const active = await h.waitForStatus(id, 'ACTIVE');
    // Stop the process (its timers die with it) and start a new one on the same data directory.
    await h.restart();
    expect(h.runtime.scheduler.pending).toBeGreaterThanOrEqual(1); // re-armed from the store at start-up
    const ended = await h.waitForStatus(id, 'ENDED', 15_000);
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
    // Re-armed timer, not the next 30 s sweep: well before a sweep could have run.
    expect(ended.endedAt! - active.endsAt!).toBeLessThan(REVOKED_WITHIN_MS);
  });

  // A window whose "active" news was never recorded is due at once (for the news); its end must
  // still be re-armed at start-up, not left to the first sweep 30 s later.
  test('after a restart with the "active" DM still untold (Slack failing), the window still ends on time', async () => {
    h.slack.injectFault('conversations.open', { error: 'fatal_error' }, 1000);
    try {
      const id = await h.file('dave', 'staging ReadOnly 6s slack cannot dm');
      const active = await h.waitForStatus(id, 'ACTIVE');
      await h.slack.waitFor(() => h.slack.callsTo('conversations.open').length >= 1, 5000, 'a failed attempt to DM dave');
      await h.restart();
      expect(messageOf(await h.request(id), 'requester-dm')?.shown).toBeUndefined();
      expect(h.runtime.scheduler.pending).toBeGreaterThanOrEqual(1); // the end re-armed, though the news went first
      const ended = await h.waitForStatus(id, 'ENDED', 15_000);
      expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
      expect(ended.endedAt! - active.endsAt!).toBeLessThan(REVOKED_WITHIN_MS);
    } finally {
      h.slack.clearFaults('conversations.open');
    }
  });

  test('a grant that was overdue while the process was down is revoked at start-up', async () => {
    const id = await h.file('dave', 'staging ReadOnly 1s down over the end');
    await h.waitForStatus(id, 'ACTIVE');
    await h.runtime.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);
    await h.startRuntime();
    await h.waitForStatus(id, 'ENDED', 5_000);
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
  });

  test('an assignment whose creation ends FAILED is reported as failed, never as active', async () => {
    h.aws.failNextCreation('Permission set not provisioned: role limit reached');
    const id = await h.file('dave', 'staging ReadOnly 1h will fail');
    const failed = await h.waitForStatus(id, 'FAILED');
    expect(failed.failure).toContain('role limit reached');
    expect(failed.activeAt).toBeUndefined();
    await h.slack.waitFor(() => h.dmTextsTo('dave').find((t) => t.includes('could not be granted') && t.includes('role limit reached')), 5000, 'failure DM');
    await h.slack.waitFor(
      () => h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id) && JSON.stringify(m.blocks).includes('Failed')),
      5000,
      'channel shows failure',
    );
  });

  test('a Slack user with no Identity Center account gets a clear failure', async () => {
    h.slack.addUser({ id: 'U0ERIN0000', name: 'erin', email: 'erin@example.com' });
    const response = await h.sender.command({
      userId: 'U0ERIN0000',
      text: 'staging ReadOnly 1h no aws user',
      responseUrl: h.slack.responseUrl({ userId: 'U0ERIN0000' }),
    });
    const id = findRequestId(response.body)!;
    const failed = await h.waitForStatus(id, 'FAILED');
    expect(failed.failure).toBe('no Identity Center user has the email erin@example.com');
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(0);
    expect(h.aws.callsTo('GetUserId')[0]!.input).toMatchObject({ IdentityStoreId: IDENTITY_STORE_ID, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'erin@example.com' } } });
  });
});
