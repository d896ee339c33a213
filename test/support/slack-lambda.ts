import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startEmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import { DynamoDbStore } from '../../src/adapters/dynamodb/dynamodb-store';
import type { AwsStandIn } from './aws-stand-in';
import type { SlackStandIn } from './slack-stand-in';
import { BOT_TOKEN, SIGNING_SECRET, testConfigYaml } from './timebox-harness';

export type LambdaHandler = (event: unknown, context?: unknown) => Promise<unknown>;

export interface SlackLambda {
  /** The Slack function's handler, as Lambda loads it. */
  handler: LambdaHandler;
  /** Its table (its own dynalite), read directly. */
  store: DynamoDbStore;
  close(): Promise<void>;
}

/**
 * The Slack Lambda function (src/entrypoints/lambda/slack.ts) on its own table, talking to the given
 * stand-ins over the wire: its secret is put into `aws`, its environment into process.env (restored
 * by close()). The worker it hands work to is not run: the hand-offs stay in the stand-in.
 */
export async function startSlackLambda(aws: AwsStandIn, slack: SlackStandIn, configYaml = testConfigYaml()): Promise<SlackLambda> {
  const savedEnv = { ...process.env };
  const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:timebox-slack-AbCdEf';
  aws.putSecret(secretArn, JSON.stringify({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET }));
  const dynamo = await startEmbeddedDynamoDb(undefined);
  const dir = mkdtempSync(join(tmpdir(), 'timebox-slack-lambda-'));
  writeFileSync(join(dir, 'timebox.json'), JSON.stringify(parseYaml(configYaml)));
  Object.assign(process.env, aws.env(), {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    TIMEBOX_TABLE: dynamo.tableName,
    TIMEBOX_SECRET_ARN: secretArn,
    TIMEBOX_CONFIG: join(dir, 'timebox.json'),
    TIMEBOX_WORKER_FUNCTION: 'timebox-worker',
    TIMEBOX_WORKER_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:timebox-worker',
    TIMEBOX_SCHEDULE_GROUP: 'timebox',
    TIMEBOX_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/timebox-scheduler',
    TIMEBOX_WAITER_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:timebox-sweep',
    SLACK_API_URL: slack.apiUrl,
    LOG_LEVEL: 'silent',
  });
  // Imported after the environment is set, as Lambda would load it.
  const { handler } = (await import('../../src/entrypoints/lambda/slack')) as { handler: LambdaHandler };
  return {
    handler,
    store: new DynamoDbStore(dynamo.client, dynamo.tableName),
    close: async () => {
      process.env = savedEnv;
      await dynamo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
