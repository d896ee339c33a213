import { App, HTTPReceiver, SocketModeReceiver, type CustomRoute } from '@slack/bolt';
import { LogLevel, WebClient, type WebClientOptions } from '@slack/web-api';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../app/ports';
import { boltLogger } from './bolt-logger';
import { MAX_BODY_BYTES, refuseSlackRequest } from './request-guard';
import { registerListeners } from './listeners/register';
import type { SlackDoor } from './listeners/context';
import { slackPlatformError } from './slack-errors';

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
    // apps.connections.open goes to the same Slack as every other call (SLACK_API_URL, e.g. GovSlack).
    const receiver = new SocketModeReceiver({
      appToken: options.appToken,
      customRoutes,
      installerOptions: { port: options.port, ...(options.apiUrl ? { clientOptions: { slackApiUrl: options.apiUrl } } : {}) },
      logger,
    });
    const app = new App({ ...appOptions, receiver });
    registerListeners(app, door);
    await app.start();
    return { app, url: `http://127.0.0.1:${options.port}`, stop: async () => void (await app.stop()) };
  }
  const receiver = new HTTPReceiver({ signingSecret: options.signingSecret, customRoutes, processBeforeResponse: false, logger });
  const app = new App({ ...appOptions, receiver });
  registerListeners(app, door);
  // Our own server in front of Bolt's listener: it reads the body once (Bolt reuses it) and
  // refuses what Bolt would let through or answer with a 500 (see request-guard.ts).
  const server = createServer((req, res) => {
    // Every POST is checked, whatever its path says: Bolt routes on the normalised path, so
    // `/./slack/events` or an absolute-form target would otherwise reach it unguarded. Only
    // GETs (`/healthz`) go straight through, and Bolt answers no GET with work.
    if (req.method !== 'POST') {
      receiver.requestListener(req, res);
      return;
    }
    void readBody(req).then(
      (rawBody) => {
        const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
        const refusal =
          rawBody === undefined
            ? ({ status: 413, reason: 'body too large' } as const)
            : refuseSlackRequest(
                { contentType: header('content-type'), timestamp: header('x-slack-request-timestamp'), signature: header('x-slack-signature') },
                rawBody.toString('utf8'),
                Date.now(),
                options.signingSecret,
              );
        if (refusal) {
          logger.warn(`refused a request to ${String(req.url).slice(0, 100)}: ${refusal.reason}`);
          res.writeHead(refusal.status, { Connection: 'close' }).end();
          return;
        }
        (req as IncomingMessage & { rawBody?: Buffer }).rawBody = rawBody;
        receiver.requestListener(req, res);
      },
      () => res.writeHead(400).end(),
    );
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

/** The request body, or undefined past MAX_BODY_BYTES (the rest is not read). */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Stop keeping it, let the rest drain, and answer 413 (destroying the socket would lose the answer).
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
