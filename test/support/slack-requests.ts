/**
 * Sends requests to a Bolt HTTP endpoint exactly as Slack does: form-encoded bodies
 * (slash commands as plain fields, interactivity as a `payload=` JSON field), signed with the
 * app's signing secret (`X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<ts>:<raw body>">` and
 * `X-Slack-Request-Timestamp` in seconds).
 *
 * Note: Bolt's HTTPReceiver only form-decodes when Content-Type is exactly
 * `application/x-www-form-urlencoded` (no charset parameter), which is what Slack sends.
 */
import { createHmac, randomBytes } from 'node:crypto';

export interface SignedResponse {
  status: number;
  /** The HTTP response's body; for a command acked at once and answered on its response_url, that answer. */
  body: string;
  json(): unknown;
  /** Milliseconds from sending to Slack having the HTTP response (the ack). */
  ackMs: number;
}

/** Where response_url posts can be read back (the Slack stand-in). */
export interface ResponseUrlLog {
  responses(url: string): Array<{ body: Record<string, unknown> }>;
  /** The views opened so far (a form command is answered by one, or on its response_url). */
  openedViews(): Array<{ trigger_id: string }>;
}

export interface SlackTeam {
  id: string;
  domain: string;
}

export interface SlackRequestSenderOptions {
  /** The Bolt endpoint, e.g. http://127.0.0.1:3000/slack/events */
  url: string;
  signingSecret: string;
  team?: SlackTeam;
  /** api_app_id sent in every request. Default 'A0TIMEBOX'. */
  appId?: string;
  /**
   * Given, a command whose ack is empty (acked before any I/O) resolves with the answer the app
   * then posts on the command's response_url, as Slack shows it; forms (no text, or `group`) are
   * acked first too, and resolve once their modal is open (with the ack) or with the answer on the
   * response_url (a refusal, or Slack failing to open the form).
   */
  answers?: ResponseUrlLog;
}

const ANSWER_TIMEOUT_MS = 15_000;

export interface CommandParams {
  userId: string;
  userName?: string;
  text: string;
  /** Default '/aws-access'. */
  command?: string;
  channelId?: string;
  channelName?: string;
  triggerId?: string;
  responseUrl: string;
}

export interface BlockActionParams {
  userId: string;
  userName?: string;
  actionId: string;
  value: string;
  /** Defaults to the block_id of the button in `message` (when given), else a generated id. */
  blockId?: string;
  channelId?: string;
  messageTs?: string;
  responseUrl: string;
  /**
   * The message the button was clicked in (e.g. a message recorded by the Slack stand-in, or a
   * Web API `message` object). When it has blocks, the button must be in them with the same value,
   * exactly as only a real button can be clicked.
   */
  message?: unknown;
  /** True when the clicked message was ephemeral (Slack then sends no `message`). */
  isEphemeral?: boolean;
  triggerId?: string;
}

export interface ViewSubmissionParams {
  userId: string;
  userName?: string;
  callbackId: string;
  /** state.values: { [block_id]: { [action_id]: { type, value | selected_option | ... } } } */
  values: Record<string, Record<string, unknown>>;
  privateMetadata?: string;
  viewId?: string;
  /** The submitted view's blocks (optional; Slack echoes the view back). */
  blocks?: unknown[];
  title?: string;
  hash?: string;
  triggerId?: string;
}

export interface BlockSuggestionParams {
  userId: string;
  userName?: string;
  actionId: string;
  blockId?: string;
  /** What the user has typed so far. */
  value: string;
  viewId?: string;
  callbackId?: string;
  privateMetadata?: string;
}

export interface RawOptions {
  /** Seconds since the epoch for X-Slack-Request-Timestamp (default: now). */
  timestamp?: number;
  /** Override the signature; null omits the X-Slack-Signature header. Default: a correct signature. */
  signature?: string | null;
  /** Default 'application/x-www-form-urlencoded'. */
  contentType?: string;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Computes Slack's v0 request signature for a raw body. */
export function slackSignature(signingSecret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/** A trigger id shaped like Slack's (e.g. 1234567890.1234567890.0123456789abcdef0123456789abcdef). */
export function newTriggerId(): string {
  const n = () => String(Math.floor(Math.random() * 9e9) + 1e9);
  return `${n()}.${n()}.${randomBytes(16).toString('hex')}`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function actionTs(): string {
  return `${(Date.now() / 1000).toFixed(6)}`;
}

/** Finds the interactive element with `actionId` in a list of blocks, with its block_id. */
function findElement(blocks: unknown[], actionId: string): { element: Json; blockId: string | undefined } | undefined {
  for (const block of blocks) {
    if (!isRecord(block)) continue;
    const blockId = typeof block.block_id === 'string' ? block.block_id : undefined;
    const candidates: unknown[] = [];
    if (Array.isArray(block.elements)) candidates.push(...block.elements);
    if (block.accessory !== undefined) candidates.push(block.accessory);
    if (block.element !== undefined) candidates.push(block.element);
    for (const el of candidates) {
      if (isRecord(el) && el.action_id === actionId) return { element: el, blockId };
    }
  }
  return undefined;
}

export class SlackRequestSender {
  private readonly url: string;
  private readonly signingSecret: string;
  private readonly team: SlackTeam;
  private readonly appId: string;
  private readonly verificationToken = 'legacy-verification-token';

  constructor(options: SlackRequestSenderOptions) {
    this.url = options.url;
    this.signingSecret = options.signingSecret;
    this.team = options.team ?? { id: 'T0TIMEBOX', domain: 'timebox-test' };
    this.appId = options.appId ?? 'A0TIMEBOX';
    this.answers = options.answers;
  }

  private readonly answers: ResponseUrlLog | undefined;

  /** A slash command, form-encoded with the fields Slack sends, in Slack's order. */
  async command(params: CommandParams): Promise<SignedResponse> {
    const form = this.commandForm(params);
    const acked = await this.raw(form.toString());
    const isForm = ['', 'group'].includes(params.text.trim().toLowerCase());
    if (!this.answers || acked.status !== 200 || acked.body.trim() !== '') return acked;
    const triggerId = form.get('trigger_id');
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    for (;;) {
      const answer = this.answers.responses(params.responseUrl)[0];
      if (answer) {
        const text = JSON.stringify(answer.body);
        return { ...acked, body: text, json: () => JSON.parse(text) as unknown };
      }
      if (isForm && this.answers.openedViews().some((v) => v.trigger_id === triggerId)) return acked;
      if (Date.now() > deadline) throw new Error(`no answer on ${params.responseUrl} within ${ANSWER_TIMEOUT_MS} ms of an empty ack`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** The fields of a slash command, as Slack sends them (form-encoded over HTTP, a JSON object over Socket Mode). */
  commandForm(params: CommandParams): URLSearchParams {
    const channelId = params.channelId ?? 'C0TIMEBOX';
    const form = new URLSearchParams();
    form.set('token', this.verificationToken);
    form.set('team_id', this.team.id);
    form.set('team_domain', this.team.domain);
    form.set('channel_id', channelId);
    form.set('channel_name', params.channelName ?? (channelId.startsWith('D') ? 'directmessage' : 'general'));
    form.set('user_id', params.userId);
    form.set('user_name', params.userName ?? params.userId.toLowerCase());
    form.set('command', params.command ?? '/aws-access');
    form.set('text', params.text);
    form.set('api_app_id', this.appId);
    form.set('is_enterprise_install', 'false');
    form.set('response_url', params.responseUrl);
    form.set('trigger_id', params.triggerId ?? newTriggerId());
    return form;
  }

  /** A button click (`block_actions`) in a message. */
  async blockAction(params: BlockActionParams): Promise<SignedResponse> {
    return this.sendPayload(this.blockActionPayload(params));
  }

  /** The `block_actions` payload of a button click (the `payload=` field over HTTP, the envelope's payload over Socket Mode). */
  blockActionPayload(params: BlockActionParams): Json {
    const channelId = params.channelId ?? (isRecord(params.message) && typeof params.message.channel === 'string'
      ? params.message.channel
      : 'C0TIMEBOX');
    const messageTs = params.messageTs ?? (isRecord(params.message) && typeof params.message.ts === 'string'
      ? params.message.ts
      : `${nowSeconds()}.000100`);

    let blockId = params.blockId;
    let buttonText: unknown = { type: 'plain_text', text: params.actionId, emoji: true };
    let messageJson: Json | undefined;
    if (isRecord(params.message)) {
      const m = params.message;
      const blocks = Array.isArray(m.blocks) ? m.blocks : undefined;
      if (blocks && blocks.length > 0) {
        const found = findElement(blocks, params.actionId);
        if (!found) {
          throw new Error(`blockAction: the message has no element with action_id ${JSON.stringify(params.actionId)}`);
        }
        if (found.element.value !== undefined && found.element.value !== params.value) {
          throw new Error(
            `blockAction: button ${JSON.stringify(params.actionId)} has value ${JSON.stringify(found.element.value)}, ` +
              `not ${JSON.stringify(params.value)}`,
          );
        }
        if (params.blockId !== undefined && found.blockId !== undefined && found.blockId !== params.blockId) {
          throw new Error(
            `blockAction: button ${JSON.stringify(params.actionId)} is in block ${JSON.stringify(found.blockId)}, ` +
              `not ${JSON.stringify(params.blockId)}`,
          );
        }
        blockId ??= found.blockId;
        if (found.element.text !== undefined) buttonText = found.element.text;
      }
      messageJson = {
        type: 'message',
        subtype: 'bot_message',
        text: typeof m.text === 'string' ? m.text : '',
        ts: messageTs,
        bot_id: typeof m.bot_id === 'string' ? m.bot_id : 'B0TIMEBOX',
        ...(blocks !== undefined ? { blocks } : {}),
      };
    }
    blockId ??= `b${randomBytes(3).toString('hex')}`;

    const userName = params.userName ?? params.userId.toLowerCase();
    const payload: Json = {
      type: 'block_actions',
      user: { id: params.userId, username: userName, name: userName, team_id: this.team.id },
      api_app_id: this.appId,
      token: this.verificationToken,
      container: {
        type: 'message',
        message_ts: messageTs,
        channel_id: channelId,
        is_ephemeral: params.isEphemeral === true,
      },
      trigger_id: params.triggerId ?? newTriggerId(),
      team: { id: this.team.id, domain: this.team.domain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: channelId, name: channelId.startsWith('D') ? 'directmessage' : 'general' },
      ...(params.isEphemeral === true ? {} : { message: messageJson ?? { type: 'message', text: '', ts: messageTs } }),
      state: { values: {} },
      response_url: params.responseUrl,
      actions: [
        {
          action_id: params.actionId,
          block_id: blockId,
          text: buttonText,
          value: params.value,
          type: 'button',
          action_ts: actionTs(),
        },
      ],
    };
    return payload;
  }

  /** A modal submission (`view_submission`). */
  async viewSubmission(params: ViewSubmissionParams): Promise<SignedResponse> {
    const userName = params.userName ?? params.userId.toLowerCase();
    const viewId = params.viewId ?? `V0${randomBytes(4).toString('hex').toUpperCase()}`;
    const payload: Json = {
      type: 'view_submission',
      team: { id: this.team.id, domain: this.team.domain },
      user: { id: params.userId, username: userName, name: userName, team_id: this.team.id },
      api_app_id: this.appId,
      token: this.verificationToken,
      trigger_id: params.triggerId ?? newTriggerId(),
      view: {
        id: viewId,
        team_id: this.team.id,
        type: 'modal',
        blocks: params.blocks ?? [],
        private_metadata: params.privateMetadata ?? '',
        callback_id: params.callbackId,
        state: { values: params.values },
        hash: params.hash ?? `${nowSeconds()}.${randomBytes(4).toString('hex')}`,
        title: { type: 'plain_text', text: params.title ?? 'Timebox', emoji: true },
        clear_on_close: false,
        notify_on_close: false,
        close: null,
        submit: { type: 'plain_text', text: 'Submit', emoji: true },
        previous_view_id: null,
        root_view_id: viewId,
        app_id: this.appId,
        external_id: '',
        app_installed_team_id: this.team.id,
        bot_id: 'B0TIMEBOX',
      },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
    return this.sendPayload(payload);
  }

  /** An external-select options request (`block_suggestion`) from a modal. */
  async blockSuggestion(params: BlockSuggestionParams): Promise<SignedResponse> {
    return this.sendPayload(this.blockSuggestionPayload(params));
  }

  /** The payload blockSuggestion sends. */
  blockSuggestionPayload(params: BlockSuggestionParams): Json {
    const userName = params.userName ?? params.userId.toLowerCase();
    const viewId = params.viewId ?? `V0${randomBytes(4).toString('hex').toUpperCase()}`;
    const blockId = params.blockId ?? `b${randomBytes(3).toString('hex')}`;
    const payload: Json = {
      type: 'block_suggestion',
      user: { id: params.userId, username: userName, name: userName, team_id: this.team.id },
      container: { type: 'view', view_id: viewId },
      api_app_id: this.appId,
      token: this.verificationToken,
      action_id: params.actionId,
      block_id: blockId,
      value: params.value,
      team: { id: this.team.id, domain: this.team.domain },
      enterprise: null,
      is_enterprise_install: false,
      view: {
        id: viewId,
        team_id: this.team.id,
        type: 'modal',
        private_metadata: params.privateMetadata ?? '',
        callback_id: params.callbackId ?? '',
        state: { values: {} },
        app_id: this.appId,
        root_view_id: viewId,
        previous_view_id: null,
      },
    };
    return payload;
  }

  /** Sends `body` as-is, signed correctly unless `options.signature` says otherwise. */
  async raw(body: string, options: RawOptions = {}): Promise<SignedResponse> {
    const timestamp = options.timestamp ?? nowSeconds();
    const headers: Record<string, string> = {
      'Content-Type': options.contentType ?? 'application/x-www-form-urlencoded',
      'X-Slack-Request-Timestamp': String(timestamp),
      'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    };
    const signature = options.signature === undefined ? slackSignature(this.signingSecret, timestamp, body) : options.signature;
    if (signature !== null) headers['X-Slack-Signature'] = signature;
    const sent = performance.now();
    const response = await fetch(this.url, { method: 'POST', headers, body });
    const text = await response.text();
    const ackMs = performance.now() - sent;
    return {
      status: response.status,
      body: text,
      ackMs,
      json(): unknown {
        try {
          return JSON.parse(text);
        } catch {
          throw new Error(`Response (HTTP ${response.status}) is not JSON: ${JSON.stringify(text.slice(0, 500))}`);
        }
      },
    };
  }

  private sendPayload(payload: Json): Promise<SignedResponse> {
    return this.raw(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  }
}
