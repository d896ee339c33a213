import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRequestId } from '../../src/domain/request-id';
import { AwsStandIn } from '../support/aws-stand-in';
import type { ChildKnobs } from '../support/child-timebox';
import { eventually } from '../support/eventually';
import { SlackRequestSender } from '../support/slack-requests';
import { SlackStandIn } from '../support/slack-stand-in';
import { TimeboxChild, childEnv } from '../support/timebox-child-process';
import { ACCOUNTS, APPROVAL_CHANNEL, BOT_TOKEN, IDENTITY_STORE_ID, INSTANCE_ARN, PEOPLE, PERMISSION_SETS, SIGNING_SECRET, testConfigYaml } from '../support/timebox-harness';

/**
 * The local process over HTTP runs on two threads (src/entrypoints/local-thread.ts): the main
 * thread checks and acks, the workflow thread runs the listeners, the workflow and the store. These
 * tests run the real process (test/support/child-timebox.ts, as `npm start` starts it) and look at
 * what Slack and the operator see.
 */
describe('performance-2: the ack on its own thread (local HTTP)', () => {
  const KNOBS: ChildKnobs = { claimMs: 1500, sweepIntervalMs: 500, pollDelaysMs: [20, 40, 80], pollBudgetMs: 5_000, leasePollMs: 20, revokeRetryMs: 200, newsRetryMs: 200 };
  const carol = PEOPLE.carol;
  let aws: AwsStandIn;
  let slack: SlackStandIn;
  let dir: string;
  const children: TimeboxChild[] = [];

  beforeEach(async () => {
    aws = await AwsStandIn.start({ creationPolls: 1, deletionPolls: 1 });
    slack = await SlackStandIn.start({ users: Object.values(PEOPLE).map(({ id, name, email }) => ({ id, name, email })), token: BOT_TOKEN });
    for (const p of Object.values(PEOPLE)) aws.addUser({ userId: p.principalId, email: p.email, identityStoreId: IDENTITY_STORE_ID });
    dir = mkdtempSync(join(tmpdir(), 'timebox-thread-'));
    writeFileSync(join(dir, 'timebox.yaml'), testConfigYaml());
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    await slack.close();
    await aws.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(knobs: ChildKnobs = KNOBS, env: Record<string, string> = {}): Promise<{ child: TimeboxChild; sender: SlackRequestSender }> {
    const { child, url } = await TimeboxChild.start({ ...childEnv({ aws, slack, configPath: join(dir, 'timebox.yaml'), dataDir: join(dir, 'data'), knobs }), ...env });
    children.push(child);
    return { child, sender: new SlackRequestSender({ url: `${url}/slack/events`, signingSecret: SIGNING_SECRET }) };
  }

  /** `/aws-access text` from carol, as Slack sends it: the HTTP ack, and the response_url the answer goes to. */
  async function command(sender: SlackRequestSender, text: string) {
    const responseUrl = slack.responseUrl({ userId: carol.id, channelId: 'C0GENERAL0' });
    const ack = await sender.raw(sender.commandForm({ userId: carol.id, userName: carol.name, text, channelId: 'C0GENERAL0', responseUrl }).toString());
    return { ack, answer: () => eventually(() => Promise.resolve(String(slack.responses(responseUrl)[0]?.body.text ?? '') || undefined), 10_000, `the answer on the response_url to "${text}"`) };
  }

  test('a request over HTTP gets an empty 200 ack at once, its answer on the response_url, and its access granted by the workflow thread', async () => {
    const { sender } = await start();
    const filed = await command(sender, 'staging ReadOnly 1h thread check');
    expect({ status: filed.ack.status, body: filed.ack.body }).toEqual({ status: 200, body: '' });
    const id = findRequestId(await filed.answer());
    expect(id).toBeDefined();
    await eventually(() => Promise.resolve(aws.hasAssignment({ instanceArn: INSTANCE_ARN, accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.ReadOnly, principalId: carol.principalId })), 10_000, 'the assignment');

    // Bad input: the same empty ack, a clear answer on the response_url, and nothing filed.
    const refused = await command(sender, 'staging NoSuchSet 1h bad input');
    expect({ status: refused.ack.status, body: refused.ack.body }).toEqual({ status: 200, body: '' });
    expect(await refused.answer()).toContain('NoSuchSet');
    expect(findRequestId(await refused.answer())).toBeUndefined();
  });

  test('a type-ahead (answered in the reply) makes the round trip to the workflow thread and gets its options in the HTTP reply', async () => {
    const { sender } = await start();
    const reply = await sender.blockSuggestion({ userId: carol.id, actionId: 'account', blockId: 'account', value: 'stag', callbackId: 'timebox_request' });
    expect(reply.status).toBe(200);
    expect((reply.json() as { options: Array<{ value: string }> }).options.map((o) => o.value)).toContain(ACCOUNTS.staging);
  });

  test('an uncaught error in the workflow thread stops the process with exit code 1 and the error on stderr; the restarted process finishes the request', async () => {
    const first = await start({ ...KNOBS, crashThreadAtSlackMethod: 'chat.postMessage' });
    const { ack } = await command(first.sender, 'production Admin 30m crash the thread');
    expect({ status: ack.status, body: ack.body }).toEqual({ status: 200, body: '' });
    const exit = await first.child.exited;
    expect(exit.code).toBe(1);
    expect(first.child.logs()).toContain('the workflow thread crashed');
    expect(first.child.logs()).toContain('injected crash at chat.postMessage');

    // As after any crash: started again on the same data, the request reaches the approvers.
    await start();
    await eventually(() => Promise.resolve(slack.messagesIn(APPROVAL_CHANNEL).find((m) => JSON.stringify(m).includes('crash the thread'))), 10_000, 'the approval message after the restart');
  });

  test('the workflow thread out of memory (its heap limit TIMEBOX_WORKFLOW_HEAP_MB reached) stops the process with exit code 1 and a line naming the limit to raise', async () => {
    const first = await start({ ...KNOBS, crashThreadAtSlackMethod: 'chat.postMessage', crashThreadBy: 'memory' }, { TIMEBOX_WORKFLOW_HEAP_MB: '128' });
    await command(first.sender, 'production Admin 30m fill the heap');
    const exit = await first.child.exited;
    expect(exit.code).toBe(1);
    expect(first.child.logs()).toContain('the workflow thread crashed: it ran out of memory (TIMEBOX_WORKFLOW_HEAP_MB is 128; raise it)');
  });
});
