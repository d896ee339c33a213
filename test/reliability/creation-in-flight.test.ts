import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsStandIn, type AwsCall } from '../support/aws-stand-in';
import type { ChildKnobs } from '../support/child-timebox';
import { SlackRequestSender } from '../support/slack-requests';
import { SlackStandIn } from '../support/slack-stand-in';
import { TimeboxChild, childEnv } from '../support/timebox-child-process';
import { ACCOUNTS, BOT_TOKEN, IDENTITY_STORE_ID, INSTANCE_ARN, PEOPLE, PERMISSION_SETS, SIGNING_SECRET, testConfigYaml } from '../support/timebox-harness';
import { findRequestId } from '../../src/domain/request-id';

/**
 * AWS creates an account assignment asynchronously: CreateAccountAssignment answers IN_PROGRESS
 * and the assignment only shows in ListAccountAssignments once the operation SUCCEEDED. A grant
 * resumed after a crash that finds the assignment absent must not create it a second time while
 * the first attempt's creation is still running (AWS answers such a create with ConflictException,
 * and a second creation that succeeds is a second window Timebox never recorded): it waits for
 * the creation in flight, recorded on the lease or not.
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
const WAIT_MS = 20_000;
const REQUESTER = PEOPLE.dave;
const STAGING_READONLY = { instanceArn: INSTANCE_ARN, accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.ReadOnly, principalId: REQUESTER.principalId };

/** The stand-ins, a data directory, and the Timebox processes that share it (one at a time). */
class World {
  child: TimeboxChild | undefined;
  private sender: SlackRequestSender | undefined;
  private readonly children: TimeboxChild[] = [];
  private readonly configPath: string;

  private constructor(
    readonly aws: AwsStandIn,
    readonly slack: SlackStandIn,
    readonly dir: string,
  ) {
    this.configPath = join(dir, 'timebox.yaml');
    writeFileSync(this.configPath, testConfigYaml());
  }

  static async start(creationPolls: number): Promise<World> {
    const aws = await AwsStandIn.start({ creationPolls, deletionPolls: 1 });
    const slack = await SlackStandIn.start({ users: Object.values(PEOPLE).map(({ id, name, email }) => ({ id, name, email })), token: BOT_TOKEN });
    for (const p of Object.values(PEOPLE)) aws.addUser({ userId: p.principalId, email: p.email, identityStoreId: IDENTITY_STORE_ID });
    return new World(aws, slack, mkdtempSync(join(tmpdir(), 'timebox-in-flight-')));
  }

  async startChild(): Promise<void> {
    const { child, url } = await TimeboxChild.start(childEnv({ aws: this.aws, slack: this.slack, configPath: this.configPath, dataDir: join(this.dir, 'data'), knobs: KNOBS }));
    this.child = child;
    this.children.push(child);
    this.sender = new SlackRequestSender({ url: `${url}/slack/events`, signingSecret: SIGNING_SECRET, answers: this.slack });
  }

  /** SIGKILLs the running child at the first SSO Admin call `match` accepts (the stand-in still carries that call out). */
  killAt(match: (call: AwsCall) => boolean): Promise<void> {
    let armed = true;
    return new Promise((resolve) => {
      this.aws.onCall((call) => {
        if (!armed || !match(call)) return;
        armed = false;
        const child = this.child;
        child?.kill();
        void child?.exited.then(() => resolve());
      });
    });
  }

  /** `/aws-access <text>` as the requester; returns the request id from the answer. */
  async file(text: string): Promise<string> {
    if (!this.sender) throw new Error('no Timebox child has been started');
    const response = await this.sender.command({
      userId: REQUESTER.id,
      userName: REQUESTER.name,
      text,
      channelId: 'C0GENERAL0',
      responseUrl: this.slack.responseUrl({ userId: REQUESTER.id, channelId: 'C0GENERAL0' }),
    });
    const reply = (JSON.parse(response.body) as { text?: string }).text ?? '';
    const id = findRequestId(reply);
    if (!id) throw new Error(`no request id in the answer to the command: ${reply}`);
    return id;
  }

  /** Waits for the requester's DM about `requestId` that contains `phrase`. */
  dm(requestId: string, phrase: string): Promise<string> {
    const text = () => this.slack.dmsTo(REQUESTER.id).map((m) => m.history[0]?.text ?? m.text ?? '').find((t) => t.includes(requestId) && t.includes(phrase));
    return this.slack.waitFor(text, WAIT_MS, `the DM saying "${phrase}" about ${requestId}`);
  }

  creates(): number {
    return this.aws.callsTo('CreateAccountAssignment').length;
  }

  async dispose(): Promise<void> {
    for (const child of this.children) child.kill();
    await Promise.all(this.children.map((c) => c.exited));
    await this.slack.close();
    await this.aws.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('reliability: a creation already in flight', () => {
  let world: World | undefined;

  afterEach(async () => {
    await world?.dispose();
    world = undefined;
  });

  async function crashThenResume(killAt: (call: AwsCall) => boolean, afterCrash: (w: World) => void): Promise<void> {
    // Three status polls before AWS finishes: the creation is still IN_PROGRESS when the restarted grant looks.
    const w = (world = await World.start(3));
    await w.startChild();
    const killed = w.killAt(killAt);
    const requestId = await w.file('staging ReadOnly 3s in flight');
    await killed;
    expect(w.aws.hasAssignment(STAGING_READONLY)).toBe(false); // AWS has not finished creating it
    expect(w.creates()).toBe(1);
    afterCrash(w);

    await w.startChild();
    await w.dm(requestId, 'is active until');
    expect(w.aws.hasAssignment(STAGING_READONLY)).toBe(true);
    // The restarted grant waited for the creation AWS already had: nothing was created twice.
    expect(w.creates()).toBe(1);
    await w.dm(requestId, 'has ended');
    expect(w.aws.listAssignments()).toEqual([]);
    expect(w.creates()).toBe(1);
  }

  test('killed the moment AWS accepted CreateAccountAssignment, before Timebox recorded the operation: the restarted grant finds that creation still in progress, waits for it, and never creates the assignment again', async () => {
    await crashThenResume(
      (call) => call.operation === 'CreateAccountAssignment',
      (w) => expect(w.aws.callsTo('DescribeAccountAssignmentCreationStatus')).toEqual([]),
    );
  }, 60_000);

  test('killed while polling its creation (the operation recorded on the lease): the restarted grant waits for that creation and never creates the assignment again', async () => {
    await crashThenResume(
      (call) => call.operation === 'DescribeAccountAssignmentCreationStatus',
      (w) => expect(w.aws.callsTo('DescribeAccountAssignmentCreationStatus')).toHaveLength(1),
    );
  }, 60_000);
});
