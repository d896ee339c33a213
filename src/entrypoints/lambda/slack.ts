// Deep imports: Bolt's index also loads the Express receiver and its dependencies, which the
// Lambda never uses and which would triple the bundle (docs/DEPLOY.md, "Bundles").
import App from '@slack/bolt/dist/App';
import AwsLambdaReceiver from '@slack/bolt/dist/receivers/AwsLambdaReceiver';
import { boltLogger } from '../../adapters/slack/bolt-logger';
import { refuseSlackRequest } from '../../adapters/slack/request-guard';
import { registerListeners } from '../../adapters/slack/listeners/register';
import { lambdaRuntime } from './lambda-runtime';

type Handler = ReturnType<AwsLambdaReceiver['toHandler']>;
type AwsEvent = Parameters<Handler>[0];
type AwsResponse = Awaited<ReturnType<Handler>>;
let boltHandler: Promise<Handler> | undefined;

async function buildHandler(): Promise<Handler> {
  const runtime = await lambdaRuntime();
  const logger = boltLogger(runtime.deps.logger);
  const receiver = new AwsLambdaReceiver({ signingSecret: runtime.secrets.signingSecret, logger });
  const { botToken } = runtime.secrets;
  const app = new App({
    // An authorize that only hands Bolt the token: with `token`, Bolt would call auth.test on the
    // first request of every cold start (80 ms or so on the user's clock) to learn the bot's own
    // ids, which only matter for filtering the bot's own events, and the Slack function takes none.
    authorize: () => Promise.resolve({ botToken }),
    receiver,
    logger,
    clientOptions: {
      ...(runtime.env.SLACK_API_URL ? { slackApiUrl: runtime.env.SLACK_API_URL } : {}),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: 2500,
    },
  });
  // Listeners record the decision and hand the slow part to the worker, so Slack is answered
  // well inside its 3 seconds even though AwsLambdaReceiver replies only when they return.
  registerListeners(app, { deps: runtime.deps, approvalChannel: runtime.config.slack.approvalChannel });
  return receiver.toHandler();
}

/** Slack requests arriving through the Lambda Function URL (API Gateway v2 event format). */
export async function handler(event: AwsEvent, context: unknown): Promise<AwsResponse> {
  // Refuse what Bolt would accept (far-future timestamps) or answer with a 500 (malformed payloads).
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])) as Record<string, string | undefined>;
  const body = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  boltHandler ??= buildHandler().catch((err: unknown) => {
    boltHandler = undefined;
    throw err;
  });
  const { secrets } = await lambdaRuntime();
  const refusal = refuseSlackRequest(
    { contentType: headers['content-type'], timestamp: headers['x-slack-request-timestamp'], signature: headers['x-slack-signature'] },
    body,
    Date.now(),
    secrets.signingSecret,
  );
  if (refusal) return { statusCode: refusal.status, body: '' };
  const handle = await boltHandler;
  return handle(event, context);
}
