import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { Logger as BoltLogger } from '@slack/logger';
import { MAX_BODY_BYTES, refuseSlackRequest, type Refusal } from './request-guard';
import { asNewWork } from '../work-order';

/** A request to Slack's endpoint as either door received it. */
export interface SlackHttpRequest {
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** The raw body; undefined when it was longer than MAX_BODY_BYTES and not read. */
  rawBody: string | undefined;
  /** The request target, where the door has one to route on (the local server). */
  path?: string;
}

export interface SlackHttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A Lambda Function URL or API Gateway HTTP API event (payload format 2.0): the parts Slack's requests use. */
export interface LambdaHttpEvent {
  headers?: Record<string, string | undefined>;
  body?: string | null;
  isBase64Encoded?: boolean;
}

export interface LambdaHttpResult {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
}

/**
 * When the HTTP answer goes back to Slack:
 * - 'ack': as soon as the listener acks (the local process, where the listener carries on after);
 * - 'listener-done': once the listener has returned too (Lambda, which freezes the function as
 *   soon as it has answered, so anything after the ack would not run).
 */
export type ReplyWhen = 'ack' | 'listener-done';

/**
 * A verified Slack request as it is handed to another invocation (a lazy listener): the headers the
 * guard reads and the raw body, so the invocation that runs the listener checks the signature again
 * and trusts nothing that did not come from Slack.
 */
export interface LazyRequest {
  headers: Record<string, string>;
  rawBody: string;
}

/**
 * Interactions whose answer must be in the HTTP reply, so they are never handed off: a type-ahead's
 * options, and a form submission's validation errors (response_action). Their listeners do no I/O
 * (options) or only what the answer needs (submissions).
 */
const ANSWERED_IN_REPLY = new Set(['block_suggestion', 'view_submission', 'view_closed']);

export interface SlackFrontOptions {
  signingSecret: string;
  logger: BoltLogger;
  replyWhen: ReplyWhen;
  /**
   * Where a verified request whose answer need not be in the reply is handed (another invocation,
   * which calls handleLazyRequest): Slack is then answered at once with an empty 200, and the
   * listener answers the person on the response_url. When the hand-off fails, the request is run
   * here after all (answered late rather than never).
   */
  handOff?: (request: LazyRequest) => Promise<void>;
  /**
   * Where the Bolt app runs elsewhere (the local process's workflow thread): a verified request whose
   * answer must be in the reply (see ANSWERED_IN_REPLY) is sent there, checked again by that side's
   * `handle`, and its answer awaited. Without it, such requests go to this receiver's own App.
   */
  answerInReply?: (request: LazyRequest) => Promise<SlackHttpAnswer>;
  /**
   * Runs before a request goes to Bolt (never before a hand-off): where the App and what its
   * listeners need are built only once a listener runs here (the Lambda function, whose reply to
   * a handed-off request needs none of it). It may build the App with this receiver.
   */
  prepare?: () => Promise<void>;
  /** GET /healthz on the local server: 200 when ready, 503 before. */
  isReady?: () => boolean;
  now?: () => number;
}

/** Slack gives up on an answer after 3 seconds; like Bolt's receivers, give up one millisecond later. */
const ACK_DEADLINE_MS = 3_001;
const EVENTS_PATH = '/slack/events';

/**
 * Timebox's one receiver for Slack over HTTP, behind Bolt's public `Receiver` interface, serving
 * both doors: the local server (start/stop) and the Lambda function (handleLambdaEvent). Every
 * request goes through the request guard (timestamp window, signature, size, encoding, a shape
 * Bolt can route) before anything else reads it; Slack's url_verification is answered with its
 * challenge, and everything else is handed to Bolt with an ack that answers Slack (see ReplyWhen).
 * Socket Mode needs none of this (no signatures, no HTTP): it keeps Bolt's SocketModeReceiver.
 */
export class SlackFront implements Receiver {
  private app: App | undefined;
  private server: Server | undefined;

  constructor(private readonly options: SlackFrontOptions) {}

  init(app: App): void {
    this.app = app;
  }

  /** The local door: serves POST /slack/events and GET /healthz on `port` (0: a free one). */
  start(port: number): Promise<Server> {
    const server = createServer((req, res) => {
      this.serve(req, res).catch((err: unknown) => {
        this.options.logger.error(`could not serve a Slack request: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) res.writeHead(500, { Connection: 'close' }).end();
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, () => resolve(server));
    });
  }

  stop(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** The local server's port, once started. */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** The Lambda door. */
  async handleLambdaEvent(event: LambdaHttpEvent): Promise<LambdaHttpResult> {
    const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const rawBody = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
    const answer = await this.handle({ headers, rawBody });
    return { statusCode: answer.status, headers: answer.headers, body: answer.body };
  }

  /** Both doors: guard, then url_verification, then Bolt. */
  async handle(request: SlackHttpRequest): Promise<SlackHttpAnswer> {
    const { headers, rawBody } = request;
    const refusal: Refusal | undefined =
      rawBody === undefined
        ? { status: 413, reason: 'body too large' }
        : refuseSlackRequest(
            { contentType: headers['content-type'], timestamp: headers['x-slack-request-timestamp'], signature: headers['x-slack-signature'] },
            rawBody,
            this.options.now?.() ?? Date.now(),
            this.options.signingSecret,
          );
    if (refusal || rawBody === undefined) {
      this.options.logger.warn(`refused a request${request.path === undefined ? '' : ` to ${request.path.slice(0, 100)}`}: ${refusal?.reason ?? 'body too large'}`);
      return { status: refusal?.status ?? 413, headers: {}, body: '' };
    }
    // The guard ran first whatever the path, so no spelling of it gets past the guard.
    if (request.path !== undefined && pathOf(request.path) !== EVENTS_PATH) return { status: 404, headers: {}, body: '' };
    const body = parseBody(rawBody, headers['content-type']);
    // Slack's unsigned certificate check: answered, and anything smuggled with it dropped.
    if (body.ssl_check !== undefined) return { status: 200, headers: {}, body: '' };
    if (body.type === 'url_verification') return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ challenge: body.challenge }) };
    const { handOff } = this.options;
    if (handOff && !ANSWERED_IN_REPLY.has(String(body.type))) {
      try {
        await handOff({ headers: signedHeaders(headers), rawBody });
        return { status: 200, headers: {}, body: '' };
      } catch (err) {
        this.options.logger.warn(`could not hand a Slack request to a lazy listener, so it is run here (answered late): ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (this.options.answerInReply) return this.options.answerInReply({ headers: signedHeaders(headers), rawBody });
    await this.options.prepare?.();
    return this.dispatch(body, headers, this.options.replyWhen);
  }

  /**
   * The lazy listener's side of handOff: the request is checked again (signature, timestamp window,
   * shape: what reaches here is trusted for nothing else), run to the end, and any answer its
   * listener gives in the ack is posted on the request's response_url, the reply being long gone.
   * Resolves to whether it was run.
   */
  async handleLazyRequest(request: LazyRequest): Promise<boolean> {
    const { headers, rawBody } = request;
    const refusal = refuseSlackRequest(
      { contentType: headers['content-type'], timestamp: headers['x-slack-request-timestamp'], signature: headers['x-slack-signature'] },
      rawBody,
      this.options.now?.() ?? Date.now(),
      this.options.signingSecret,
    );
    if (refusal) {
      this.options.logger.error(`refused a lazy listener event: ${refusal.reason}`);
      return false;
    }
    const body = parseBody(rawBody, headers['content-type']);
    if (body.ssl_check !== undefined || body.type === 'url_verification') return false;
    try {
      await this.options.prepare?.();
    } catch (err) {
      // The reply is long gone: without this the person would never hear back. Not retried (the
      // person can ask again; a broken config would fail every retry the same way).
      const why = err instanceof Error ? err.message : String(err);
      this.options.logger.error(`a lazy listener could not start Timebox, so the request was not run: ${why}`);
      await postOnResponseUrl(body.response_url, { response_type: 'ephemeral', text: ':warning: Timebox could not handle that just now, so nothing was done. Try again in a minute; if it keeps happening, ask your Timebox admin to check its logs.' }, this.options.logger);
      return false;
    }
    await this.dispatch(body, headers, 'lazy');
    return true;
  }

  /**
   * Hands a guarded request to Bolt; resolves with Slack's answer when `when` says ('lazy': once the
   * listener is done, an ack's answer posted on the response_url).
   */
  private dispatch(body: Record<string, unknown>, headers: Record<string, string | undefined>, when: ReplyWhen | 'lazy'): Promise<SlackHttpAnswer> {
    const app = this.app;
    if (!app) throw new Error('SlackFront has no Bolt App: pass it as the App\'s receiver');
    const { logger } = this.options;
    const replyWhen = when === 'lazy' ? 'listener-done' : when;
    return new Promise((resolve) => {
      let acked: SlackHttpAnswer | undefined;
      const deadline = setTimeout(() => {
        logger.error(`a Slack request was not acknowledged within ${ACK_DEADLINE_MS} ms: does its listener call ack()?`);
        if (replyWhen === 'ack') resolve({ status: 404, headers: {}, body: '' });
      }, ACK_DEADLINE_MS);
      const retryNum = headers['x-slack-retry-num'];
      const event: ReceiverEvent = {
        body,
        ack: async (response: unknown) => {
          // Bolt's own error, loaded here: Bolt is loaded by then (it is what calls ack), and this module needs no more of it.
          if (acked) throw new (await import('@slack/bolt')).ReceiverMultipleAckError();
          clearTimeout(deadline);
          acked = answerFor(response);
          if (replyWhen === 'ack') resolve(acked);
          if (when === 'lazy' && acked.body !== '') await postOnResponseUrl(body.response_url, response, logger);
        },
        ...(retryNum === undefined ? {} : { retryNum: Number.parseInt(retryNum, 10) }),
        ...(headers['x-slack-retry-reason'] === undefined ? {} : { retryReason: headers['x-slack-retry-reason'] }),
      };
      // Each Slack request is a piece of work of its own: what it waits for, it waits for in its turn.
      asNewWork(() => app.processEvent(event))
        .then(
          // No listener acked: nothing handles this request.
          () => resolve(acked ?? { status: 404, headers: {}, body: '' }),
          (err: unknown) => {
            logger.error(`a Slack listener failed${acked ? ' after its ack' : ''}: ${err instanceof Error ? err.message : String(err)}`);
            // Once acked, Slack gets the ack's answer (the listener's error is Timebox's to log, not the user's).
            resolve(acked ?? { status: 500, headers: {}, body: '' });
          },
        )
        .finally(() => clearTimeout(deadline));
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    if (req.method !== 'POST') {
      if (req.method === 'GET' && pathOf(path) === '/healthz') {
        const ready = this.options.isReady?.() ?? true;
        res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: ready }));
        return;
      }
      res.writeHead(404).end();
      return;
    }
    let rawBody: string | undefined;
    try {
      rawBody = (await readBody(req))?.toString('utf8');
    } catch {
      res.writeHead(400, { Connection: 'close' }).end();
      return;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));
    const answer = await this.handle({ headers, rawBody, path });
    // A refused request's connection is not reused: the rest of an oversized body is not read.
    res.writeHead(answer.status, answer.status >= 400 ? { ...answer.headers, Connection: 'close' } : answer.headers).end(answer.body);
  }
}

/** The headers a lazy listener needs to check the request again and route it. */
function signedHeaders(headers: Record<string, string | undefined>): Record<string, string> {
  const names = ['content-type', 'x-slack-request-timestamp', 'x-slack-signature', 'x-slack-retry-num', 'x-slack-retry-reason'];
  return Object.fromEntries(names.flatMap((name) => (headers[name] === undefined ? [] : [[name, headers[name]]])));
}

/**
 * What a listener put in its ack, for a request answered lazily: posted on the response_url, as
 * Slack would have shown the reply (a slash command's usage, a refusal). Logged when it cannot be.
 */
async function postOnResponseUrl(responseUrl: unknown, response: unknown, logger: BoltLogger): Promise<void> {
  if (typeof responseUrl !== 'string' || !responseUrl.startsWith('http')) {
    logger.error('a lazy listener answered in its ack, but the request has no response_url to post it on');
    return;
  }
  const message = typeof response === 'string' ? { text: response } : response;
  try {
    const res = await fetch(responseUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(message), signal: AbortSignal.timeout(10_000) });
    if (!res.ok) logger.error(`the response_url refused a lazy listener's answer: HTTP ${res.status}`);
  } catch (err) {
    logger.error(`could not post a lazy listener's answer on the response_url: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Slack's bodies as Bolt expects them: a form's `payload` JSON, a form's fields, or JSON. */
function parseBody(rawBody: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType === 'application/x-www-form-urlencoded') {
    const form = parseQuery(rawBody);
    return typeof form.payload === 'string' ? (JSON.parse(form.payload) as Record<string, unknown>) : { ...form };
  }
  return JSON.parse(rawBody) as Record<string, unknown>;
}

/** The ack's argument as an HTTP answer, as Bolt's receivers send it: nothing, text, or JSON. */
function answerFor(response: unknown): SlackHttpAnswer {
  if (response === undefined || response === null || response === '') return { status: 200, headers: {}, body: '' };
  if (typeof response === 'string') return { status: 200, headers: {}, body: response };
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(response) };
}

/** The normalised path of a request target (`/./slack/events`, an absolute-form target…). */
function pathOf(target: string): string {
  try {
    return new URL(target, 'http://localhost').pathname;
  } catch {
    return target;
  }
}

/** The request body, or undefined past MAX_BODY_BYTES (the rest is not kept). */
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
