import { APPROVAL_CHANNEL, PEOPLE, TimeboxHarness } from '../support/timebox-harness';
import { eventually } from '../support/eventually';

/**
 * `/aws-access list`, `status <id>`, `cancel <id>` and `help`, typed into the real Bolt app over
 * signed HTTP; every answer is ephemeral (on the response_url) and a refusal changes nothing.
 */
describe('daily-use: subcommands list / status / cancel / help', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  /** The request's channel message as Slack shows it now (its latest version). */
  const shownInChannel = async (id: string) => {
    const posted = await h.approvalMessage(id);
    return h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.ts === posted.ts)!;
  };

  test('help lists every subcommand: request, group, list, status, cancel, end and help', async () => {
    const { text } = await h.command('carol', 'help');
    for (const sub of ['/aws-access <accounts> <permission-sets> <duration>', '/aws-access group <groups>', '/aws-access list', '/aws-access status <request id>', '/aws-access cancel <request id>', '/aws-access end <request id>', '/aws-access help']) {
      expect(text).toContain(sub);
    }
  });

  test('list shows the person\'s active and pending requests with their ids and times, not finished ones nor anyone else\'s', async () => {
    const active = await h.file('dave', 'staging ReadOnly 2h list: active one');
    const pending = await h.file('dave', 'production Admin 30m list: pending one');
    const finished = await h.file('dave', 'production ReadOnly 30m list: denied one');
    await h.click('alice', 'deny', finished);
    await h.waitForStatus(finished, 'DENIED');
    await h.waitForStatus(active, 'ACTIVE');
    const others = await h.file('carol', 'production Admin 30m someone else');

    const { text } = await h.command('dave', 'list');
    expect(text).toContain('Your active and pending requests');
    expect(text).toContain(`\`${active}\` ReadOnly on staging (\`111111111111\`) for 2h, filed <!date^`);
    expect(text).toMatch(/active until <!date\^\d+\^/);
    expect(text).toMatch(/\((1h59m|2h) left\)/);
    expect(text).toContain(`\`${pending}\` Admin on production (\`222222222222\`) for 30m`);
    expect(text).toContain('Waiting for approval (0/1 approvals)');
    expect(text).not.toContain(finished);
    expect(text).not.toContain(others);

    expect((await h.command('bob', 'list')).text).toContain('You have no active or pending requests.');
  });

  test('status shows one request and each grant\'s state to its requester and to an approver of its rule', async () => {
    const id = await h.file('carol', 'staging,production ReadOnly 30m status check');
    await h.waitForGrants(id, ['ACTIVE', 'PENDING']);
    const own = (await h.command('carol', `status ${id.toLowerCase()}`)).text;
    expect(own).toContain(`*Request \`${id}\`*`);
    expect(own).toContain('Reason: status check');
    expect(own).toMatch(/\*1\.\* ReadOnly on staging \(`111111111111`\) · rule `staging-readonly`\n:white_check_mark: Auto-approved\. Active until/);
    expect(own).toMatch(/\*2\.\* ReadOnly on production \(`222222222222`\) · rule `prod-admin`\n:hourglass_flowing_sand: Waiting for approval/);
    const approvers = (await h.command('alice', `status ${id}`)).text;
    expect(approvers).toContain(`*Request \`${id}\`*`);
  });

  test('status asked by a stranger (neither the requester nor an approver) is refused and shows nothing of the request', async () => {
    const id = await h.file('carol', 'production Admin 30m secret incident name');
    const { text } = await h.command('dave', `status ${id}`);
    expect(text).toContain(`:warning: Request ${id} is not yours and you are not an approver for it, so Timebox cannot show it.`);
    expect(text).not.toContain('secret incident');
    expect(text).not.toContain('Admin');
  });

  test('status and cancel with a missing or malformed id get a clear answer naming the problem', async () => {
    expect((await h.command('carol', 'status')).text).toContain('Say which request to see, e.g. `/aws-access status R-0123456789`');
    expect((await h.command('carol', 'cancel yesterday')).text).toContain('Say which request to cancel, e.g. `/aws-access cancel R-0123456789` ("yesterday" is not a request id;');
    expect((await h.command('carol', 'cancel R-0000000000')).text).toContain('There is no request R-0000000000. Nothing was changed.');
  });

  test('cancel by the requester withdraws the pending request: CANCELLED, the approval buttons go, the requester is told, and it is audited as cancelled', async () => {
    const id = await h.file('carol', 'production Admin 30m cancel me');
    expect(JSON.stringify((await shownInChannel(id)).blocks)).toContain('timebox_approve');

    const { text } = await h.command('carol', `cancel ${id}`);
    expect(text).toContain(`Cancelled request \`${id}\`: withdrawn *Admin* on *production*; it can no longer be approved.`);
    await h.waitForStatus(id, 'CANCELLED');
    await eventually(async () => !JSON.stringify((await shownInChannel(id)).blocks).includes('timebox_approve'), 5000, 'the approval buttons to go');
    expect(JSON.stringify((await shownInChannel(id)).blocks)).toContain(`Withdrawn: cancelled by <@${PEOPLE.carol.id}> before anyone approved it`);
    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('was withdrawn before anyone approved it')), 5000, 'the requester\'s DM');
    const audit = await h.audit(id);
    expect(audit.map((e) => `${e.type}:${e.actor}:${e.from ?? ''}>${e.to ?? ''}`)).toContain(`cancelled:${PEOPLE.carol.id}:PENDING>CANCELLED`);

    // An approver's click on the message as it was before (a stale client) is refused, and grants nothing.
    const before = await shownInChannel(id);
    const reply = await h.nextEphemeral('alice', () => h.click('alice', 'approve', id, { ...before, blocks: before.history[0]!.blocks }));
    expect(reply).toContain(`Request ${id} is already cancelled.`);
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(false);
  });

  test('cancel by someone else (even an approver) is refused, changes nothing and is audited as cancel_refused', async () => {
    const id = await h.file('carol', 'production Admin 30m not yours to cancel');
    for (const who of ['dave', 'alice'] as const) {
      expect((await h.command(who, `cancel ${id}`)).text).toContain(`:warning: Only the person who asked for request ${id} can cancel it. Nothing was changed.`);
    }
    expect((await h.request(id)).status).toBe('PENDING');
    expect(JSON.stringify((await shownInChannel(id)).blocks)).toContain('timebox_approve');
    expect((await h.audit(id)).filter((e) => e.type === 'cancel_refused').map((e) => e.actor)).toEqual([PEOPLE.dave.id, PEOPLE.alice.id]);
  });

  test('cancel of a request already decided (approved and active, or denied) is refused and changes nothing', async () => {
    const approved = await h.file('carol', 'production Admin 30m approved already');
    await h.click('alice', 'approve', approved);
    await h.waitForStatus(approved, 'ACTIVE');
    expect((await h.command('carol', `cancel ${approved}`)).text).toContain(
      `:warning: Request ${approved} is already active, so there is nothing waiting to cancel. To end its access now: \`/aws-access end ${approved}\`. Nothing was changed.`,
    );
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(true);
    expect((await h.request(approved)).status).toBe('ACTIVE');

    const denied = await h.file('carol', 'production ReadOnly 30m denied already');
    await h.click('bob', 'deny', denied);
    await h.waitForStatus(denied, 'DENIED');
    expect((await h.command('carol', `cancel ${denied}`)).text).toContain(`:warning: Request ${denied} is already denied, so there is nothing waiting to cancel. Nothing was changed.`);
    expect((await h.audit(denied)).some((e) => e.type === 'cancelled')).toBe(false);
  });
});
