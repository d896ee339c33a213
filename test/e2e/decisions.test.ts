import { eventually } from '../support/eventually';
import { APPROVAL_CHANNEL, PEOPLE, TimeboxHarness } from '../support/timebox-harness';

/** Who may decide, and what a refusal looks like: the clicker is told, nothing changes, the attempt is audited. */
describe('approval decisions', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  test('deny: the request ends, the buttons go, the requester is told, nothing is assigned', async () => {
    const id = await h.file('carol', 'production Admin 30m looking at logs');
    await h.approvalMessage(id);
    await h.click('bob', 'deny', id);
    const denied = await h.waitForStatus(id, 'DENIED');
    expect(denied.decidedBy?.slackUserId).toBe(PEOPLE.bob.id);
    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('was denied by <@U0BOB00000>')), 5000, 'denied DM');
    const message = await h.slack.waitFor(
      () => h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id) && JSON.stringify(m.blocks).includes('Denied by')),
      5000,
      'channel message shows denied',
    );
    expect(JSON.stringify(message.blocks)).not.toContain('timebox_approve');
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(0);
    expect((await h.audit(id)).map((e) => e.type)).toEqual(['requested', 'denied']);
  });

  test('the requester cannot approve their own request', async () => {
    // alice is an approver of prod-admin, but allowSelfApproval is false.
    const id = await h.file('alice', 'production Admin 30m self test');
    expect(await h.nextEphemeral('alice', () => h.click('alice', 'approve', id))).toContain('cannot approve or deny your own request');
    expect((await h.request(id)).status).toBe('PENDING');
    const refused = (await h.audit(id)).filter((e) => e.type === 'decision_refused');
    expect(refused).toEqual([expect.objectContaining({ actor: PEOPLE.alice.id, detail: 'approve: self_approval' })]);
  });

  test('someone who is not an approver is refused and nothing changes', async () => {
    const id = await h.file('carol', 'production Admin 30m checking a thing');
    expect(await h.nextEphemeral('dave', () => h.click('dave', 'approve', id))).toContain('You are not an approver for rule "prod-admin"');
    const request = await h.request(id);
    expect(request.status).toBe('PENDING');
    expect(request.approvals).toEqual([]);
    expect((await h.audit(id)).map((e) => `${e.type}:${e.actor}`)).toContain(`decision_refused:${PEOPLE.dave.id}`);
  });

  test('a button whose value was changed to another request is refused', async () => {
    const first = await h.file('carol', 'production Admin 30m first');
    const second = await h.file('carol', 'production Admin 30m second');
    await h.approvalMessage(second);
    // The button on the first request's message, carrying the second request's id.
    const message = await h.approvalMessage(first);
    const tampered = JSON.parse(JSON.stringify(message).split(first).join(second)) as typeof message;
    const reply = h.nextEphemeral('alice', () => h.sender.blockAction({
      userId: PEOPLE.alice.id,
      actionId: 'timebox_approve',
      value: second,
      channelId: APPROVAL_CHANNEL,
      messageTs: message.ts,
      message: tampered,
      responseUrl: h.slack.responseUrl({ userId: PEOPLE.alice.id, channelId: APPROVAL_CHANNEL, messageTs: message.ts }),
    }));
    expect(await reply).toContain('does not belong to this request');
    expect((await h.request(second)).status).toBe('PENDING');
    expect((await h.request(first)).status).toBe('PENDING');
  });

  test('two approvers clicking at once produce one decision and one grant', async () => {
    const id = await h.file('carol', 'production ReadOnly 30m double click');
    await h.approvalMessage(id);
    const creates = h.aws.callsTo('CreateAccountAssignment').length;
    const responses = await Promise.all([
      h.click('alice', 'approve', id),
      h.click('bob', 'approve', id),
      h.click('alice', 'approve', id),
      h.click('bob', 'deny', id),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    // Whichever click won, the request settles in exactly one outcome.
    const request = await eventually(async () => {
      const r = await h.request(id);
      return r.status === 'DENIED' || r.status === 'ACTIVE' ? r : undefined;
    }, 10_000, 'the request to settle');
    const decisions = (await h.audit(id)).filter((e) => e.type === 'approved' || e.type === 'denied');
    expect(decisions).toHaveLength(1);
    const grants = (await h.audit(id)).filter((e) => e.type === 'granted');
    expect(grants).toHaveLength(request.status === 'ACTIVE' ? 1 : 0);
    expect(h.aws.callsTo('CreateAccountAssignment').length - creates).toBe(request.status === 'ACTIVE' ? 1 : 0);
    // The losers were told it was already decided.
    const told = [...h.ephemeralTextsTo('alice'), ...h.ephemeralTextsTo('bob')].filter((t) => /already/.test(t));
    expect(told.length).toBeGreaterThanOrEqual(3);
  });

  test('a click on a request that was already decided changes nothing', async () => {
    const id = await h.file('carol', 'production Admin 30m late click');
    // A copy of the message as a slow client still shows it, buttons and all.
    const stale = structuredClone(await h.approvalMessage(id));
    await h.click('bob', 'deny', id);
    await h.waitForStatus(id, 'DENIED');
    expect(await h.nextEphemeral('alice', () => h.click('alice', 'approve', id, stale))).toContain('already denied');
    expect((await h.request(id)).status).toBe('DENIED');
  });
});
