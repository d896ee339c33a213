import { createHmac, timingSafeEqual } from 'node:crypto';
import { parse as parseQuery } from 'node:querystring';
import * as z from '../../lib/zod';

/** Slack allows five minutes of clock skew; Bolt enforces it only for timestamps in the past. */
const MAX_SKEW_SECONDS = 300;
/** Slack's own payloads stay far below this; anything larger is refused before it is parsed. */
export const MAX_BODY_BYTES = 1_000_000;

export interface Refusal {
  status: 400 | 401 | 413 | 415;
  reason: string;
}

// The least a payload must have before Bolt routes it: Bolt itself assumes these and would
// answer a malformed one with a 500.
const interactivePayload = z.union([
  z.object({ type: z.enum(['block_actions']), user: z.object({ id: z.string().min(1) }), actions: z.array(z.object({ action_id: z.string() })) }),
  z.object({
    type: z.enum(['view_submission', 'view_closed']),
    user: z.object({ id: z.string().min(1) }),
    view: z.object({ callback_id: z.string(), state: z.object({ values: z.record(z.string(), z.unknown()) }) }),
  }),
  z.object({ type: z.enum(['block_suggestion']), user: z.object({ id: z.string().min(1) }), action_id: z.string(), value: z.string() }),
]);
// The Events API (JSON): Slack's url_verification challenge, and the events Timebox subscribes to.
const eventsApiBody = z.union([
  z.object({ type: z.literal('url_verification'), challenge: z.string() }),
  z.object({ type: z.literal('event_callback'), event: z.object({ type: z.enum(['app_home_opened']), user: z.string().min(1) }) }),
]);
const slashCommand = z.object({ command: z.string().min(1), user_id: z.string().min(1), text: z.string().optional() });

export interface SlackRequestHeaders {
  contentType?: string;
  timestamp?: string;
  signature?: string;
}

/**
 * Checks a request to /slack/events before Bolt routes it, in this order:
 * - authenticity: a timestamp Slack could have sent (digits, not more than 5 minutes old or
 *   ahead; Bolt alone accepts `+T`, `T.0` or a date a day ahead) and a valid signature: 401;
 * - size (413) and Slack's encodings (415): forms, and JSON for the Events API;
 * - a payload shape Bolt can route (400), which Bolt would otherwise answer with a 500.
 * Returns why the request is refused, or undefined. This is the only signature check: the
 * receiver (slack-front.ts) hands Bolt nothing this has not passed.
 */
export function refuseSlackRequest(headers: SlackRequestHeaders, rawBody: string, nowMs: number, signingSecret: string): Refusal | undefined {
  const { timestamp, signature } = headers;
  // Slack's unsigned certificate check; Bolt answers it and drops anything smuggled with it.
  if (headers.contentType === 'application/x-www-form-urlencoded' && parseQuery(rawBody).ssl_check === '1') return undefined;
  if (timestamp === undefined || signature === undefined) return { status: 401, reason: 'unsigned request' };
  if (!/^\d{1,12}$/.test(timestamp)) return { status: 401, reason: 'malformed X-Slack-Request-Timestamp' };
  if (Number(timestamp) > Math.floor(nowMs / 1000) + MAX_SKEW_SECONDS) return { status: 401, reason: 'timestamp more than 5 minutes in the future' };
  if (Number(timestamp) < Math.floor(nowMs / 1000) - MAX_SKEW_SECONDS || !isSlackSignature(signingSecret, timestamp, rawBody, signature)) {
    return { status: 401, reason: 'bad or stale signature' };
  }
  if (Buffer.byteLength(rawBody) > MAX_BODY_BYTES) return { status: 413, reason: 'body too large' };
  if (headers.contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json') {
    let event: unknown;
    try {
      event = JSON.parse(rawBody);
    } catch {
      return { status: 400, reason: 'body is not JSON' };
    }
    return eventsApiBody.safeParse(event).success ? undefined : { status: 400, reason: 'not a Slack event Timebox subscribes to' };
  }
  if (headers.contentType !== 'application/x-www-form-urlencoded') return { status: 415, reason: 'Slack sends application/x-www-form-urlencoded (application/json for events)' };
  const form = parseQuery(rawBody);
  if (typeof form.payload === 'string') {
    let payload: unknown;
    try {
      payload = JSON.parse(form.payload);
    } catch {
      return { status: 400, reason: 'payload is not JSON' };
    }
    return interactivePayload.safeParse(payload).success ? undefined : { status: 400, reason: 'payload is not a Slack interaction Timebox handles' };
  }
  return slashCommand.safeParse(form).success ? undefined : { status: 400, reason: 'not a slash command' };
}

/** Slack's v0 signature: `v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{raw body}`), compared in constant time. */
function isSlackSignature(signingSecret: string, timestamp: string, rawBody: string, signature: string): boolean {
  const expected = Buffer.from(`v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
