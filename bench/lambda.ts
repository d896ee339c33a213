/**
 * The AWS path, measured: the bundles `npm run build:lambda` builds, each run by plain `node`
 * processes (bench/lambda-host.ts), against the stand-ins behind latency proxies that add what
 * the real services cost over the network, DynamoDB being dynalite in this process behind its own
 * proxy (which also counts its requests). Lambda's async invocations (an Invoke arriving at the AWS
 * stand-in, or a schedule firing) run in the sandboxes of the function they name: the worker's
 * pool (10 reserved), or the sweep's (unreserved), which is also the waiter that schedules fired
 * ahead of a window's end invoke. Schedules fire as EventBridge Scheduler fires them
 * (bench/scheduler-stand-in.ts).
 */
import { functionUrlEvent as lambdaEvent } from '../test/support/lambda-events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml } from 'yaml';
import { DynamoDbStore } from '../src/adapters/dynamodb/dynamodb-store';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../src/adapters/dynamodb/embedded-dynamodb';
import { AwsStandIn } from '../test/support/aws-stand-in';
import { SlackRequestSender } from '../test/support/slack-requests';
import { SlackStandIn, type SlackMessage } from '../test/support/slack-stand-in';
import { APPROVAL_CHANNEL, BOT_TOKEN, buttonClick, GROUPS, IDENTITY_STORE_ID, PEOPLE, SIGNING_SECRET } from '../test/support/timebox-harness';
import { LatencyProxy, type ProxiedRequest } from './latency-proxy';
import { coldRun, LambdaPool, type ColdResult } from './lambda-host';
import { APPROVAL_TEXT, type ApproverPool, type BenchUser, People } from './people';
import { SchedulerStandIn } from './scheduler-stand-in';
import { median } from './stats';
import { messageOf } from '../src/domain/access-request';

/** Network latency each service adds per call, ms (the figures; Scheduler is not given there, 20 ms is assumed). */
export const LATENCY_MS = { slack: 80, dynamodb: 10, lambda: 20, secretsManager: 30, identityCenter: 40, scheduler: 20 } as const;

const WORKER = 'timebox-worker';
/** Cold-start runs hand their work to a function nothing runs: the worker's work is not on the user's clock. */
const COLD_WORKER = 'timebox-worker-cold-start-runs';
const WORKER_ARN = `arn:aws:lambda:us-east-1:123456789012:function:${WORKER}`;
/** The Slack function's name, as Lambda gives it (AWS_LAMBDA_FUNCTION_NAME): it hands requests to itself under it (lazy listeners). */
const SLACK = 'timebox-slack';
/**
 * Sandboxes the benchmark runs for the Slack function at most (HTTP invocations and lazy listeners
 * alike). Lambda would run as many as the account's unreserved concurrency allows; a 2-core machine
 * cannot run hundreds of node processes, so past this an invocation waits, which can only make the
 * AWS-path load figures worse than Lambda's.
 */
export const SLACK_SANDBOXES = 20;
/** Cold-start runs hand their requests to this name; they are run after the run, off its clock, to check what was filed. */
const COLD_SLACK = 'timebox-slack-cold-start-runs';
/** The sweep function, also the waiter (TIMEBOX_WAITER_ARN) that schedules fired ahead of their time invoke, as the stack names it. */
const SWEEP = 'timebox-sweep';
export const WAITER_ARN = `arn:aws:lambda:us-east-1:123456789012:function:${SWEEP}`;
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:timebox-slack-AbCdEf';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/timebox-scheduler';
const DLQ_ARN = 'arn:aws:sqs:us-east-1:123456789012:timebox-dlq';
const GROUP = 'timebox-schedules';

export interface Bundles {
  slack: string;
  worker: string;
  sweep: string;
  floor: string;
}

/** A Lambda Function URL event carrying `body` signed as Slack signs it. */
export function functionUrlEvent(body: string): Record<string, unknown> {
  return lambdaEvent(body, { signingSecret: SIGNING_SECRET });
}

/** Which request a DynamoDB call is about: its key names the request, or a lease of the request's user. */
function keysIn(body: Buffer): string[] {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return [];
  }
  const pks: string[] = [];
  const pk = (item: unknown) => {
    const v = (item as { pk?: { S?: string } } | undefined)?.pk?.S;
    if (typeof v === 'string') pks.push(v);
  };
  pk(parsed.Key);
  pk(parsed.Item);
  const values = parsed.ExpressionAttributeValues as Record<string, { S?: string }> | undefined;
  if (values?.[':pk']?.S) pks.push(values[':pk'].S);
  return pks;
}

export class LambdaRig {
  readonly people: People;
  readonly proxies: Record<keyof typeof LATENCY_MS, LatencyProxy>;
  readonly slackPool: LambdaPool;
  /** Runs the requests cold-start runs handed to themselves, once each run is over. */
  readonly coldLazyPool: LambdaPool;
  readonly workerPool: LambdaPool;
  readonly sweepPool: LambdaPool;
  readonly scheduler: SchedulerStandIn;
  readonly store: DynamoDbStore;
  /** DynamoDB requests seen at the proxy (operation and when), by the request (id) they were about. */
  readonly dynamoByRequest = new Map<string, Array<{ op: string; at: number }>>();
  readonly dynamoUnattributed = new Map<string, number>();
  /** Async invocations (Invoke or a schedule) of a function the rig does not run, by name or ARN. */
  readonly unrouted = new Map<string, number>();
  private readonly principalToRequest = new Map<string, string>();
  private readonly dir: string;
  readonly slackApiUrl: string;

  private constructor(
    readonly aws: AwsStandIn,
    readonly slack: SlackStandIn,
    readonly dynamo: EmbeddedDynamoDb,
    proxies: Record<keyof typeof LATENCY_MS, LatencyProxy>,
    readonly bundles: Bundles,
    dir: string,
    readonly configFile: string,
  ) {
    this.people = new People('L', slack, aws);
    this.proxies = proxies;
    this.dir = dir;
    this.slackApiUrl = `${proxies.slack.url}/api/`;
    this.store = new DynamoDbStore(dynamo.client, dynamo.tableName);
    // The Slack function reserves no concurrency: its HTTP invocations and the lazy listeners it
    // hands itself come out of the account's unreserved pool, never the worker's 10 reserved slots.
    this.slackPool = new LambdaPool('slack', bundles.slack, this.timeboxEnv(WORKER, SLACK), SLACK_SANDBOXES);
    this.coldLazyPool = new LambdaPool('slack-cold-lazy', bundles.slack, this.timeboxEnv(COLD_WORKER), Number.POSITIVE_INFINITY);
    // The stack reserves 10 concurrent executions for the worker.
    this.workerPool = new LambdaPool('worker', bundles.worker, this.timeboxEnv(WORKER), 10);
    // The sweep reserves none: its invocations (the 5-minute sweep, and every schedule fired ahead
    // of a window's end, waiting there for up to 2 minutes) come out of the account's unreserved pool.
    this.sweepPool = new LambdaPool('sweep', bundles.sweep, this.timeboxEnv(WORKER), Number.POSITIVE_INFINITY);
    aws.onCall((call) => {
      if (call.operation !== 'Invoke') return;
      const input = call.input as { FunctionName?: string; Payload?: string };
      // Cold-start runs hand their work to a function nothing runs (their lazy listeners run after the run).
      if (input.FunctionName === COLD_WORKER || input.FunctionName === COLD_SLACK) return;
      this.invokeAsync(input.FunctionName ?? '', JSON.parse(input.Payload || '{}'));
    });
    this.scheduler = new SchedulerStandIn(aws, (targetArn, input) => this.invokeAsync(targetArn, input));
  }

  static async start(bundles: Bundles, configYaml: string, approvers: ApproverPool): Promise<LambdaRig> {
    const aws = await AwsStandIn.start({ creationPolls: 1, deletionPolls: 1 });
    const slack = await SlackStandIn.start({ users: Object.values(PEOPLE).map(({ id, name, email }) => ({ id, name, email })), token: BOT_TOKEN });
    for (const p of Object.values(PEOPLE)) aws.addUser({ userId: p.principalId, email: p.email, identityStoreId: IDENTITY_STORE_ID });
    for (const [displayName, groupId] of Object.entries(GROUPS)) aws.addGroup({ groupId, displayName, identityStoreId: IDENTITY_STORE_ID });
    approvers.registerWith(slack, aws);
    aws.putSecret(SECRET_ARN, JSON.stringify({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET }));
    const dynamo = await startEmbeddedDynamoDb(undefined);
    const holder: { rig?: LambdaRig } = {};
    const slackBase = new URL(slack.apiUrl).origin;
    const proxies = {
      slack: await LatencyProxy.start('slack', slackBase, LATENCY_MS.slack),
      dynamodb: await LatencyProxy.start('dynamodb', dynamo.endpoint, LATENCY_MS.dynamodb, (req) => holder.rig?.countDynamo(req)),
      lambda: await LatencyProxy.start('lambda', aws.url, LATENCY_MS.lambda),
      secretsManager: await LatencyProxy.start('secrets-manager', aws.url, LATENCY_MS.secretsManager),
      identityCenter: await LatencyProxy.start('identity-center', aws.url, LATENCY_MS.identityCenter),
      scheduler: await LatencyProxy.start('scheduler', aws.url, LATENCY_MS.scheduler),
    };
    const dir = mkdtempSync(join(tmpdir(), 'timebox-bench-lambda-'));
    // As /var/task/timebox.json: the YAML as the JSON the stack bundles.
    const configFile = join(dir, 'timebox.json');
    writeFileSync(configFile, JSON.stringify(parseYaml(configYaml)));
    const rig = new LambdaRig(aws, slack, dynamo, proxies, bundles, dir, configFile);
    holder.rig = rig;
    return rig;
  }

  /** The environment the stack gives every function, pointed at the proxies. */
  timeboxEnv(workerFunction: string, slackFunction?: string): Record<string, string> {
    const p = this.proxies;
    return {
      PATH: process.env.PATH ?? '',
      // Lambda names each function in its sandbox; the Slack function hands requests to itself by it.
      ...(slackFunction ? { AWS_LAMBDA_FUNCTION_NAME: slackFunction } : {}),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIASTANDINDUMMYKEY0',
      AWS_SECRET_ACCESS_KEY: 'stand-in-dummy-secret',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_ENDPOINT_URL_DYNAMODB: p.dynamodb.url,
      AWS_ENDPOINT_URL_LAMBDA: p.lambda.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: p.secretsManager.url,
      AWS_ENDPOINT_URL_SSO_ADMIN: p.identityCenter.url,
      AWS_ENDPOINT_URL_IDENTITYSTORE: p.identityCenter.url,
      AWS_ENDPOINT_URL_SCHEDULER: p.scheduler.url,
      TIMEBOX_TABLE: this.dynamo.tableName,
      TIMEBOX_SECRET_ARN: SECRET_ARN,
      TIMEBOX_CONFIG: this.configFile,
      TIMEBOX_WORKER_FUNCTION: workerFunction,
      TIMEBOX_WORKER_ARN: WORKER_ARN,
      TIMEBOX_WAITER_ARN: WAITER_ARN,
      TIMEBOX_SCHEDULE_GROUP: GROUP,
      TIMEBOX_SCHEDULER_ROLE_ARN: ROLE_ARN,
      TIMEBOX_DLQ_ARN: DLQ_ARN,
      SLACK_API_URL: this.slackApiUrl,
      // As the stack sets it (infra/lib/timebox-stack.ts).
      NODE_OPTIONS: '--enable-source-maps',
    };
  }

  /** A bare Bolt app's environment: its token and signing secret as plain variables. */
  floorEnv(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: this.slackApiUrl,
      NODE_OPTIONS: '--enable-source-maps',
    };
  }

  /** A response_url that goes through the Slack proxy, as Slack's own would be across the internet. */
  responseUrl(userId: string, channelId = 'C0GENERAL0'): string {
    return this.viaProxy(this.slack.responseUrl({ userId, channelId }));
  }

  private viaProxy(standInUrl: string): string {
    return standInUrl.replace(new URL(this.slack.apiUrl).origin, this.proxies.slack.url);
  }

  /** A slash command as a Function URL event, and the response_url (as the stand-in records it) it carries. */
  command(user: BenchUser, text: string): { event: Record<string, unknown>; responseUrl: string } {
    const sender = new SlackRequestSender({ url: 'http://unused', signingSecret: SIGNING_SECRET });
    const responseUrl = this.slack.responseUrl({ userId: user.id, channelId: 'C0GENERAL0' });
    const body = sender.commandForm({ userId: user.id, userName: user.name, text, channelId: 'C0GENERAL0', responseUrl: this.viaProxy(responseUrl) }).toString();
    return { event: functionUrlEvent(body), responseUrl };
  }

  /** The request id Timebox gave for a command: in its reply, or (an empty reply) posted on its response_url within `timeoutMs`. */
  async filedId(replyBody: string | undefined, responseUrl: string, timeoutMs = 10_000): Promise<string | undefined> {
    const idIn = (text: string) => /`(R-[0-9A-Z]{10})`/.exec(text)?.[1];
    const inReply = idIn(replyBody ?? '');
    if (inReply) return inReply;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const posted = this.slack.responses(responseUrl)[0];
      if (posted) return idIn(String(posted.body.text ?? ''));
      if (Date.now() > deadline) return undefined;
      await sleep(10);
    }
  }

  clickEvent(approver: BenchUser, requestId: string, message: SlackMessage): Record<string, unknown> {
    const sender = new SlackRequestSender({ url: 'http://unused', signingSecret: SIGNING_SECRET });
    const params = buttonClick(this.slack, approver, 'timebox_approve', requestId, message);
    const payload = sender.blockActionPayload({ ...params, responseUrl: this.responseUrl(approver.id, APPROVAL_CHANNEL) });
    return functionUrlEvent(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  }

  noteRequester(principalId: string, requestId: string): void {
    this.principalToRequest.set(principalId, requestId);
  }

  countDynamo(req: ProxiedRequest): void {
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.split('.')[1] ?? 'unknown';
    const owner = keysIn(req.body)
      .map((pk) => (pk.startsWith('REQ#') ? pk.slice(4) : pk.startsWith('LEASE#') ? this.principalToRequest.get(pk.slice(6).split('|')[0] ?? '') : undefined))
      .find((x): x is string => x !== undefined);
    if (owner === undefined) {
      this.dynamoUnattributed.set(op, (this.dynamoUnattributed.get(op) ?? 0) + 1);
      return;
    }
    const list = this.dynamoByRequest.get(owner) ?? [];
    list.push({ op, at: Date.now() });
    this.dynamoByRequest.set(owner, list);
  }

  /** Lambda's async invocation of `fn` (a name or ARN): it runs in that function's sandboxes; the caller never waits for it. */
  private invokeAsync(fn: string, event: unknown): void {
    const pool = fn === WORKER || fn === WORKER_ARN ? this.workerPool : fn === SWEEP || fn === WAITER_ARN ? this.sweepPool : fn === SLACK ? this.slackPool : undefined;
    if (!pool) {
      this.unrouted.set(fn, (this.unrouted.get(fn) ?? 0) + 1);
      return;
    }
    pool.invoke(event).catch(() => undefined);
  }

  async waitForMessage(requestId: string, timeoutMs = 15_000): Promise<SlackMessage> {
    return this.slack.waitFor(
      () => this.slack.messagesIn(APPROVAL_CHANNEL).find((m) => JSON.stringify(m.blocks ?? []).includes(requestId)),
      timeoutMs,
      `approval message for ${requestId}`,
    );
  }

  async dispose(): Promise<void> {
    this.scheduler.close();
    this.slackPool.close();
    this.coldLazyPool.close();
    this.workerPool.close();
    this.sweepPool.close();
    for (const p of Object.values(this.proxies)) await p.close();
    await this.slack.close();
    await this.aws.close();
    await this.dynamo.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------- item 2: cold start

export interface ColdStartResult {
  timebox: ColdResult[];
  floor: ColdResult[];
}

/**
 * `runs` cold processes of each bundle, alternating (floor, Timebox, Timebox, floor, …): each loads
 * its bundle and answers one signed slash command (a real request needing approval, from a new
 * requester) as a Function URL event, then a second one (another new requester) warm.
 */
export async function coldStarts(rig: LambdaRig, runs: number): Promise<ColdStartResult> {
  const timebox: ColdResult[] = [];
  const floor: ColdResult[] = [];
  const tbEnv = rig.timeboxEnv(COLD_WORKER, COLD_SLACK);
  const floorEnv = rig.floorEnv();
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? (['floor', 'timebox'] as const) : (['timebox', 'floor'] as const);
    for (const which of order) {
      const commands = [0, 1].map((k) => rig.command(rig.people.mint(), APPROVAL_TEXT(i * 2 + k)));
      const events = commands.map((c) => c.event);
      if (which === 'timebox') {
        const r = await coldRun(rig.bundles.slack, tbEnv, events);
        // What the run handed to its lazy listeners, run now (off the run's clock) to see it filed.
        for (const handed of rig.aws.takeInvocations(COLD_SLACK)) await rig.coldLazyPool.invoke(JSON.parse(handed.payload));
        for (const [k, inv] of r.invocations.entries()) {
          const id = await rig.filedId(inv.body, (commands[k] as { responseUrl: string }).responseUrl, 2_000);
          if (inv.statusCode !== 200 || !id) throw new Error(`the Timebox bundle did not file the request: ${inv.statusCode} ${inv.body ?? ''}`);
        }
        timebox.push(r);
      } else {
        const r = await coldRun(rig.bundles.floor, floorEnv, events);
        for (const inv of r.invocations) if (inv.statusCode !== 200) throw new Error(`the floor bundle answered ${inv.statusCode}`);
        floor.push(r);
      }
    }
  }
  return { timebox, floor };
}

export const coldFigures = (runs: ColdResult[]) => ({
  replyMs: median(runs.map((r) => r.invocations[0]?.replyAtMs ?? Number.NaN)),
  handlerMs: median(runs.map((r) => r.invocations[0]?.handlerMs ?? Number.NaN)),
  loadMs: median(runs.map((r) => r.loadMs)),
  bootMs: median(runs.map((r) => r.bootMs)),
  warmMs: median(runs.map((r) => r.invocations[1]?.handlerMs ?? Number.NaN)),
  wallMs: median(runs.map((r) => r.wallMs)),
});

// ---------------------------------------------------------------------------- item 8 on the AWS path

export interface LambdaLoadResult {
  /** ms from sending each event to the Slack function's reply. */
  reply: number[];
  /** ms from sending each event to its answer on the response_url (the lazy listener's post). */
  answer: number[];
  requests: number;
  /** Slack-function invocations (HTTP and lazy) that found every sandbox busy and waited, and the longest wait (ms). */
  queued: number;
  longestQueueMs: number;
  /** Requests with no reply of 200, or no answer naming a filed request within 60 s. */
  errors: number;
}

/**
 * Item 8's burst on the AWS path: `n` two-grant requests from new requesters sent at once to the
 * Slack function (its sandboxes: SLACK_SANDBOXES), each handed to a lazy listener in the same
 * pool, while the worker's 10 reserved sandboxes take the grants the requests asked for.
 */
export async function lambdaLoad(rig: LambdaRig, n: number): Promise<LambdaLoadResult> {
  // Under steady traffic Lambda keeps sandboxes warm; the burst is measured on warm ones, as the
  // local burst is on a started process (Slack's certificate check: answered, nothing else done).
  const sslCheck = lambdaEvent('ssl_check=1&token=x', { signingSecret: SIGNING_SECRET });
  await Promise.all(Array.from({ length: SLACK_SANDBOXES }, () => rig.slackPool.invoke(sslCheck)));
  await Promise.all(Array.from({ length: 10 }, () => rig.workerPool.invoke({ warm: true }).catch(() => undefined)));
  const queuedBefore = rig.slackPool.queued;
  const commands = Array.from({ length: n }, (_, i) => rig.command(rig.people.mint(), `production ReadOnly,Admin 1h lambda load test ${i + 1}`));
  const sentAt: number[] = [];
  const replies = await Promise.all(
    commands.map(async (c, i) => {
      sentAt[i] = Date.now();
      const { result } = await rig.slackPool.invoke(c.event);
      return { ms: Date.now() - (sentAt[i] as number), ok: (result as { statusCode?: number } | undefined)?.statusCode === 200 };
    }),
  );
  const answer: number[] = [];
  for (const [i, c] of commands.entries()) {
    const id = await rig.filedId(undefined, c.responseUrl, 60_000);
    const at = rig.slack.calls.find((call) => call.method === 'response_url' && call.args.url === c.responseUrl)?.at;
    if (id && at !== undefined && replies[i]?.ok) answer.push(at - (sentAt[i] as number));
  }
  return { reply: replies.map((r) => r.ms), answer, requests: n, queued: rig.slackPool.queued - queuedBefore, longestQueueMs: rig.slackPool.longestQueueMs, errors: n - answer.length };
}

// ---------------------------------------------------------------------------- items 3, 4 and 6: lifecycles

export interface Lifecycle {
  requestId: string;
  principalId: string;
  /** When the command was sent and when the Approve click was (Date.now()). */
  filedAt: number;
  clickedAt: number;
  commandReplyMs: number;
  clickReplyMs: number;
  /** Click reply received → CreateAccountAssignment arriving at the stand-in. */
  ackToCreateMs?: number;
  /** Click sent → CreateAccountAssignment arriving. */
  clickToCreateMs?: number;
  endsAt?: number;
  deleteAt?: number;
  ended: boolean;
}

/**
 * The whole life of `count` one-grant requests on the AWS path, `lanes` at a time: a new
 * requester files production Admin (Slack handler, warm), the worker posts it for approval, a new
 * approver clicks Approve (Slack handler), the worker grants it and arms the revoke schedule;
 * later the schedule fires (at a random moment of its minute) and the worker revokes.
 *
 * Each window is `minWindowMs` to `minWindowMs` + 60 s long, chosen so that the windows' ends
 * fall evenly across the minute (how far a revoke can be pushed by `at()`'s whole minutes depends
 * on where in its minute a window ends). Real windows are 15 minutes or more; `minWindowMs` must
 * be long enough for whatever the product does with a long window (scheduling a minute or two
 * ahead) to apply to every one of these.
 *
 * Returns once every request is granted (and its window's end known); `finished` settles once
 * every window has been revoked, or at `deadline` (Date.now() ms): a window not revoked by then is
 * left with no deleteAt, and is at least `deadline - endsAt` late.
 */
export async function startLifecycles(
  rig: LambdaRig,
  approvers: ApproverPool,
  count: number,
  lanes: number,
  minWindowMs: number,
  deadline: number,
  log: (s: string) => void,
): Promise<{ lifecycles: Lifecycle[]; finished: Promise<void> }> {
  const createAt = new Map<string, number>();
  const deleteAt = new Map<string, number>();
  rig.aws.onCall((call) => {
    const principal = (call.input as { PrincipalId?: string }).PrincipalId ?? '';
    if (call.operation === 'CreateAccountAssignment' && !createAt.has(principal)) createAt.set(principal, performance.now());
    if (call.operation === 'DeleteAccountAssignment' && !deleteAt.has(principal)) deleteAt.set(principal, Date.now());
  });
  const lifecycles: Lifecycle[] = [];
  let next = 0;
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      // Where in its minute this window should end; filing to granting takes about a second.
      const phase = (i / count) * 60_000;
      const windowMs = minWindowMs + ((((phase - (Date.now() + 1_000 + minWindowMs)) % 60_000) + 60_000) % 60_000);
      const requester = rig.people.mint();
      const filedAt = Date.now();
      const command = rig.command(requester, APPROVAL_TEXT(i, `${Math.round(windowMs / 1000)}s`));
      const filed = await rig.slackPool.invoke(command.event);
      const body = (filed.result as { body?: string }).body ?? '';
      const requestId = await rig.filedId(body, command.responseUrl);
      if (!requestId) throw new Error(`lifecycle ${i}: the request was not filed: ${body.slice(0, 300)}`);
      rig.noteRequester(requester.principalId, requestId);
      const message = await rig.waitForMessage(requestId);
      // A person reads the message before clicking: by then the worker has recorded it (the click lands on a settled request).
      const recordedBy = Date.now() + 10_000;
      while (!messageOf((await rig.store.getRequest(requestId)) ?? { messages: [] }, 'channel')?.ref && Date.now() < recordedBy) await sleep(20);
      await sleep(100);
      const sent = performance.now();
      const clickedAt = Date.now();
      const clicked = await rig.slackPool.invoke(rig.clickEvent(approvers.take(), requestId, message));
      const acked = performance.now();
      const deadline = Date.now() + 15_000;
      while (!createAt.has(requester.principalId) && Date.now() < deadline) await sleep(2);
      const created = createAt.get(requester.principalId);
      lifecycles.push({
        requestId,
        principalId: requester.principalId,
        filedAt,
        clickedAt,
        commandReplyMs: filed.ms,
        clickReplyMs: clicked.ms,
        ...(created === undefined ? {} : { ackToCreateMs: created - acked, clickToCreateMs: created - sent }),
        ended: false,
      });
      if (lifecycles.length % 10 === 0) log(`  lifecycles: ${lifecycles.length}/${count} approved`);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  // Every grant's end, once it is active (the window starts when AWS says the assignment exists).
  const activeBy = Date.now() + 30_000;
  for (const l of lifecycles) {
    while (l.endsAt === undefined && Date.now() < activeBy) {
      const grant = (await rig.store.getRequest(l.requestId))?.grants[0];
      if (grant?.endsAt !== undefined) l.endsAt = grant.endsAt;
      else await sleep(50);
    }
  }
  const until = deadline;
  const finished = (async () => {
    for (;;) {
      for (const l of lifecycles) {
        if (l.ended) continue;
        const at = deleteAt.get(l.principalId);
        if (at === undefined) continue;
        l.deleteAt = at;
        l.ended = (await rig.store.getRequest(l.requestId))?.grants[0]?.status === 'ENDED';
      }
      if (lifecycles.every((l) => l.ended) || Date.now() > until) break;
      await sleep(250);
    }
    // The last revokes' news (a DM, the channel message), unless the run is out of time.
    await Promise.race([rig.workerPool.idle(), sleep(Math.max(0, until - Date.now()), undefined, { ref: false })]);
  })();
  return { lifecycles, finished };
}

export interface StoreCost {
  /** DynamoDB requests of each complete lifecycle. */
  perLifecycle: number[];
  /** Totals over those lifecycles, by operation. */
  byOperation: Record<string, number>;
  /** Totals by phase: filing (until the click), approval and grant (until the revoke schedule fires), revoke. */
  byPhase: { filing: number; approveAndGrant: number; revoke: number };
  unattributed: number;
}

/** Item 6 from what the DynamoDB proxy saw, for the lifecycles that ended. */
export function storeCost(rig: LambdaRig, lifecycles: Lifecycle[]): StoreCost {
  const firedAt = new Map<string, number>();
  for (const f of rig.scheduler.firings) {
    const id = (JSON.parse(f.input || '{}') as { requestId?: string }).requestId;
    if (id) firedAt.set(id, Math.max(firedAt.get(id) ?? 0, f.firedAt));
  }
  const perLifecycle: number[] = [];
  const byOperation: Record<string, number> = {};
  const byPhase = { filing: 0, approveAndGrant: 0, revoke: 0 };
  for (const l of lifecycles) {
    const calls = rig.dynamoByRequest.get(l.requestId);
    if (!calls || !l.ended) continue;
    perLifecycle.push(calls.length);
    const fired = firedAt.get(l.requestId) ?? Infinity;
    for (const c of calls) {
      byOperation[c.op] = (byOperation[c.op] ?? 0) + 1;
      if (c.at < l.clickedAt) byPhase.filing++;
      else if (c.at < fired) byPhase.approveAndGrant++;
      else byPhase.revoke++;
    }
  }
  return { perLifecycle, byOperation, byPhase, unattributed: [...rig.dynamoUnattributed.values()].reduce((a, b) => a + b, 0) };
}
