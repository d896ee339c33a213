/**
 * An in-process stand-in for the Slack Web API (and for response_url endpoints), for end-to-end tests.
 *
 * Point Bolt's WebClient at it with `clientOptions: { slackApiUrl: standIn.apiUrl }`. Like Slack, every
 * Web API answer is HTTP 200 with `{ ok: true, ... }` or `{ ok: false, error }` (faults injected with
 * `injectFault` are the exception). Request bodies are parsed the way @slack/web-api sends them:
 * application/x-www-form-urlencoded with nested values (blocks, view, attachments, metadata)
 * JSON-stringified; application/json bodies are accepted too.
 *
 * Workspace model:
 *  - Users are registered with `start({ users })` / `addUser`. Any C.../G... channel id is accepted.
 *  - The app's DM with user U is the channel `D${U}`. chat.postMessage to a user id U posts there
 *    (as Slack does) and the response's `channel` is `D${U}`, which must be used for chat.update.
 *  - Unknown users are rejected (users.info → user_not_found, conversations.open → user_not_found,
 *    chat.postMessage to U/D → channel_not_found, chat.postEphemeral → user_not_found).
 *  - Deactivated users → user_disabled; bot users cannot be DMed (cannot_dm_bot).
 *  - Trigger ids are single-use (a second views.open/views.push with the same one → exchanged_trigger_id).
 *  - response_url: a URL minted by `responseUrl()` accepts at most 5 posts (as Slack documents).
 *  - views.publish sets a user's Home tab (type "home", at most 100 blocks, else invalid_blocks); `homeOf` reads it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';
import { checkBlockKit, checkHomeView, checkModalView, BLOCK_KIT_LIMITS } from './block-kit-limits';
import { SocketModeLink } from './slack-socket-mode';

export interface SlackUser {
  id: string;
  name: string;
  email?: string;
  isBot?: boolean;
  deleted?: boolean;
  /** Their own workspace when it is not the stand-in's (a Slack Connect user). */
  teamId?: string;
  /** A multi-channel (`is_restricted`) or single-channel (`is_ultra_restricted`) guest. */
  guest?: 'multi' | 'single';
  /** Slack's is_stranger: met through a shared channel, from another organisation. */
  stranger?: boolean;
}

/** A Slack user group (a "subteam"), mentioned as @handle. */
export interface SlackUserGroup {
  id: string;
  handle: string;
  name?: string;
  users: string[];
  /** Disabled groups are left out of usergroups.list unless include_disabled is set. */
  disabled?: boolean;
}

export interface SlackMessageVersion {
  text?: string;
  blocks?: unknown[];
}

export interface SlackMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  /** For ephemerals: the user who sees the message. */
  user?: string;
  /** thread_ts the message was posted in, if any. */
  threadTs?: string;
  /** True once chat.delete or a response_url `delete_original` removed it. */
  deleted?: boolean;
  /** For messages created through a response_url: that URL. */
  responseUrl?: string;
  /** Every version, oldest first; chat.update (and response_url replace_original) append. */
  history: SlackMessageVersion[];
}

export interface SlackApiCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
}

export interface SlackFault {
  /** HTTP status to answer with (e.g. 429, 500). Defaults to 429 when retryAfterSeconds is set. */
  status?: number;
  /** Sets the Retry-After header (seconds). */
  retryAfterSeconds?: number;
  /** With no status: answer HTTP 200 `{ ok: false, error }`. With a status: the error code in the body. */
  error?: string;
  /** Wait this long before answering (alone: a slow but otherwise normal response). */
  delayMs?: number;
}

export interface ResponseUrlContext {
  /** The user the response_url belongs to (ephemeral replies are attributed to them). */
  userId?: string;
  /** The channel the command / interaction happened in. */
  channelId?: string;
  /** The ts of the message a button was clicked in (for replace_original / delete_original). */
  messageTs?: string;
}

export interface RecordedResponse {
  url: string;
  body: Record<string, unknown>;
}

export interface OpenedView {
  trigger_id: string;
  /** The view exactly as the app sent it. */
  view: unknown;
  /** The id the stand-in assigned (V...). */
  id: string;
}

export interface SlackStandInOptions {
  users?: SlackUser[];
  /** Bot token the app must present. Default 'xoxb-test'. */
  token?: string;
  /** App-level token for apps.connections.open (Socket Mode). Default 'xapp-test'. */
  appToken?: string;
  teamId?: string;
  teamDomain?: string;
  botUserId?: string;
  botId?: string;
  appId?: string;
}

type Json = Record<string, unknown>;

const MAX_RESPONSE_URL_USES = 5;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class ApiFailure extends Error {
  constructor(
    readonly code: string,
    readonly extra: Json = {},
  ) {
    super(code);
  }
}

function invalidArguments(message: string): ApiFailure {
  return new ApiFailure('invalid_arguments', { response_metadata: { messages: [`[ERROR] ${message}`] } });
}

function invalidBlocks(problems: string[]): ApiFailure {
  return new ApiFailure('invalid_blocks', {
    errors: problems,
    response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) },
  });
}

function optString(args: Json, key: string): string | undefined {
  const v = args[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function requireString(args: Json, key: string): string {
  const v = optString(args, key);
  if (v === undefined || v === '') throw invalidArguments(`missing required field: ${key}`);
  return v;
}

function flag(args: Json, key: string): boolean {
  const v = args[key];
  return v === true || v === 'true' || v === '1' || v === 1;
}

/** Fields @slack/web-api JSON-stringifies inside form bodies, and the error Slack gives when they are not JSON. */
const JSON_FIELDS: Record<string, string> = {
  blocks: 'invalid_blocks_format',
  attachments: 'invalid_attachments',
  view: 'invalid_arguments',
  metadata: 'invalid_metadata_format',
};

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function sendText(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

export class SlackStandIn {
  readonly apiUrl: string;
  readonly calls: SlackApiCall[] = [];
  /** Socket Mode: the WebSocket side (see slack-socket-mode.ts). */
  readonly socketMode: SocketModeLink;

  private readonly baseUrl: string;
  private readonly token: string;
  private readonly appToken: string;
  private readonly teamId: string;
  private readonly teamDomain: string;
  private readonly botUserId: string;
  private readonly botId: string;
  private readonly appId: string;

  private readonly users = new Map<string, SlackUser>();
  private readonly userGroups = new Map<string, SlackUserGroup>();
  private messages: SlackMessage[] = [];
  private ephemerals: SlackMessage[] = [];
  private recordedResponses: RecordedResponse[] = [];
  private responseUrls = new Map<string, { context: ResponseUrlContext; uses: number }>();
  private opened: OpenedView[] = [];
  private views = new Map<string, Json>();
  /** Each user's Home tab, every version published, oldest first. */
  private homes = new Map<string, Json[]>();
  private usedTriggers = new Set<string>();
  private openDms = new Set<string>();
  /** Channels the bot can no longer post to, and what Slack answers (see setChannelState). */
  private closedChannels = new Map<string, 'is_archived' | 'not_in_channel'>();
  private faults = new Map<string, SlackFault[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private tsCounter = 0;
  private idCounter = 0;
  private responseUrlCounter = 0;
  private closed = false;

  private constructor(
    private readonly server: http.Server,
    port: number,
    options: SlackStandInOptions,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.baseUrl}/api/`;
    this.token = options.token ?? 'xoxb-test';
    this.appToken = options.appToken ?? 'xapp-test';
    this.teamId = options.teamId ?? 'T0TIMEBOX';
    this.teamDomain = options.teamDomain ?? 'timebox-test';
    this.botUserId = options.botUserId ?? 'U0TIMEBOXBOT';
    this.botId = options.botId ?? 'B0TIMEBOX';
    this.appId = options.appId ?? 'A0TIMEBOX';
    for (const u of options.users ?? []) this.addUser(u);
    this.socketMode = new SocketModeLink(server, `ws://127.0.0.1:${port}`, this.appId);
  }

  static async start(options: SlackStandInOptions = {}): Promise<SlackStandIn> {
    const holder: { instance?: SlackStandIn } = {};
    const server = http.createServer((req, res) => {
      if (!holder.instance) {
        sendText(res, 503, 'starting');
        return;
      }
      holder.instance
        .handle(req, res).catch((err: unknown) => {
        const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
        sendText(res, 500, `slack stand-in internal error: ${message}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const instance = new SlackStandIn(server, port, options);
    holder.instance = instance;
    return instance;
  }

  // ---------------------------------------------------------------------------------------------
  // Inspection API
  // ---------------------------------------------------------------------------------------------

  private readonly callHooks: Array<(call: SlackApiCall) => void | Promise<void>> = [];

  /**
   * Runs `hook` on every Web API call as it arrives, before it is answered. A hook that returns a
   * promise holds the answer until it settles (e.g. until another write has landed meanwhile).
   */
  onCall(hook: (call: SlackApiCall) => void | Promise<void>): void {
    this.callHooks.push(hook);
  }

  callsTo(method: string): SlackApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  addUser(u: SlackUser): void {
    this.users.set(u.id, { ...u });
  }

  /** Creates a user group (ids are S…, handles unique, as Slack requires). */
  addUserGroup(g: SlackUserGroup): void {
    if (!/^S[A-Z0-9]{2,}$/.test(g.id)) throw new Error(`addUserGroup: ${g.id} is not a user group id (S…)`);
    if ([...this.userGroups.values()].some((x) => x.handle === g.handle && x.id !== g.id)) throw new Error(`addUserGroup: handle ${g.handle} is taken`);
    this.userGroups.set(g.id, { ...g, users: [...g.users] });
  }

  /** Replaces a user group's members, as usergroups.users.update would. */
  setUserGroupMembers(id: string, users: string[]): void {
    const group = this.userGroups.get(id);
    if (!group) throw new Error(`no user group ${id}`);
    group.users = [...users];
  }

  /** Deactivates a user, as an admin offboarding them would: DMs to them fail with user_disabled. */
  deactivateUser(userId: string): void {
    const user = this.users.get(userId);
    if (!user) throw new Error(`no user ${userId}`);
    user.deleted = true;
  }

  /**
   * 'archived': posts and updates in the channel fail with is_archived; 'bot_removed': with
   * not_in_channel (the bot was removed, or never invited); 'open' undoes either.
   */
  setChannelState(channel: string, state: 'archived' | 'bot_removed' | 'open'): void {
    if (state === 'open') this.closedChannels.delete(channel);
    else this.closedChannels.set(channel, state === 'archived' ? 'is_archived' : 'not_in_channel');
  }

  /** Messages posted to a channel (not ephemerals, not deleted ones). For a DM pass its D... id. */
  messagesIn(channel: string): SlackMessage[] {
    return this.messages.filter((m) => m.channel === channel && !m.deleted);
  }

  /** Messages posted to the user's DM (D<userId>) or to the user id directly. */
  dmsTo(userId: string): SlackMessage[] {
    return this.messagesIn(`D${userId}`);
  }

  /** chat.postEphemeral messages and response_url ephemeral replies seen by the user. */
  ephemeralsTo(userId: string): SlackMessage[] {
    return this.ephemerals.filter((m) => m.user === userId && !m.deleted);
  }

  /** Every message (channel, DM and ephemeral), including deleted ones, in posting order. */
  allMessages(): SlackMessage[] {
    return [...this.messages, ...this.ephemerals].sort((a, b) => Number(a.ts) - Number(b.ts));
  }

  /** views.open calls that succeeded, in order. */
  openedViews(): OpenedView[] {
    return [...this.opened];
  }

  /** Current state of a view (after views.update), as Slack would return it. */
  viewById(id: string): Json | undefined {
    return this.views.get(id);
  }

  /** Mint a response_url. Give the context so replies can be attributed (ephemeral to userId, replace_original to messageTs). */
  responseUrl(context: ResponseUrlContext = {}): string {
    this.responseUrlCounter += 1;
    const url = `${this.baseUrl}/respond/${this.responseUrlCounter}`;
    this.responseUrls.set(url, { context: { ...context }, uses: 0 });
    return url;
  }

  /** Accepted response_url posts (all, or for one URL), in order. */
  responses(url?: string): RecordedResponse[] {
    return this.recordedResponses.filter((r) => url === undefined || r.url === url);
  }

  /**
   * Make the next `times` calls to `method` fail or be slow. Use the Web API method name
   * (e.g. 'chat.postMessage'), 'response_url' for response_url posts, or '*' for any call.
   */
  injectFault(method: string, fault: SlackFault, times = 1): void {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i += 1) queue.push({ ...fault });
    this.faults.set(method, queue);
  }

  /**
   * Poll `probe` every 20ms until it returns something other than undefined/false/null, and return that.
   * A probe that throws is treated as "not yet" (its last error is reported on timeout).
   */
  async waitFor<T>(probe: () => T | undefined | false | null, timeoutMs = 10_000, description?: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const value = probe();
        if (value !== undefined && value !== false && value !== null) return value;
        lastError = undefined;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const what = description ?? `probe ${probe.toString().replace(/\s+/g, ' ').slice(0, 300)}`;
    const recent = this.calls
      .slice(-10)
      .map((c) => c.method)
      .join(', ');
    const last =
      lastError === undefined ? '' : ` Last probe error: ${lastError instanceof Error ? lastError.message : String(lastError)}.`;
    throw new Error(
      `SlackStandIn.waitFor timed out after ${timeoutMs}ms waiting for ${what}.${last} ` +
        `Last Slack calls (${this.calls.length} total): ${recent || 'none'}.`,
    );
  }

  /** Drops the faults not yet used (for one method, or all). */
  clearFaults(method?: string): void {
    if (method === undefined) this.faults.clear();
    else this.faults.delete(method);
  }

  /** Forget calls, messages, responses, views and pending faults (users are kept). */
  reset(): void {
    this.calls.length = 0;
    this.messages = [];
    this.ephemerals = [];
    this.recordedResponses = [];
    this.responseUrls = new Map();
    this.opened = [];
    this.views = new Map();
    this.homes = new Map();
    this.usedTriggers = new Set();
    this.openDms = new Set();
    this.closedChannels = new Map();
    this.faults = new Map();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.socketMode.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP plumbing
  // ---------------------------------------------------------------------------------------------

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const raw = await readBody(req);
    if (url.pathname.startsWith('/api/')) {
      await this.handleApi(decodeURIComponent(url.pathname.slice('/api/'.length)), req, url, raw, res);
      return;
    }
    if (/^\/respond\/\d+$/.test(url.pathname)) {
      await this.handleResponseUrl(`${this.baseUrl}${url.pathname}`, req, raw, res);
      return;
    }
    sendText(res, 404, 'not found');
  }

  /** Consumes the next fault for `method`; returns true when it produced the response. */
  private async applyFault(method: string, res: http.ServerResponse, kind: 'api' | 'respond'): Promise<boolean> {
    let fault: SlackFault | undefined;
    for (const key of [method, '*']) {
      const queue = this.faults.get(key);
      if (queue && queue.length > 0) {
        fault = queue.shift();
        if (queue.length === 0) this.faults.delete(key);
        break;
      }
    }
    if (!fault) return false;
    if (fault.delayMs !== undefined && fault.delayMs > 0) await this.sleep(fault.delayMs);
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
    if (fault.status !== undefined || fault.retryAfterSeconds !== undefined) {
      const status = fault.status ?? 429;
      const error = fault.error ?? (status === 429 ? 'ratelimited' : 'internal_error');
      if (kind === 'api') sendJson(res, status, { ok: false, error }, headers);
      else sendText(res, status, error, headers);
      return true;
    }
    if (fault.error !== undefined) {
      if (kind === 'api') sendJson(res, 200, { ok: false, error: fault.error });
      else sendText(res, 404, fault.error);
      return true;
    }
    return false;
  }

  private parseArgs(
    req: http.IncomingMessage,
    url: URL,
    raw: string,
  ): { args: Json; token: string | undefined; failure?: ApiFailure } {
    const args: Json = {};
    for (const [k, v] of url.searchParams) args[k] = v;
    let failure: ApiFailure | undefined;
    const contentType = (req.headers['content-type'] ?? '').toLowerCase();
    if (raw.length > 0) {
      if (contentType.startsWith('application/json')) {
        try {
          const parsed: unknown = JSON.parse(raw);
          if (isRecord(parsed)) Object.assign(args, parsed);
          else failure = new ApiFailure('invalid_json');
        } catch {
          failure = new ApiFailure('invalid_json');
        }
      } else {
        const form = parseQueryString(raw);
        for (const [k, v] of Object.entries(form)) args[k] = Array.isArray(v) ? v[v.length - 1] : v;
      }
    }
    for (const [field, error] of Object.entries(JSON_FIELDS)) {
      const v = args[field];
      if (typeof v !== 'string') continue;
      try {
        args[field] = JSON.parse(v);
      } catch {
        failure ??=
          field === 'view' ? invalidArguments(`${field} must be a JSON-encoded object`) : new ApiFailure(error);
      }
    }
    const auth = req.headers.authorization;
    let token: string | undefined;
    if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) token = auth.replace(/^Bearer\s+/i, '').trim();
    if (token === undefined && typeof args.token === 'string') token = args.token;
    delete args.token;
    return { args, token, failure };
  }

  private async handleApi(
    method: string,
    req: http.IncomingMessage,
    url: URL,
    raw: string,
    res: http.ServerResponse,
  ): Promise<void> {
    const { args, token, failure } = this.parseArgs(req, url, raw);
    const call = { method, args, at: Date.now() };
    this.calls.push(call);
    for (const hook of this.callHooks) await hook(call);
    if (await this.applyFault(method, res, 'api')) return;
    try {
      if (method === 'apps.connections.open') {
        // Only the app-level token opens connections; a bot token is the wrong kind.
        if (token === this.token) throw new ApiFailure('not_allowed_token_type');
        if (token !== this.appToken) throw new ApiFailure('invalid_auth');
        sendJson(res, 200, { ok: true, url: this.socketMode.newUrl() });
        return;
      }
      if (token !== this.token) throw new ApiFailure('invalid_auth');
      if (failure) throw failure;
      const handler = this.methods[method];
      if (!handler) throw new ApiFailure('unknown_method');
      const result = handler(args);
      sendJson(res, 200, { ok: true, ...result });
    } catch (err) {
      if (err instanceof ApiFailure) {
        sendJson(res, 200, { ok: false, error: err.code, ...err.extra });
        return;
      }
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Web API methods
  // ---------------------------------------------------------------------------------------------

  private readonly methods: Record<string, (args: Json) => Json> = {
    'auth.test': () => ({
      url: `https://${this.teamDomain}.slack.com/`,
      team: 'Timebox Test',
      user: 'timebox',
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (args) => this.postMessage(args),
    'chat.update': (args) => this.updateMessage(args),
    'chat.delete': (args) => this.deleteMessage(args),
    'chat.postEphemeral': (args) => this.postEphemeral(args),
    'conversations.open': (args) => this.conversationsOpen(args),
    'users.info': (args) => {
      const id = optString(args, 'user');
      const user = id === undefined ? undefined : this.users.get(id);
      if (!user) throw new ApiFailure('user_not_found');
      return { user: this.userJson(user) };
    },
    'users.lookupByEmail': (args) => {
      const email = requireString(args, 'email').toLowerCase();
      const user = [...this.users.values()].find((u) => u.email?.toLowerCase() === email);
      if (!user) throw new ApiFailure('users_not_found');
      return { user: this.userJson(user) };
    },
    'usergroups.list': (args) => {
      const withDisabled = flag(args, 'include_disabled');
      return {
        usergroups: [...this.userGroups.values()].filter((g) => withDisabled || !g.disabled).map((g) => this.userGroupJson(g, flag(args, 'include_users'), flag(args, 'include_count'))),
      };
    },
    'usergroups.users.list': (args) => {
      const group = this.userGroups.get(requireString(args, 'usergroup'));
      if (!group || (group.disabled && !flag(args, 'include_disabled'))) throw new ApiFailure('no_such_subteam');
      return { users: [...group.users] };
    },
    'views.open': (args) => this.openView(args, 'views.open'),
    'views.push': (args) => this.openView(args, 'views.push'),
    'views.update': (args) => this.updateView(args),
    'views.publish': (args) => this.publishHome(args),
  };

  private nextTs(): string {
    this.tsCounter += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  private nextId(prefix: string): string {
    this.idCounter += 1;
    return `${prefix}0${String(this.idCounter).padStart(8, '0')}`;
  }

  /** The shape of a usergroups.list entry (@slack/web-api's Usergroup). */
  private userGroupJson(g: SlackUserGroup, withUsers: boolean, withCount: boolean): Json {
    return {
      id: g.id,
      team_id: this.teamId,
      is_usergroup: true,
      is_subteam: true,
      name: g.name ?? g.handle,
      description: '',
      handle: g.handle,
      is_external: false,
      date_create: 1_700_000_000,
      date_update: 1_700_000_000,
      date_delete: g.disabled ? 1_700_000_100 : 0,
      created_by: this.botUserId,
      updated_by: this.botUserId,
      prefs: { channels: [], groups: [] },
      ...(withUsers ? { users: [...g.users] } : {}),
      ...(withCount ? { user_count: g.users.length } : {}),
    };
  }

  private userJson(u: SlackUser): Json {
    return {
      id: u.id,
      team_id: u.teamId ?? this.teamId,
      name: u.name,
      deleted: u.deleted === true,
      is_restricted: u.guest !== undefined,
      is_ultra_restricted: u.guest === 'single',
      ...(u.stranger ? { is_stranger: true } : {}),
      real_name: u.name,
      is_bot: u.isBot === true,
      is_app_user: false,
      tz: 'Etc/UTC',
      profile: {
        real_name: u.name,
        display_name: u.name,
        team: u.teamId ?? this.teamId,
        ...(u.email !== undefined ? { email: u.email } : {}),
      },
    };
  }

  /** Resolves a channel argument the way Slack does for posting: U... → the app's DM with that user. */
  private resolvePostChannel(channel: string | undefined): string {
    if (channel === undefined || channel === '') throw new ApiFailure('channel_not_found');
    if (/^[UW]/.test(channel) || channel.startsWith('D')) {
      const userId = channel.startsWith('D') ? channel.slice(1) : channel;
      const user = this.users.get(userId);
      if (!user) throw new ApiFailure('channel_not_found');
      if (user.deleted) throw new ApiFailure('user_disabled');
      if (user.isBot) throw new ApiFailure('cannot_dm_bot');
      return `D${userId}`;
    }
    if (/^[CG]/.test(channel)) {
      const closed = this.closedChannels.get(channel);
      if (closed) throw new ApiFailure(closed);
      return channel;
    }
    throw new ApiFailure('channel_not_found');
  }

  /** Extracts and validates text / blocks; returns which of them were supplied. */
  private messageContent(args: Json): { text?: string; blocks?: unknown[]; hasText: boolean; hasBlocks: boolean } {
    const text = optString(args, 'text');
    let blocks: unknown[] | undefined;
    if (args.blocks !== undefined) {
      if (!Array.isArray(args.blocks)) throw new ApiFailure('invalid_blocks_format');
      blocks = args.blocks;
      const problems = checkBlockKit('message', blocks);
      if (problems.length > 0) throw invalidBlocks(problems);
    }
    if (text !== undefined && text.length > BLOCK_KIT_LIMITS.messageText) throw new ApiFailure('msg_too_long');
    const hasAttachments = Array.isArray(args.attachments) && args.attachments.length > 0;
    const hasText = text !== undefined && text !== '';
    const hasBlocks = blocks !== undefined && blocks.length > 0;
    if (!hasText && !hasBlocks && !hasAttachments) throw new ApiFailure('no_text');
    return { text, blocks, hasText, hasBlocks };
  }

  private messageJson(m: SlackMessage): Json {
    return {
      type: 'message',
      text: m.text ?? '',
      ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
      user: this.botUserId,
      bot_id: this.botId,
      app_id: this.appId,
      team: this.teamId,
      ts: m.ts,
      ...(m.threadTs !== undefined ? { thread_ts: m.threadTs } : {}),
    };
  }

  private postMessage(args: Json): Json {
    const channel = this.resolvePostChannel(optString(args, 'channel'));
    const { text, blocks } = this.messageContent(args);
    const ts = this.nextTs();
    const threadTs = optString(args, 'thread_ts');
    const message: SlackMessage = {
      channel,
      ts,
      text,
      blocks,
      ...(threadTs !== undefined ? { threadTs } : {}),
      history: [{ text, blocks }],
    };
    this.messages.push(message);
    return { channel, ts, message: this.messageJson(message) };
  }

  private findMessage(channel: string, ts: string): SlackMessage {
    if (/^[UW]/.test(channel)) throw new ApiFailure('channel_not_found');
    const closed = this.closedChannels.get(channel);
    if (closed) throw new ApiFailure(closed);
    const message = this.messages.find((m) => m.channel === channel && m.ts === ts && !m.deleted);
    if (!message) throw new ApiFailure('message_not_found');
    return message;
  }

  private updateMessage(args: Json): Json {
    const channel = requireString(args, 'channel');
    const ts = requireString(args, 'ts');
    const message = this.findMessage(channel, ts);
    const { text, blocks } = this.messageContent(args);
    // Slack keeps the previous blocks / text when the update omits them.
    if (args.text !== undefined) message.text = text;
    if (args.blocks !== undefined) message.blocks = blocks;
    message.history.push({ text: message.text, blocks: message.blocks });
    return { channel, ts, text: message.text ?? '', message: this.messageJson(message) };
  }

  private deleteMessage(args: Json): Json {
    const channel = requireString(args, 'channel');
    const ts = requireString(args, 'ts');
    const message = this.findMessage(channel, ts);
    message.deleted = true;
    return { channel, ts };
  }

  private postEphemeral(args: Json): Json {
    const userId = requireString(args, 'user');
    const user = this.users.get(userId);
    if (!user) throw new ApiFailure('user_not_found');
    if (user.deleted) throw new ApiFailure('user_disabled');
    const channel = this.resolvePostChannel(optString(args, 'channel'));
    const { text, blocks } = this.messageContent(args);
    const ts = this.nextTs();
    this.ephemerals.push({ channel, ts, text, blocks, user: userId, history: [{ text, blocks }] });
    return { message_ts: ts };
  }

  private conversationsOpen(args: Json): Json {
    const existing = optString(args, 'channel');
    if (existing !== undefined && existing !== '') {
      const userId = existing.startsWith('D') ? existing.slice(1) : undefined;
      if (userId === undefined || !this.users.has(userId)) throw new ApiFailure('channel_not_found');
      return { no_op: true, already_open: true, channel: { id: existing } };
    }
    const rawUsers = args.users;
    const ids = (Array.isArray(rawUsers) ? rawUsers.map(String) : (optString(args, 'users') ?? '').split(','))
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (ids.length === 0) throw invalidArguments('missing required field: users (or channel)');
    if (ids.length > 1) throw invalidArguments('the Slack stand-in only supports 1:1 DMs in conversations.open');
    const userId = ids[0] as string;
    const user = this.users.get(userId);
    if (!user) throw new ApiFailure('user_not_found');
    if (user.deleted) throw new ApiFailure('user_disabled');
    if (user.isBot) throw new ApiFailure('cannot_dm_bot');
    const id = `D${userId}`;
    const already = this.openDms.has(id);
    this.openDms.add(id);
    return { no_op: already, already_open: already, channel: { id } };
  }

  private claimTrigger(args: Json): string {
    const triggerId = requireString(args, 'trigger_id');
    if (this.usedTriggers.has(triggerId)) throw new ApiFailure('exchanged_trigger_id');
    return triggerId;
  }

  private validatedView(args: Json): Json {
    const view = args.view;
    if (view === undefined) throw invalidArguments('missing required field: view');
    if (!isRecord(view)) throw invalidArguments('view must be a JSON-encoded object');
    const problems = checkModalView(view);
    if (problems.length > 0) throw invalidBlocks(problems);
    return view;
  }

  private viewJson(id: string, view: Json, rootId: string, previousId: string | null): Json {
    return {
      id,
      team_id: this.teamId,
      type: view.type,
      blocks: view.blocks,
      private_metadata: view.private_metadata ?? '',
      callback_id: view.callback_id ?? '',
      state: { values: {} },
      hash: `${Date.now()}.${this.nextId('h')}`,
      title: view.title,
      clear_on_close: view.clear_on_close === true,
      notify_on_close: view.notify_on_close === true,
      close: view.close ?? null,
      submit: view.submit ?? null,
      previous_view_id: previousId,
      root_view_id: rootId,
      app_id: this.appId,
      external_id: view.external_id ?? '',
      app_installed_team_id: this.teamId,
      bot_id: this.botId,
    };
  }

  private openView(args: Json, method: 'views.open' | 'views.push'): Json {
    const triggerId = this.claimTrigger(args);
    const view = this.validatedView(args);
    this.usedTriggers.add(triggerId);
    const id = this.nextId('V');
    const stored = this.viewJson(id, view, id, null);
    this.views.set(id, stored);
    if (method === 'views.open') this.opened.push({ trigger_id: triggerId, view, id });
    return { view: stored };
  }

  private updateView(args: Json): Json {
    const viewId = optString(args, 'view_id');
    const externalId = optString(args, 'external_id');
    if (!viewId && !externalId) throw invalidArguments('missing required field: view_id or external_id');
    const current = viewId
      ? this.views.get(viewId)
      : [...this.views.values()].find((v) => v.external_id === externalId && externalId !== '');
    if (!current) throw new ApiFailure('not_found');
    const hash = optString(args, 'hash');
    if (hash !== undefined && hash !== current.hash) throw new ApiFailure('hash_conflict');
    const view = this.validatedView(args);
    const id = String(current.id);
    const updated = this.viewJson(id, view, String(current.root_view_id), (current.previous_view_id as string | null) ?? null);
    this.views.set(id, updated);
    return { view: updated };
  }

  /** views.publish: `user_id` and a `home` view (ViewsPublishArguments); an optional `hash` must be the current one. */
  private publishHome(args: Json): Json {
    const userId = optString(args, 'user_id');
    if (userId === undefined || userId === '') throw invalidArguments('missing required field: user_id');
    const user = this.users.get(userId);
    if (!user) throw new ApiFailure('user_not_found');
    if (user.isBot) throw new ApiFailure('cannot_dm_bot');
    const view = args.view;
    if (view === undefined) throw invalidArguments('missing required field: view');
    if (!isRecord(view)) throw invalidArguments('view must be a JSON-encoded object');
    const problems = checkHomeView(view);
    if (problems.length > 0) throw invalidBlocks(problems);
    const versions = this.homes.get(userId) ?? [];
    const current = versions[versions.length - 1];
    const hash = optString(args, 'hash');
    if (hash !== undefined && current !== undefined && hash !== current.hash) throw new ApiFailure('hash_conflict');
    const id = current === undefined ? this.nextId('V') : String(current.id);
    const stored = this.viewJson(id, view, id, null);
    versions.push(stored);
    this.homes.set(userId, versions);
    this.views.set(id, stored);
    return { view: stored };
  }

  /** The Home tab `userId` sees now (the last view published to them), if any. */
  homeOf(userId: string): { blocks: unknown[]; hash: string } | undefined {
    const versions = this.homes.get(userId);
    const last = versions?.[versions.length - 1];
    return last ? { blocks: last.blocks as unknown[], hash: String(last.hash) } : undefined;
  }

  /** How many times a Home was published to `userId`. */
  homePublishCount(userId: string): number {
    return this.homes.get(userId)?.length ?? 0;
  }

  // ---------------------------------------------------------------------------------------------
  // response_url
  // ---------------------------------------------------------------------------------------------

  private async handleResponseUrl(
    url: string,
    req: http.IncomingMessage,
    raw: string,
    res: http.ServerResponse,
  ): Promise<void> {
    let body: Json = {};
    let parsedOk = true;
    try {
      const parsed: unknown = raw.length > 0 ? JSON.parse(raw) : {};
      if (isRecord(parsed)) body = parsed;
      else parsedOk = false;
    } catch {
      parsedOk = false;
    }
    this.calls.push({ method: 'response_url', args: { url, ...body }, at: Date.now() });
    if (await this.applyFault('response_url', res, 'respond')) return;
    if (req.method !== 'POST') return sendText(res, 405, 'method_not_allowed');
    if (!parsedOk) return sendText(res, 400, 'invalid_payload');
    const entry = this.responseUrls.get(url);
    if (!entry) return sendText(res, 404, 'expired_url');
    if (entry.uses >= MAX_RESPONSE_URL_USES) return sendText(res, 404, 'used_url');

    const deleteOriginal = flag(body, 'delete_original');
    const replaceOriginal = flag(body, 'replace_original');
    const text = typeof body.text === 'string' ? body.text : undefined;
    let blocks: unknown[] | undefined;
    if (body.blocks !== undefined) {
      if (!Array.isArray(body.blocks)) return sendText(res, 400, 'invalid_blocks_format');
      blocks = body.blocks;
      if (checkBlockKit('message', blocks).length > 0) return sendText(res, 400, 'invalid_blocks');
    }
    if (text !== undefined && text.length > BLOCK_KIT_LIMITS.messageText) return sendText(res, 400, 'msg_too_long');
    if (!deleteOriginal && !(text !== undefined && text !== '') && !(blocks !== undefined && blocks.length > 0)) {
      return sendText(res, 400, 'no_text');
    }

    entry.uses += 1;
    this.recordedResponses.push({ url, body });
    const { userId, channelId, messageTs } = entry.context;
    const original =
      channelId !== undefined && messageTs !== undefined
        ? [...this.messages, ...this.ephemerals].find((m) => m.channel === channelId && m.ts === messageTs && !m.deleted)
        : undefined;

    if (deleteOriginal) {
      if (original) original.deleted = true;
    } else if (replaceOriginal) {
      if (original) {
        if (text !== undefined) original.text = text;
        if (blocks !== undefined) original.blocks = blocks;
        original.history.push({ text: original.text, blocks: original.blocks });
      }
    } else if (body.response_type === 'in_channel') {
      if (channelId !== undefined) {
        this.messages.push({ channel: channelId, ts: this.nextTs(), text, blocks, responseUrl: url, history: [{ text, blocks }] });
      }
    } else if (userId !== undefined) {
      // response_type 'ephemeral' is Slack's default for response_url replies.
      this.ephemerals.push({
        channel: channelId ?? '',
        ts: this.nextTs(),
        text,
        blocks,
        user: userId,
        responseUrl: url,
        history: [{ text, blocks }],
      });
    }
    sendJson(res, 200, { ok: true });
  }
}
