import type { AddressInfo } from 'node:net';
import { App, LogLevel, type AppOptions } from '@slack/bolt';
import { ErrorCode, WebClient, WebClientEvent, type WebAPIPlatformError } from '@slack/web-api';
import { checkBlockKit, checkModalView } from '../../support/block-kit-limits';
import { SlackStandIn } from '../../support/slack-stand-in';
import { SlackRequestSender, slackSignature } from '../../support/slack-requests';

type Logger = NonNullable<AppOptions['logger']>;

/** A logger that keeps quiet but remembers what was said (Bolt and WebClient share the interface). */
function quietLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record =
    (level: string) =>
    (...msg: unknown[]): void => {
      lines.push(`${level} ${msg.map(String).join(' ')}`);
    };
  return {
    lines,
    debug: () => undefined,
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}

const button = (text: string, actionId = 'approve', value = 'req-1') => ({
  type: 'button' as const,
  text: { type: 'plain_text' as const, text },
  action_id: actionId,
  value,
});

const section = (text: string) => ({ type: 'section' as const, text: { type: 'mrkdwn' as const, text } });

async function platformError(promise: Promise<unknown>): Promise<WebAPIPlatformError> {
  try {
    await promise;
  } catch (err) {
    const e = err as WebAPIPlatformError;
    if (e.code === ErrorCode.PlatformError) return e;
    throw err;
  }
  throw new Error('expected the call to fail with a platform error');
}

describe('checkBlockKit', () => {
  it('accepts a typical approval message', () => {
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'Access request' } },
      { type: 'section', text: { type: 'mrkdwn', text: '*alice* wants admin' }, fields: [{ type: 'mrkdwn', text: 'x' }] },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'ctx' }] },
      { type: 'actions', block_id: 'decide', elements: [button('Approve'), button('Deny', 'deny')] },
    ];
    expect(checkBlockKit('message', blocks)).toEqual([]);
  });

  it('enforces block counts per surface', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => section(`s${i}`));
    expect(checkBlockKit('message', fifty)).toEqual([]);
    expect(checkBlockKit('message', [...fifty, section('x')])).toEqual([
      'blocks: a message may have at most 50 blocks (got 51)',
    ]);
    expect(checkBlockKit('modal', [...fifty, section('x')])).toEqual([]);
    const hundredOne = Array.from({ length: 101 }, (_, i) => section(`s${i}`));
    expect(checkBlockKit('modal', hundredOne)).toHaveLength(1);
  });

  it('enforces text, id and value lengths', () => {
    const long = (n: number) => 'x'.repeat(n);
    const check = (blocks: unknown[]) => checkBlockKit('message', blocks);
    expect(check([section(long(3000))])).toEqual([]);
    expect(check([section(long(3001))])).toEqual(['blocks[0].text.text: must be at most 3000 characters (got 3001)']);
    expect(check([{ type: 'section', fields: [{ type: 'mrkdwn', text: long(2001) }] }])).toHaveLength(1);
    expect(check([{ type: 'header', text: { type: 'plain_text', text: long(151) } }])).toHaveLength(1);
    expect(check([{ type: 'header', text: { type: 'mrkdwn', text: 'hi' } }])).toEqual([
      'blocks[0].text.type: must be "plain_text" (got "mrkdwn")',
    ]);
    expect(check([{ type: 'actions', elements: [button(long(75))] }])).toEqual([]);
    expect(check([{ type: 'actions', elements: [button(long(76))] }])).toEqual([
      'blocks[0].elements[0].text.text: must be at most 75 characters (got 76)',
    ]);
    expect(check([{ type: 'actions', elements: [button('ok', 'a', long(2001))] }])).toHaveLength(1);
    expect(check([{ type: 'actions', elements: [button('ok', long(256))] }])).toHaveLength(1);
    expect(check([{ ...section('x'), block_id: long(256) }])).toHaveLength(1);
    expect(check([{ type: 'actions', elements: [] }])).toHaveLength(1);
    expect(check([section('')])).toEqual(['blocks[0].text.text: must be at least 1 character']);
    expect(check([{ ...section('a'), block_id: 'same' }, { ...section('b'), block_id: 'same' }])).toHaveLength(1);
  });

  it('enforces element counts and option limits', () => {
    const opt = (text: string, value: string) => ({ text: { type: 'plain_text', text }, value });
    const select = (options: unknown[]) => ({
      type: 'static_select',
      action_id: 'pick',
      placeholder: { type: 'plain_text', text: 'Pick' },
      options,
    });
    const many = (n: number) => Array.from({ length: n }, (_, i) => opt(`o${i}`, `v${i}`));
    expect(checkBlockKit('message', [{ type: 'actions', elements: [select(many(100))] }])).toEqual([]);
    expect(checkBlockKit('message', [{ type: 'actions', elements: [select(many(101))] }])).toEqual([
      'blocks[0].elements[0].options: must have at most 100 options (got 101)',
    ]);
    expect(checkBlockKit('message', [{ type: 'actions', elements: [select([opt('x'.repeat(76), 'v')])] }])).toHaveLength(1);
    expect(checkBlockKit('message', [{ type: 'actions', elements: [select([opt('t', 'v'.repeat(151))])] }])).toHaveLength(1);
    const buttons = (n: number) => Array.from({ length: n }, (_, i) => button('b', `a${i}`));
    expect(checkBlockKit('message', [{ type: 'actions', elements: buttons(25) }])).toEqual([]);
    expect(checkBlockKit('message', [{ type: 'actions', elements: buttons(26) }])).toHaveLength(1);
    const ctx = (n: number) => Array.from({ length: n }, () => ({ type: 'plain_text', text: 'c' }));
    expect(checkBlockKit('message', [{ type: 'context', elements: ctx(10) }])).toEqual([]);
    expect(checkBlockKit('message', [{ type: 'context', elements: ctx(11) }])).toHaveLength(1);
    const input = (placeholder: string) => ({
      type: 'input',
      label: { type: 'plain_text', text: 'Reason' },
      element: { type: 'plain_text_input', action_id: 'r', placeholder: { type: 'plain_text', text: placeholder } },
    });
    expect(checkBlockKit('modal', [input('p'.repeat(150))])).toEqual([]);
    expect(checkBlockKit('modal', [input('p'.repeat(151))])).toHaveLength(1);
  });

  it('enforces modal chrome and message text limits', () => {
    expect(
      checkBlockKit('modal', [], {
        title: { type: 'plain_text', text: 't'.repeat(24) },
        submit: 's'.repeat(24),
        close: { type: 'plain_text', text: 'Cancel' },
        privateMetadata: 'm'.repeat(3000),
      }),
    ).toEqual([]);
    expect(
      checkBlockKit('modal', [], {
        title: { type: 'plain_text', text: 't'.repeat(25) },
        submit: { type: 'plain_text', text: 's'.repeat(25) },
        close: 'c'.repeat(25),
        privateMetadata: 'm'.repeat(3001),
      }),
    ).toHaveLength(4);
    expect(checkBlockKit('message', [], { text: 'x'.repeat(40_001) })).toEqual([
      'text: must be at most 40000 characters (got 40001)',
    ]);
    expect(checkModalView({ type: 'modal', title: { type: 'plain_text', text: 'Hi' }, blocks: [] })).toEqual([]);
    expect(
      checkModalView({
        type: 'modal',
        title: { type: 'plain_text', text: 'Hi' },
        blocks: [{ type: 'input', label: { type: 'plain_text', text: 'L' }, element: { type: 'plain_text_input' } }],
      }),
    ).toEqual(['view.submit: is required when the view contains input blocks']);
  });
});

describe('SlackStandIn with the real WebClient', () => {
  let standIn: SlackStandIn;
  let client: WebClient;

  beforeEach(async () => {
    standIn = await SlackStandIn.start({
      users: [
        { id: 'UALICE', name: 'alice', email: 'alice@example.com' },
        { id: 'UBOB', name: 'bob' },
        { id: 'UGONE', name: 'gone', email: 'gone@example.com', deleted: true },
        { id: 'UROBOT', name: 'robot', isBot: true },
      ],
    });
    client = new WebClient('xoxb-test', {
      slackApiUrl: standIn.apiUrl,
      retryConfig: { retries: 0 },
      logger: quietLogger(),
    });
  });

  afterEach(async () => {
    await standIn.close();
  });

  it('serves the API under /api/ and answers auth.test', async () => {
    expect(standIn.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    const res = await client.auth.test();
    expect(res).toMatchObject({ ok: true, team_id: 'T0TIMEBOX', user_id: 'U0TIMEBOXBOT', bot_id: 'B0TIMEBOX' });
  });

  it('posts and updates a message, keeping every version', async () => {
    const blocks = [section('Pending'), { type: 'actions', block_id: 'decide', elements: [button('Approve')] }];
    const posted = await client.chat.postMessage({ channel: 'C0APPROVERS', text: 'pending', blocks });
    expect(posted.channel).toBe('C0APPROVERS');
    expect(posted.ts).toMatch(/^\d+\.\d{6}$/);
    // WebClient form-encodes and JSON-stringifies blocks; the stand-in decodes them back.
    expect(standIn.callsTo('chat.postMessage')[0]?.args).toMatchObject({ channel: 'C0APPROVERS', text: 'pending', blocks });

    await client.chat.update({ channel: 'C0APPROVERS', ts: posted.ts as string, text: 'approved', blocks: [section('Approved')] });
    const [message] = standIn.messagesIn('C0APPROVERS');
    expect(message?.text).toBe('approved');
    expect(message?.blocks).toEqual([section('Approved')]);
    expect(message?.history).toEqual([
      { text: 'pending', blocks },
      { text: 'approved', blocks: [section('Approved')] },
    ]);

    // Omitted blocks are retained, as Slack does.
    await client.chat.update({ channel: 'C0APPROVERS', ts: posted.ts as string, text: 'approved!' });
    expect(message?.history[2]).toEqual({ text: 'approved!', blocks: [section('Approved')] });

    const missing = await platformError(client.chat.update({ channel: 'C0APPROVERS', ts: '1.000001', text: 'x' }));
    expect(missing.data.error).toBe('message_not_found');
    expect((await platformError(client.chat.postMessage({ channel: 'C1', text: '' }))).data.error).toBe('no_text');
  });

  it('rejects Block Kit violations with invalid_blocks', async () => {
    const tooMany = Array.from({ length: 51 }, (_, i) => section(`s${i}`));
    const e1 = await platformError(client.chat.postMessage({ channel: 'C1', text: 'x', blocks: tooMany }));
    expect(e1.data.error).toBe('invalid_blocks');
    expect((e1.data as unknown as { errors: string[] }).errors).toEqual([
      'blocks: a message may have at most 50 blocks (got 51)',
    ]);

    const longButton = [{ type: 'actions', elements: [button('x'.repeat(76))] }];
    const e2 = await platformError(client.chat.postMessage({ channel: 'C1', text: 'x', blocks: longButton }));
    expect(e2.data.error).toBe('invalid_blocks');
    expect(standIn.messagesIn('C1')).toEqual([]);

    const e3 = await platformError(client.chat.postMessage({ channel: 'C1', text: 'x'.repeat(40_001) }));
    expect(e3.data.error).toBe('msg_too_long');
  });

  it('rejects a missing or wrong bearer token with invalid_auth', async () => {
    const wrong = new WebClient('xoxb-wrong', { slackApiUrl: standIn.apiUrl, retryConfig: { retries: 0 }, logger: quietLogger() });
    expect((await platformError(wrong.auth.test())).data.error).toBe('invalid_auth');
    const none = new WebClient(undefined, { slackApiUrl: standIn.apiUrl, retryConfig: { retries: 0 }, logger: quietLogger() });
    expect((await platformError(none.auth.test())).data.error).toBe('invalid_auth');
    // A per-call token is honoured.
    await expect(none.auth.test({ token: 'xoxb-test' })).resolves.toMatchObject({ ok: true });
  });

  it('returns users with profile.email only when they have one', async () => {
    const alice = await client.users.info({ user: 'UALICE' });
    expect(alice.user?.profile?.email).toBe('alice@example.com');
    expect(alice.user?.name).toBe('alice');
    const bob = await client.users.info({ user: 'UBOB' });
    expect(bob.user?.profile).toBeDefined();
    expect(bob.user?.profile && 'email' in bob.user.profile).toBe(false);
    const gone = await client.users.info({ user: 'UGONE' });
    expect(gone.user?.deleted).toBe(true);
    expect((await platformError(client.users.info({ user: 'UNOBODY' }))).data.error).toBe('user_not_found');

    standIn.addUser({ id: 'UCAROL', name: 'carol', email: 'carol@example.com' });
    expect((await client.users.info({ user: 'UCAROL' })).user?.profile?.email).toBe('carol@example.com');
  });

  it('opens DMs and records messages to them, whether sent to the D id or the user id', async () => {
    const opened = await client.conversations.open({ users: 'UALICE' });
    expect(opened.channel?.id).toBe('DUALICE');
    await client.chat.postMessage({ channel: 'DUALICE', text: 'via D id' });
    const direct = await client.chat.postMessage({ channel: 'UALICE', text: 'via user id' });
    expect(direct.channel).toBe('DUALICE');
    expect(standIn.dmsTo('UALICE').map((m) => m.text)).toEqual(['via D id', 'via user id']);
    expect(standIn.messagesIn('DUALICE')).toHaveLength(2);

    expect((await platformError(client.conversations.open({ users: 'UNOBODY' }))).data.error).toBe('user_not_found');
    expect((await platformError(client.conversations.open({ users: 'UGONE' }))).data.error).toBe('user_disabled');
    expect((await platformError(client.conversations.open({ users: 'UROBOT' }))).data.error).toBe('cannot_dm_bot');
    expect((await platformError(client.chat.postMessage({ channel: 'UNOBODY', text: 'x' }))).data.error).toBe(
      'channel_not_found',
    );
  });

  it('records ephemerals from chat.postEphemeral', async () => {
    const res = await client.chat.postEphemeral({ channel: 'C1', user: 'UBOB', text: 'only bob sees this' });
    expect(res.message_ts).toBeDefined();
    expect(standIn.ephemeralsTo('UBOB')).toMatchObject([{ channel: 'C1', user: 'UBOB', text: 'only bob sees this' }]);
    expect(standIn.messagesIn('C1')).toEqual([]);
    expect((await platformError(client.chat.postEphemeral({ channel: 'C1', user: 'UNOBODY', text: 'x' }))).data.error).toBe(
      'user_not_found',
    );
  });

  it('opens and updates modals, requiring a fresh trigger_id', async () => {
    const view = {
      type: 'modal' as const,
      callback_id: 'request_modal',
      title: { type: 'plain_text' as const, text: 'Request access' },
      submit: { type: 'plain_text' as const, text: 'Request' },
      private_metadata: '{"channel":"C1"}',
      blocks: [
        {
          type: 'input' as const,
          block_id: 'reason',
          label: { type: 'plain_text' as const, text: 'Reason' },
          element: { type: 'plain_text_input' as const, action_id: 'value' },
        },
      ],
    };
    const opened = await client.views.open({ trigger_id: '123.456.abc', view });
    const viewId = opened.view?.id as string;
    expect(viewId).toMatch(/^V/);
    expect(standIn.openedViews()).toEqual([{ trigger_id: '123.456.abc', view, id: viewId }]);
    expect((await platformError(client.views.open({ trigger_id: '123.456.abc', view }))).data.error).toBe(
      'exchanged_trigger_id',
    );
    expect((await platformError(client.apiCall('views.open', { view }))).data.error).toBe('invalid_arguments');

    const tooLongTitle = { ...view, title: { type: 'plain_text' as const, text: 'x'.repeat(25) } };
    expect((await platformError(client.views.open({ trigger_id: 't2', view: tooLongTitle }))).data.error).toBe(
      'invalid_blocks',
    );

    const updated = await client.views.update({ view_id: viewId, view: { ...view, private_metadata: 'v2' } });
    expect(updated.view?.private_metadata).toBe('v2');
    expect(standIn.viewById(viewId)?.private_metadata).toBe('v2');
    expect((await platformError(client.views.update({ view_id: 'VNOPE', view }))).data.error).toBe('not_found');
  });

  it('records response_url posts and applies them like Slack', async () => {
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'pending', blocks: [section('Pending')] });
    const ephemeralUrl = standIn.responseUrl({ userId: 'UBOB', channelId: 'C1' });
    const replaceUrl = standIn.responseUrl({ userId: 'UALICE', channelId: 'C1', messageTs: posted.ts as string });
    expect(ephemeralUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/respond\/\d+$/);

    const r1 = await fetch(ephemeralUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', text: 'Request submitted' }),
    });
    expect(r1.status).toBe(200);
    const r2 = await fetch(replaceUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ replace_original: true, text: 'approved', blocks: [section('Approved')] }),
    });
    expect(r2.status).toBe(200);

    expect(standIn.responses(ephemeralUrl)).toEqual([
      { url: ephemeralUrl, body: { response_type: 'ephemeral', text: 'Request submitted' } },
    ]);
    expect(standIn.responses()).toHaveLength(2);
    expect(standIn.ephemeralsTo('UBOB')).toMatchObject([{ text: 'Request submitted', responseUrl: ephemeralUrl }]);
    expect(standIn.messagesIn('C1')[0]?.history.map((v) => v.text)).toEqual(['pending', 'approved']);

    const bad = await fetch(ephemeralUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'x', blocks: Array.from({ length: 51 }, () => section('x')) }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe('invalid_blocks');
  });

  it('injects a 429 that WebClient sees as a rate limit', async () => {
    standIn.injectFault('chat.postMessage', { status: 429, retryAfterSeconds: 7 });
    const strict = new WebClient('xoxb-test', {
      slackApiUrl: standIn.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logger: quietLogger(),
    });
    const rateLimited = jest.fn();
    strict.on(WebClientEvent.RATE_LIMITED, rateLimited);
    await expect(strict.chat.postMessage({ channel: 'C1', text: 'hi' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 7,
    });
    expect(rateLimited).toHaveBeenCalledWith(7, expect.anything());
    // The fault was used once; the next call goes through.
    await expect(strict.chat.postMessage({ channel: 'C1', text: 'hi' })).resolves.toMatchObject({ ok: true });
    expect(standIn.callsTo('chat.postMessage')).toHaveLength(2);
    expect(standIn.messagesIn('C1')).toHaveLength(1);

    // Without rejectRateLimitedCalls, WebClient waits Retry-After and then retries (here: no retries left).
    standIn.injectFault('chat.postMessage', { retryAfterSeconds: 0 });
    await expect(client.chat.postMessage({ channel: 'C1', text: 'hi' })).rejects.toMatchObject({
      code: ErrorCode.RequestError,
    });
  });

  it('injects HTTP errors, ok:false errors and slow responses', async () => {
    standIn.injectFault('users.info', { status: 500 });
    await expect(client.users.info({ user: 'UALICE' })).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 500,
    });
    standIn.injectFault('users.info', { error: 'fatal_error' }, 2);
    expect((await platformError(client.users.info({ user: 'UALICE' }))).data.error).toBe('fatal_error');
    expect((await platformError(client.users.info({ user: 'UALICE' }))).data.error).toBe('fatal_error');
    await expect(client.users.info({ user: 'UALICE' })).resolves.toMatchObject({ ok: true });

    standIn.injectFault('auth.test', { delayMs: 300 });
    const started = Date.now();
    await client.auth.test();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    standIn.injectFault('response_url', { status: 404, error: 'expired_url' });
    const url = standIn.responseUrl({ userId: 'UBOB' });
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"text":"x"}' });
    expect(res.status).toBe(404);
    expect(standIn.responses(url)).toEqual([]);
  });

  it('waitFor resolves with the probe value or fails naming what it waited for', async () => {
    setTimeout(() => void client.chat.postMessage({ channel: 'C9', text: 'later' }), 50);
    const message = await standIn.waitFor(() => standIn.messagesIn('C9')[0]);
    expect(message.text).toBe('later');

    await expect(standIn.waitFor(() => standIn.dmsTo('UBOB').length > 0, 100, 'a DM to bob')).rejects.toThrow(
      /timed out after 100ms waiting for a DM to bob\..*Last Slack calls \(1 total\): chat\.postMessage/,
    );
    await expect(standIn.waitFor(() => standIn.ephemeralsTo('UBOB')[0], 60)).rejects.toThrow(/ephemeralsTo\('UBOB'\)/);
  });
});

describe('SlackRequestSender against a real Bolt App', () => {
  const signingSecret = 'test-signing-secret';
  let standIn: SlackStandIn;
  let app: App;
  let sender: SlackRequestSender;
  let url: string;
  let appLogger: ReturnType<typeof quietLogger>;

  beforeAll(async () => {
    standIn = await SlackStandIn.start({ users: [{ id: 'UALICE', name: 'alice', email: 'alice@example.com' }] });
    appLogger = quietLogger();
    app = new App({
      signingSecret,
      token: 'xoxb-test',
      tokenVerificationEnabled: false,
      clientOptions: { slackApiUrl: standIn.apiUrl, retryConfig: { retries: 0 } },
      logger: appLogger,
    });
    app.command('/aws-access', async ({ ack, command }) => {
      await ack(`got: ${command.text} from ${command.user_id} in ${command.channel_id}`);
    });
    app.action('approve', async ({ ack, respond, body, action }) => {
      await ack();
      const value = action.type === 'button' ? action.value : undefined;
      await respond({ replace_original: true, text: `approved ${value} by ${body.user.id}` });
    });
    app.view('request_modal', async ({ ack, view }) => {
      const reason = view.state.values.reason?.value?.value;
      if (!reason) {
        await ack({ response_action: 'errors', errors: { reason: 'Please give a reason' } });
        return;
      }
      await ack();
    });
    app.options('account', async ({ ack, options }) => {
      await ack({ options: [{ text: { type: 'plain_text', text: `match ${options.value}` }, value: '123456789012' }] });
    });
    const server = await app.start({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
    sender = new SlackRequestSender({ url, signingSecret });
  });

  afterAll(async () => {
    try {
      await app.stop();
    } finally {
      await standIn.close();
    }
  });

  it('computes the v0 signature over "v0:<ts>:<body>"', () => {
    expect(slackSignature('secret', 1_700_000_000, 'a=b')).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(slackSignature('secret', 1_700_000_000, 'a=b')).not.toBe(slackSignature('secret', 1_700_000_001, 'a=b'));
  });

  it('gets 200 with the ack text for a signed slash command', async () => {
    const responseUrl = standIn.responseUrl({ userId: 'UALICE', channelId: 'C0TIMEBOX' });
    const res = await sender.command({ userId: 'UALICE', text: 'prod admin 1h', responseUrl });
    expect(res.status).toBe(200);
    expect(res.body).toBe('got: prod admin 1h from UALICE in C0TIMEBOX');
    // With tokenVerificationEnabled: false Bolt calls auth.test lazily, on the first event.
    expect(standIn.callsTo('auth.test').length).toBeGreaterThanOrEqual(1);
  });

  it('rejects forged, missing and stale signatures with 401', async () => {
    const body = new URLSearchParams({ command: '/aws-access', text: 'x', user_id: 'UALICE', team_id: 'T0TIMEBOX' }).toString();
    expect((await sender.raw(body)).status).toBe(200);
    expect((await sender.raw(body, { signature: `v0=${'0'.repeat(64)}` })).status).toBe(401);
    expect((await sender.raw(body, { signature: null })).status).toBe(401);
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    expect((await sender.raw(body, { timestamp: sixMinutesAgo })).status).toBe(401);
    const forger = new SlackRequestSender({ url, signingSecret: 'not-the-secret' });
    expect((await forger.command({ userId: 'UALICE', text: 'x', responseUrl: standIn.responseUrl() })).status).toBe(401);
    // Bolt only form-decodes an exact "application/x-www-form-urlencoded" content type.
    expect((await sender.raw(body, { contentType: 'application/x-www-form-urlencoded; charset=utf-8' })).status).toBe(400);
  });

  it('delivers a button click that Bolt routes to app.action and answers via response_url', async () => {
    const client = new WebClient('xoxb-test', { slackApiUrl: standIn.apiUrl, retryConfig: { retries: 0 } });
    await client.chat.postMessage({
      channel: 'C1',
      text: 'pending',
      blocks: [section('Pending'), { type: 'actions' as const, block_id: 'decide', elements: [button('Approve', 'approve', 'req-7')] }],
    });
    const message = standIn.messagesIn('C1')[0];
    if (!message) throw new Error('message not posted');
    const responseUrl = standIn.responseUrl({ userId: 'UALICE', channelId: 'C1', messageTs: message.ts });
    const res = await sender.blockAction({ userId: 'UALICE', actionId: 'approve', value: 'req-7', responseUrl, message });
    expect(res.status).toBe(200);
    await standIn.waitFor(() => message.history.length === 2, 5000, 'the approval message to be replaced');
    expect(message.text).toBe('approved req-7 by UALICE');

    await expect(
      sender.blockAction({ userId: 'UALICE', actionId: 'approve', value: 'other', responseUrl, message }),
    ).rejects.toThrow(/has value "req-7"/);
  });

  it('delivers view submissions and block suggestions as Bolt expects', async () => {
    const missing = await sender.viewSubmission({
      userId: 'UALICE',
      callbackId: 'request_modal',
      values: { reason: { value: { type: 'plain_text_input', value: null } } },
    });
    expect(missing.status).toBe(200);
    expect(missing.json()).toEqual({ response_action: 'errors', errors: { reason: 'Please give a reason' } });

    const ok = await sender.viewSubmission({
      userId: 'UALICE',
      callbackId: 'request_modal',
      values: { reason: { value: { type: 'plain_text_input', value: 'incident 42' } } },
      privateMetadata: '{"x":1}',
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('');

    const suggestions = await sender.blockSuggestion({ userId: 'UALICE', actionId: 'account', value: 'prod' });
    expect(suggestions.status).toBe(200);
    expect(suggestions.json()).toEqual({
      options: [{ text: { type: 'plain_text', text: 'match prod' }, value: '123456789012' }],
    });
  });

  it('left Bolt nothing to complain about beyond the deliberately bad requests', () => {
    const expected = /Failed to parse and verify the request data|Malformed request body/;
    expect(appLogger.lines.filter((l) => !expected.test(l))).toEqual([]);
    expect(appLogger.lines.some((l) => l.includes('signature mismatch'))).toBe(true);
    expect(appLogger.lines.some((l) => l.includes('stale'))).toBe(true);
  });
});
