import { App, HTTPReceiver, SocketModeReceiver, type CustomRoute } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../app/ports';
import { boltLogger } from './bolt-logger';
import { isFromTheFuture } from './request-freshness';
import { registerListeners } from './listeners/register';
import type { SlackDoor } from './listeners/context';

export interface SlackAppOptions {
  botToken: string;
  signingSecret: string;
  /** Socket Mode when set. */
  appToken?: string;
  /** Slack Web API base URL (GovSlack, or a stand-in in tests). */
  apiUrl?: string;
  port: number;
  isReady: () => boolean;
  logger: Logger;
}

export interface SlackAppHandle {
  app: App;
  /** Base URL of the HTTP server (`/slack/events`, `/healthz`). */
  url: string;
  stop(): Promise<void>;
}

/** The Bolt app: HTTP receiver (or Socket Mode) with `GET /healthz`, and Timebox's listeners. */
export async function startSlackApp(options: SlackAppOptions, door: SlackDoor): Promise<SlackAppHandle> {
  const logger = boltLogger(options.logger);
  const customRoutes: CustomRoute[] = [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req, res) => {
        const ready = options.isReady();
        res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ ok: ready }));
      },
    },
  ];
  // This client serves the listeners (views.open, postEphemeral), which race Slack's 3-second
  // deadline: fail fast rather than retry or wait out a rate limit.
  const clientOptions = {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 2500,
  };
  // Check the token once, here, with a clear error; Bolt would otherwise do it in the background
  // and an unreachable Slack would crash the process after it said it was ready.
  const identity = await whoAmI(options.botToken, clientOptions);
  const appOptions = { token: options.botToken, ...identity, tokenVerificationEnabled: false, logger, clientOptions };
  if (options.appToken) {
    const receiver = new SocketModeReceiver({ appToken: options.appToken, customRoutes, installerOptions: { port: options.port }, logger });
    const app = new App({ ...appOptions, receiver });
    registerListeners(app, door);
    await app.start();
    return { app, url: `http://127.0.0.1:${options.port}`, stop: async () => void (await app.stop()) };
  }
  const receiver = new HTTPReceiver({ signingSecret: options.signingSecret, customRoutes, processBeforeResponse: false, logger });
  const app = new App({ ...appOptions, receiver });
  registerListeners(app, door);
  // Our own server in front of Bolt's listener, to refuse what Bolt lets through: timestamps
  // from more than five minutes in the future.
  const server = createServer((req, res) => {
    if (isFromTheFuture(req.headers['x-slack-request-timestamp'], Date.now())) {
      logger.warn('refused a Slack request stamped more than 5 minutes in the future');
      res.writeHead(401).end();
      return;
    }
    receiver.requestListener(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** The bot's own ids, from auth.test: proves the token works before Timebox says it is ready. */
async function whoAmI(token: string, clientOptions: WebClientOptions): Promise<{ botId: string; botUserId: string }> {
  try {
    const auth = await new WebClient(token, { ...clientOptions, retryConfig: { retries: 2, minTimeout: 500 } }).auth.test();
    if (!auth.user_id || !auth.bot_id) throw new Error('auth.test returned no bot user; is SLACK_BOT_TOKEN a bot token (xoxb-)?');
    return { botId: auth.bot_id, botUserId: auth.user_id };
  } catch (err) {
    const reason = (err as { data?: { error?: string } }).data?.error ?? (err instanceof Error ? err.message : String(err));
    throw new Error(`Slack did not accept SLACK_BOT_TOKEN (auth.test: ${reason})`, { cause: err });
  }
}
