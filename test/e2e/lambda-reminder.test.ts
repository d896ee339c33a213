import { functionUrlEvent } from '../support/lambda-events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DynamoDbStore } from '../../src/adapters/dynamodb/dynamodb-store';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import { findRequestId } from '../../src/domain/request-id';
import { AwsStandIn } from '../support/aws-stand-in';
import { SlackStandIn } from '../support/slack-stand-in';
import { APPROVAL_CHANNEL, BOT_TOKEN, IDENTITY_STORE_ID, PEOPLE, SIGNING_SECRET, testConfigYaml } from '../support/timebox-harness';

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;

const WORKER = 'timebox-worker';
const WORKER_ARN = `arn:aws:lambda:us-east-1:123456789012:function:${WORKER}`;
const WAITER_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:timebox-sweep';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:timebox-slack-AbCdEf';
const REMINDER_AFTER_MS = 2_000;

/**
 * A reminder on the AWS deployment's path: the worker arms the request's schedule for its first
 * reminder (not its expiry, a day later), and when EventBridge Scheduler fires it the worker
 * mentions the approvers in the approval message's thread.
 */
describe('daily-use: reminders and who gets told (Lambda path)', () => {
  let aws: AwsStandIn;
  let slack: SlackStandIn;
  let dynamo: EmbeddedDynamoDb;
  let dir: string;
  let slackHandler: Handler;
  let worker: Handler;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    aws = await AwsStandIn.start({ creationPolls: 1, deletionPolls: 1 });
    slack = await SlackStandIn.start({ users: Object.values(PEOPLE).map(({ id, name, email }) => ({ id, name, email })), token: BOT_TOKEN });
    for (const p of Object.values(PEOPLE)) aws.addUser({ userId: p.principalId, email: p.email, identityStoreId: IDENTITY_STORE_ID });
    aws.putSecret(SECRET_ARN, JSON.stringify({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET }));
    dynamo = await startEmbeddedDynamoDb(undefined);
    dir = mkdtempSync(join(tmpdir(), 'timebox-lambda-reminder-'));
    const config = parseYaml(testConfigYaml()) as Record<string, unknown>;
    writeFileSync(join(dir, 'timebox.json'), JSON.stringify({ ...config, reminders: { after: `${REMINDER_AFTER_MS / 1000}s`, backoff: 2, max: 1 } }));
    Object.assign(process.env, aws.env(), {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      TIMEBOX_TABLE: dynamo.tableName,
      TIMEBOX_SECRET_ARN: SECRET_ARN,
      TIMEBOX_CONFIG: join(dir, 'timebox.json'),
      TIMEBOX_WORKER_FUNCTION: WORKER,
      TIMEBOX_WORKER_ARN: WORKER_ARN,
      TIMEBOX_SCHEDULE_GROUP: 'timebox',
      TIMEBOX_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/timebox-scheduler',
      TIMEBOX_DLQ_ARN: 'arn:aws:sqs:us-east-1:123456789012:timebox-dlq',
      TIMEBOX_WAITER_ARN: WAITER_ARN,
      SLACK_API_URL: slack.apiUrl,
      LOG_LEVEL: 'silent',
    });
    // Imported after the environment is set, as Lambda would load them.
    slackHandler = (await import('../../src/entrypoints/lambda/slack')).handler as Handler;
    worker = (await import('../../src/entrypoints/lambda/worker')).handler as Handler;
  });

  afterAll(async () => {
    process.env = savedEnv;
    await slack.close();
    await aws.close();
    await dynamo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const command = (user: keyof typeof PEOPLE, text: string) =>
    new URLSearchParams({
      token: 'x', team_id: 'T0TIMEBOX', team_domain: 'timebox-test', channel_id: 'C0GENERAL0', channel_name: 'general',
      user_id: PEOPLE[user].id, user_name: PEOPLE[user].name, command: '/aws-access', text,
      api_app_id: 'A0TIMEBOX', response_url: slack.responseUrl({ userId: PEOPLE[user].id }), trigger_id: `${Date.now()}.${Math.random()}`,
    }).toString();

  async function runHandedOverWork(): Promise<void> {
    for (const invocation of aws.takeInvocations(WORKER)) await worker(JSON.parse(invocation.payload));
  }

  test('a reminder fired by EventBridge Scheduler: the schedule names the reminder, not the expiry, and its firing mentions the approvers in the thread', async () => {
    const filed = (await slackHandler(functionUrlEvent(command('carol', 'production Admin 30m remind on lambda'), { signingSecret: SIGNING_SECRET }))) as { body?: string };
    const id = findRequestId(filed.body ?? '')!;
    await runHandedOverWork();
    const stored = await new DynamoDbStore(dynamo.client, dynamo.tableName).getRequest(id);
    const remindAt = stored!.createdAt + REMINDER_AFTER_MS;
    const posted = slack.messagesIn(APPROVAL_CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id))!;
    expect(posted).toBeDefined();
    // The one schedule of the request fires for the reminder: the minute after it, not a day later.
    const [schedule] = aws.schedules().filter((s) => s.name === `timebox-${id}`);
    const minute = Date.parse(`${/^at\((.*)\)$/.exec(schedule!.expression)![1]!}Z`);
    expect(minute).toBeGreaterThanOrEqual(remindAt);
    expect(minute - remindAt).toBeLessThan(60_000);
    expect(slack.messagesIn(APPROVAL_CHANNEL).filter((m) => m.threadTs === posted.ts)).toEqual([]);

    // Scheduler fires: the worker is invoked with the schedule's input once the reminder is due.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, remindAt - Date.now() + 50)));
    await worker(JSON.parse(schedule!.input!));
    const replies = slack.messagesIn(APPROVAL_CHANNEL).filter((m) => m.threadTs === posted.ts);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toContain(`still waiting for approval from <@${PEOPLE.alice.id}> or <@${PEOPLE.bob.id}>`);
    // reminders.max is 1: the next schedule is the expiry again, and firing it early posts nothing more.
    const [next] = aws.schedules().filter((s) => s.name === `timebox-${id}`);
    expect(Date.parse(`${/^at\((.*)\)$/.exec(next!.expression)![1]!}Z`)).toBeGreaterThan(Date.now() + 3_600_000);
    await worker({ requestId: id });
    expect(slack.messagesIn(APPROVAL_CHANNEL).filter((m) => m.threadTs === posted.ts)).toHaveLength(1);
  });
});
