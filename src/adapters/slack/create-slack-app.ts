import { App, SocketModeReceiver, type CustomRoute } from '@slack/bolt';
import { LogLevel, WebClient, type WebClientOptions } from '@slack/web-api';
import type { Logger } from '../../app/ports';
import { boltLogger } from './bolt-logger';
import { listenerClientOptions } from './listener-client-options';
import { registerListeners } from './listeners/register';
import type { SlackDoor } from './listeners/context';
import { asNewWork } from '../work-order';
import { SlackFront } from './slack-front';
import { slackPlatformError } from './slack-errors';

export interface SlackAppOptions {
  botToken: string;
  signingSecret: string;
  /** Socket Mode when set. */
  appToken?: string;
  /** Slack Web API base URL (GovSlack, or a stand-in in tests). */
  apiUrl?: string;
  port: number;
  /**
   * false: no HTTP server here; another thread serves Slack over HTTP and passes the requests to
   * `front` (the local process's workflow thread). Ignored in Socket Mode.
   */
  listen?: boolean;
  isReady: () => boolean;
  logger: Logger;
}

export interface SlackAppHandle {
  app: App;
  /** Base URL of the HTTP server (`/slack/events`, `/healthz`). */
  url: string;
  /** The HTTP receiver, when Slack comes over HTTP. */
  front?: SlackFront;
  stop(): Promise<void>;
}

/** The Bolt app: Timebox's own HTTP receiver (or Socket Mode) with `GET /healthz`, and Timebox's listeners. */
export async function startSlackApp(options: SlackAppOptions, door: SlackDoor): Promise<SlackAppHandle> {
  const logger = boltLogger(options.logger);
  const clientOptions = listenerClientOptions(options.apiUrl);
  // Check the token once, here, with a clear error; Bolt would otherwise do it in the background
  // and an unreachable Slack would crash the process after it said it was ready.
  const identity = await whoAmI(options.botToken, clientOptions);
  // No conversation store: no listener keeps state per conversation, and Bolt's default one is read on every event.
  const appOptions = { token: options.botToken, ...identity, tokenVerificationEnabled: false, logger, clientOptions, convoStore: false as const };
  if (options.appToken) {
    const healthz: CustomRoute = {
      path: '/healthz',
      method: ['GET'],
      handler: (_req, res) => {
        const ready = options.isReady();
        res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ ok: ready }));
      },
    };
    // apps.connections.open goes to the same Slack as every other call (SLACK_API_URL, e.g. GovSlack).
    const receiver = new SocketModeReceiver({
      appToken: options.appToken,
      customRoutes: [healthz],
      installerOptions: { port: options.port, ...(options.apiUrl ? { clientOptions: { slackApiUrl: options.apiUrl } } : {}) },
      logger,
    });
    const app = new App({ ...appOptions, receiver });
    // Each event is a piece of work of its own, as SlackFront makes it over HTTP (work-order.ts).
    app.use(({ next }) => asNewWork(next));
    registerListeners(app, door);
    await app.start();
    return { app, url: `http://127.0.0.1:${options.port}`, stop: async () => void (await app.stop()) };
  }
  // The process carries on after the ack, so Slack is answered as soon as a listener acks.
  const receiver = new SlackFront({ signingSecret: options.signingSecret, logger, replyWhen: 'ack', isReady: options.isReady });
  const app = new App({ ...appOptions, receiver });
  registerListeners(app, door);
  if (options.listen === false) return { app, url: '', front: receiver, stop: async () => void (await app.stop()) };
  await app.start(options.port);
  return { app, url: `http://127.0.0.1:${receiver.port}`, front: receiver, stop: async () => void (await app.stop()) };
}

/** The bot's own ids, from auth.test: proves the token works before Timebox says it is ready. */
async function whoAmI(token: string, clientOptions: WebClientOptions): Promise<{ botId: string; botUserId: string }> {
  try {
    const auth = await new WebClient(token, { ...clientOptions, logLevel: LogLevel.ERROR, retryConfig: { retries: 2, minTimeout: 500 } }).auth.test();
    if (!auth.user_id || !auth.bot_id) throw new Error('auth.test returned no bot user; is SLACK_BOT_TOKEN a bot token (xoxb-)?');
    return { botId: auth.bot_id, botUserId: auth.user_id };
  } catch (err) {
    // @slack/web-api's own error codes tell an answer from Slack apart from no answer at all.
    const platformError = slackPlatformError(err);
    if (platformError) {
      throw new Error(`Slack rejected SLACK_BOT_TOKEN (auth.test: ${platformError})`, { cause: err });
    }
    const apiUrl = clientOptions.slackApiUrl ?? 'https://slack.com/api/';
    const original = (err as { original?: { message?: string } }).original;
    // The Web API client keeps only "fetch failed"; one direct try says why (refused, no DNS, TLS…).
    const why = await fetch(new URL('auth.test', apiUrl), { method: 'POST', signal: AbortSignal.timeout(3_000) }).then(
      () => undefined,
      (probe: unknown) => {
        const cause = (probe as { cause?: { code?: string; message?: string } }).cause;
        return cause ? `${cause.code ?? ''} ${cause.message ?? ''}`.trim() : probe instanceof Error ? probe.message : String(probe);
      },
    );
    const cause = why ?? original?.message ?? (err instanceof Error ? err.message : String(err));
    throw new Error(`cannot reach Slack at ${apiUrl} (auth.test: ${cause})`, { cause: err });
  }
}
