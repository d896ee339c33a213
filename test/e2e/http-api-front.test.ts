import { httpApiEvent } from '../support/lambda-events';
import { slackSignature } from '../support/slack-requests';
import { startSlackLambda, type SlackLambda } from '../support/slack-lambda';
import { PEOPLE, SIGNING_SECRET, TimeboxHarness } from '../support/timebox-harness';

interface LambdaResponse {
  statusCode: number;
  body?: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * The default deployment puts API Gateway's HTTP API in front of the Slack function (infra:
 * endpoint 'apiGateway'). Its events are payload format 2.0 like a Function URL's, with their own
 * routeKey, requestContext, cookies and a base64-encoded body: the real handler
 * (src/entrypoints/lambda/slack.ts) is given that shape, talking to the Slack and AWS stand-ins.
 */
describe('deploy-grade: the API Gateway front (HTTP API, payload format 2.0)', () => {
  let h: TimeboxHarness;
  let lambda: SlackLambda;

  beforeAll(async () => {
    h = await TimeboxHarness.start();
    lambda = await startSlackLambda(h.aws, h.slack);
  });
  afterAll(async () => {
    await lambda?.close();
    await h?.stop();
  });

  let triggers = 0;
  // Each command its own trigger_id: a repeated one is Slack retrying, answered as already filed.
  const command = (text: string) =>
    new URLSearchParams({ command: '/aws-access', text, user_id: PEOPLE.carol.id, user_name: 'carol', team_id: 'T0TIMEBOX', channel_id: 'C0GENERAL0', response_url: h.slack.responseUrl({ userId: PEOPLE.carol.id }), trigger_id: `1.2.${++triggers}` }).toString();
  /** Requests carol has waiting for approval, on the Lambda function's table. */
  const filed = () => lambda.store.countAwaitingApproval(PEOPLE.carol.id, 0);
  const send = async (event: Record<string, unknown>) => (await lambda.handler(event, {})) as LambdaResponse;

  test.each([
    ['base64-encoded, as the HTTP API sends a form body', true],
    ['as plain text', false],
  ])('a signed /aws-access in the HTTP API event shape (body %s) reaches the handler, is answered with 200 and files the request', async (_how, base64) => {
    const before = await filed();
    const answer = await send(httpApiEvent(command(`production Admin 30m via the HTTP API ${String(base64)}`), { signingSecret: SIGNING_SECRET, base64 }));
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toContain('is waiting for approval');
    expect(await filed()).toBe(before + 1);
  });

  test('a signed /aws-access help in the HTTP API shape is answered with the usage', async () => {
    const answer = await send(httpApiEvent(command('help'), { signingSecret: SIGNING_SECRET }));
    expect(answer.statusCode).toBe(200);
    expect((JSON.parse(answer.body ?? '{}') as { text?: string }).text).toContain('Usage: `/aws-access');
  });

  test.each([
    ['an unsigned request (no X-Slack-Signature)', () => httpApiEvent(command('production Admin 30m unsigned'), { signingSecret: SIGNING_SECRET, signature: null })],
    ['a request signed with another secret', () => { const body = command('production Admin 30m other secret'); return httpApiEvent(body, { signingSecret: SIGNING_SECRET, signature: slackSignature('not-the-secret', nowSeconds(), body) }); }],
    ['a stale request (correctly signed six minutes ago)', () => httpApiEvent(command('production Admin 30m stale'), { signingSecret: SIGNING_SECRET, timestamp: nowSeconds() - 360 })],
  ])('%s in the HTTP API shape is refused with 401 and files nothing', async (_what, event) => {
    const before = await filed();
    const answer = await send(event());
    expect(answer.statusCode).toBe(401);
    expect(await filed()).toBe(before);
  });
});
