import { App, HTTPReceiver, SocketModeReceiver, type CustomRoute } from '@slack/bolt';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../app/ports';
import { boltLogger } from './bolt-logger';
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
  const receiver = options.appToken
    ? new SocketModeReceiver({ appToken: options.appToken, customRoutes, installerOptions: { port: options.port }, logger })
    : new HTTPReceiver({ signingSecret: options.signingSecret, customRoutes, processBeforeResponse: false, logger });
  const app = new App({
    token: options.botToken,
    receiver,
    logger,
    clientOptions: {
      ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
      // Slack's default is ten retries over half an hour; a worker must not hang that long.
      retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5000 },
    },
  });
  registerListeners(app, door);
  const started = (await app.start(options.port)) as unknown;
  const server = typeof started === 'object' && started !== null && 'address' in started ? (started as Server) : undefined;
  const port = server ? (server.address() as AddressInfo).port : options.port;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await app.stop();
    },
  };
}
