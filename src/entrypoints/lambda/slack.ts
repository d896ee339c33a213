import * as z from '../../lib/zod';
import { boltLogger } from '../../adapters/slack/bolt-logger';
import { listenerClientOptions } from '../../adapters/slack/listener-client-options';
import { registerListeners } from '../../adapters/slack/listeners/register';
import { invokeAsync } from '../../adapters/scheduler/lambda-job-queue';
import { SlackFront, type LambdaHttpEvent, type LambdaHttpResult } from '../../adapters/slack/slack-front';
import { lambdaBasics } from './lambda-basics';
import { lambdaRuntime } from './lambda-runtime';

let front: Promise<SlackFront> | undefined;

/**
 * A Slack request this function handed to itself (a lazy listener). Only an Invoke can carry it:
 * API Gateway and the Function URL put whatever a caller sends in `body`, as a string, beside
 * `headers` and `requestContext`, which this strict shape refuses. Its signature is checked again
 * before anything runs (SlackFront.handleLazyRequest), so even a caller allowed to invoke the
 * function cannot act as a Slack user.
 */
const lazyEvent = z.strictObject({
  lazyListener: z.strictObject({ headers: z.record(z.string(), z.string()), rawBody: z.string() }),
});

/**
 * Bolt's App with Timebox's listeners on `receiver`, and what they need (config, store, workflow:
 * lambda-runtime.ts), built at the first request this invocation runs a listener for (a lazy
 * listener, an answer that must be in the reply, a failed hand-off): a reply that only hands the
 * request over validates no config, wires nothing and reads no table, and Bolt itself (CommonJS,
 * so loading it later costs the bundle nothing) is loaded then too.
 */
async function buildApp(receiver: SlackFront, botToken: string, ackFirst: boolean): Promise<void> {
  const [{ App }, runtime] = await Promise.all([import('@slack/bolt'), lambdaRuntime('slack')]);
  const app = new App({
    // An authorize that only hands Bolt the token: with `token`, Bolt would call auth.test on the
    // first request of every cold start (80 ms or so on the user's clock) to learn the bot's own
    // ids, which only matter for filtering the bot's own events, and the Slack function takes none.
    authorize: () => Promise.resolve({ botToken }),
    receiver,
    logger: boltLogger(runtime.deps.logger),
    clientOptions: listenerClientOptions(runtime.env.SLACK_API_URL),
  });
  // With lazy listeners a command is acked at once (the reply is already gone) and answered on the
  // response_url, as in the local process.
  registerListeners(app, { deps: runtime.deps, approvalChannel: runtime.config.slack.approvalChannel, ackFirst });
}

async function buildFront(): Promise<SlackFront> {
  const basics = lambdaBasics('slack');
  const { botToken, signingSecret } = await basics.secrets;
  const self = basics.env.AWS_LAMBDA_FUNCTION_NAME;
  let app: Promise<void> | undefined;
  // Lambda freezes the function once it answers, so a listener run here finishes before the reply.
  // Hence lazy listeners: the request is checked, handed to another invocation of this function
  // (an asynchronous Invoke: it holds none of the worker's reserved slots, so grants queued behind
  // Identity Center cannot delay it), and Slack gets an empty reply at once; that invocation answers
  // the person on the response_url. What must be in the reply (type-ahead options, a form's errors)
  // is still answered here.
  const receiver: SlackFront = new SlackFront({
    signingSecret,
    logger: boltLogger(basics.logger),
    replyWhen: 'listener-done',
    ...(self ? { handOff: (request) => invokeAsync(basics.lambda, self, { lazyListener: request }) } : {}),
    prepare: async () => {
      app ??= buildApp(receiver, botToken, self !== undefined).catch((err: unknown) => {
        app = undefined; // the next request tries again (e.g. the table was just created)
        throw err;
      });
      await app;
      // The discovery cache as the sweep last wrote it (read again once older than discovery.refresh); never AWS.
      await (await lambdaRuntime('slack')).catalogue?.load();
    },
  });
  return receiver;
}

/**
 * Slack requests arriving through API Gateway's HTTP API or a Function URL (payload format 2.0,
 * headers lower-cased, the body base64-encoded or not), and the lazy listener events this function
 * sends itself.
 */
export async function handler(event: LambdaHttpEvent, _context?: unknown): Promise<LambdaHttpResult> {
  front ??= buildFront().catch((err: unknown) => {
    front = undefined;
    throw err;
  });
  const ready = await front;
  const lazy = lazyEvent.safeParse(event);
  if (lazy.success) {
    // Never throws for a refused or failed request: a retry by Lambda could not do better.
    const ran = await ready.handleLazyRequest(lazy.data.lazyListener);
    return { statusCode: ran ? 200 : 401, body: '' };
  }
  return ready.handleLambdaEvent(event);
}
