import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channelKey, messageOf, requestStatus, type AccessRequest, type Grant, type RequestStatus } from '../../src/domain/access-request';
import { viewOf, type RequestView } from '../support/request-view';
import { auditProblems } from '../support/audit-check';
import { targetKey } from '../../src/domain/grant-target';
import type { Lease } from '../../src/domain/lease';
import type { AuditEvent, AuditEventType } from '../../src/domain/audit';
import { DynamoDbStore } from '../../src/adapters/dynamodb/dynamodb-store';
import { startEmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import { AwsStandIn, type AwsCall } from '../support/aws-stand-in';
import type { ChildKnobs } from '../support/child-timebox';
import { SlackRequestSender } from '../support/slack-requests';
import { TimeboxChild, childEnv } from '../support/timebox-child-process';
import { SlackStandIn, type SlackApiCall, type SlackMessage } from '../support/slack-stand-in';
import {
  ACCOUNTS,
  APPROVAL_CHANNEL,
  BOT_TOKEN,
  IDENTITY_STORE_ID,
  INSTANCE_ARN,
  PEOPLE,
  PERMISSION_SETS,
  SIGNING_SECRET,
  TimeboxHarness,
  buttonClick,
  testConfigYaml,
  type PersonName,
} from '../support/timebox-harness';
import { eventually } from '../support/eventually';
import { findRequestId } from '../../src/domain/request-id';

/**
 * Crash safety, for real: the local Timebox runs as a separate process (test/support/child-timebox.ts)
 * that is SIGKILLed at one exact step of a grant or a revoke, chosen by a hook in the Slack or AWS
 * stand-in, then started again on the same dynalite data directory. Whatever the step, the process
 * must converge on its own: the request ends ENDED, the assignment existed throughout its recorded
 * window and is gone at the end, it was created once (one window), every audit event is in the log,
 * and the requester was told (at least once) that access was active and that it ended. The grant
 * and revoke cases run twice: with a one-grant request, and with a request of two grants (one
 * approval click starts both; the kill lands at the first matching call of either grant), where
 * all of the above holds for every grant.
 */

const KNOBS: ChildKnobs = {
  claimMs: 1500,
  sweepIntervalMs: 500,
  pollDelaysMs: [20, 40, 80],
  pollBudgetMs: 5_000,
  leasePollMs: 20,
  leaseWaitMs: 5_000,
  revokeRetryMs: 200,
  newsRetryMs: 200,
  logLevel: (process.env.TIMEBOX_TEST_LOG as ChildKnobs['logLevel']) ?? 'silent',
};

const REQUESTER: PersonName = 'dave';
const APPROVER: PersonName = 'alice';
const CASE_TIMEOUT_MS = 60_000;
const WAIT_MS = 20_000;
/**
 * How long an assignment may outlive its window besides the time no Timebox was running (from
 * the kill to the restarted process being ready, measured: a busy machine takes seconds to start
 * one): a sweep period plus a revoke, plus the claim expiry a crash during the revoke costs.
 * A correctness bound, not a speed target.
 */
const OUTLIVE_BOUND_MS = 10_000;
/**
 * The window of a case whose window may start before the kill: it must outlast the restart (and
 * the news after it) even on a busy machine, or the restarted process finds it over, revokes
 * first, and the requester is only ever told it ended.
 */
const OUTLASTS_RESTART = '8s';


// ---------------------------------------------------------------------------------------------
// One crash scenario: stand-ins, a data directory, and the children that share it
// ---------------------------------------------------------------------------------------------

/** One account assignment of the requester's that a scenario's request asks for. */
interface Target {
  account: keyof typeof ACCOUNTS;
  permissionSet: keyof typeof PERMISSION_SETS;
}

const targetName = (t: Target): string => `${t.permissionSet} on ${t.account}`;

/** `grants` is how many grants the scenario's request has (a Slack message may show each). */
type KillTrigger =
  | { kind: 'aws-call'; match: (call: AwsCall) => boolean }
  | { kind: 'aws-response'; match: (operation: string, output: unknown) => boolean }
  | { kind: 'slack-call'; match: (call: SlackApiCall, grants: number) => boolean };

/** How many times `phrase` occurs in `text`. */
const timesIn = (text: string, phrase: string): number => text.split(phrase).length - 1;

interface PresenceChange {
  at: number;
  present: boolean;
  operation: string;
}

interface FinalState {
  request: RequestView;
  audit: AuditEvent[];
  /** The lease of any of the scenario's targets (undefined when none has one). */
  lease: Lease | undefined;
  /** Each target's lease, in the scenario's order. */
  leases: Array<Lease | undefined>;
  due: AccessRequest[];
}

const scenarios = new Set<CrashScenario>();

class CrashScenario {
  child: TimeboxChild | undefined;
  sender: SlackRequestSender | undefined;
  readonly children: TimeboxChild[] = [];
  /** Per target: every change of whether the requester's assignment exists, seen at SSO Admin call boundaries. */
  private readonly presenceByTarget = new Map<string, PresenceChange[]>();
  /** CreateAccountAssignment calls that arrived while their assignment already existed (duplicates). */
  readonly createdWhilePresent: Array<{ target: string; at: number }> = [];
  /** Per target: the creation operations AWS answered SUCCEEDED for. */
  readonly succeededCreations = new Map<string, Set<string>>();
  /** What each crash interrupted, and when. */
  readonly crashes: Array<{ at: number; what: string; pid: number | undefined }> = [];
  private trigger: { what: string; trigger: KillTrigger; fired: () => void } | undefined;
  private readonly configPath: string;

  private constructor(
    readonly aws: AwsStandIn,
    readonly slack: SlackStandIn,
    readonly dir: string,
    readonly targets: readonly Target[],
  ) {
    for (const t of targets) this.presenceByTarget.set(targetName(t), []);
    this.configPath = join(dir, 'timebox.yaml');
    writeFileSync(this.configPath, testConfigYaml());

    // Every change to an assignment happens while the stand-in handles an SSO Admin call, and
    // the stand-in runs each call's hooks, handler and answer in one synchronous stretch. So
    // looking before and after each call tells which call changed it, and that call's arrival
    // time is when it changed: no later than the answer, so before the caller could know of it.
    let callAt = 0;
    const look = (operation: string) => {
      for (const t of this.targets) {
        const changes = this.presenceOf(t);
        const present = this.hasAssignment(t);
        const last = changes[changes.length - 1];
        if ((last?.present ?? false) !== present) changes.push({ at: callAt, present, operation });
      }
    };
    aws.onCall((call) => {
      callAt = call.at;
      look(call.operation);
      // Before the stand-in handles it: a creation of what is already there is a duplicate.
      const created = call.operation === 'CreateAccountAssignment' ? this.targetOf(call.input) : undefined;
      if (created && this.hasAssignment(created)) this.createdWhilePresent.push({ target: targetName(created), at: call.at });
      if (this.trigger?.trigger.kind === 'aws-call' && this.trigger.trigger.match(call)) this.fire();
    });
    aws.afterResponse((operation, output) => {
      look(operation);
      if (operation === 'DescribeAccountAssignmentCreationStatus') {
        const status = (output as { AccountAssignmentCreationStatus?: { Status?: string; RequestId?: string } } | undefined)?.AccountAssignmentCreationStatus;
        const target = status?.Status === 'SUCCEEDED' ? this.targetOf(status) : undefined;
        if (target && status?.RequestId) {
          const ids = this.succeededCreations.get(targetName(target)) ?? new Set<string>();
          this.succeededCreations.set(targetName(target), ids.add(status.RequestId));
        }
      }
      if (this.trigger?.trigger.kind === 'aws-response' && this.trigger.trigger.match(operation, output)) this.fire();
    });
    slack.onCall((call) => {
      if (this.trigger?.trigger.kind === 'slack-call' && this.trigger.trigger.match(call, this.targets.length)) this.fire();
    });
  }

  static async start(options: { creationPolls: number; deletionPolls: number; targets: readonly Target[] }): Promise<CrashScenario> {
    const aws = await AwsStandIn.start({ creationPolls: options.creationPolls, deletionPolls: options.deletionPolls });
    const slack = await SlackStandIn.start({ users: Object.values(PEOPLE).map(({ id, name, email }) => ({ id, name, email })), token: BOT_TOKEN });
    for (const p of Object.values(PEOPLE)) aws.addUser({ userId: p.principalId, email: p.email, identityStoreId: IDENTITY_STORE_ID });
    const scenario = new CrashScenario(aws, slack, mkdtempSync(join(tmpdir(), 'timebox-crash-')), options.targets);
    scenarios.add(scenario);
    return scenario;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** Starts (again) the Timebox process on this scenario's data directory. */
  async startChild(): Promise<void> {
    if (this.child?.running) throw new Error('a Timebox child is still running on this data directory');
    const { child, url } = await TimeboxChild.start(childEnv({ aws: this.aws, slack: this.slack, configPath: this.configPath, dataDir: this.dataDir, knobs: KNOBS }));
    this.child = child;
    this.children.push(child);
    this.sender = new SlackRequestSender({ url: `${url}/slack/events`, signingSecret: SIGNING_SECRET, answers: this.slack });
  }

  /**
   * SIGKILLs the running child the first time `trigger` matches (inside the stand-in's hook, so
   * before the stand-in answers, or right after it answered). Resolves once the process is gone.
   */
  killWhen(what: string, trigger: KillTrigger): Promise<void> {
    return new Promise<void>((resolve) => {
      this.trigger = { what, trigger, fired: resolve };
    });
  }

  /** Kills the child now (for kill points the test itself observes, such as an HTTP answer). */
  killNow(what: string): void {
    this.trigger = { what, trigger: { kind: 'slack-call', match: () => false }, fired: () => undefined };
    this.fire();
  }

  private fire(): void {
    const armed = this.trigger;
    if (!armed) return;
    this.trigger = undefined; // once only: the restarted child must be able to do the same step
    const child = this.child;
    child?.kill();
    this.crashes.push({ at: Date.now(), what: armed.what, pid: child?.pid });
    void (child ? child.exited : Promise.resolve()).then(() => armed.fired());
  }

  /** Waits for the killed child to be gone, then starts a new one on the same data. */
  async restartAfterCrash(): Promise<void> {
    if (this.child) await this.child.exited;
    await this.startChild();
    const crashedAt = this.crashes[this.crashes.length - 1]?.at;
    if (crashedAt !== undefined) this.downMs += Date.now() - crashedAt;
  }

  /** How long, in all, no Timebox process ran on this data between a crash and the restarted one being ready. */
  downMs = 0;

  /** The last stop, after which the store may be opened. */
  async stopForGood(): Promise<void> {
    await this.child?.stop();
  }

  /** Reads the store the children wrote, with the same adapter they use. Only once they are all gone. */
  async readFinalState(requestId: string): Promise<FinalState> {
    if (this.children.some((c) => c.running)) throw new Error('cannot open the store while a child holds it');
    const db = await startEmbeddedDynamoDb(this.dataDir);
    try {
      const store = new DynamoDbStore(db.client, db.tableName);
      const request = await store.getRequest(requestId);
      if (!request) throw new Error(`the store has no request ${requestId}`);
      const principalId = PEOPLE[REQUESTER].principalId;
      const leases: Array<Lease | undefined> = [];
      for (const t of this.targets) {
        leases.push(await store.getLease(targetKey({ kind: 'account', principalId, accountId: ACCOUNTS[t.account], permissionSetArn: PERMISSION_SETS[t.permissionSet] })));
      }
      return {
        request: viewOf(request),
        audit: await store.listAudit(requestId),
        lease: leases.find((l) => l !== undefined),
        leases,
        due: await store.listDue(Number.MAX_SAFE_INTEGER),
      };
    } finally {
      await db.close();
    }
  }

  async dispose(): Promise<void> {
    scenarios.delete(this);
    for (const child of this.children) child.kill();
    await Promise.all(this.children.map((c) => c.exited));
    await this.slack.close();
    await this.aws.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // ------------------------------------------------------------------ Slack's side

  /** `/aws-access <text>` as the requester; returns the ephemeral answer. */
  async command(text: string): Promise<string> {
    const person = PEOPLE[REQUESTER];
    const response = await this.requireSender().command({
      userId: person.id,
      userName: person.name,
      text,
      channelId: 'C0GENERAL0',
      responseUrl: this.slack.responseUrl({ userId: person.id, channelId: 'C0GENERAL0' }),
    });
    expect(response.status).toBe(200);
    return (JSON.parse(response.body) as { text?: string }).text ?? '';
  }

  /** Files a request as the requester; returns its id from the ephemeral answer. */
  async file(text: string): Promise<string> {
    const reply = await this.command(text);
    const id = findRequestId(reply);
    if (!id) throw new Error(`no request id in the answer to the command: ${reply}`);
    return id;
  }

  async approvalMessage(requestId: string): Promise<SlackMessage> {
    return this.slack.waitFor(() => this.channelMessagesFor(requestId)[0], WAIT_MS, `the approvals-channel message for ${requestId}`);
  }

  /** Clicks Approve on the request's message as the approver. */
  async approve(requestId: string): Promise<void> {
    const message = await this.approvalMessage(requestId);
    // Give the worker a moment to record the message it just posted: a click racing that write
    // is a different story (see the report), not the crash under test here.
    await sleep(300);
    const response = await this.requireSender().blockAction(buttonClick(this.slack, PEOPLE[APPROVER], 'timebox_approve', requestId, message));
    expect(response.status).toBe(200);
  }

  channelMessagesFor(requestId: string): SlackMessage[] {
    return this.slack.messagesIn(APPROVAL_CHANNEL).filter((m) => JSON.stringify(m.blocks ?? []).includes(requestId));
  }

  /**
   * The requester's DMs about the request saying every grant is active, or every grant has ended,
   * or that one failed. A one-grant request's DMs name the grant ("is active until"); a
   * multi-grant request's count them ("2 of 2 active until", "2 of 2 ended", "1 of 2 failed").
   */
  dmsAbout(requestId: string, kind: 'active' | 'ended' | 'failed'): string[] {
    const n = this.targets.length;
    const markers =
      n === 1
        ? { active: ['is active until'], ended: ['has ended', 'was ended early'], failed: ['could not be granted'] }[kind]
        : { active: [`${n} of ${n} active until`], ended: [`${n} of ${n} ended`], failed: [`of ${n} failed`] }[kind];
    // What each DM said when it was sent (the "active" one is rewritten once the window is over).
    return this.slack
      .dmsTo(PEOPLE[REQUESTER].id)
      .map((m) => m.history[0]?.text ?? m.text ?? '')
      .filter((t) => t.includes(requestId) && markers.some((marker) => t.includes(marker)));
  }

  async waitForDm(requestId: string, kind: 'active' | 'ended', timeoutMs = WAIT_MS): Promise<string> {
    return this.slack
      .waitFor(() => this.dmsAbout(requestId, kind)[0], timeoutMs, `the ${kind.toUpperCase()} DM for ${requestId}`)
      .catch((err: unknown) => {
        const failed = this.dmsAbout(requestId, 'failed');
        throw new Error(
          `${err instanceof Error ? err.message : String(err)}\n  failure DMs: ${JSON.stringify(failed)}\n  crashes: ${JSON.stringify(this.crashes)}\n` +
            `  AWS calls: ${this.aws.calls.map((c) => c.operation).join(', ')}\n  child log: ${this.child?.logs() ?? ''}`,
        );
      });
  }

  /** Whether the requester has the assignment (by default, the scenario's first target). */
  hasAssignment(target: Target = this.targets[0] as Target): boolean {
    return this.aws.hasAssignment({
      instanceArn: INSTANCE_ARN,
      accountId: ACCOUNTS[target.account],
      permissionSetArn: PERMISSION_SETS[target.permissionSet],
      principalId: PEOPLE[REQUESTER].principalId,
    });
  }

  /** For each target, in order: whether the requester has the assignment now. */
  present(): boolean[] {
    return this.targets.map((t) => this.hasAssignment(t));
  }

  /** One target's presence changes. */
  presenceOf(target: Target): PresenceChange[] {
    const changes = this.presenceByTarget.get(targetName(target));
    if (!changes) throw new Error(`${targetName(target)} is not one of this scenario's targets`);
    return changes;
  }

  /** The first target's presence changes (for the one-target tests). */
  get presence(): PresenceChange[] {
    return this.presenceOf(this.targets[0] as Target);
  }

  /** The scenario target an SSO Admin input or status names (TargetId, PermissionSetArn, PrincipalId), if any. */
  targetOf(input: unknown): Target | undefined {
    const i = input as { TargetId?: unknown; PermissionSetArn?: unknown; PrincipalId?: unknown } | undefined;
    if (i?.PrincipalId !== PEOPLE[REQUESTER].principalId) return undefined;
    return this.targets.find((t) => ACCOUNTS[t.account] === i.TargetId && PERMISSION_SETS[t.permissionSet] === i.PermissionSetArn);
  }

  /** For each target, in order: how many `operation` calls (CreateAccountAssignment, DeleteAccountAssignment) named it. */
  callsFor(operation: string): number[] {
    const calls = this.aws.callsTo(operation);
    return this.targets.map((t) => calls.filter((c) => this.targetOf(c.input) === t).length);
  }

  /** The scenario target a grant is for. */
  targetOfGrant(grant: Grant): Target {
    const t = grant.target;
    const found = t.kind === 'account' ? this.targets.find((x) => ACCOUNTS[x.account] === t.accountId && PERMISSION_SETS[x.permissionSet] === t.permissionSetArn) : undefined;
    if (!found) throw new Error(`grant ${grant.id} is for none of this scenario's targets: ${JSON.stringify(t)}`);
    return found;
  }

  private requireSender(): SlackRequestSender {
    if (!this.sender) throw new Error('no Timebox child has been started');
    return this.sender;
  }
}

// ---------------------------------------------------------------------------------------------
// What every crash must converge to
// ---------------------------------------------------------------------------------------------

const statusOf = (output: unknown, key: string): string | undefined =>
  ((output as Record<string, { Status?: string } | undefined> | undefined)?.[key])?.Status;

/** The audit trail without the repeats a crash legitimately adds (a grant resumed, a revoke retried). */
function essentialTypes(audit: AuditEvent[]): AuditEventType[] {
  return audit
    .filter((e) => !(e.type === 'grant_started' && e.detail === 'resumed') && !(e.type === 'revoke_started' && e.detail === 'retry'))
    .map((e) => e.type);
}

/** Every status change is in the log, in order: each event starts where the previous one ended. */
function expectUnbrokenChain(audit: AuditEvent[], finalStatus: RequestStatus): void {
  let status: RequestStatus | undefined;
  for (const event of audit) {
    if (event.to === undefined) continue; // not about the status (a refused click, a reconciler note)
    if (event.from !== undefined) expect({ seq: event.seq, type: event.type, from: event.from }).toEqual({ seq: event.seq, type: event.type, from: status });
    else if (status !== undefined) expect({ seq: event.seq, type: event.type, to: event.to }).toEqual({ seq: event.seq, type: event.type, to: status });
    status = event.to ?? status;
  }
  expect(status).toBe(finalStatus);
}

/** The same for every grant of the request, each on its own chain (the grants' stories interleave freely). */
function expectUnbrokenChains(request: AccessRequest, audit: AuditEvent[]): void {
  // A one-grant request's whole log is its grant's story.
  if (request.grants.length === 1) expectUnbrokenChain(audit, requestStatus(request));
  for (const grant of request.grants) expectUnbrokenChain(audit.filter((e) => e.grantId === grant.id), grant.status);
  expect(auditProblems(request, audit)).toEqual([]);
}

async function expectConverged(s: CrashScenario, requestId: string, expected: { approvalType: 'approved' | 'auto_approved' }): Promise<FinalState> {
  const n = s.targets.length;
  // Slack's view, while the last child still runs.
  expect(s.dmsAbout(requestId, 'active').length).toBeGreaterThanOrEqual(1);
  expect(s.dmsAbout(requestId, 'ended').length).toBeGreaterThanOrEqual(1);
  expect(s.dmsAbout(requestId, 'failed')).toEqual([]);
  const messages = s.channelMessagesFor(requestId);
  expect(messages.length).toBeGreaterThanOrEqual(1);
  // One "Access removed" per grant (a multi-grant message has a line for each).
  await s.slack.waitFor(
    () => timesIn(JSON.stringify(messages[messages.length - 1]?.blocks ?? []), 'Access removed') >= n,
    WAIT_MS,
    'the channel message to say access was removed',
  );

  // AWS's view: nothing left behind.
  expect(s.aws.listAssignments()).toEqual([]);

  await s.stopForGood();
  const state = await s.readFinalState(requestId);
  const { request, audit, leases, due } = state;

  // A truthful end state with nothing left to do.
  expect(request.grants).toHaveLength(n);
  expect(request.status).toBe('ENDED');
  expect(messageOf(request, 'channel')?.shown).toBe(channelKey(request));
  expect(leases).toEqual(s.targets.map(() => undefined));
  expect(due.map((r) => r.id)).not.toContain(requestId);

  // 0 duplicates: nothing was created while it was already there, and no assignment was
  // created successfully more than once (one window each).
  expect(s.createdWhilePresent).toEqual([]);
  for (const [target, ids] of s.succeededCreations) expect({ target, succeeded: ids.size }).toEqual({ target, succeeded: 1 });

  const seen = new Set<Target>();
  for (const grant of request.grants) {
    const t = s.targetOfGrant(grant);
    const name = `grant ${grant.id} (${targetName(t)})`;
    expect(seen.has(t)).toBe(false); // one grant per target
    seen.add(t);
    expect({ grant: name, status: grant.status, failure: grant.failure, keptBecause: grant.keptBecause, claimUntil: grant.claimUntil }).toEqual({
      grant: name,
      status: 'ENDED',
      failure: undefined,
      keptBecause: undefined,
      claimUntil: undefined,
    });
    const { activeAt, endsAt, endedAt } = grant;
    if (activeAt === undefined || endsAt === undefined || endedAt === undefined) throw new Error(`${name} ENDED without its window: ${JSON.stringify(grant)}`);
    expect(endsAt - activeAt).toBe(request.durationMs);
    expect(endedAt).toBeGreaterThanOrEqual(endsAt);

    // The assignment came exactly once and went exactly once, and it was there for the whole
    // recorded window: created before the window started, deleted only after it ended (and not
    // long after: no grant outlives its window), and gone before ENDED was written.
    const presence = s.presenceOf(t);
    expect({ grant: name, presence: presence.map((p) => p.present) }).toEqual({ grant: name, presence: [true, false] });
    const [appeared, disappeared] = presence as [PresenceChange, PresenceChange];
    expect(appeared.at).toBeLessThanOrEqual(activeAt);
    expect(disappeared.at).toBeGreaterThanOrEqual(endsAt);
    expect(disappeared.at).toBeLessThanOrEqual(endedAt);
    expect(disappeared.at - endsAt).toBeLessThanOrEqual(OUTLIVE_BOUND_MS + s.downMs);

    // The audit log: every transition of this grant, once, in order, nothing lost.
    const mine = audit.filter((e) => e.grantId === grant.id);
    expect({ grant: name, events: essentialTypes(mine) }).toEqual({
      grant: name,
      events: ['requested', expected.approvalType, 'grant_started', 'granted', 'revoke_started', 'revoked'],
    });
    // The window was recorded in the write that logged `granted`, just before it (commit takes its own time).
    const granted = mine.find((e) => e.type === 'granted');
    expect(granted?.at).toBeGreaterThanOrEqual(activeAt);
    expect(granted?.at).toBeLessThan(endsAt);
  }

  // Nothing in the log outside the grants' stories, no failure, every chain unbroken.
  const grantIds = new Set(request.grants.map((g) => g.id));
  expect(essentialTypes(audit.filter((e) => e.grantId === undefined || !grantIds.has(e.grantId)))).toEqual([]);
  expect(audit.filter((e) => e.type === 'grant_failed' || e.type === 'revoke_failed')).toEqual([]);
  expectUnbrokenChains(request, audit);
  const logged = new Set(audit.map((e) => e.seq));
  for (const event of request.lastEvents ?? []) expect(logged.has(event.seq)).toBe(true);
  return state;
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

const PROD_ADMIN = { account: 'production', permissionSet: 'Admin' } as const;
const PROD_READONLY = { account: 'production', permissionSet: 'ReadOnly' } as const;
const STAGING_READONLY = { account: 'staging', permissionSet: 'ReadOnly' } as const;

/** What a request is for: the targets of its grants, and how `/aws-access` names them. */
interface Variant {
  targets: readonly Target[];
  what: string;
}

const ONE_GRANT: Variant = { targets: [PROD_ADMIN], what: 'production Admin' };
/** Grant 1 Admin, grant 2 ReadOnly, both on production under rule prod-admin. */
const TWO_GRANTS: Variant = { targets: [PROD_ADMIN, PROD_READONLY], what: 'production Admin,ReadOnly' };

/** `present` for every target of the scenario. */
const everyTarget = (s: CrashScenario, present: boolean): boolean[] => s.targets.map(() => present);

interface ApprovalCase {
  name: string;
  phase: 'grant' | 'revoke';
  /** Long enough to see the window active after a restart (grant) or short enough to end before the crash (revoke). */
  duration: string;
  creationPolls: number;
  deletionPolls: number;
  trigger: KillTrigger;
  /** The audit event a restarted worker adds when it takes the request over after the crash. */
  takeover?: { type: AuditEventType; detail: string };
  /**
   * CreateAccountAssignment calls there must have been: a grant interrupted after sending one
   * sends it again only if AWS has not made the assignment meanwhile (each attempt looks first).
   */
  minCreates: number;
  /** What the world looks like once the process is dead: proof the kill landed on the step meant. */
  afterCrash: (s: CrashScenario, requestId: string) => void;
}

const APPROVAL_CASES: ApprovalCase[] = [
  {
    // The worker has committed APPROVED → GRANTING (with its claim); its next step is finding the
    // requester's Identity Center user, so GetUserId is the first call after the claim.
    name: '1b. after the grant is claimed (killed at GetUserId)',
    phase: 'grant',
    duration: '3s',
    creationPolls: 1,
    deletionPolls: 1,
    trigger: { kind: 'aws-call', match: (call) => call.operation === 'GetUserId' },
    afterCrash: (s) => {
      // Each grant looks the requester up; with two, both lookups may be out before the kill lands.
      const lookups = s.aws.callsTo('GetUserId').length;
      expect(lookups).toBeGreaterThanOrEqual(1);
      expect(lookups).toBeLessThanOrEqual(s.targets.length);
      expect(s.aws.callsTo('CreateAccountAssignment')).toEqual([]);
    },
    takeover: { type: 'grant_started', detail: 'resumed' },
    minCreates: 1,
  },
  {
    name: '2a. after CreateAccountAssignment is sent, and AWS carries it out',
    phase: 'grant',
    duration: '3s',
    creationPolls: 0, // done as soon as AWS has the request: the assignment exists while the process is dead
    deletionPolls: 1,
    trigger: { kind: 'aws-call', match: (call) => call.operation === 'CreateAccountAssignment' },
    afterCrash: (s, id) => {
      // AWS has what it was sent (at least the creation the kill landed on), no window is recorded.
      expect(s.present()).toEqual(s.callsFor('CreateAccountAssignment').map((n) => n > 0));
      expect(s.present()).toContain(true);
      expect(s.dmsAbout(id, 'active')).toEqual([]);
    },
    takeover: { type: 'grant_started', detail: 'resumed' },
    minCreates: 1, // the restarted grant finds what AWS made (Timebox's, since it was absent first) and starts the window

  },
  {
    name: '2b. after CreateAccountAssignment is sent, and that operation never completes',
    phase: 'grant',
    duration: '3s',
    creationPolls: 1, // the dead process never polls it: it stays IN_PROGRESS until someone does
    deletionPolls: 1,
    trigger: { kind: 'aws-call', match: (call) => call.operation === 'CreateAccountAssignment' },
    afterCrash: (s) => expect(s.present()).toEqual(everyTarget(s, false)),
    takeover: { type: 'grant_started', detail: 'resumed' },
    // The restarted grant finds that creation in progress (AWS refuses a second one while it runs)
    // and waits for it: the assignment is created once.
    minCreates: 1,
  },
  {
    name: '3. after the creation SUCCEEDED but before the window is recorded',
    phase: 'grant',
    duration: '3s',
    creationPolls: 1,
    deletionPolls: 1,
    trigger: {
      kind: 'aws-response',
      match: (op, out) => op === 'DescribeAccountAssignmentCreationStatus' && statusOf(out, 'AccountAssignmentCreationStatus') === 'SUCCEEDED',
    },
    afterCrash: (s, id) => {
      expect(s.present()).toContain(true); // the one whose creation SUCCEEDED; another grant may not be there yet
      expect(s.slack.callsTo('chat.update').map((c) => JSON.stringify(c.args)).filter((a) => a.includes('Active until'))).toEqual([]);
      expect(s.dmsAbout(id, 'active')).toEqual([]);
    },
    takeover: { type: 'grant_started', detail: 'resumed' },
    minCreates: 1, // as in 2a: the assignment is there, so it is not created again

  },
  {
    // ACTIVE (with endsAt) is stored, then the revoke timer is armed in memory, then the worker
    // updates the channel message: killing at that update loses the timer and the ACTIVE news.
    name: '3b. after ACTIVE is recorded, before anyone is told (killed at the chat.update saying it is active)',
    phase: 'grant',
    duration: OUTLASTS_RESTART, // the window started before the crash
    creationPolls: 1,
    deletionPolls: 1,
    // With several grants, the update saying every one is active (a sweep may show a partial one first).
    trigger: { kind: 'slack-call', match: (call, grants) => call.method === 'chat.update' && timesIn(JSON.stringify(call.args), 'Active until') >= grants },
    afterCrash: (s, id) => {
      expect(s.present()).toEqual(everyTarget(s, true));
      expect(s.dmsAbout(id, 'active')).toEqual([]); // the requester has not been told yet
    },
    minCreates: 1,
  },
  {
    name: '4a. after DeleteAccountAssignment is sent, and AWS carries it out',
    phase: 'revoke',
    duration: '2s',
    creationPolls: 1,
    deletionPolls: 0,
    trigger: { kind: 'aws-call', match: (call) => call.operation === 'DeleteAccountAssignment' },
    // AWS removed what it was sent (at least the deletion the kill landed on).
    afterCrash: (s) => {
      expect(s.present()).toEqual(s.callsFor('DeleteAccountAssignment').map((n) => n === 0));
      expect(s.present()).toContain(false);
    },
    takeover: { type: 'revoke_started', detail: 'retry' },
    minCreates: 1,
  },
  {
    name: '4b. after DeleteAccountAssignment is sent, and that operation never completes',
    phase: 'revoke',
    duration: '2s',
    creationPolls: 1,
    deletionPolls: 1,
    trigger: { kind: 'aws-call', match: (call) => call.operation === 'DeleteAccountAssignment' },
    afterCrash: (s) => expect(s.present()).toEqual(everyTarget(s, true)),
    takeover: { type: 'revoke_started', detail: 'retry' },
    minCreates: 1,
  },
  {
    name: '5. after the deletion SUCCEEDED but before ENDED is recorded',
    phase: 'revoke',
    duration: '2s',
    creationPolls: 1,
    deletionPolls: 1,
    trigger: {
      kind: 'aws-response',
      match: (op, out) => op === 'DescribeAccountAssignmentDeletionStatus' && statusOf(out, 'AccountAssignmentDeletionStatus') === 'SUCCEEDED',
    },
    afterCrash: (s, id) => {
      expect(s.present()).toContain(false); // the one whose deletion SUCCEEDED
      expect(s.dmsAbout(id, 'ended')).toEqual([]);
    },
    takeover: { type: 'revoke_started', detail: 'retry' },
    minCreates: 1,
  },
  {
    name: '5b. after ENDED is recorded, before anyone is told (killed at the chat.update saying it ended)',
    phase: 'revoke',
    duration: '2s',
    creationPolls: 1,
    deletionPolls: 1,
    // With several grants, the update saying every one has ended.
    trigger: { kind: 'slack-call', match: (call, grants) => call.method === 'chat.update' && timesIn(JSON.stringify(call.args), 'Access removed') >= grants },
    afterCrash: (s, id) => {
      expect(s.present()).toEqual(everyTarget(s, false));
      expect(s.dmsAbout(id, 'ended')).toEqual([]);
    },
    minCreates: 1,
  },
];

describe('a Timebox process killed with SIGKILL converges after a restart', () => {
  let s: CrashScenario | undefined;

  afterEach(async () => {
    const current = s;
    s = undefined;
    await current?.dispose();
  });

  afterAll(async () => {
    // Belt and braces: nothing may outlive the run (each child also exits when its stdin closes).
    await Promise.all([...scenarios].map((x) => x.dispose()));
  });

  /** Files `${variant.what} <duration> crash test`, kills the child at the case's step, restarts it, and checks every grant converged. */
  async function runApprovalCase(c: ApprovalCase, variant: Variant): Promise<void> {
    s = await CrashScenario.start({ creationPolls: c.creationPolls, deletionPolls: c.deletionPolls, targets: variant.targets });
    await s.startChild();
    const n = variant.targets.length;

    const requestId = await s.file(`${variant.what} ${c.duration} crash test`);
    const crashed = s.killWhen(c.name, c.trigger);
    await s.approve(requestId);
    if (c.phase === 'revoke') await s.waitForDm(requestId, 'active'); // the crash comes when this window ends
    await crashed;
    expect(s.crashes).toHaveLength(1);
    c.afterCrash(s, requestId);

    const crashedAt = s.crashes[0]!.at;
    await s.restartAfterCrash();
    if (c.phase === 'grant') {
      await s.waitForDm(requestId, 'active');
      expect(s.present()).toEqual(everyTarget(s, true)); // ACTIVE is only ever said once the assignment exists
    }
    await s.waitForDm(requestId, 'ended');
    expect(s.present()).toEqual(everyTarget(s, false));

    // Calls may repeat after a crash (they are idempotent, and the start-up reconciler may get
    // there first); what counts is that each assignment came and went once (expectConverged).
    // Every other grant creates its own assignment at least once, and each is deleted.
    expect(s.aws.callsTo('CreateAccountAssignment').length).toBeGreaterThanOrEqual(c.minCreates + n - 1);
    for (const deletes of s.callsFor('DeleteAccountAssignment')) expect(deletes).toBeGreaterThanOrEqual(1);
    expect(s.channelMessagesFor(requestId)).toHaveLength(1); // the message was recorded before the crash: updated, never re-posted
    // The approval was stored by the first process, before the crash, and is in the log once per grant.
    const { request, audit } = await expectConverged(s, requestId, { approvalType: 'approved' });
    expect(request.grants.map((g) => ({ target: targetName(s!.targetOfGrant(g)), rule: g.ruleName }))).toEqual(variant.targets.map((t) => ({ target: targetName(t), rule: 'prod-admin' })));
    const approved = audit.filter((e) => e.type === 'approved');
    expect(approved.map((e) => e.grantId).sort()).toEqual(request.grants.map((g) => g.id).sort());
    for (const a of approved) {
      expect(a.actor).toBe(PEOPLE[APPROVER].id);
      expect(a.at).toBeLessThan(crashedAt);
    }

    const takeovers = audit.filter((e) => (e.type === 'grant_started' && e.detail === 'resumed') || (e.type === 'revoke_started' && e.detail === 'retry'));
    if (c.takeover) {
      expect(takeovers.length).toBeGreaterThanOrEqual(1);
      for (const t of takeovers) expect({ type: t.type, detail: t.detail }).toEqual(c.takeover);
      for (const t of takeovers) expect(t.at).toBeGreaterThan(crashedAt);
    } else {
      expect(takeovers).toEqual([]);
    }
  }

  test.each(APPROVAL_CASES)('$name', (c) => runApprovalCase(c, ONE_GRANT), CASE_TIMEOUT_MS);

  // In one process the decision is stored and the work dispatched in-process, with no call to the
  // outside in between to kill at; stopping the work queue before the click leaves exactly the
  // state a crash there would: APPROVED stored, no work started, every timer gone.
  test('1. after the approval is stored, before any work starts (work queue stopped, then a restart)', async () => {
    const h = await TimeboxHarness.start();
    try {
      const id = await h.file('carol', 'production Admin 3s decided then crashed');
      await h.approvalMessage(id);
      await h.runtime.queue.close();
      await h.click('alice', 'approve', id);
      await eventually(async () => (await h.request(id)).status === 'APPROVED', 5000, 'the approval to be stored');
      expect(h.aws.callsTo('GetUserId')).toEqual([]);
      await h.restart();
      const active = await h.waitForStatus(id, 'ACTIVE', 10_000);
      expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(true);
      const ended = await h.waitForStatus(id, 'ENDED', 15_000);
      expect(ended.endedAt!).toBeGreaterThanOrEqual(active.endsAt!);
      expect(h.aws.listAssignments()).toEqual([]);
      const types = (await h.audit(id)).map((e) => e.type);
      expect(types).toEqual(['requested', 'approved', 'grant_started', 'granted', 'revoke_started', 'revoked']);
    } finally {
      await h.stop();
    }
  }, CASE_TIMEOUT_MS);

  test('6. an auto-approved request, killed right after the command is acknowledged', async () => {
    s = await CrashScenario.start({ creationPolls: 1, deletionPolls: 1, targets: [STAGING_READONLY] });
    await s.startChild();
    const scenario = s;

    // Kill the moment the acknowledgement reaches Slack: the request is stored as APPROVED and
    // the in-process job that grants it has just been queued (or has barely started). The kill
    // comes when this process notices the answer, and a busy one notices late: the grant may be
    // further on (its window even started), so the window must outlast the restart, as in 3b.
    const requestId = await s.file(`staging ReadOnly ${OUTLASTS_RESTART} crash test`);
    s.killNow('auto-approved request acknowledged');
    await s.restartAfterCrash();

    await s.waitForDm(requestId, 'active');
    expect(s.hasAssignment()).toBe(true);
    await s.waitForDm(requestId, 'ended');
    expect(s.hasAssignment()).toBe(false);
    expect(s.aws.callsTo('CreateAccountAssignment').length).toBeGreaterThanOrEqual(1);
    expect(s.aws.callsTo('DeleteAccountAssignment')).toHaveLength(1);
    await expectConverged(scenario, requestId, { approvalType: 'auto_approved' });
  }, CASE_TIMEOUT_MS);

  // Test 6 kills when this process notices the answer; a busy one notices late, when the grant
  // is further on. The latest it can be: the window has started and the channel is being told.
  // With a window shorter than a restart on a busy machine (6 used 3 s; a restart took up to 7 s
  // with the CPU contended), the restarted process found the window over and the requester was
  // only ever told it had ended.
  describe('reliability-3: the crash tests hold on a busy machine', () => {
    test('an auto-approved request killed only once its window has started (the acknowledgement noticed late): the window outlasts the restart, and the requester is told it was active, then that it ended', async () => {
      s = await CrashScenario.start({ creationPolls: 1, deletionPolls: 1, targets: [STAGING_READONLY] });
      await s.startChild();
      const crashed = s.killWhen('window started, channel being told', { kind: 'slack-call', match: (call) => JSON.stringify(call.args).includes('Active until') });
      const requestId = await s.file(`staging ReadOnly ${OUTLASTS_RESTART} crash test`);
      await crashed;
      expect(s.hasAssignment()).toBe(true);
      expect(s.dmsAbout(requestId, 'active')).toEqual([]);
      await s.restartAfterCrash();

      await s.waitForDm(requestId, 'active');
      await s.waitForDm(requestId, 'ended');
      expect(s.aws.callsTo('CreateAccountAssignment')).toHaveLength(1);
      await expectConverged(s, requestId, { approvalType: 'auto_approved' });
    }, CASE_TIMEOUT_MS);
  });

  // The early end is stored and the revoke queued in-process, with no outside call in between:
  // killing the moment Slack has the answer leaves the end recorded and the revoke not yet done.
  test('7. an early end, killed right after it is acknowledged: the restarted process removes the access at once, not at the old end', async () => {
    s = await CrashScenario.start({ creationPolls: 1, deletionPolls: 1, targets: [STAGING_READONLY] });
    await s.startChild();
    const requestId = await s.file('staging ReadOnly 10m crash test');
    await s.waitForDm(requestId, 'active');
    expect(await s.command(`end ${requestId}`)).toContain(`Ending your access to *ReadOnly* on *staging* now (\`${requestId}\`)`);
    s.killNow('early end acknowledged');
    await s.restartAfterCrash();

    await s.waitForDm(requestId, 'ended');
    expect(s.hasAssignment()).toBe(false);
    expect(s.presence.map((p) => p.present)).toEqual([true, false]);
    expect(s.aws.callsTo('DeleteAccountAssignment').length).toBeGreaterThanOrEqual(1);
    await s.stopForGood();
    const { request, audit, lease, due } = await s.readFinalState(requestId);
    expect(request).toMatchObject({ status: 'ENDED', endedEarlyBy: { slackUserId: PEOPLE[REQUESTER].id } });
    expect(request.endedAt!).toBeLessThan(request.activeAt! + request.durationMs - 5 * 60_000); // long before the old end
    expect(lease).toBeUndefined();
    expect(due.map((r) => r.id)).not.toContain(requestId);
    expect(essentialTypes(audit)).toEqual(['requested', 'auto_approved', 'grant_started', 'granted', 'ended_early', 'revoke_started', 'revoked']);
    expectUnbrokenChain(audit, 'ENDED');
  }, CASE_TIMEOUT_MS);

  // A FAILED creation after an earlier attempt already created the assignment: grantAccess
  // asks AWS and removes what Timebox created, like a revoke would.
  test('2c. after CreateAccountAssignment is sent and AWS carries it out, a retried creation that FAILS leaves no assignment behind', async () => {
    s = await CrashScenario.start({ creationPolls: 0, deletionPolls: 1, targets: [PROD_ADMIN] });
    const scenario = s;
    await s.startChild();
    const requestId = await s.file('production Admin 3s crash test');
    const crashed = s.killWhen('CreateAccountAssignment sent', { kind: 'aws-call', match: (call) => call.operation === 'CreateAccountAssignment' });
    await s.approve(requestId);
    await crashed;
    expect(s.hasAssignment()).toBe(true); // AWS made it; the dead process never heard

    s.aws.failNextCreation('Permission set provisioning failed in the account');
    await s.restartAfterCrash();
    // Either end is truthful if AWS agrees with it: FAILED with nothing left in AWS, or a
    // window that is recorded and then revoked. Wait for one of them and a few sweeps more.
    await s.slack.waitFor(() => scenario.dmsAbout(requestId, 'failed')[0] ?? scenario.dmsAbout(requestId, 'ended')[0], WAIT_MS, `a FAILED or ENDED DM for ${requestId}`);
    await sleep(4 * (KNOBS.sweepIntervalMs ?? 500));

    await s.stopForGood();
    const { request, audit, lease } = await scenario.readFinalState(requestId);
    expect(['FAILED', 'ENDED']).toContain(request.status);
    expectUnbrokenChain(audit, request.status);
    // What the user actually has in AWS must match what Timebox says: nothing, once it is over.
    expect({ status: request.status, lease, assignments: scenario.aws.listAssignments() }).toEqual({ status: request.status, lease: undefined, assignments: [] });
  }, CASE_TIMEOUT_MS);

  // The same steps with a request of two grants (both under prod-admin, so the one click approves
  // both, and both are granted and revoked side by side): the kill lands at the first matching
  // call of either grant, and every grant must converge as one alone would.
  describe('with a two-grant request (production Admin,ReadOnly)', () => {
    test.each(APPROVAL_CASES)('$name', (c) => runApprovalCase(c, TWO_GRANTS), CASE_TIMEOUT_MS);
  });
});
