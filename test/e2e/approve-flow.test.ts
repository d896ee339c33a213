import { APPROVAL_CHANNEL, PEOPLE, TimeboxHarness } from '../support/timebox-harness';
import { findRequestId } from '../../src/domain/request-id';

describe('request → approve → active → automatic revoke', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  test('an approved request creates the assignment, tells everyone, and removes it when the window ends', async () => {
    const { response, text } = await h.command('carol', 'production Admin 3s rolling back deploy 42');
    expect(response.status).toBe(200);
    const id = findRequestId(text)!;
    expect(text).toContain(`Request \`${id}\``);
    expect(text).toContain('waiting for approval in <#C0APPROVALS>');

    const posted = await h.approvalMessage(id);
    const blocks = JSON.stringify(posted.blocks);
    expect(blocks).toContain('<@U0CAROL000>');
    expect(blocks).toContain('production (`222222222222`)');
    expect(blocks).toContain('Admin');
    expect(blocks).toContain('rolling back deploy 42');
    expect(blocks).toContain('timebox_approve');
    expect(blocks).toContain('timebox_deny');
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(false);

    expect((await h.click('alice', 'approve', id)).status).toBe(200);
    const active = await h.waitForStatus(id, 'ACTIVE');
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(true);
    expect(active.endsAt! - active.activeAt!).toBe(3000);
    // The assignment was created for carol's Identity Center user, found by her Slack email.
    const create = h.aws.callsTo('CreateAccountAssignment')[0]!.input as Record<string, string>;
    expect(create).toMatchObject({ TargetId: '222222222222', TargetType: 'AWS_ACCOUNT', PrincipalType: 'USER', PrincipalId: PEOPLE.carol.principalId });
    expect(h.aws.callsTo('DescribeAccountAssignmentCreationStatus').length).toBeGreaterThanOrEqual(1);

    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes('is active until')), 5000, 'active DM');
    const message = await h.approvalMessage(id);
    await h.slack.waitFor(() => JSON.stringify(message.blocks).includes('Approved by <@U0ALICE000>') && JSON.stringify(message.blocks).includes('Active until'), 5000, 'channel shows active');
    expect(JSON.stringify(message.blocks)).not.toContain('timebox_approve');

    const ended = await h.waitForStatus(id, 'ENDED', 10_000);
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(false);
    expect(ended.endedAt!).toBeGreaterThanOrEqual(active.endsAt!);
    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes('has ended')), 5000, 'ended DM');
    // The "active" DM offered "End access now" while it could; once over, it keeps only the record.
    const activeDm = h.slack.dmsTo('U0CAROL000').find((m) => m.history[0]?.text?.includes('is active until'));
    expect(JSON.stringify(activeDm?.history[0]?.blocks)).toContain('timebox_end');
    await h.slack.waitFor(() => activeDm && !JSON.stringify(activeDm.blocks).includes('timebox_end'), 5000, 'the active DM to lose its End button');
    expect(activeDm?.text).toMatch(/was active from <!date\^\d+\^.*> until <!date\^\d+\^/);
    await h.slack.waitFor(() => JSON.stringify(h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.ts === message.ts)?.blocks).includes('Ended'), 5000, 'channel shows ended');

    const events = (await h.audit(id)).map((e) => `${e.type}:${e.actor}`);
    expect(events).toEqual([
      'requested:U0CAROL000',
      'approved:U0ALICE000',
      'grant_started:timebox',
      'granted:timebox',
      'revoke_started:timebox',
      'revoked:timebox',
    ]);
  });
});
