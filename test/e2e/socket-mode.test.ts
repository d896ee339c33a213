import type { SlackMessage } from '../support/slack-stand-in';
import { APPROVAL_CHANNEL, PEOPLE, TimeboxHarness, buttonClick } from '../support/timebox-harness';
import { findRequestId } from '../../src/domain/request-id';

/**
 * Socket Mode (SLACK_APP_TOKEN set): the real Bolt app opens its connection with
 * apps.connections.open at SLACK_API_URL, and Slack's traffic arrives over the stand-in's
 * WebSocket as envelopes that must be acknowledged, as a workspace without a public URL runs it.
 */
describe('Socket Mode', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ socketMode: true });
  });
  afterAll(async () => {
    await h.stop();
  });

  /** The command over the socket; what the user sees: the ack's payload, or (acked at once, empty) the answer on the response_url. */
  const command = async (who: keyof typeof PEOPLE, text: string): Promise<Record<string, unknown>> => {
    const responseUrl = h.slack.responseUrl({ userId: PEOPLE[who].id });
    const acked = (await h.slack.socketMode.deliver(
      'slash_commands',
      Object.fromEntries(h.sender.commandForm({ userId: PEOPLE[who].id, userName: PEOPLE[who].name, text, channelId: 'C0GENERAL0', responseUrl })),
    )) as Record<string, unknown> | undefined;
    if (acked && Object.keys(acked).length > 0) return acked;
    return h.slack.waitFor(() => h.slack.responses(responseUrl)[0]?.body, 10_000, 'the answer on the response_url');
  };

  const approve = (who: keyof typeof PEOPLE, requestId: string, message: SlackMessage) =>
    h.slack.socketMode.deliver(
      'interactive',
      h.sender.blockActionPayload(buttonClick(h.slack, PEOPLE[who], 'timebox_approve', requestId, message)),
    );

  test('the connection is opened with the app-level token at SLACK_API_URL, and /healthz answers on PORT', async () => {
    // The stand-in opens a connection only for its app-level token (a bot token is not_allowed_token_type).
    expect(h.slack.callsTo('apps.connections.open').length).toBeGreaterThanOrEqual(1);
    expect(h.slack.socketMode.connections).toBe(1);
    const health = await fetch(`${h.runtime.url}/healthz`);
    expect(health.status).toBe(200);
  });

  test('a command, an approval and the revoke, all over the socket', async () => {
    const filed = await command('carol', 'production Admin 2s socket mode works');
    const id = findRequestId(String(filed.text));
    expect(filed).toMatchObject({ response_type: 'ephemeral' });
    expect(String(filed.text)).toContain('is waiting for approval in <#C0APPROVALS>');
    if (!id) throw new Error(`no request id in the ack: ${JSON.stringify(filed)}`);

    const message = await h.approvalMessage(id);
    expect(await approve('alice', id, message)).toEqual({});
    await h.waitForStatus(id, 'ACTIVE');
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(true);
    await h.waitForStatus(id, 'ENDED', 10_000);
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(false);
    expect((await h.audit(id)).map((e) => `${e.type}:${e.actor}`)).toEqual([
      'requested:U0CAROL000',
      'approved:U0ALICE000',
      'grant_started:timebox',
      'granted:timebox',
      'revoke_started:timebox',
      'revoked:timebox',
    ]);
  });

  test('bad input over the socket gets the same clear answer, and files nothing', async () => {
    const before = h.slack.messagesIn(APPROVAL_CHANNEL).length;
    const reply = await command('carol', 'narnia Admin 1h wardrobe');
    expect(reply).toMatchObject({ response_type: 'ephemeral' });
    expect(String(reply.text)).toContain('narnia');
    expect(h.slack.messagesIn(APPROVAL_CHANNEL)).toHaveLength(before);
  });

  test('a refused approval (the requester approving their own request) is answered, and changes nothing', async () => {
    const filed = await command('dave', 'production Admin 30m self approval over the socket');
    const id = findRequestId(String(filed.text))!;
    const message = await h.approvalMessage(id);
    const reply = await h.nextEphemeral('dave', () => approve('dave', id, message));
    expect(reply).toContain('You cannot approve or deny your own request.');
    expect((await h.request(id)).status).toBe('PENDING');
  });
});
