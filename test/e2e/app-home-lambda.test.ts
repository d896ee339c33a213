import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import { findRequestId } from '../../src/domain/request-id';
import { AwsStandIn } from '../support/aws-stand-in';
import { appHomeOpenedBody, buttonsOn, urlVerificationBody, viewText } from '../support/home-tab';
import { functionUrlEvent } from '../support/lambda-events';
import { SlackStandIn } from '../support/slack-stand-in';
import { BOT_TOKEN, IDENTITY_STORE_ID, PEOPLE, SIGNING_SECRET, testConfigYaml } from '../support/timebox-harness';

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;
interface FunctionUrlResponse {
  statusCode: number;
  body?: string;
}

const WORKER = 'timebox-worker';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:timebox-slack-AbCdEf';

/**
 * App Home on AWS: the Events API's requests reach the Slack function through its Function URL
 * (signed JSON, as Slack sends them), the function publishes the Home, and the worker (run on
 * what the function handed over, as Lambda's async invoke would) republishes it after a change.
 */
describe('daily-use: App Home on the Lambda path', () => {
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
    dir = mkdtempSync(join(tmpdir(), 'timebox-home-lambda-'));
    writeFileSync(join(dir, 'timebox.json'), JSON.stringify(parseYaml(testConfigYaml())));
    Object.assign(process.env, aws.env(), {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      TIMEBOX_TABLE: dynamo.tableName,
      TIMEBOX_SECRET_ARN: SECRET_ARN,
      TIMEBOX_CONFIG: join(dir, 'timebox.json'),
      TIMEBOX_WORKER_FUNCTION: WORKER,
      TIMEBOX_WORKER_ARN: `arn:aws:lambda:us-east-1:123456789012:function:${WORKER}`,
      TIMEBOX_SCHEDULE_GROUP: 'timebox',
      TIMEBOX_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/timebox-scheduler',
      TIMEBOX_DLQ_ARN: 'arn:aws:sqs:us-east-1:123456789012:timebox-dlq',
      TIMEBOX_WAITER_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:timebox-sweep',
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

  const jsonEvent = (body: string) => functionUrlEvent(body, { signingSecret: SIGNING_SECRET, contentType: 'application/json' });
  const command = (user: keyof typeof PEOPLE, text: string) =>
    new URLSearchParams({
      token: 'x', team_id: 'T0TIMEBOX', team_domain: 'timebox-test', channel_id: 'C0GENERAL0', channel_name: 'general',
      user_id: PEOPLE[user].id, user_name: PEOPLE[user].name, command: '/aws-access', text,
      api_app_id: 'A0TIMEBOX', response_url: slack.responseUrl({ userId: PEOPLE[user].id }), trigger_id: `${Date.now()}.${Math.random()}`,
    }).toString();

  async function runHandedOverWork(): Promise<number> {
    const invocations = aws.takeInvocations(WORKER);
    for (const invocation of invocations) await worker(JSON.parse(invocation.payload));
    return invocations.length;
  }

  test('Slack\'s url_verification challenge through the Function URL is answered with the challenge', async () => {
    const answer = (await slackHandler(jsonEvent(urlVerificationBody('lambda-challenge-0123456789')))) as FunctionUrlResponse;
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body ?? '')).toEqual({ challenge: 'lambda-challenge-0123456789' });
  });

  test('app_home_opened through the Function URL publishes the Home before the function returns; the worker republishes it after a change', async () => {
    const filed = (await slackHandler(functionUrlEvent(command('carol', 'production Admin 30m lambda home'), { signingSecret: SIGNING_SECRET }))) as FunctionUrlResponse;
    const id = findRequestId(filed.body)!;
    expect(await runHandedOverWork()).toBe(1);
    const afterWorker = slack.homePublishCount(PEOPLE.carol.id);
    // The worker already published the requester's Home after filing (the Home is kept up to date).
    expect(afterWorker).toBeGreaterThanOrEqual(1);

    const opened = (await slackHandler(jsonEvent(appHomeOpenedBody(PEOPLE.carol.id)))) as FunctionUrlResponse;
    expect(opened.statusCode).toBe(200);
    expect(slack.homePublishCount(PEOPLE.carol.id)).toBe(afterWorker + 1);
    const home = slack.homeOf(PEOPLE.carol.id)!;
    expect(buttonsOn(home.blocks, 'timebox_home_request')).toEqual(['account']);
    expect(buttonsOn(home.blocks, 'timebox_cancel')).toEqual([id]);

    // An approver's Home, through the same door, offers the decision.
    await slackHandler(jsonEvent(appHomeOpenedBody(PEOPLE.alice.id)));
    expect(buttonsOn(slack.homeOf(PEOPLE.alice.id)!.blocks, 'timebox_approve')).toEqual([id]);

    // The requester cancels: the worker republishes both Homes.
    const cancelled = (await slackHandler(functionUrlEvent(command('carol', `cancel ${id}`), { signingSecret: SIGNING_SECRET }))) as FunctionUrlResponse;
    expect(cancelled.body).toContain(`Cancelled request \`${id}\``);
    expect(await runHandedOverWork()).toBe(1);
    expect(buttonsOn(slack.homeOf(PEOPLE.carol.id)!.blocks, 'timebox_cancel')).toEqual([]);
    expect(viewText(slack.homeOf(PEOPLE.carol.id)!.blocks)).toContain(`\`${id}\``);
    expect(buttonsOn(slack.homeOf(PEOPLE.alice.id)!.blocks, 'timebox_approve')).toEqual([]);
  });
});
