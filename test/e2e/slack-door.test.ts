import { checkModalView } from '../support/block-kit-limits';
import { slackSignature } from '../support/slack-requests';
import { APPROVAL_CHANNEL, PEOPLE, PERMISSION_SETS, SIGNING_SECRET, TimeboxHarness, testConfigYaml } from '../support/timebox-harness';
import { findRequestId } from '../../src/domain/request-id';

/** What people see at the Slack door: usage, clear refusals of bad input, the form, signatures. */
describe('the /aws-access door', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({
      configYaml: testConfigYaml(`
  - name: two-person-admin
    accounts: ["*"]
    permissionSets: [Admin]
    requesters: [dave@example.com]
    approvers: [alice@example.com, U0BOB00000]
    approvalsRequired: 2
    maxDuration: 2h`),
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  const requestCount = async () => (await h.runtime.deps.store.listDue(Number.MAX_SAFE_INTEGER)).length;

  test('GET /healthz answers 200 once ready', async () => {
    const response = await fetch(`${h.runtime.url}/healthz`);
    expect(response.status).toBe(200);
  });

  test('help shows usage', async () => {
    const { text } = await h.command('carol', 'help');
    expect(text).toContain('Usage: `/aws-access <accounts> <permission-sets> <duration> <reason…>`');
    expect(text).toContain('`/aws-access group <groups> <duration> <reason…>`');
  });

  test.each([
    ['an unknown account', 'sandbox ReadOnly 1h test', 'Unknown account "sandbox". Known accounts: staging, production'],
    ['an unknown permission set', 'staging PowerUser 1h test', 'Unknown permission set "PowerUser"'],
    ['no rule allowing it', 'staging Admin 1h test', 'No rule allows you to request Admin on staging (111111111111).'],
    ['a duration above the rule maximum', 'production Admin 3h test', '3h is above the maximum of 1h for Admin on production'],
    ['a malformed duration', 'production Admin soon test', '"soon" is not a duration (use 90m, 2h, 1h30m)'],
    ['a missing reason', 'production Admin 1h', 'Please give a reason'],
    ['too few words', 'production', 'Not enough arguments'],
  ])('%s gets an ephemeral answer naming the problem and files nothing', async (_what, input, expected) => {
    const before = await requestCount();
    const { response, text } = await h.command('carol', input);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ response_type: 'ephemeral' });
    expect(text).toContain(expected);
    expect(await requestCount()).toBe(before);
    expect(h.slack.messagesIn(APPROVAL_CHANNEL).filter((m) => m.text?.includes(input))).toEqual([]);
  });

  test('user text is escaped: a reason of <!channel> pings nobody', async () => {
    const id = await h.file('carol', 'production ReadOnly 30m <!channel> & <@U0ALICE000> <https://evil.example|click>');
    const message = await h.approvalMessage(id);
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain('&lt;!channel&gt; &amp; &lt;@U0ALICE000&gt; &lt;https://evil.example|click&gt;');
    expect(blocks).not.toContain('<!channel>');
  });

  test('requests with two required approvals wait for two distinct approvers', async () => {
    const id = await h.file('dave', 'production Admin 30m two person rule');
    await h.approvalMessage(id);
    await h.click('alice', 'approve', id);
    await h.slack.waitFor(() => JSON.stringify(h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id))?.blocks).includes('1/2 approvals'), 5000, 'message shows 1/2');
    expect((await h.request(id)).status).toBe('PENDING');
    expect(await h.nextEphemeral('alice', () => h.click('alice', 'approve', id))).toContain('already approved');
    await h.click('bob', 'approve', id);
    await h.waitForStatus(id, 'ACTIVE');
    expect((await h.audit(id)).map((e) => `${e.type}:${e.actor}`).slice(0, 4)).toEqual(['requested:U0DAVE0000', 'approval_recorded:U0ALICE000', 'decision_refused:U0ALICE000', 'approved:U0BOB00000']);
  });

  test('/aws-access alone opens the form (several accounts and permission sets), and submitting it files one grant per pair', async () => {
    const triggerId = '12345.98765.abcdef';
    await h.sender.command({ userId: PEOPLE.carol.id, text: '', triggerId, channelId: 'C0GENERAL0', responseUrl: h.slack.responseUrl({ userId: PEOPLE.carol.id }) });
    const opened = h.slack.openedViews().find((v) => v.trigger_id === triggerId);
    expect(opened).toBeDefined();
    expect(checkModalView(opened!.view)).toEqual([]);
    const view = opened!.view as { callback_id: string; private_metadata: string; blocks: Array<{ block_id: string; element: { type: string } }> };
    expect(view.blocks.map((b) => `${b.block_id}:${b.element.type}`)).toEqual([
      'account:multi_static_select',
      'permission_set:multi_static_select',
      'duration:plain_text_input',
      'reason:plain_text_input',
    ]);

    const option = (text: string, value: string) => ({ text: { type: 'plain_text', text }, value });
    const values = (duration: string, reason: string, accounts = [option('production', '222222222222')]) => ({
      account: { account: { type: 'multi_static_select', selected_options: accounts } },
      permission_set: { permission_set: { type: 'multi_static_select', selected_options: [option('Admin', 'Admin'), option('ReadOnly', 'ReadOnly')] } },
      duration: { duration: { type: 'plain_text_input', value: duration } },
      reason: { reason: { type: 'plain_text_input', value: reason } },
    });
    const tooLong = await h.sender.viewSubmission({ userId: PEOPLE.carol.id, callbackId: view.callback_id, values: values('3h', 'from the form'), privateMetadata: view.private_metadata });
    expect(JSON.parse(tooLong.body)).toEqual({ response_action: 'errors', errors: { duration: expect.stringContaining('above the maximum of 1h') } });
    // staging × Admin has no rule: the whole form is refused under the permission sets, naming that grant, and nothing is filed.
    const before = await h.storedRequestCount();
    const noRule = await h.sender.viewSubmission({
      userId: PEOPLE.carol.id,
      callbackId: view.callback_id,
      values: values('45m', 'from the form', [option('production', '222222222222'), option('staging', '111111111111')]),
      privateMetadata: view.private_metadata,
    });
    expect(JSON.parse(noRule.body)).toEqual({ response_action: 'errors', errors: { permission_set: expect.stringContaining('No rule allows you to request Admin on staging (111111111111)') } });
    expect(await h.storedRequestCount()).toBe(before);

    const ok = await h.sender.viewSubmission({ userId: PEOPLE.carol.id, callbackId: view.callback_id, values: values('45m', 'from the form'), privateMetadata: view.private_metadata });
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('');
    const confirmation = await h.slack.waitFor(() => h.ephemeralTextsTo('carol').find((t) => t.includes('45m') && t.includes('waiting for approval')), 5000, 'confirmation');
    const id = findRequestId(confirmation)!;
    expect(await h.request(id)).toMatchObject({ durationMs: 45 * 60_000, reason: 'from the form', status: 'PENDING' });
    expect((await h.request(id)).grants.map((g) => [g.target, g.ruleName, g.status])).toEqual([
      [{ kind: 'account', accountId: '222222222222', accountName: 'production', permissionSetName: 'Admin', permissionSetArn: PERMISSION_SETS.Admin }, 'prod-admin', 'PENDING'],
      [{ kind: 'account', accountId: '222222222222', accountName: 'production', permissionSetName: 'ReadOnly', permissionSetArn: PERMISSION_SETS.ReadOnly }, 'prod-admin', 'PENDING'],
    ]);
  });

  describe('request signing', () => {
    const body = new URLSearchParams({ command: '/aws-access', text: 'staging ReadOnly 1h forged', user_id: PEOPLE.carol.id, response_url: 'http://127.0.0.1:9/x' }).toString();

    test.each([
      ['a forged signature', { signature: `v0=${'0'.repeat(64)}` }],
      ['a signature made with another secret', { signature: slackSignature('not-the-secret', Math.floor(Date.now() / 1000), body) }],
      ['no signature', { signature: null }],
      ['a timestamp six minutes old', { timestamp: Math.floor(Date.now() / 1000) - 360 }],
    ])('%s gets 401 and changes nothing', async (_what, options) => {
      // The earlier tests' work (news, App Home republished after it) finishes first, so any Slack call counted below is this request's.
      await h.settled();
      const before = await requestCount();
      const calls = h.slack.calls.length;
      const response = await h.sender.raw(body, options);
      expect(response.status).toBe(401);
      expect(await requestCount()).toBe(before);
      expect(h.slack.calls.length).toBe(calls);
    });

    test('the same body correctly signed is accepted (the signer is right)', async () => {
      const response = await h.sender.raw(body, { signature: slackSignature(SIGNING_SECRET, Math.floor(Date.now() / 1000), body) });
      expect(response.status).toBe(200);
    });
  });
});
