import { App } from '@slack/bolt';
import { boltLogger } from '../../adapters/slack/bolt-logger';
import { listenerClientOptions } from '../../adapters/slack/listener-client-options';
import { registerListeners } from '../../adapters/slack/listeners/register';
import { SlackFront, type LambdaHttpEvent, type LambdaHttpResult } from '../../adapters/slack/slack-front';
import { lambdaRuntime } from './lambda-runtime';

let front: Promise<SlackFront> | undefined;

async function buildFront(): Promise<SlackFront> {
  const runtime = await lambdaRuntime();
  const logger = boltLogger(runtime.deps.logger);
  // Lambda freezes the function once it answers, so the answer waits for the listener: listeners
  // record the decision and hand the slow part to the worker, so Slack is still answered well
  // inside its 3 seconds.
  const receiver = new SlackFront({ signingSecret: runtime.secrets.signingSecret, logger, replyWhen: 'listener-done' });
  const { botToken } = runtime.secrets;
  const app = new App({
    // An authorize that only hands Bolt the token: with `token`, Bolt would call auth.test on the
    // first request of every cold start (80 ms or so on the user's clock) to learn the bot's own
    // ids, which only matter for filtering the bot's own events, and the Slack function takes none.
    authorize: () => Promise.resolve({ botToken }),
    receiver,
    logger,
    clientOptions: listenerClientOptions(runtime.env.SLACK_API_URL),
  });
  registerListeners(app, { deps: runtime.deps, approvalChannel: runtime.config.slack.approvalChannel });
  return receiver;
}

/** Slack requests arriving through API Gateway's HTTP API or a Function URL: both payload format 2.0, headers lower-cased, the body base64-encoded or not. */
export async function handler(event: LambdaHttpEvent, _context?: unknown): Promise<LambdaHttpResult> {
  front ??= buildFront().catch((err: unknown) => {
    front = undefined;
    throw err;
  });
  return (await front).handleLambdaEvent(event);
}
