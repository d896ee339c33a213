import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import { DynamoDbStore } from '../../src/adapters/dynamodb/dynamodb-store';
import { findRequestId } from '../../src/domain/request-id';
import { sessionDenySid, timeboxStatements } from '../../src/domain/session-deny';
import { AwsStandIn } from '../support/aws-stand-in';
import { functionUrlEvent as lambdaEvent } from '../support/lambda-events';
import { viewOf } from '../support/request-view';
import { SlackStandIn } from '../support/slack-stand-in';
import { ACCOUNTS, BOT_TOKEN, IDENTITY_STORE_ID, PEOPLE, PERMISSION_SETS, SIGNING_SECRET, testConfigYaml } from '../support/timebox-harness';

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;
interface FunctionUrlResponse { statusCode: number; body?: string }

const WORKER = 'timebox-worker';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:timebox-slack-AbCdEf';
const ADMIN = PERMISSION_SETS.Admin;
const RULE = `
  - name: staging-admin-ends-sessions
    accounts: [staging]
    permissionSets: [Admin]
    requesters: [carol@example.com]
    autoApprove: true
    maxDuration: 1h
    endSessions: true`;

/** The AWS deployment's path, in-process, as lambda-path.test.ts runs it: handlers, async invokes over the wire, DynamoDB (dynalite). */
describe('sessions-breakglass: ending sessions already issued (Lambda path)', () => {
  let aws: AwsStandIn;
  let slack: SlackStandIn;
  let dynamo: EmbeddedDynamoDb;
  let dir: string;
  let slackHandler: Handler;
  let worker: Handler;
  let store: DynamoDbStore;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    aws = await AwsStandIn.start({ creationPolls: 1, deletionPolls: 1 });
    slack = await SlackStandIn.start({ users: Object.values(PEOPLE).map(({ id, name, email }) => ({ id, name, email })), token: BOT_TOKEN });
    for (const p of Object.values(PEOPLE)) aws.addUser({ userId: p.principalId, email: p.email, identityStoreId: IDENTITY_STORE_ID });
    aws.addPermissionSet({ permissionSetArn: ADMIN, name: 'Admin', sessionDuration: 'PT4H' });
    aws.putSecret(SECRET_ARN, JSON.stringify({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET }));
    dynamo = await startEmbeddedDynamoDb(undefined);
    store = new DynamoDbStore(dynamo.client, dynamo.tableName);
    dir = mkdtempSync(join(tmpdir(), 'timebox-lambda-end-sessions-'));
    writeFileSync(join(dir, 'timebox.json'), JSON.stringify(parseYaml(testConfigYaml(RULE))));
    Object.assign(process.env, aws.env(), {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      TIMEBOX_TABLE: dynamo.tableName,
      TIMEBOX_SECRET_ARN: SECRET_ARN,
      TIMEBOX_CONFIG: join(dir, 'timebox.json'),
      TIMEBOX_WORKER_FUNCTION: WORKER,
      TIMEBOX_WORKER_ARN: `arn:aws:lambda:us-east-1:123456789012:function:${WORKER}`,
      TIMEBOX_SCHEDULE_GROUP: 'timebox',
      TIMEBOX_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/timebox-scheduler',
      TIMEBOX_WAITER_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:timebox-sweep',
      SLACK_API_URL: slack.apiUrl,
      LOG_LEVEL: 'silent',
    });
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

  const command = (text: string) =>
    new URLSearchParams({
      token: 'x', team_id: 'T0TIMEBOX', team_domain: 'timebox-test', channel_id: 'C0GENERAL0', channel_name: 'general',
      user_id: PEOPLE.carol.id, user_name: PEOPLE.carol.name, command: '/aws-access', text,
      api_app_id: 'A0TIMEBOX', response_url: slack.responseUrl({ userId: PEOPLE.carol.id }), trigger_id: `${Date.now()}.${Math.random()}`,
    }).toString();

  /** Runs the worker on everything handed to it, as Lambda's async invoke would. Returns how many ran. */
  async function runHandedOverWork(): Promise<number> {
    const invocations = aws.takeInvocations(WORKER);
    for (const invocation of invocations) await worker(JSON.parse(invocation.payload));
    return invocations.length;
  }

  test('End access now on AWS: the worker removes the assignment and hands ending the sessions to a worker invocation of its own, which writes and provisions the deny', async () => {
    const filed = (await slackHandler(lambdaEvent(command('staging Admin 30m lambda end sessions'), { signingSecret: SIGNING_SECRET }))) as FunctionUrlResponse;
    const id = findRequestId(filed.body)!;
    await runHandedOverWork();
    expect(viewOf((await store.getRequest(id))!).status).toBe('ACTIVE');

    await slackHandler(lambdaEvent(command(`end ${id}`), { signingSecret: SIGNING_SECRET }));
    expect(await runHandedOverWork()).toBe(1);
    // The revoke's invocation ended the grant and told the requester; the sessions are a job of their own.
    expect(viewOf((await store.getRequest(id))!).status).toBe('ENDED');
    expect(aws.listAssignments()).toEqual([]);
    expect(aws.callsTo('PutInlinePolicyToPermissionSet')).toHaveLength(0);
    expect(slack.dmsTo(PEOPLE.carol.id).map((m) => m.text).join('\n')).toContain('Open AWS sessions are being ended');

    expect(await runHandedOverWork()).toBe(1);
    const sid = sessionDenySid({ userId: PEOPLE.carol.principalId, accountId: ACCOUNTS.staging });
    expect(timeboxStatements(aws.provisionedPolicy(ADMIN)).map((s) => s.sid)).toEqual([sid]);
    expect((await store.listAudit(id)).map((e) => e.type).slice(-1)).toEqual(['sessions_ended']);
    expect(slack.dmsTo(PEOPLE.carol.id).map((m) => m.text).join('\n')).toContain('Open AWS sessions were ended at');
    // The lock record was let go of: the next edit of this permission set does not wait for it to run out.
    expect(await store.tryLock(`permission-set-policy|${ADMIN}`, 'next', Date.now() + 1000, Date.now())).toBe(true);
  });
});
