/**
 * The local process, measured: Timebox as `npm start` runs it (test/support/child-timebox.ts: the
 * real Bolt app over HTTP, dynalite embedded in the same process, the real SDK clients, production
 * timings) in a process of its own, beside the floor (bench/floor-app.ts), both driven over
 * loopback with requests signed as Slack signs them (test/support/slack-requests.ts). The Slack
 * and AWS stand-ins and the load generator share the benchmark's own process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../src/config/load-config';
import { DynamoDbStore } from '../src/adapters/dynamodb/dynamodb-store';
import { startEmbeddedDynamoDb } from '../src/adapters/dynamodb/embedded-dynamodb';
import { MODAL_BLOCKS, REQUEST_MODAL_CALLBACK } from '../src/adapters/slack/views/request-modal';
import { checkEntitlements, resolveTargets } from '../src/domain/rules';
import { applyDiscovery, type CatalogueSnapshot } from '../src/domain/catalogue';
import { snapshotOf } from '../src/domain/catalogue-view';
import { explainAvailable } from '../src/domain/explain';
import { buildOrganization } from '../test/support/organization-fixture';
import { AwsStandIn } from '../test/support/aws-stand-in';
import { newTriggerId, SlackRequestSender, type SignedResponse } from '../test/support/slack-requests';
import { SlackStandIn, type SlackMessage } from '../test/support/slack-stand-in';
import { TimeboxChild, childEnv } from '../test/support/timebox-child-process';
import { APPROVAL_CHANNEL, BOT_TOKEN, buttonClick, GROUPS, IDENTITY_STORE_ID, PEOPLE, SIGNING_SECRET } from '../test/support/timebox-harness';
import { APPROVAL_TEXT, AUTO_TEXT, type ApproverPool, type BenchUser, People } from './people';
import { peakRssMbOf, rssPartsOf, settle, type RssParts } from './processes';
import { mean, percentile, summary, type Summary } from './stats';

export type AckKind = 'approval' | 'auto' | 'click';

export interface AckRow {
  kind: AckKind;
  concurrency: number;
  timebox: Summary;
  floor: Summary;
  /**
   * Commands: from sending to the requester having Timebox's answer (the ack's own text, or the
   * reply on the response_url when the ack was empty), and how many answers came that second way.
   */
  answer?: Summary;
  answeredLater?: number;
  /** Requests Timebox did not answer as it should (non-200, or a reply that is not a filed request). */
  errors: number;
  errorSample?: string;
}

/** Runs `jobs` with `concurrency` in flight (closed loop); returns each one's latency in ms. */
export async function closedLoop<T>(concurrency: number, jobs: Array<() => Promise<T>>): Promise<{ ms: number[]; results: T[] }> {
  const ms: number[] = new Array<number>(jobs.length);
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const lane = async () => {
    for (;;) {
      const i = next++;
      const job = jobs[i];
      if (!job) return;
      const started = performance.now();
      results[i] = await job();
      ms[i] = performance.now() - started;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, lane));
  return { ms, results };
}

const replyText = (r: SignedResponse): string => {
  try {
    return r.body ? ((JSON.parse(r.body) as { text?: string }).text ?? '') : '';
  } catch {
    return r.body;
  }
};
export const requestIdIn = (text: string): string | undefined => /`(R-[0-9A-Z]{10})`/.exec(text)?.[1];

/** Each request's approvals-channel message, once Slack has it. */
export async function approvalMessages(slack: SlackStandIn, ids: string[], timeoutMs = 60_000): Promise<Map<string, SlackMessage>> {
  const wanted = new Set(ids);
  const found = new Map<string, SlackMessage>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const message of slack.messagesIn(APPROVAL_CHANNEL)) {
      const id = /R-[0-9A-Z]{10}/.exec(JSON.stringify(message.blocks ?? []))?.[0];
      if (id && wanted.has(id) && !found.has(id)) found.set(id, message);
    }
    if (found.size === wanted.size) return found;
    if (Date.now() > deadline) throw new Error(`only ${found.size}/${wanted.size} approval messages were posted`);
    await sleep(100);
  }
}

/** One slash command as sent: the ack, and where (and from when) its answer may come. */
export interface CommandOutcome {
  response: SignedResponse;
  responseUrl: string;
  triggerId: string;
  /** performance.now() when sent and when acked; `sentAtMs` is the same moment as Date.now(). */
  sentAt: number;
  ackAt: number;
  sentAtMs: number;
}

/** What the requester was told, and how long after sending it reached Slack. */
export interface Answer {
  text: string;
  afterMs: number;
  /** Posted on the response_url (the ack itself was empty). */
  later: boolean;
}

/** Stand-ins here; Timebox (and, when asked, the floor) each in a process of its own. */
export class LocalRig {
  readonly people: People;
  /** When each response_url got its first post (Date.now(), from the stand-in's call log), and when views.open came for each trigger id. */
  private readonly answeredAt = new Map<string, number>();
  private indexedCalls = 0;
  private readonly viewOpenedAt = new Map<string, number>();
  timebox!: TimeboxChild;
  tbSender!: SlackRequestSender;
  floor?: TimeboxChild;
  floorSender?: SlackRequestSender;
  private readonly dir = mkdtempSync(join(tmpdir(), 'timebox-bench-'));

  private constructor(
    readonly aws: AwsStandIn,
    readonly slack: SlackStandIn,
  ) {
    this.people = new People('R', slack, aws);
    slack.onCall((call) => {
      if (call.method === 'views.open') {
        const trigger = String(call.args.trigger_id);
        if (!this.viewOpenedAt.has(trigger)) this.viewOpenedAt.set(trigger, performance.now());
      }
    });
  }

  static async start(options: { configYaml: string; approvers?: ApproverPool; floor: boolean; creationPolls?: number; catalogue?: CatalogueSnapshot }): Promise<LocalRig> {
    const aws = await AwsStandIn.start({ creationPolls: options.creationPolls ?? 1, deletionPolls: 1 });
    const slack = await SlackStandIn.start({ users: Object.values(PEOPLE).map(({ id, name, email }) => ({ id, name, email })), token: BOT_TOKEN });
    for (const p of Object.values(PEOPLE)) aws.addUser({ userId: p.principalId, email: p.email, identityStoreId: IDENTITY_STORE_ID });
    for (const [displayName, groupId] of Object.entries(GROUPS)) aws.addGroup({ groupId, displayName, identityStoreId: IDENTITY_STORE_ID });
    options.approvers?.registerWith(slack, aws);
    const rig = new LocalRig(aws, slack);
    writeFileSync(rig.configPath, options.configYaml);
    // A discovered organisation is served as discovery would have it (see discoveredScaleCatalogue).
    const catalogueFile = join(rig.dir, 'catalogue.json');
    if (options.catalogue) writeFileSync(catalogueFile, JSON.stringify(options.catalogue));
    // Production timings: no test knobs.
    const [tb, floor] = await Promise.all([
      TimeboxChild.start(childEnv({ aws, slack, configPath: rig.configPath, dataDir: rig.dataDir, knobs: options.catalogue ? { catalogueFile } : {} })),
      options.floor
        ? TimeboxChild.start({ PATH: process.env.PATH ?? '', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: BOT_TOKEN }, 'bench/floor-app.ts')
        : Promise.resolve(undefined),
    ]);
    rig.timebox = tb.child;
    rig.tbSender = new SlackRequestSender({ url: `${tb.url}/slack/events`, signingSecret: SIGNING_SECRET });
    if (floor) {
      rig.floor = floor.child;
      rig.floorSender = new SlackRequestSender({ url: `${floor.url}/slack/events`, signingSecret: SIGNING_SECRET });
    }
    return rig;
  }

  get configPath(): string {
    return join(this.dir, 'timebox.yaml');
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** A job sending `/aws-access <text>` as `user` (everything but the sending done beforehand). */
  commandJob(sender: SlackRequestSender, user: BenchUser, text: string): () => Promise<CommandOutcome> {
    const responseUrl = this.slack.responseUrl({ userId: user.id, channelId: 'C0GENERAL0' });
    const triggerId = newTriggerId();
    return async () => {
      const sentAtMs = Date.now();
      const sentAt = performance.now();
      const response = await sender.command({ userId: user.id, userName: user.name, text, channelId: 'C0GENERAL0', responseUrl, triggerId });
      return { response, responseUrl, triggerId, sentAt, ackAt: performance.now(), sentAtMs };
    };
  }

  /** When the stand-in got the first post on `url` (its call log: response_url posts run no call hooks). */
  private answeredAtMs(url: string): number | undefined {
    const calls = this.slack.calls;
    for (; this.indexedCalls < calls.length; this.indexedCalls++) {
      const call = calls[this.indexedCalls];
      if (call?.method !== 'response_url') continue;
      const posted = String(call.args.url);
      if (!this.answeredAt.has(posted)) this.answeredAt.set(posted, call.at);
    }
    return this.answeredAt.get(url);
  }

  /**
   * What the requester was told: the ack's text, or (an empty ack, the answer following on the
   * response_url) the first post there, waited for up to `timeoutMs`.
   */
  async answer(outcome: CommandOutcome, timeoutMs = 15_000): Promise<Answer | undefined> {
    const acked = replyText(outcome.response);
    if (acked.trim() !== '') return { text: acked, afterMs: outcome.ackAt - outcome.sentAt, later: false };
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const posted = this.slack.responses(outcome.responseUrl)[0];
      const at = posted ? this.answeredAtMs(outcome.responseUrl) : undefined;
      if (posted && at !== undefined) return { text: String(posted.body.text ?? ''), afterMs: at - outcome.sentAtMs, later: true };
      if (Date.now() > deadline) return undefined;
      await sleep(5);
    }
  }

  /** When views.open came for the command's trigger id (the form opening), if it did. */
  viewOpened(outcome: CommandOutcome): number | undefined {
    return this.viewOpenedAt.get(outcome.triggerId);
  }

  /** Files `n` requests (not measured) and returns their ids. */
  async file(n: number, text: (i: number) => string, concurrency = 8): Promise<Array<{ id: string; user: BenchUser }>> {
    const users = Array.from({ length: n }, () => this.people.mint());
    const { results } = await closedLoop(
      concurrency,
      users.map((u, i) => this.commandJob(this.tbSender, u, text(i))),
    );
    return Promise.all(
      results.map(async (r, i) => {
        const answer = await this.answer(r);
        const id = requestIdIn(answer?.text ?? '');
        if (!id) throw new Error(`filing failed: HTTP ${r.response.status} ${(answer?.text ?? r.response.body).slice(0, 200)}`);
        return { id, user: users[i] as BenchUser };
      }),
    );
  }

  settle(): Promise<number> {
    return settle(this.timebox.pid);
  }

  /** Stops Timebox (SIGTERM drains) and reads the requests from its store. */
  async stopAndRead(ids: string[]) {
    await this.timebox.stop();
    const db = await startEmbeddedDynamoDb(this.dataDir);
    try {
      const store = new DynamoDbStore(db.client, db.tableName);
      return await Promise.all(ids.map((id) => store.getRequest(id)));
    } finally {
      await db.close();
    }
  }

  async dispose(): Promise<void> {
    this.timebox?.kill();
    await this.floor?.stop();
    await this.slack.close();
    await this.aws.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * One row of item 1: `n` requests of `kind` at `concurrency` in flight against Timebox and as many
 * against the floor, in alternating blocks (floor, Timebox, floor, Timebox), each block sustained;
 * after each Timebox block the benchmark waits until Timebox's process is quiet, so the work it
 * left behind does not slow the floor's next block.
 */
export async function ackRow(rig: LocalRig, approvers: ApproverPool, kind: AckKind, concurrency: number, n: number): Promise<AckRow> {
  const floorSender = rig.floorSender as SlackRequestSender;
  const tb: number[] = [];
  const floor: number[] = [];
  const answers: number[] = [];
  let answeredLater = 0;
  let errors = 0;
  let errorSample: string | undefined;
  const fail = (why: string) => {
    errors++;
    errorSample ??= why;
  };
  const half = Math.ceil(n / 2);
  if (kind === 'click') {
    const filed = await rig.file(n, (i) => APPROVAL_TEXT(i));
    const messages = await approvalMessages(rig.slack, filed.map((f) => f.id));
    await rig.settle();
    const clicks = filed.map(({ id }) => buttonClick(rig.slack, approvers.take(), 'timebox_approve', id, messages.get(id) as SlackMessage));
    for (let round = 0; round < 2; round++) {
      const mine = clicks.slice(round * half, (round + 1) * half);
      floor.push(...(await closedLoop(concurrency, mine.map((c) => () => floorSender.blockAction({ ...c, responseUrl: rig.slack.responseUrl({ userId: c.userId }) })))).ms);
      const block = await closedLoop(concurrency, mine.map((c) => () => rig.tbSender.blockAction(c)));
      tb.push(...block.ms);
      await rig.settle();
      block.results.forEach((r, i) => {
        if (r.status !== 200 || r.body !== '') return fail(`HTTP ${r.status} ${r.body.slice(0, 160)}`);
        // A click that worked says nothing on its response_url; a refusal or a failure says so there.
        const said = rig.slack.responses((mine[i] as { responseUrl: string }).responseUrl).map((x) => String(x.body.text ?? ''));
        const bad = said.find((t) => t.startsWith(':warning:'));
        if (bad) fail(bad.slice(0, 160));
      });
    }
  } else {
    const text = kind === 'approval' ? APPROVAL_TEXT : AUTO_TEXT;
    const tbJobs = Array.from({ length: n }, (_, i) => rig.commandJob(rig.tbSender, rig.people.mint(), text(i)));
    const floorJobs = Array.from({ length: n }, (_, i) => rig.commandJob(floorSender, rig.people.mint(), text(i)));
    for (let round = 0; round < 2; round++) {
      floor.push(...(await closedLoop(concurrency, floorJobs.slice(round * half, (round + 1) * half))).ms);
      const block = await closedLoop(concurrency, tbJobs.slice(round * half, (round + 1) * half));
      tb.push(...block.ms);
      for (const outcome of block.results) {
        const answer = await rig.answer(outcome);
        if (outcome.response.status !== 200 || !answer || requestIdIn(answer.text) === undefined) {
          fail(`HTTP ${outcome.response.status} ${(answer?.text ?? 'no answer').slice(0, 160)}`);
          continue;
        }
        answers.push(answer.afterMs);
        if (answer.later) answeredLater++;
      }
      await rig.settle();
    }
  }
  return {
    kind,
    concurrency,
    timebox: summary(tb),
    floor: summary(floor),
    ...(kind === 'click' ? {} : { answer: summary(answers), answeredLater }),
    errors,
    ...(errorSample ? { errorSample } : {}),
  };
}

export interface Item1Result {
  rows: AckRow[];
  /** The answer with one request in flight until answered (see answerOneAtATime), before the ack rows. */
  single: Record<'approval' | 'auto', { answer: Summary; errors: number }>;
  /** Item 7: peak RSS of the Timebox process (and the floor's) after item 1. */
  rssMb: { timebox: number; floor: number; timeboxAtStart: number };
  /** What the Timebox process's resident memory was made of at the end of item 1. */
  rssParts?: RssParts;
  /** Grants item 1 asked for (auto-approved requests and approved clicks), and how many CreateAccountAssignment calls had arrived by its end. */
  grants: { asked: number; createsArrived: number };
}

/**
 * The answer with one request in flight until it is answered (the next is sent once the answer
 * has reached Slack), each from a new requester: what one person waits for when nobody else is
 * filing. The ack rows send the next request once the ack is back, so their answers queue behind
 * the block's other requests (up to 100 filed within a fraction of a second).
 */
export async function answerOneAtATime(rig: LocalRig, kind: 'approval' | 'auto', n: number): Promise<{ answer: Summary; errors: number }> {
  const text = kind === 'approval' ? APPROVAL_TEXT : AUTO_TEXT;
  const answers: number[] = [];
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const outcome = await rig.commandJob(rig.tbSender, rig.people.mint(), text(i))();
    const answer = await rig.answer(outcome);
    if (outcome.response.status !== 200 || !answer || requestIdIn(answer.text) === undefined) errors++;
    else answers.push(answer.afterMs);
  }
  return { answer: summary(answers), errors };
}

export async function item1(rig: LocalRig, approvers: ApproverPool, n: number, log: (s: string) => void, oneAtATime = 50): Promise<Item1Result> {
  const rows: AckRow[] = [];
  const timeboxAtStart = peakRssMbOf(rig.timebox.pid as number);
  // First, while Timebox is quiet: one person at a time.
  const single = { approval: await answerOneAtATime(rig, 'approval', oneAtATime), auto: await answerOneAtATime(rig, 'auto', oneAtATime) };
  log(`  answer one at a time: needing approval p50 ${single.approval.answer.p50.toFixed(1)} p99 ${single.approval.answer.p99.toFixed(1)} · auto-approved p50 ${single.auto.answer.p50.toFixed(1)} p99 ${single.auto.answer.p99.toFixed(1)}`);
  await rig.settle();
  for (const concurrency of [1, 10, 50]) {
    for (const kind of ['approval', 'auto', 'click'] as const) {
      const row = await ackRow(rig, approvers, kind, concurrency, n);
      log(`  ack ${kind} @${concurrency}: Timebox p50 ${row.timebox.p50.toFixed(1)} p99 ${row.timebox.p99.toFixed(1)} · floor p50 ${row.floor.p50.toFixed(1)} p99 ${row.floor.p99.toFixed(1)}${row.errors ? ` · ${row.errors} errors` : ''}`);
      rows.push(row);
    }
  }
  const asked = rows.filter((r) => r.kind !== 'approval').reduce((sum, r) => sum + r.timebox.n, 0) + single.auto.answer.n;
  return {
    rows,
    single,
    rssMb: { timebox: peakRssMbOf(rig.timebox.pid as number), floor: peakRssMbOf(rig.floor?.pid as number), timeboxAtStart },
    ...(rssPartsOf(rig.timebox.pid as number) ? { rssParts: rssPartsOf(rig.timebox.pid as number) } : {}),
    grants: { asked, createsArrived: rig.aws.callsTo('CreateAccountAssignment').length },
  };
}

export interface DecisionResult {
  /** Click ack received → CreateAccountAssignment arriving at the stand-in. */
  ackToCreate: number[];
  clickAck: number[];
  missing: number;
}

/**
 * Item 3, local: one Approve click at a time (each by a new approver, on a request filed by a
 * new requester), from the click's ack to CreateAccountAssignment for that requester arriving.
 * The next click waits until AWS has answered this grant's status poll with SUCCEEDED, so one grant at a time.
 */
export async function decisionToGrantLocal(rig: LocalRig, approvers: ApproverPool, samples: number): Promise<DecisionResult> {
  const createAt = new Map<string, number>();
  const grantedAt = new Map<string, number>();
  rig.aws.onCall((call) => {
    if (call.operation !== 'CreateAccountAssignment') return;
    const principal = (call.input as { PrincipalId?: string }).PrincipalId ?? '';
    if (!createAt.has(principal)) createAt.set(principal, performance.now());
  });
  rig.aws.afterResponse((operation, output) => {
    if (operation !== 'DescribeAccountAssignmentCreationStatus') return;
    const status = (output as { AccountAssignmentCreationStatus?: { Status?: string; PrincipalId?: string } }).AccountAssignmentCreationStatus;
    if (status?.Status === 'SUCCEEDED' && status.PrincipalId) grantedAt.set(status.PrincipalId, performance.now());
  });
  const filed = await rig.file(samples, (i) => APPROVAL_TEXT(i), 4);
  const messages = await approvalMessages(rig.slack, filed.map((f) => f.id));
  await rig.settle();
  const ackToCreate: number[] = [];
  const clickAck: number[] = [];
  let missing = 0;
  for (const { id, user } of filed) {
    const click = buttonClick(rig.slack, approvers.take(), 'timebox_approve', id, messages.get(id) as SlackMessage);
    const sent = performance.now();
    const response = await rig.tbSender.blockAction(click);
    const acked = performance.now();
    clickAck.push(acked - sent);
    if (response.status !== 200) throw new Error(`click on ${id}: HTTP ${response.status}`);
    const deadline = Date.now() + 10_000;
    while (!createAt.has(user.principalId) && Date.now() < deadline) await sleep(2);
    const created = createAt.get(user.principalId);
    if (created === undefined) missing++;
    else ackToCreate.push(created - acked);
    // One grant at a time: the next click once AWS has said this one succeeded (its first status poll,
    // with the rig's creationPolls 0), so no call of this grant is left to queue ahead of the next one's.
    while (!grantedAt.has(user.principalId) && Date.now() < deadline) await sleep(5);
    await sleep(50);
  }
  return { ackToCreate, clickAck, missing };
}

export interface LatenessResult {
  /** Window end (the grant's endsAt) → DeleteAccountAssignment arriving, ms. */
  lateness: number[];
  missing: number;
}

/**
 * Item 4, local: `grants` auto-approved one-grant requests (new requesters), windows of 8 to 17 s
 * so they end spread out, each timed from its end to DeleteAccountAssignment arriving. The ends
 * are read from Timebox's own store once it has stopped.
 */
export async function revocationLocal(rig: LocalRig, grants: number, log: (s: string) => void): Promise<LatenessResult> {
  const deleteAt = new Map<string, number>();
  rig.aws.onCall((call) => {
    if (call.operation !== 'DeleteAccountAssignment') return;
    const principal = (call.input as { PrincipalId?: string }).PrincipalId ?? '';
    if (!deleteAt.has(principal)) deleteAt.set(principal, Date.now());
  });
  const filed = await rig.file(grants, (i) => AUTO_TEXT(i, `${8 + (i % 10)}s`), 5);
  const deadline = Date.now() + 90_000;
  while (filed.some((f) => !deleteAt.has(f.user.principalId)) && Date.now() < deadline) await sleep(200);
  log(`  revocations: ${filed.filter((f) => deleteAt.has(f.user.principalId)).length}/${grants} deletes arrived`);
  const requests = await rig.stopAndRead(filed.map((f) => f.id));
  const lateness: number[] = [];
  let missing = 0;
  requests.forEach((request, i) => {
    const endsAt = request?.grants[0]?.endsAt;
    const at = deleteAt.get((filed[i] as { user: BenchUser }).user.principalId);
    if (endsAt === undefined || at === undefined) missing++;
    else lateness.push(at - endsAt);
  });
  return { lateness, missing };
}

// ---------------------------------------------------------------------------- item 5: scale

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const SCALE = { accounts: 1000, permissionSets: 100, rules: 200, accountsPerRule: 5, requestersPerRule: 10 } as const;
const scaleRequester = (rule: number, k: number) => `team${pad(rule, 3)}-dev${k}@bench.example.com`;

/** A static config of 1,000 accounts, 100 permission sets and 200 rules (each its own team of requesters). */
export function scaleConfigYaml(): string {
  const lines: string[] = [
    'identityCenter:',
    '  instanceArn: arn:aws:sso:::instance/ssoins-1234567890abcdef',
    `  identityStoreId: ${IDENTITY_STORE_ID}`,
    'slack:',
    `  approvalChannel: ${APPROVAL_CHANNEL}`,
    'accounts:',
  ];
  for (let i = 0; i < SCALE.accounts; i++) lines.push(`  acct-${pad(i, 4)}: "${String(100_000_000_000 + i)}"`);
  lines.push('permissionSets:');
  for (let i = 0; i < SCALE.permissionSets; i++) lines.push(`  PermSet${pad(i, 3)}: arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-${pad(i, 16)}`);
  lines.push('durations:', '  default: 1h', '  min: 1s', 'rules:');
  for (let r = 0; r < SCALE.rules; r++) {
    const accounts = Array.from({ length: SCALE.accountsPerRule }, (_, k) => `acct-${pad(r * SCALE.accountsPerRule + k, 4)}`);
    const sets = [`PermSet${pad(r % SCALE.permissionSets, 3)}`, `PermSet${pad((r + 1) % SCALE.permissionSets, 3)}`];
    const requesters = Array.from({ length: SCALE.requestersPerRule }, (_, k) => scaleRequester(r, k));
    lines.push(
      `  - name: team-${pad(r, 3)}`,
      `    accounts: [${accounts.join(', ')}]`,
      `    permissionSets: [${sets.join(', ')}]`,
      `    requesters: [${requesters.join(', ')}]`,
      ...(r % 2 === 0 ? ['    autoApprove: true'] : [`    approvers: [lead${pad(r, 3)}@bench.example.com, U0BOB00000]`]),
      '    maxDuration: 8h',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Item 5 on a discovered organisation: the fixture's 1,000 accounts (969 active) in 40 nested OUs
 * with five tags each, and 100 permission sets, combined with the config as discovery does.
 */
export function discoveredScaleCatalogue(): CatalogueSnapshot {
  const { expected } = buildOrganization();
  return applyDiscovery(
    snapshotOf({ accounts: [], permissionSets: [], groups: [] }),
    { accounts: expected.accounts, permissionSets: expected.permissionSets, readAt: Date.now() },
    { accounts: { names: {} }, permissionSets: true, refreshMs: 900_000 },
  );
}

/** `accounts: discover`, `permissionSets: discover` and 200 rules (10 requesters each): by OU, by cost-center tag, by team tag, and by 5 account ids, in turn. */
export function discoveredScaleConfigYaml(): string {
  const { organization, expected } = buildOrganization();
  const teams = [...new Set(expected.accounts.map((a) => a.tags.team ?? ''))];
  const lines: string[] = [
    'identityCenter:',
    '  instanceArn: arn:aws:sso:::instance/ssoins-1234567890abcdef',
    `  identityStoreId: ${IDENTITY_STORE_ID}`,
    'slack:',
    `  approvalChannel: ${APPROVAL_CHANNEL}`,
    'accounts: discover',
    'permissionSets: discover',
    'durations:',
    '  default: 1h',
    '  min: 1s',
    'rules:',
  ];
  for (let r = 0; r < SCALE.rules; r++) {
    const accounts = [
      `"ou:${organization.units[r % organization.units.length]!.id}"`,
      `"tag:cost-center=cc-${1000 + (r % 40)}"`,
      `"tag:team=${teams[r % teams.length]}"`,
      ...[Array.from({ length: SCALE.accountsPerRule }, (_, k) => `"${expected.accounts[(r * SCALE.accountsPerRule + k) % expected.accounts.length]!.id}"`).join(', ')],
    ][r % 4];
    const sets = [`Role${pad(r % SCALE.permissionSets, 3)}`, `Role${pad((r + 1) % SCALE.permissionSets, 3)}`];
    const requesters = Array.from({ length: SCALE.requestersPerRule }, (_, k) => scaleRequester(r, k));
    lines.push(
      `  - name: team-${pad(r, 3)}`,
      `    accounts: [${accounts}]`,
      `    permissionSets: [${sets.join(', ')}]`,
      `    requesters: [${requesters.join(', ')}]`,
      ...(r % 2 === 0 ? ['    autoApprove: true'] : [`    approvers: [lead${pad(r, 3)}@bench.example.com, U0BOB00000]`]),
      '    maxDuration: 8h',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Type-ahead queries on the discovered organisation, in turn: a name prefix, an OU's name, a tag, the start of an id. */
export const discoveredQueries = (i: number): string => ['payments-01', 'security-staging-eu', 'cost-center=cc-1007', '3000000001'][i % 4]!;
/** Type-ahead queries on the static scale config: "acct-037" matches the ten accounts acct-0370 … acct-0379, among 1,000. */
export const staticQueries = (i: number): string => `acct-0${pad((i * 37) % 100, 2)}`;

export interface ScaleMeasures {
  formOpen: { timebox: Summary; floor: Summary; errors: number };
  typeAhead: { timebox: Summary; floor: Summary; errors: number };
}

export interface ScaleResult extends ScaleMeasures {
  /** The same on a discovered organisation (discoveredScaleCatalogue, discoveredScaleConfigYaml). */
  discovered?: ScaleMeasures;
  /** `/aws-access available` for one requester on the static scale config (its CPU time in this process), per answer. */
  available?: { meanMs: number; p99Ms: number; iterations: number };
  /** Rule evaluation of a 10-grant request under the last rule (every rule looked at), per request. */
  ruleEvaluation: { meanMs: number; p99Ms: number; iterations: number; firstMs: number };
}

/**
 * Rule evaluation in this process (the domain code the Slack handler runs): resolving a request's
 * targets and matching each against the rules, for a request the last rule covers, so every rule
 * is looked at. The worst request a person can make: 5 accounts × 2 permission sets, 10 grants.
 */
export function ruleEvaluation(iterations: number): ScaleResult['ruleEvaluation'] & { firstMs: number } {
  const policy = parseConfig(scaleConfigYaml(), 'scale config').policy;
  const last = SCALE.rules - 1;
  const requester = { slackUserId: 'UBSCALE0001', email: scaleRequester(last, SCALE.requestersPerRule - 1) };
  const spec = {
    kind: 'account' as const,
    accounts: Array.from({ length: SCALE.accountsPerRule }, (_, k) => `acct-${pad(last * SCALE.accountsPerRule + k, 4)}`),
    permissionSets: [`PermSet${pad(last % SCALE.permissionSets, 3)}`, `PermSet${pad((last + 1) % SCALE.permissionSets, 3)}`],
  };
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    const entitlements = checkEntitlements(policy, requester, resolveTargets(policy, spec), 3_600_000);
    times.push(performance.now() - started);
    if (entitlements.length !== 10 || entitlements[0]?.rule.name !== `team-${pad(last, 3)}`) throw new Error('rule evaluation matched the wrong rule');
  }
  return { meanMs: mean(times), p99Ms: percentile(times, 99), iterations, firstMs: times[0] ?? Number.NaN };
}

/** `/aws-access available` on the scale config (1,000 accounts × 100 permission sets × 200 rules): explainAvailable's CPU time, per answer. */
export function availableEvaluation(iterations: number): NonNullable<ScaleResult['available']> {
  const policy = parseConfig(scaleConfigYaml(), 'scale config').policy;
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const person = { slackUserId: 'UBSCALE0001', email: scaleRequester((i * 37) % SCALE.rules, 0) };
    const started = process.cpuUsage();
    const explanation = explainAvailable(policy, person);
    const used = process.cpuUsage(started);
    times.push((used.user + used.system) / 1000);
    if (explanation.sections.length !== SCALE.accountsPerRule) throw new Error('available listed the wrong accounts');
  }
  return { meanMs: mean(times), p99Ms: percentile(times, 99), iterations };
}

/**
 * Item 5 against a Timebox started on the scale config: opening the form (from sending
 * `/aws-access` to Slack having both the ack and the views.open call, whichever is later: an app
 * may ack first and open the form after; the next is sent once both have come), and type-ahead
 * queries for accounts.
 */
export async function scale(rig: LocalRig, n: number, query: (i: number) => string): Promise<ScaleMeasures> {
  const floorSender = rig.floorSender as SlackRequestSender;
  const half = Math.ceil(n / 2);
  const formOpen = { timebox: [] as number[], floor: [] as number[], errors: 0 };
  for (let round = 0; round < 2; round++) {
    formOpen.floor.push(...(await closedLoop(1, Array.from({ length: half }, () => rig.commandJob(floorSender, rig.people.mint(), '')))).ms);
    // One form in flight until it is open: the next command is sent once Slack has both the ack and
    // the views.open call (with the form acked first, waiting for the ack alone would send the next
    // while this one is still being opened, and measure a burst instead).
    const block = await closedLoop(
      1,
      Array.from({ length: half }, () => {
        const send = rig.commandJob(rig.tbSender, rig.people.mint(), '');
        return async () => {
          const outcome = await send();
          const deadline = Date.now() + 5_000;
          while (outcome.response.status === 200 && rig.viewOpened(outcome) === undefined && Date.now() < deadline) await sleep(1);
          return outcome;
        };
      }),
    );
    await rig.settle();
    for (const outcome of block.results) {
      const opened = rig.viewOpened(outcome);
      if (outcome.response.status !== 200 || opened === undefined) formOpen.errors++;
      else formOpen.timebox.push(Math.max(opened, outcome.ackAt) - outcome.sentAt);
    }
  }
  // Each query from a form opened by a requester some rule names (what the form remembers of
  // them), so what they may request is worked out and listed first, as for a real person.
  const typeAheadJob = (sender: SlackRequestSender, i: number) => {
    const u = rig.people.mint();
    const privateMetadata = JSON.stringify({ channelId: 'C0GENERAL0', asker: { email: scaleRequester(i % SCALE.rules, 0), in: [], unchecked: [] } });
    return () => sender.blockSuggestion({ userId: u.id, userName: u.name, actionId: MODAL_BLOCKS.account, blockId: MODAL_BLOCKS.account, value: query(i), callbackId: REQUEST_MODAL_CALLBACK, privateMetadata });
  };
  const typeAhead = { timebox: [] as number[], floor: [] as number[], errors: 0 };
  for (let round = 0; round < 2; round++) {
    typeAhead.floor.push(...(await closedLoop(1, Array.from({ length: half }, (_, i) => typeAheadJob(floorSender, i)))).ms);
    const block = await closedLoop(1, Array.from({ length: half }, (_, i) => typeAheadJob(rig.tbSender, round * half + i)));
    typeAhead.timebox.push(...block.ms);
    typeAhead.errors += block.results.filter((r) => r.status !== 200 || ((JSON.parse(r.body || '{}') as { options?: unknown[] }).options?.length ?? 0) === 0).length;
    await rig.settle();
  }
  return {
    formOpen: { timebox: summary(formOpen.timebox), floor: summary(formOpen.floor), errors: formOpen.errors },
    typeAhead: { timebox: summary(typeAhead.timebox), floor: summary(typeAhead.floor), errors: typeAhead.errors },
  };
}

// ---------------------------------------------------------------------------- item 8: load

export interface LoadResult {
  timebox: Summary;
  floor: Summary;
  /** From sending to the requester having the answer (the ack's text, or the response_url reply). */
  answer: Summary;
  answeredLater: number;
  errors: number;
  requests: number;
}

/**
 * Item 8: the load test's command phase. `requests` two-grant requests (production ReadOnly and
 * Admin, each grant needing approval), every one from a new requester, all sent at once to a
 * freshly started Timebox; the floor gets the same burst first.
 */
export async function loadBurst(rig: LocalRig, requests: number): Promise<LoadResult> {
  const floorSender = rig.floorSender as SlackRequestSender;
  const burst = (sender: SlackRequestSender) =>
    closedLoop(requests, Array.from({ length: requests }, (_, i) => rig.commandJob(sender, rig.people.mint(), `production ReadOnly,Admin 1h load test ${i + 1}`)));
  const floor = await burst(floorSender);
  await rig.settle();
  const tb = await burst(rig.tbSender);
  const answered: Answer[] = [];
  for (const outcome of tb.results) {
    const answer = await rig.answer(outcome, 30_000);
    if (answer && outcome.response.status === 200 && requestIdIn(answer.text) !== undefined) answered.push(answer);
  }
  return {
    timebox: summary(tb.ms),
    floor: summary(floor.ms),
    answer: summary(answered.map((answer) => answer.afterMs)),
    answeredLater: answered.filter((answer) => answer.later).length,
    errors: requests - answered.length,
    requests,
  };
}
