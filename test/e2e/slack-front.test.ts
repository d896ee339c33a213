import { functionUrlEvent } from '../support/lambda-events';
import { slackSignature } from '../support/slack-requests';
import { startSlackLambda, type SlackLambda } from '../support/slack-lambda';
import { PEOPLE, SIGNING_SECRET, TimeboxHarness } from '../support/timebox-harness';

interface Answer {
  status: number;
  body: string;
  contentType: string | undefined;
}

interface Sent {
  /** Defaults to Slack's form encoding. */
  contentType?: string;
  timestamp?: number;
  /** null: no X-Slack-Signature header at all; a string: this (forged) one. */
  signature?: string | null;
}

interface LambdaResponse {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Both of Slack's HTTP doors (the local server and the Lambda function) are the one receiver
 * (src/adapters/slack/slack-front.ts): every case below is sent to both, signed as Slack signs it
 * unless the case says otherwise, and each door must answer the same.
 */
describe('daily-use: one Slack front', () => {
  let h: TimeboxHarness;
  let lambda: SlackLambda;

  beforeAll(async () => {
    h = await TimeboxHarness.start();
    // The Lambda function talks to the same Slack and AWS stand-ins, on its own table.
    lambda = await startSlackLambda(h.aws, h.slack);
  });
  afterAll(async () => {
    await lambda?.close();
    await h?.stop();
  });

  const doors: Record<'HTTP' | 'Lambda', (body: string, sent?: Sent) => Promise<Answer>> = {
    HTTP: async (body, sent = {}) => {
      const response = await fetch(`${h.runtime.url}/slack/events`, { method: 'POST', headers: headersFor(body, sent), body });
      return { status: response.status, body: await response.text(), contentType: response.headers.get('content-type') ?? undefined };
    },
    Lambda: async (body, sent = {}) => {
      const event = functionUrlEvent(body, { signingSecret: SIGNING_SECRET });
      event.headers = Object.fromEntries(Object.entries(headersFor(body, sent)).map(([k, v]) => [k.toLowerCase(), v]));
      const response = (await lambda.handler(event, {})) as LambdaResponse;
      const contentType = Object.entries(response.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
      return { status: response.statusCode, body: response.body ?? '', contentType };
    },
  };
  const doorNames = Object.keys(doors) as Array<keyof typeof doors>;

  function headersFor(body: string, sent: Sent): Record<string, string> {
    const timestamp = sent.timestamp ?? nowSeconds();
    const signature = sent.signature === undefined ? slackSignature(SIGNING_SECRET, timestamp, body) : sent.signature;
    return {
      'Content-Type': sent.contentType ?? 'application/x-www-form-urlencoded',
      'X-Slack-Request-Timestamp': String(timestamp),
      ...(signature === null ? {} : { 'X-Slack-Signature': signature }),
    };
  }

  /** What a refused request must not change: no request filed on either door's table, no Slack call, no hand-off. */
  async function world(): Promise<string> {
    const stored = [(await h.runtime.deps.store.listDue(Number.MAX_SAFE_INTEGER)).length, (await lambda.store.listDue(Number.MAX_SAFE_INTEGER)).length];
    return JSON.stringify({ stored, slackCalls: h.slack.calls.length, handedOver: h.aws.invocations('timebox-worker').length });
  }

  const command = (text: string) =>
    new URLSearchParams({ command: '/aws-access', text, user_id: PEOPLE.carol.id, user_name: 'carol', team_id: 'T0TIMEBOX', channel_id: 'C0GENERAL0', response_url: h.slack.responseUrl({ userId: PEOPLE.carol.id }), trigger_id: '1.2.3' }).toString();
  const challenge = (value: string) => JSON.stringify({ token: 'legacy', challenge: value, type: 'url_verification' });

  test.each(doorNames)('%s door: Slack\'s url_verification (Events API, JSON) is answered with its challenge, and nothing changes', async (door) => {
    const before = await world();
    const answer = await doors[door](challenge(`challenge-${door}-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P`), { contentType: 'application/json' });
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toEqual({ challenge: `challenge-${door}-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P` });
    expect(await world()).toBe(before);
  });

  test.each(doorNames)('%s door: a url_verification with a forged signature gets 401, not the challenge', async (door) => {
    const answer = await doors[door](challenge('forged'), { contentType: 'application/json', signature: `v0=${'0'.repeat(64)}` });
    expect(answer.status).toBe(401);
    expect(answer.body).not.toContain('forged');
  });

  test.each(doorNames)('%s door: a signed Events API event (app_home_opened) is acknowledged with 200, and files nothing', async (door) => {
    const before = await world();
    const event = JSON.stringify({
      token: 'legacy', team_id: 'T0TIMEBOX', api_app_id: 'A0TIMEBOX', type: 'event_callback', event_id: `Ev${door}1`, event_time: nowSeconds(),
      event: { type: 'app_home_opened', user: PEOPLE.carol.id, channel: 'D0CAROL000', tab: 'home', event_ts: `${nowSeconds()}.000100` },
    });
    const answer = await doors[door](event, { contentType: 'application/json' });
    expect(answer.status).toBe(200);
    expect(await h.storedRequestCount()).toBe(JSON.parse(before).stored[0]);
  });

  test.each(doorNames)('%s door: a signed /aws-access help is routed to the listeners and answered with the usage in the ack', async (door) => {
    const answer = await doors[door](command('help'));
    expect(answer.status).toBe(200);
    const { text } = JSON.parse(answer.body) as { text: string };
    expect(text).toContain('Usage: `/aws-access <accounts> <permission-sets> <duration> <reason…>`');
  });

  describe.each(doorNames)('%s door refuses what Slack did not send, and changes nothing', (door) => {
    test.each([
      ['an unsigned command', () => [command('staging ReadOnly 1h unsigned'), { signature: null }], 401],
      ['a command signed with another secret', () => { const body = command('staging ReadOnly 1h other secret'); return [body, { signature: slackSignature('not-the-secret', nowSeconds(), body) }]; }, 401],
      ['a stale command (correctly signed six minutes ago)', () => [command('staging ReadOnly 1h stale'), { timestamp: nowSeconds() - 360 }], 401],
      ['a command stamped a day ahead (correctly signed for then)', () => [command('staging ReadOnly 1h from the future'), { timestamp: nowSeconds() + 86_400 }], 401],
      ['an oversized body (1.2 MB, correctly signed)', () => [`${command('staging ReadOnly 1h big')}&pad=${'x'.repeat(1_200_000)}`, {}], 413],
      ['a slash command sent as JSON', () => [JSON.stringify(Object.fromEntries(new URLSearchParams(command('staging ReadOnly 1h as json')))), { contentType: 'application/json' }], 400],
      ['a body that is not JSON under Content-Type application/json', () => ['{"type":"url_verification",', { contentType: 'application/json' }], 400],
      ['another content type', () => [command('staging ReadOnly 1h as text'), { contentType: 'text/plain' }], 415],
    ] as Array<[string, () => [string, Sent], number]>)('%s gets the refusal and changes nothing', async (_what, request, status) => {
      const before = await world();
      const answer = await doors[door](...request());
      expect(answer.status).toBe(status);
      expect(await world()).toBe(before);
    });
  });
});
