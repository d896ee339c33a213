import { functionUrlEvent as lambdaEvent } from '../support/lambda-events';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeleteItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { parse as parseYaml } from 'yaml';
import { LAMBDA_ESBUILD } from '../../infra/lib/timebox-stack';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import { DynamoDbStore } from '../../src/adapters/dynamodb/dynamodb-store';
import { AwsStandIn } from '../support/aws-stand-in';
import { SlackStandIn } from '../support/slack-stand-in';
import { APPROVAL_CHANNEL, BOT_TOKEN, GROUPS, IDENTITY_STORE_ID, PEOPLE, SIGNING_SECRET, testConfigYaml } from '../support/timebox-harness';
import { viewOf } from '../support/request-view';
import { findRequestId } from '../../src/domain/request-id';

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;
const execFileAsync = promisify(execFile);
interface FunctionUrlResponse { statusCode: number; body?: string }

const WORKER = 'timebox-worker';
const WORKER_ARN = `arn:aws:lambda:us-east-1:123456789012:function:${WORKER}`;
const WAITER_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:timebox-sweep';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:timebox-slack-AbCdEf';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/timebox-scheduler';
const DLQ_ARN = 'arn:aws:sqs:us-east-1:123456789012:timebox-dlq';
const GROUP = 'timebox';

/**
 * The AWS deployment's path, in-process: Function URL events signed as Slack signs them go to the
 * Slack handler; what it hands to the worker (an async Lambda invoke, over the wire to the
 * stand-in) is run through the worker handler; schedules land in the Scheduler stand-in and are
 * fired by invoking the worker with their input, exactly as EventBridge Scheduler would.
 */
describe('Lambda path: Function URL → Slack handler → worker → EventBridge Scheduler → worker', () => {
  let aws: AwsStandIn;
  let slack: SlackStandIn;
  let dynamo: EmbeddedDynamoDb;
  let dir: string;
  let slackHandler: Handler;
  let worker: Handler;
  let sweep: Handler;
  let store: DynamoDbStore;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    aws = await AwsStandIn.start({ creationPolls: 1, deletionPolls: 1 });
    slack = await SlackStandIn.start({ users: Object.values(PEOPLE).map(({ id, name, email }) => ({ id, name, email })), token: BOT_TOKEN });
    for (const p of Object.values(PEOPLE)) aws.addUser({ userId: p.principalId, email: p.email, identityStoreId: IDENTITY_STORE_ID });
    for (const [displayName, groupId] of Object.entries(GROUPS)) aws.addGroup({ groupId, displayName, identityStoreId: IDENTITY_STORE_ID });
    aws.putSecret(SECRET_ARN, JSON.stringify({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET }));
    dynamo = await startEmbeddedDynamoDb(undefined);
    store = new DynamoDbStore(dynamo.client, dynamo.tableName);
    dir = mkdtempSync(join(tmpdir(), 'timebox-lambda-'));
    // The stack bundles the config as JSON (converted from YAML at synth).
    writeFileSync(join(dir, 'timebox.json'), JSON.stringify(parseYaml(testConfigYaml())));
    Object.assign(process.env, aws.env(), {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      TIMEBOX_TABLE: dynamo.tableName,
      TIMEBOX_SECRET_ARN: SECRET_ARN,
      TIMEBOX_CONFIG: join(dir, 'timebox.json'),
      TIMEBOX_WORKER_FUNCTION: WORKER,
      TIMEBOX_WORKER_ARN: WORKER_ARN,
      TIMEBOX_SCHEDULE_GROUP: GROUP,
      TIMEBOX_SCHEDULER_ROLE_ARN: ROLE_ARN,
      TIMEBOX_DLQ_ARN: DLQ_ARN,
      TIMEBOX_WAITER_ARN: WAITER_ARN,
      SLACK_API_URL: slack.apiUrl,
      LOG_LEVEL: 'silent',
    });
    // Imported after the environment is set, as Lambda would load them.
    slackHandler = (await import('../../src/entrypoints/lambda/slack')).handler as Handler;
    worker = (await import('../../src/entrypoints/lambda/worker')).handler as Handler;
    sweep = (await import('../../src/entrypoints/lambda/sweep')).handler as Handler;
  });

  afterAll(async () => {
    process.env = savedEnv;
    await slack.close();
    await aws.close();
    await dynamo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const functionUrlEvent = (body: string, timestamp?: number, signature?: string) =>
    lambdaEvent(body, { signingSecret: SIGNING_SECRET, ...(timestamp === undefined ? {} : { timestamp }), ...(signature === undefined ? {} : { signature }) });

  const command = (user: keyof typeof PEOPLE, text: string) =>
    new URLSearchParams({
      token: 'x', team_id: 'T0TIMEBOX', team_domain: 'timebox-test', channel_id: 'C0GENERAL0', channel_name: 'general',
      user_id: PEOPLE[user].id, user_name: PEOPLE[user].name, command: '/aws-access', text,
      api_app_id: 'A0TIMEBOX', response_url: slack.responseUrl({ userId: PEOPLE[user].id }), trigger_id: `${Date.now()}.${Math.random()}`,
    }).toString();

  const click = (user: keyof typeof PEOPLE, requestId: string, ts: string) =>
    `payload=${encodeURIComponent(JSON.stringify({
      type: 'block_actions',
      user: { id: PEOPLE[user].id, username: PEOPLE[user].name, name: PEOPLE[user].name, team_id: 'T0TIMEBOX' },
      api_app_id: 'A0TIMEBOX', token: 'x', team: { id: 'T0TIMEBOX', domain: 'timebox-test' },
      container: { type: 'message', message_ts: ts, channel_id: APPROVAL_CHANNEL, is_ephemeral: false },
      channel: { id: APPROVAL_CHANNEL, name: 'aws-approvals' },
      message: { ts, type: 'message' },
      response_url: slack.responseUrl({ userId: PEOPLE[user].id, channelId: APPROVAL_CHANNEL, messageTs: ts }),
      trigger_id: '4.5.6',
      actions: [{ type: 'button', action_id: 'timebox_approve', block_id: 'decision', value: requestId, action_ts: '1' }],
    }))}`;

  /** Runs the worker on everything handed to it, as Lambda's async invoke would. Returns how many ran. */
  async function runHandedOverWork(): Promise<number> {
    const invocations = aws.takeInvocations(WORKER);
    for (const invocation of invocations) {
      expect(invocation.invocationType).toBe('Event');
      await worker(JSON.parse(invocation.payload));
    }
    return invocations.length;
  }

  test('a request is filed, approved, granted, scheduled for revoke, and revoked when Scheduler fires', async () => {
    const filed = (await slackHandler(functionUrlEvent(command('carol', 'production Admin 2s lambda path')))) as FunctionUrlResponse;
    expect(filed.statusCode).toBe(200);
    const id = findRequestId(filed.body)!;
    // The handler only recorded the request and handed over: nothing posted yet, nothing granted.
    expect(slack.messagesIn(APPROVAL_CHANNEL)).toHaveLength(0);
    expect(await runHandedOverWork()).toBe(1);
    // The worker armed the pending request's expiry.
    expect(aws.schedules().map((s) => s.name)).toEqual([`timebox-${id}`]);
    const posted = slack.messagesIn(APPROVAL_CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id))!;
    expect(posted).toBeDefined();

    const approved = (await slackHandler(functionUrlEvent(click('alice', id, posted.ts)))) as FunctionUrlResponse;
    expect(approved.statusCode).toBe(200);
    expect(viewOf((await store.getRequest(id))!).status).toBe('APPROVED');
    expect(aws.callsTo('CreateAccountAssignment')).toHaveLength(0);

    // A retried hand-off (Lambda's async retry, or a duplicate) must not grant twice.
    const handedOver = aws.invocations(WORKER);
    expect(handedOver).toHaveLength(1);
    await worker(JSON.parse(handedOver[0]!.payload));
    expect(await runHandedOverWork()).toBe(1);
    const active = viewOf((await store.getRequest(id))!);
    expect(active.status).toBe('ACTIVE');
    expect(aws.callsTo('CreateAccountAssignment')).toHaveLength(1);

    const [schedule] = aws.schedules().filter((s) => s.name === `timebox-${id}`);
    expect(schedule).toBeDefined();
    const at = /^at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)$/.exec(schedule!.expression)![1]!;
    const fireAt = Date.parse(`${at}Z`);
    expect(fireAt).toBeGreaterThanOrEqual(active.endsAt!); // never before the window ends
    expect(fireAt - active.endsAt!).toBeLessThan(60_000); // and within the minute after
    expect(schedule).toMatchObject({ groupName: GROUP, targetArn: WORKER_ARN, roleArn: ROLE_ARN, actionAfterCompletion: 'DELETE' });
    // The schedule carries what Timebox created, so a replaced table cannot keep it (revokeFromReceipt).
    expect(JSON.parse(schedule!.input!)).toEqual({
      requestId: id,
      created: [{ grantId: '1', target: { kind: 'account', principalId: PEOPLE.carol.principalId, accountId: '222222222222', permissionSetArn: expect.stringContaining('ps-2222') } }],
    });
    expect(schedule!.raw).toMatchObject({ FlexibleTimeWindow: { Mode: 'OFF' }, Target: { DeadLetterConfig: { Arn: DLQ_ARN }, RetryPolicy: { MaximumRetryAttempts: expect.any(Number) } } });

    // Scheduler fires once the window is over: invoke the worker with the schedule's input.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, active.endsAt! - Date.now() + 50)));
    await worker(JSON.parse(schedule!.input!));
    const ended = viewOf((await store.getRequest(id))!);
    expect(ended.status).toBe('ENDED');
    expect(aws.listAssignments()).toEqual([]);
    expect(slack.dmsTo(PEOPLE.carol.id).map((m) => m.text).join('\n')).toContain('has ended');
  });

  test('/aws-access end <id>: the handler deletes the revoke schedule and hands over, and the worker removes the assignment at once', async () => {
    const filed = (await slackHandler(functionUrlEvent(command('carol', 'staging ReadOnly 30m end me early')))) as FunctionUrlResponse;
    const id = findRequestId(filed.body)!;
    await runHandedOverWork();
    expect(viewOf((await store.getRequest(id))!).status).toBe('ACTIVE');
    expect(aws.schedules().filter((s) => s.name === `timebox-${id}`)).toHaveLength(1);

    const ending = (await slackHandler(functionUrlEvent(command('carol', `end ${id}`)))) as FunctionUrlResponse;
    expect(ending.statusCode).toBe(200);
    expect(ending.body).toContain(`Ending your access to *ReadOnly* on *staging* now (\`${id}\`)`);
    // The window's schedule is gone with it: nothing fires for this request 30 minutes from now.
    expect(aws.schedules().filter((s) => s.name === `timebox-${id}`)).toEqual([]);
    expect(aws.callsTo('DeleteSchedule').map((c) => (c.input as { Name?: string }).Name)).toContain(`timebox-${id}`);

    expect(await runHandedOverWork()).toBe(1);
    const ended = viewOf((await store.getRequest(id))!);
    expect(ended).toMatchObject({ status: 'ENDED', endedEarlyBy: { slackUserId: PEOPLE.carol.id } });
    expect(aws.listAssignments()).toEqual([]);
    expect(slack.dmsTo(PEOPLE.carol.id).map((m) => m.text).join('\n')).toContain('was ended early by you');
  });

  test('an early end whose hand-off to the worker fails still stands: the user is told it is ending, and the sweep revokes it', async () => {
    const filed = (await slackHandler(functionUrlEvent(command('carol', 'staging ReadOnly 30m lambda down')))) as FunctionUrlResponse;
    const id = findRequestId(filed.body)!;
    await runHandedOverWork();
    expect(viewOf((await store.getRequest(id))!).status).toBe('ACTIVE');

    aws.injectFault('Invoke', { type: 'TooManyRequestsException', message: 'Rate exceeded' }, 10);
    const ending = (await slackHandler(functionUrlEvent(command('carol', `end ${id}`)))) as FunctionUrlResponse;
    aws.clearFaults('Invoke');
    expect(ending.body).toContain(`Ending your access to *ReadOnly* on *staging* now (\`${id}\`)`);
    expect(await runHandedOverWork()).toBe(0); // nothing reached the worker
    expect(viewOf((await store.getRequest(id))!)).toMatchObject({ status: 'ACTIVE', endedEarlyBy: { slackUserId: PEOPLE.carol.id } });
    expect(aws.schedules().filter((s) => s.name === `timebox-${id}`)).toEqual([]);

    await sweep({});
    await runHandedOverWork();
    expect(viewOf((await store.getRequest(id))!).status).toBe('ENDED');
    expect(aws.listAssignments()).toEqual([]);
  });

  test('a window long enough to schedule ahead: its schedule names a minute over before the end, targets the waiter (the sweep function) and carries notBefore', async () => {
    const filed = (await slackHandler(functionUrlEvent(command('dave', 'staging ReadOnly 3m scheduled ahead')))) as FunctionUrlResponse;
    const id = findRequestId(filed.body)!;
    await runHandedOverWork();
    const endsAt = viewOf((await store.getRequest(id))!).endsAt!;
    const [schedule] = aws.schedules().filter((x) => x.name === `timebox-${id}`);
    expect(schedule?.targetArn).toBe(WAITER_ARN);
    const minute = Date.parse(`${/^at\((.*)\)$/.exec(schedule!.expression)![1]!}Z`);
    // Fired at any second of that minute, it is before the end, and at most two minutes before.
    expect(minute + 60_000).toBeLessThanOrEqual(endsAt);
    expect(endsAt - minute).toBeLessThanOrEqual(120_000);
    expect(JSON.parse(schedule!.input!)).toMatchObject({ requestId: id, notBefore: endsAt, created: [expect.objectContaining({ grantId: '1' })] });
    await slackHandler(functionUrlEvent(command('dave', `end ${id}`)));
    await runHandedOverWork();
  });

  test('a window too short to schedule ahead is handed to the waiter at once; the sweep function waits until the end, then hands the job (with its receipt) to the worker, which revokes at once', async () => {
    const filed = (await slackHandler(functionUrlEvent(command('dave', 'staging ReadOnly 2s handed to the waiter')))) as FunctionUrlResponse;
    const id = findRequestId(filed.body)!;
    aws.takeInvocations(WAITER_ARN);
    await runHandedOverWork();
    const active = viewOf((await store.getRequest(id))!);
    expect(active.status).toBe('ACTIVE');
    const endsAt = active.endsAt!;
    // The backup schedule (the minute after the end) is there too.
    const [schedule] = aws.schedules().filter((x) => x.name === `timebox-${id}`);
    expect(schedule?.targetArn).toBe(WORKER_ARN);
    const waiting = aws.takeInvocations(WAITER_ARN).map((i) => JSON.parse(i.payload) as Record<string, unknown>);
    expect(waiting).toEqual([{ requestId: id, created: JSON.parse(schedule!.input!).created, notBefore: endsAt }]);
    const job = waiting[0]!;
    expect(await sweep(job)).toEqual({ dispatched: 1, orphansRevoked: 0 });
    expect(Date.now()).toBeGreaterThanOrEqual(endsAt);
    const handedOver = aws.invocations(WORKER).map((i) => JSON.parse(i.payload) as Record<string, unknown>);
    expect(handedOver).toEqual([{ requestId: id, created: job.created }]);
    const before = aws.callsTo('DeleteAccountAssignment').length;
    expect(await runHandedOverWork()).toBe(1);
    const deleted = aws.callsTo('DeleteAccountAssignment').slice(before);
    expect(deleted).toHaveLength(1);
    expect(deleted[0]!.at).toBeGreaterThanOrEqual(endsAt);
    expect(viewOf((await store.getRequest(id))!).status).toBe('ENDED');
    expect(aws.listAssignments()).toEqual([]);
  });

  test('the sweep revokes a grant whose schedule never fired', async () => {
    const filed = (await slackHandler(functionUrlEvent(command('dave', 'staging ReadOnly 1s sweep me')))) as FunctionUrlResponse;
    const id = findRequestId(filed.body)!;
    await runHandedOverWork();
    expect(viewOf((await store.getRequest(id))!).status).toBe('ACTIVE');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // Scheduler failed to fire: the 5-minute sweep finds it and hands it to the worker.
    expect(await sweep({})).toEqual({ dispatched: 1, orphansRevoked: 0 });
    expect(await runHandedOverWork()).toBe(1);
    expect(viewOf((await store.getRequest(id))!).status).toBe('ENDED');
    expect(aws.listAssignments()).toEqual([]);
  });

  /** Fires the request's schedule as EventBridge Scheduler would, once its time has come: the worker with the schedule's input. */
  async function fireSchedule(id: string): Promise<void> {
    const [schedule] = aws.schedules().filter((x) => x.name === `timebox-${id}`);
    if (!schedule) throw new Error(`no schedule for ${id}`);
    const at = Date.parse(`${/^at\((.*)\)$/.exec(schedule.expression)![1]!}Z`);
    // at() is rounded up to the minute; the grants' own ends are what the worker checks.
    const request = viewOf((await store.getRequest(id))!);
    const due = Math.min(...request.grants.filter((g) => g.status === 'ACTIVE').map((g) => g.endsAt ?? Infinity));
    expect(at).toBeGreaterThanOrEqual(Math.floor(due / 1000) * 1000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now() + 50)));
    await worker(JSON.parse(schedule.input!));
  }

  test('a two-account request on the Lambda path: the auto-approved grant starts at once, the other on approval, and each is revoked by its schedule', async () => {
    const filed = (await slackHandler(functionUrlEvent(command('carol', 'staging,production ReadOnly 2s lambda two grants')))) as FunctionUrlResponse;
    const id = findRequestId(filed.body)!;
    expect(filed.body).toContain('Approved automatically: ReadOnly on staging');
    await runHandedOverWork();
    expect(viewOf((await store.getRequest(id))!).grants.map((g) => g.status)).toEqual(['ACTIVE', 'PENDING']);
    const posted = slack.messagesIn(APPROVAL_CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id))!;
    await slackHandler(functionUrlEvent(click('alice', id, posted.ts)));
    await runHandedOverWork();
    expect(viewOf((await store.getRequest(id))!).grants.map((g) => g.status)).toEqual(['ACTIVE', 'ACTIVE']);
    expect(aws.listAssignments().filter((a) => a.principalId === PEOPLE.carol.principalId)).toHaveLength(2);

    // The request's one schedule fires at the first end; the worker then arms it for the next.
    await fireSchedule(id);
    await runHandedOverWork();
    const afterFirst = viewOf((await store.getRequest(id))!);
    if (afterFirst.status !== 'ENDED') {
      await fireSchedule(id);
      await runHandedOverWork();
    }
    expect(viewOf((await store.getRequest(id))!).grants.map((g) => g.status)).toEqual(['ENDED', 'ENDED']);
    expect(aws.listAssignments().filter((a) => a.principalId === PEOPLE.carol.principalId)).toEqual([]);
  });

  test('a group membership on the Lambda path is created and removed by its schedule', async () => {
    const filed = (await slackHandler(functionUrlEvent(command('dave', 'group oncall 1s lambda group')))) as FunctionUrlResponse;
    const id = findRequestId(filed.body)!;
    await runHandedOverWork();
    expect(viewOf((await store.getRequest(id))!).status).toBe('ACTIVE');
    expect(aws.isMember({ groupId: GROUPS.oncall, userId: PEOPLE.dave.principalId })).toBe(true);
    await fireSchedule(id);
    expect(viewOf((await store.getRequest(id))!).status).toBe('ENDED');
    expect(aws.isMember({ groupId: GROUPS.oncall, userId: PEOPLE.dave.principalId })).toBe(false);
  });

  test('(c) the table replaced while a grant is active: the window\'s schedule still removes what Timebox created', async () => {
    const filed = (await slackHandler(functionUrlEvent(command('bob', 'staging ReadOnly 1s table about to go')))) as FunctionUrlResponse;
    const id = findRequestId(filed.body)!;
    await runHandedOverWork();
    expect(viewOf((await store.getRequest(id))!).status).toBe('ACTIVE');
    const [schedule] = aws.schedules().filter((x) => x.name === `timebox-${id}`);
    // Everything in the table is gone (a stack re-created, a restore from an older backup).
    const items = await dynamo.client.send(new ScanCommand({ TableName: dynamo.tableName, ProjectionExpression: 'pk, sk' }));
    for (const item of items.Items ?? []) await dynamo.client.send(new DeleteItemCommand({ TableName: dynamo.tableName, Key: { pk: item.pk!, sk: item.sk! } }));
    expect(await store.getRequest(id)).toBeUndefined();
    expect(aws.listAssignments().some((a) => a.principalId === PEOPLE.bob.principalId)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await worker(JSON.parse(schedule!.input!));
    expect(aws.listAssignments().some((a) => a.principalId === PEOPLE.bob.principalId)).toBe(false);
  });

  test('a bad signature is refused with 401 and hands nothing over', async () => {
    const body = command('carol', 'production Admin 1h forged');
    const response = (await slackHandler(functionUrlEvent(body, Math.floor(Date.now() / 1000), `v0=${'f'.repeat(64)}`))) as FunctionUrlResponse;
    expect(response.statusCode).toBe(401);
    expect(aws.invocations(WORKER)).toHaveLength(0);
  });

  test('the deployed bundle (esbuild, stubs and all, as the stack builds it) answers Slack too', async () => {
    const outfile = join(dir, 'bundle', 'slack.js');
    await build({
      entryPoints: [join(__dirname, '../../src/entrypoints/lambda/slack.ts')],
      outfile, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent',
      minify: LAMBDA_ESBUILD.minify, target: LAMBDA_ESBUILD.target, mainFields: [...LAMBDA_ESBUILD.mainFields], alias: { ...LAMBDA_ESBUILD.alias },
    });
    // In a plain Node process, as Lambda runs it (jest's VM cannot run the SDK's lazy imports).
    const event = JSON.stringify(functionUrlEvent(command('carol', 'production ReadOnly 30m from the bundle')));
    const script = `require(${JSON.stringify(outfile)}).handler(JSON.parse(process.env.EVENT), {}).then((r) => process.stdout.write(JSON.stringify(r)))`;
    const { stdout } = await execFileAsync(process.execPath, ['-e', script], { env: { ...process.env, EVENT: event } });
    const response = JSON.parse(stdout) as FunctionUrlResponse;
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain(`Request \`${findRequestId(response.body)}\``);
    expect(response.body).toContain('waiting for approval');
    aws.takeInvocations(WORKER);
  });

  test('a malformed worker event is logged and dropped, not retried forever', async () => {
    await expect(worker({ requestId: '../../etc/passwd' })).resolves.toEqual({ requestId: '', status: undefined });
  });

  const THROTTLED = { type: 'TooManyRequestsException', message: 'Rate exceeded' };
  /** Runs `work` while every Lambda Invoke is throttled (past the SDK's own retries). */
  async function withInvokeThrottled<T>(work: () => Promise<T>): Promise<T> {
    aws.injectFault('Invoke', THROTTLED, 10);
    try {
      return await work();
    } finally {
      aws.clearFaults('Invoke');
    }
  }
  const idIn = findRequestId;
  const postedFor = (id: string) => slack.messagesIn(APPROVAL_CHANNEL).filter((m) => JSON.stringify(m.blocks).includes(id));

  describe('reliability-3: a failed hand-off to the waiter keeps the backup schedule', () => {
    test('Lambda Invoke throttled while a window too short to schedule ahead is armed: the schedule for the minute after its end is still made, the worker does not fail, and that schedule ends the access', async () => {
      const filed = (await slackHandler(functionUrlEvent(command('dave', 'staging ReadOnly 2s waiter throttled')))) as FunctionUrlResponse;
      const id = idIn(filed.body)!;
      const [handedOver] = aws.takeInvocations(WORKER);
      aws.takeInvocations(WAITER_ARN);
      // The worker grants and arms the window's end while every hand-off to the waiter is refused.
      await withInvokeThrottled(() => worker(JSON.parse(handedOver!.payload)));
      const active = viewOf((await store.getRequest(id))!);
      expect(active.status).toBe('ACTIVE');
      expect(aws.invocations(WAITER_ARN)).toEqual([]); // the hand-off did fail
      const [schedule] = aws.schedules().filter((x) => x.name === `timebox-${id}`);
      expect(schedule?.targetArn).toBe(WORKER_ARN);
      const minute = Date.parse(`${/^at\((.*)\)$/.exec(schedule!.expression)![1]!}Z`);
      expect(minute).toBeGreaterThanOrEqual(active.endsAt!);
      expect(minute - active.endsAt!).toBeLessThan(60_000);
      // Scheduler fires it: the access ends then, not at the next 5-minute sweep.
      await fireSchedule(id);
      expect(viewOf((await store.getRequest(id))!).status).toBe('ENDED');
      expect(aws.listAssignments()).toEqual([]);
    });
  });

  describe('reliability-3: answers stay true when the hand-off to the worker fails', () => {
    test('Lambda Invoke throttled as a request is filed: the person is told it is filed as R-… and will be picked up shortly (not "nothing was changed"), and the sweep posts it to the approvers once', async () => {
      aws.takeInvocations(WORKER);
      const filed = (await withInvokeThrottled(() => slackHandler(functionUrlEvent(command('carol', 'production Admin 30m filed while throttled'))))) as FunctionUrlResponse;
      expect(filed.statusCode).toBe(200);
      expect(filed.body).not.toContain('nothing was changed');
      const id = idIn(filed.body);
      expect(id).toBeDefined();
      expect(filed.body).toContain('waiting for approval');
      expect(filed.body).toContain('picked up shortly');
      expect(filed.body).toContain('no need to ask again');
      expect(viewOf((await store.getRequest(id!))!).status).toBe('PENDING');
      expect(aws.invocations(WORKER)).toEqual([]);
      expect(postedFor(id!)).toEqual([]);

      await sweep({});
      await runHandedOverWork();
      expect(postedFor(id!)).toHaveLength(1);
    });

    test('Lambda Invoke throttled as an approver approves: the approver is told the approval of R-… is recorded and will be picked up shortly (not "nothing was changed"), and the sweep grants it', async () => {
      const filed = (await slackHandler(functionUrlEvent(command('carol', 'production Admin 30m approved while throttled')))) as FunctionUrlResponse;
      const id = idIn(filed.body)!;
      await runHandedOverWork();
      const [posted] = postedFor(id);
      const clicked = (await withInvokeThrottled(() => slackHandler(functionUrlEvent(click('alice', id, posted!.ts))))) as FunctionUrlResponse;
      expect(clicked.statusCode).toBe(200);
      expect(viewOf((await store.getRequest(id))!).status).toBe('APPROVED');
      const told = slack.ephemeralsTo(PEOPLE.alice.id).map((m) => m.text ?? '').filter((t) => t.includes(id));
      expect(told).toHaveLength(1);
      expect(told[0]).not.toContain('nothing was changed');
      expect(told[0]).toContain('approval');
      expect(told[0]).toContain('picked up shortly');
      expect(aws.invocations(WORKER)).toEqual([]);

      await sweep({});
      await runHandedOverWork();
      expect(viewOf((await store.getRequest(id))!).status).toBe('ACTIVE');
      expect(aws.listAssignments().some((a) => a.principalId === PEOPLE.carol.principalId)).toBe(true);
      await slackHandler(functionUrlEvent(command('carol', `end ${id}`)));
      await runHandedOverWork();
      expect(aws.listAssignments()).toEqual([]);
    });
  });
});
