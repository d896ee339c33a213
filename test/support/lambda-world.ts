import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import { DynamoDbStore } from '../../src/adapters/dynamodb/dynamodb-store';
import { AwsStandIn } from './aws-stand-in';
import { functionUrlEvent } from './lambda-events';
import { SlackStandIn } from './slack-stand-in';
import { BOT_TOKEN, GROUPS, IDENTITY_STORE_ID, PEOPLE, SIGNING_SECRET, testConfigYaml, type PersonName } from './timebox-harness';

export type Handler = (event: unknown, context?: unknown) => Promise<unknown>;
export interface FunctionUrlResponse {
  statusCode: number;
  body?: string;
}

export const LAMBDA = {
  worker: 'timebox-worker',
  workerArn: 'arn:aws:lambda:us-east-1:123456789012:function:timebox-worker',
  waiterArn: 'arn:aws:lambda:eu-west-1:123456789012:function:timebox-sweep',
  secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:timebox-slack-AbCdEf',
  roleArn: 'arn:aws:iam::123456789012:role/timebox-scheduler',
  dlqArn: 'arn:aws:sqs:us-east-1:123456789012:timebox-dlq',
  group: 'timebox',
} as const;

/**
 * The AWS deployment in-process, as test/e2e/lambda-path.test.ts drives it: the Slack, worker and
 * sweep handlers loaded with the Lambda environment, the real SDK against the AWS stand-in
 * (Scheduler, Lambda invoke, Identity Center), dynalite as DynamoDB, and the Slack stand-in.
 * Load it once per test file: the handlers keep their runtime for the module's life.
 */
export class LambdaWorld {
  private readonly savedEnv = { ...process.env };
  slack!: Handler;
  worker!: Handler;
  sweep!: Handler;

  private constructor(
    readonly aws: AwsStandIn,
    readonly slackApi: SlackStandIn,
    readonly dynamo: EmbeddedDynamoDb,
    readonly store: DynamoDbStore,
    private readonly dir: string,
  ) {}

  static async start(configYaml = testConfigYaml()): Promise<LambdaWorld> {
    const aws = await AwsStandIn.start({ creationPolls: 1, deletionPolls: 1 });
    const slackApi = await SlackStandIn.start({ users: Object.values(PEOPLE).map(({ id, name, email }) => ({ id, name, email })), token: BOT_TOKEN });
    for (const p of Object.values(PEOPLE)) aws.addUser({ userId: p.principalId, email: p.email, identityStoreId: IDENTITY_STORE_ID });
    for (const [displayName, groupId] of Object.entries(GROUPS)) aws.addGroup({ groupId, displayName, identityStoreId: IDENTITY_STORE_ID });
    aws.putSecret(LAMBDA.secretArn, JSON.stringify({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET }));
    const dynamo = await startEmbeddedDynamoDb(undefined);
    const dir = mkdtempSync(join(tmpdir(), 'timebox-lambda-'));
    // The stack bundles the config as JSON (converted from YAML at synth).
    writeFileSync(join(dir, 'timebox.json'), JSON.stringify(parseYaml(configYaml)));
    const world = new LambdaWorld(aws, slackApi, dynamo, new DynamoDbStore(dynamo.client, dynamo.tableName), dir);
    Object.assign(process.env, aws.env(), {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      TIMEBOX_TABLE: dynamo.tableName,
      TIMEBOX_SECRET_ARN: LAMBDA.secretArn,
      TIMEBOX_CONFIG: join(dir, 'timebox.json'),
      TIMEBOX_WORKER_FUNCTION: LAMBDA.worker,
      TIMEBOX_WORKER_ARN: LAMBDA.workerArn,
      TIMEBOX_SCHEDULE_GROUP: LAMBDA.group,
      TIMEBOX_SCHEDULER_ROLE_ARN: LAMBDA.roleArn,
      TIMEBOX_DLQ_ARN: LAMBDA.dlqArn,
      TIMEBOX_WAITER_ARN: LAMBDA.waiterArn,
      SLACK_API_URL: slackApi.apiUrl,
      LOG_LEVEL: 'silent',
    });
    // Imported after the environment is set, as Lambda would load them.
    world.slack = (await import('../../src/entrypoints/lambda/slack')).handler as Handler;
    world.worker = (await import('../../src/entrypoints/lambda/worker')).handler as Handler;
    world.sweep = (await import('../../src/entrypoints/lambda/sweep')).handler as Handler;
    return world;
  }

  async stop(): Promise<void> {
    process.env = this.savedEnv;
    await this.slackApi.close();
    await this.aws.close();
    await this.dynamo.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** `/aws-access <text>` typed by `who`, through the Function URL; the handler's answer. */
  async command(who: PersonName, text: string): Promise<FunctionUrlResponse> {
    const body = new URLSearchParams({
      token: 'x', team_id: 'T0TIMEBOX', team_domain: 'timebox-test', channel_id: 'C0GENERAL0', channel_name: 'general',
      user_id: PEOPLE[who].id, user_name: PEOPLE[who].name, command: '/aws-access', text,
      api_app_id: 'A0TIMEBOX', response_url: this.slackApi.responseUrl({ userId: PEOPLE[who].id }), trigger_id: `${Date.now()}.${Math.random()}`,
    }).toString();
    return (await this.slack(functionUrlEvent(body, { signingSecret: SIGNING_SECRET }))) as FunctionUrlResponse;
  }

  /** Runs the worker on everything handed to it, as Lambda's async invoke would, until nothing more is; returns how many ran. */
  async runHandedOverWork(): Promise<number> {
    let ran = 0;
    for (let invocations = this.aws.takeInvocations(LAMBDA.worker); invocations.length > 0; invocations = this.aws.takeInvocations(LAMBDA.worker)) {
      for (const invocation of invocations) await this.worker(JSON.parse(invocation.payload));
      ran += invocations.length;
    }
    return ran;
  }

  /** The jobs handed to the waiter (the sweep function) since the last look. */
  takeWaiting(): Array<Record<string, unknown>> {
    return this.aws.takeInvocations(LAMBDA.waiterArn).map((i) => JSON.parse(i.payload) as Record<string, unknown>);
  }

  /** The request's one schedule (`timebox-<id>`), if it has one: when it fires, what it targets, and its input. */
  schedule(requestId: string): { at: number; targetArn: string | undefined; input: Record<string, unknown> } | undefined {
    const found = this.aws.schedules().find((s) => s.name === `timebox-${requestId}`);
    if (!found) return undefined;
    return { at: Date.parse(`${/^at\((.*)\)$/.exec(found.expression)![1]!}Z`), targetArn: found.targetArn, input: JSON.parse(found.input ?? '{}') as Record<string, unknown> };
  }
}
