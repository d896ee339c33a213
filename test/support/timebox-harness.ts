import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import pino from 'pino';
import { messageOf, type RequestStatus } from '../../src/domain/access-request';
import { viewOf, type RequestView } from './request-view';
import type { AuditEvent } from '../../src/domain/audit';
import { readLocalEnv } from '../../src/config/env';
import { parseConfig } from '../../src/config/load-config';
import type { WorkflowOptions } from '../../src/app/deps';
import type { Catalogue, Clock, Logger } from '../../src/app/ports';
import { startLocalRuntime, type LocalRuntime } from '../../src/entrypoints/local-runtime';
import { settleHomeRefreshes } from '../../src/app/home';
import type { DiscoveryTuning } from '../../src/entrypoints/catalogue-wiring';
import { AwsStandIn } from './aws-stand-in';
import { eventually } from './eventually';
import { SlackRequestSender, type BlockActionParams, type SignedResponse } from './slack-requests';
import { SlackStandIn, type SlackMessage } from './slack-stand-in';
import { findRequestId } from '../../src/domain/request-id';

export const SIGNING_SECRET = 'e2e-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-test';
export const SOCKET_MODE_APP_TOKEN = 'xapp-test';

/**
 * `who` clicking the button `actionId` (value `requestId`) on `message`, as Slack would send it,
 * with a fresh response_url attributed to them. The message's own channel is where the click happened.
 */
export function buttonClick(
  slack: SlackStandIn,
  who: { id: string; name: string },
  actionId: string,
  requestId: string,
  message: SlackMessage,
): BlockActionParams {
  return {
    userId: who.id,
    userName: who.name,
    actionId,
    value: requestId,
    channelId: message.channel,
    messageTs: message.ts,
    message,
    responseUrl: slack.responseUrl({ userId: who.id, channelId: message.channel, messageTs: message.ts }),
  };
}

/** A TCP port free on loopback right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
/**
 * How long past its window's end an end-to-end test lets a grant be held: a correctness bound
 * (the window's own timer, or a short test sweep, removed it; the local sweep runs every 30 s),
 * not a speed target (revoke lateness is the benchmark's, docs/BENCHMARKS.md). The 2-3 s bounds
 * it replaces left a busy machine (an event loop stalled by GC, the CPU taken by the suites beside
 * this one) too little room for the revoke's own AWS and store round trips.
 */
export const REVOKED_WITHIN_MS = 10_000;
export const APPROVAL_CHANNEL = 'C0APPROVALS';
export const INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
export const IDENTITY_STORE_ID = 'd-1234567890';
/** The head of a config that discovers its accounts and permission sets (large-orgs tests): its rules follow. */
export const DISCOVERING_CONFIG_HEAD = `
identityCenter:
  instanceArn: ${INSTANCE_ARN}
  identityStoreId: ${IDENTITY_STORE_ID}
slack:
  approvalChannel: ${APPROVAL_CHANNEL}
accounts: discover
permissionSets: discover
durations:
  default: 1h
  min: 1s
rules:`;
export const ACCOUNTS = { staging: '111111111111', production: '222222222222' } as const;
export const PERMISSION_SETS = {
  ReadOnly: 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1111111111111111',
  Admin: 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222',
} as const;

/** People in the test workspace, with their Identity Center user ids. */
export const PEOPLE = {
  carol: { id: 'U0CAROL000', name: 'carol', email: 'carol@example.com', principalId: '9067c0ffee-ca201000-0000-4000-8000-000000000001' },
  alice: { id: 'U0ALICE000', name: 'alice', email: 'alice@example.com', principalId: '9067c0ffee-a11ce000-0000-4000-8000-000000000002' },
  bob: { id: 'U0BOB00000', name: 'bob', email: 'bob@example.com', principalId: '9067c0ffee-b0b00000-0000-4000-8000-000000000003' },
  dave: { id: 'U0DAVE0000', name: 'dave', email: 'dave@example.com', principalId: '9067c0ffee-da5e0000-0000-4000-8000-000000000004' },
} as const;
export type PersonName = keyof typeof PEOPLE;

/** Identity Center groups in the test config: oncall is auto-approved, db-admins needs an approver. */
export const GROUPS = {
  oncall: '9067c0ffee-0c0a1100-0000-4000-8000-0000000000a1',
  'db-admins': '9067c0ffee-dbad0000-0000-4000-8000-0000000000a2',
} as const;

export function testConfigYaml(extraRules = ''): string {
  return `
identityCenter:
  instanceArn: ${INSTANCE_ARN}
  identityStoreId: ${IDENTITY_STORE_ID}
slack:
  approvalChannel: ${APPROVAL_CHANNEL}
accounts:
  staging: "${ACCOUNTS.staging}"
  production: "${ACCOUNTS.production}"
permissionSets:
  ReadOnly: ${PERMISSION_SETS.ReadOnly}
  Admin: ${PERMISSION_SETS.Admin}
groups:
  oncall: ${GROUPS.oncall}
  db-admins: ${GROUPS['db-admins']}
durations:
  default: 1h
  min: 1s
rules:${extraRules}
  - name: staging-readonly
    accounts: [staging]
    permissionSets: [ReadOnly]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 8h
  - name: prod-admin
    accounts: [production]
    permissionSets: [Admin, ReadOnly]
    requesters: ["*"]
    approvers: [alice@example.com, U0BOB00000]
    maxDuration: 1h
  - name: oncall-group
    groups: [oncall]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 8h
  - name: db-admins-group
    groups: [db-admins]
    requesters: ["*"]
    approvers: [alice@example.com, U0BOB00000]
    maxDuration: 1h
`;
}

export interface HarnessOptions {
  configYaml?: string;
  /** Socket Mode (SLACK_APP_TOKEN set) instead of HTTP: Slack's traffic comes over the stand-in's WebSocket. */
  socketMode?: boolean;
  workflow?: Partial<WorkflowOptions>;
  sweepIntervalMs?: number;
  /** Start on this embedded data directory (e.g. a copy of a store an older release wrote) instead of a new one. */
  dataDir?: string;
  /** Timebox's clock, for stores written at another time; Slack's signing still uses the real one. */
  clock?: Clock;
  /** How long Slack user groups are cached (the default is 5 minutes). */
  slackUserGroupCacheMs?: number;
  /** Called with the stand-ins before Timebox starts, to set up the world it wakes up in. */
  beforeStart?: (aws: AwsStandIn) => void;
  /** Where Timebox logs (silent, or TIMEBOX_TEST_LOG's level, when unset): a test that checks what operators are told collects it. */
  logger?: Logger;
  /** What can be granted, instead of the config's own lists (e.g. accounts with OU paths and tags, as discovery would give); required when the config discovers. */
  catalogue?: Catalogue;
  /** The discovering catalogue's pace and refresh interval, when the config discovers and no catalogue is given. */
  discovery?: DiscoveryTuning;
}

/**
 * The real local process (Bolt over HTTP, dynalite on disk, real SDK clients) wired to the
 * Slack and AWS stand-ins, plus a signed-request sender playing Slack's side.
 */
export class TimeboxHarness {
  runtime!: LocalRuntime;
  sender!: SlackRequestSender;

  private constructor(
    readonly aws: AwsStandIn,
    readonly slack: SlackStandIn,
    readonly dataDir: string,
    private options: HarnessOptions,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<TimeboxHarness> {
    const aws = await AwsStandIn.start({ creationPolls: 1, deletionPolls: 1 });
    const slack = await SlackStandIn.start({ users: Object.values(PEOPLE).map(({ id, name, email }) => ({ id, name, email })), token: BOT_TOKEN });
    for (const p of Object.values(PEOPLE)) aws.addUser({ userId: p.principalId, email: p.email, identityStoreId: IDENTITY_STORE_ID });
    for (const [displayName, groupId] of Object.entries(GROUPS)) aws.addGroup({ groupId, displayName, identityStoreId: IDENTITY_STORE_ID });
    options.beforeStart?.(aws);
    const harness = new TimeboxHarness(aws, slack, options.dataDir ?? mkdtempSync(join(tmpdir(), 'timebox-e2e-')), options);
    await harness.startRuntime();
    return harness;
  }

  /** Starts (again) the Timebox process on the same data directory. */
  async startRuntime(): Promise<void> {
    // The SDK reads AWS_ENDPOINT_URL_* when a client is built, as it would in production.
    Object.assign(process.env, this.aws.env());
    const env = readLocalEnv({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: this.slack.apiUrl,
      // Socket Mode serves /healthz on PORT from Bolt's own server, which cannot report a port 0 pick.
      ...(this.options.socketMode ? { SLACK_APP_TOKEN: SOCKET_MODE_APP_TOKEN, PORT: String(await freePort()) } : { PORT: '0' }),
      TIMEBOX_DATA_DIR: this.dataDir,
      LOG_LEVEL: 'silent',
    });
    this.runtime = await startLocalRuntime({
      env,
      config: parseConfig(this.options.configYaml ?? testConfigYaml(), 'test config'),
      logger: this.options.logger ?? pino({ level: process.env.TIMEBOX_TEST_LOG ?? 'silent' }),
      identityCenter: { pollDelaysMs: [20, 40, 80], pollBudgetMs: 5_000 },
      workflow: { leasePollMs: 20, leaseWaitMs: 5_000, revokeRetryMs: 200, newsRetryMs: 200, ...this.options.workflow },
      ...(this.options.sweepIntervalMs ? { sweepIntervalMs: this.options.sweepIntervalMs } : {}),
      ...(this.options.clock ? { clock: this.options.clock } : {}),
      ...(this.options.slackUserGroupCacheMs !== undefined ? { slackUserGroupCacheMs: this.options.slackUserGroupCacheMs } : {}),
      ...(this.options.catalogue ? { catalogue: this.options.catalogue } : {}),
      ...(this.options.discovery ? { discovery: this.options.discovery } : {}),
    });
    this.sender = new SlackRequestSender({ url: `${this.runtime.url}/slack/events`, signingSecret: SIGNING_SECRET, answers: this.slack });
  }

  /** Restarts the process on the same data directory with an edited config, as a deploy of a config change would. */
  async restartWithConfig(configYaml: string): Promise<void> {
    this.options.configYaml = configYaml;
    await this.restart();
  }

  /** Stops the process without waiting for anything in flight, as a crash would leave it. */
  async restart(): Promise<void> {
    await this.runtime.stop();
    await this.startRuntime();
  }

  /** Waits until the work already handed out is done: the queue's jobs, and the App Home publishes they asked for. */
  async settled(): Promise<void> {
    await this.runtime.queue.drain();
    await settleHomeRefreshes(this.runtime.deps.home, { cancel: false });
  }

  async stop(): Promise<void> {
    await this.runtime.stop();
    await this.slack.close();
    await this.aws.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Types `/aws-access <text>` as `who`; returns Slack's HTTP response and the ephemeral text. */
  async command(who: PersonName, text: string): Promise<{ response: SignedResponse; text: string }> {
    const person = PEOPLE[who];
    const response = await this.sender.command({
      userId: person.id,
      userName: person.name,
      text,
      channelId: 'C0GENERAL0',
      responseUrl: this.slack.responseUrl({ userId: person.id, channelId: 'C0GENERAL0' }),
    });
    const body = response.body ? (JSON.parse(response.body) as { text?: string }) : {};
    return { response, text: body.text ?? '' };
  }

  /** Files a request and returns its id, read from the ephemeral confirmation. */
  async file(who: PersonName, text: string): Promise<string> {
    const { text: reply } = await this.command(who, text);
    const id = findRequestId(reply);
    if (!id) throw new Error(`no request id in reply: ${reply}`);
    return id;
  }

  /** The approvals-channel message of a request, once posted and recorded on the request. */
  async approvalMessage(requestId: string): Promise<SlackMessage> {
    await eventually(async () => messageOf((await this.runtime.deps.store.getRequest(requestId)) ?? { messages: [] }, 'channel')?.ref, 10_000, `${requestId} to record its message`);
    return this.slack.waitFor(
      () => this.slack.messagesIn(APPROVAL_CHANNEL).find((m) => JSON.stringify(m.blocks ?? []).includes(requestId)),
      10_000,
      `approval message for ${requestId}`,
    );
  }

  /** Clicks Approve or Deny on the request's channel message as `who`; returns the ephemeral replies it caused. */
  async click(who: PersonName, decision: 'approve' | 'deny', requestId: string, staleMessage?: SlackMessage): Promise<SignedResponse> {
    const message = staleMessage ?? (await this.approvalMessage(requestId));
    return this.sender.blockAction(buttonClick(this.slack, PEOPLE[who], decision === 'approve' ? 'timebox_approve' : 'timebox_deny', requestId, message));
  }

  /** Clicks "End access now" as `who` on `message` (the requester's DM or the channel message). */
  async clickEnd(who: PersonName, requestId: string, message: SlackMessage): Promise<SignedResponse> {
    return this.sender.blockAction(buttonClick(this.slack, PEOPLE[who], 'timebox_end', requestId, message));
  }

  /** The requester's "access is active" DM for a request (it carries the End button). */
  activeDm(who: PersonName, requestId: string): Promise<SlackMessage> {
    return this.slack.waitFor(
      () => this.slack.dmsTo(PEOPLE[who].id).find((m) => (m.history[0]?.text ?? '').includes(requestId) && (m.history[0]?.text ?? '').includes('is active until')),
      10_000,
      `the active DM for ${requestId}`,
    );
  }

  async request(requestId: string): Promise<RequestView> {
    const found = await this.runtime.deps.store.getRequest(requestId);
    if (!found) throw new Error(`no request ${requestId}`);
    return viewOf(found);
  }

  /** Waits until the request's status (derived from its grants) is `status`. */
  async waitForStatus(requestId: string, status: RequestStatus, timeoutMs = 15_000): Promise<RequestView> {
    let last: RequestView | undefined;
    return eventually(
      async () => {
        const found = await this.runtime.deps.store.getRequest(requestId);
        last = found ? viewOf(found) : undefined;
        return last?.status === status ? last : undefined;
      },
      timeoutMs,
      `${requestId} to be ${status}`,
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)} (last seen: ${last?.status ?? 'nothing'})`);
    });
  }

  /**
   * The request's audit trail as Timebox guarantees it: the log, plus the events of the last write
   * that still travel on the item (they are appended just after the write, so a read right after
   * a status change may come before them).
   */
  async audit(requestId: string): Promise<AuditEvent[]> {
    const [logged, request] = await Promise.all([this.runtime.deps.store.listAudit(requestId), this.runtime.deps.store.getRequest(requestId)]);
    const seen = new Set(logged.map((e) => e.seq));
    const travelling = (request?.lastEvents ?? []).filter((e) => !seen.has(e.seq));
    return [...logged, ...travelling].sort((a, b) => a.at - b.at || a.seq.localeCompare(b.seq));
  }

  /**
   * What replacing the store under a running process leaves (a table recreated, a restore from
   * a backup older than the grants): every item gone, while the process and its timers go on.
   */
  async replaceStore(): Promise<void> {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.runtime.dynamo.send(new ScanCommand({ TableName: 'timebox', ProjectionExpression: 'pk, sk', ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) await this.runtime.dynamo.send(new DeleteItemCommand({ TableName: 'timebox', Key: { pk: item.pk!, sk: item.sk! } }));
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** How many requests the store holds (a scan of the table: tests only). */
  async storedRequestCount(): Promise<number> {
    let count = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.runtime.dynamo.send(
        new ScanCommand({ TableName: 'timebox', FilterExpression: 'kind = :k', ExpressionAttributeValues: { ':k': { S: 'request' } }, ExclusiveStartKey: start }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  }

  /** Each grant's status, in grant order ("1", "2", …). */
  async grantStatuses(requestId: string): Promise<RequestStatus[]> {
    return (await this.runtime.deps.store.getRequest(requestId))?.grants.map((g) => g.status) ?? [];
  }

  /** Waits until the grants' statuses are exactly `statuses`, in grant order. */
  async waitForGrants(requestId: string, statuses: RequestStatus[], timeoutMs = 15_000): Promise<void> {
    let last: RequestStatus[] = [];
    await eventually(
      async () => {
        last = await this.grantStatuses(requestId);
        return JSON.stringify(last) === JSON.stringify(statuses) ? true : undefined;
      },
      timeoutMs,
      `${requestId}'s grants to be ${statuses.join(', ')}`,
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)} (last seen: ${last.join(', ')})`);
    });
  }

  isMember(who: PersonName, group: keyof typeof GROUPS): boolean {
    return this.aws.isMember({ groupId: GROUPS[group], userId: PEOPLE[who].principalId });
  }

  hasAssignment(who: PersonName, account: keyof typeof ACCOUNTS, permissionSet: keyof typeof PERMISSION_SETS): boolean {
    return this.aws.hasAssignment({
      instanceArn: INSTANCE_ARN,
      accountId: ACCOUNTS[account],
      permissionSetArn: PERMISSION_SETS[permissionSet],
      principalId: PEOPLE[who].principalId,
    });
  }

  /** Runs `action` and returns the next ephemeral message `who` receives because of it. */
  async nextEphemeral(who: PersonName, action: () => Promise<unknown>): Promise<string> {
    const before = this.ephemeralTextsTo(who).length;
    await action();
    return this.slack.waitFor(() => this.ephemeralTextsTo(who)[before], 5000, `an ephemeral reply to ${who}`);
  }

  ephemeralTextsTo(who: PersonName): string[] {
    return this.slack.ephemeralsTo(PEOPLE[who].id).map((m) => m.text ?? '');
  }

  /** The DMs `who` got, as sent (the "active" DM is rewritten once the window is over). */
  dmTextsTo(who: PersonName): string[] {
    return this.slack.dmsTo(PEOPLE[who].id).map((m) => m.history[0]?.text ?? m.text ?? '');
  }
}
