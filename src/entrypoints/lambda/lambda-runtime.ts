import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { WorkflowDeps } from '../../app/deps';
import type { Alarms, Logger, Notifier, OrganizationReader } from '../../app/ports';
import { wireWorkflow } from '../wire-workflow';
import type { TimeboxConfig } from '../../config/config-schema';
import type { LambdaEnv } from '../../config/lambda-env';
import { lintPolicy } from '../../config/config-lint';
import { loadJsonConfigFile } from '../../config/validate-config';
import { DynamoDbStore } from '../../adapters/dynamodb/dynamodb-store';
import { EventBridgeScheduler } from '../../adapters/scheduler/eventbridge-scheduler';
import { invokeAsync, LambdaJobQueue } from '../../adapters/scheduler/lambda-job-queue';
import type { SlackSecrets } from '../../adapters/secrets/slack-secrets';
import { lambdaBasics, type LambdaFunctionKind } from './lambda-basics';
import { lambdaCatalogue, type LambdaCatalogue } from './lambda-catalogue';

export interface LambdaRuntime {
  env: LambdaEnv;
  config: TimeboxConfig;
  secrets: SlackSecrets;
  deps: WorkflowDeps;
  /** The Lambda client the hand-offs use. */
  lambda: LambdaClient;
  /** With a config that discovers: the catalogue read from the table's discovery cache (see LambdaCatalogue); `load()` it before each invocation. */
  catalogue: LambdaCatalogue | undefined;
}

export type { LambdaFunctionKind } from './lambda-basics';

export interface LambdaRuntimeOptions {
  /** The sweep's: how discovery reads AWS. The other functions never read AWS for discovery (nor carry its client). */
  reader?: (config: TimeboxConfig) => OrganizationReader;
  /**
   * The functions that revoke (worker, sweep) pass CloudWatchAlarms, so a stuck revoke also raises
   * the stack's RevokeStuck alarm; the Slack function never revokes and carries no metrics library.
   */
  alarms?: new (logger: Logger, notifier: Notifier) => Alarms;
}

const cached = new Map<LambdaFunctionKind, Promise<LambdaRuntime>>();

/**
 * Built once per cold start and reused: environment, config file and secrets are read and
 * validated here, so a broken deployment fails loudly in the logs on its first invocation. One
 * per function, as each is its own Lambda (and so its own catalogue) even where they share a process.
 */
export function lambdaRuntime(kind: LambdaFunctionKind, options: LambdaRuntimeOptions = {}): Promise<LambdaRuntime> {
  let runtime = cached.get(kind);
  if (!runtime) {
    runtime = buildLambdaRuntime(kind, options).catch((err: unknown) => {
      cached.delete(kind); // let the next invocation try again (e.g. the secret was just fixed)
      throw err;
    });
    cached.set(kind, runtime);
  }
  return runtime;
}

async function buildLambdaRuntime(kind: LambdaFunctionKind, options: LambdaRuntimeOptions): Promise<LambdaRuntime> {
  // The secret is being read from here on (or was, by the Slack function's hand-off path).
  const basics = lambdaBasics(kind);
  const { env, logger, lambda } = basics;
  let config: TimeboxConfig;
  try {
    config = loadJsonConfigFile(env.TIMEBOX_CONFIG);
  } catch (err) {
    logger.error({ err: err instanceof Error ? err.message : String(err) }, 'invalid Timebox config');
    throw err;
  }
  for (const warning of lintPolicy(config.policy)) logger.warn({ config: env.TIMEBOX_CONFIG }, warning);
  const dynamo = new DynamoDBClient({});
  // Read from the table's cache, never from AWS Organizations: discovery adds no call to AWS to a
  // cold start, and the cache's read (two GetItems) runs while the secret is read. load() never throws.
  const catalogue = lambdaCatalogue({ config, dynamo, tableName: env.TIMEBOX_TABLE, clock: { now: () => Date.now() }, logger, ...(options.reader ? { reader: options.reader(config) } : {}) });
  const loading = catalogue?.load();
  const secrets = await basics.secrets;
  await loading;
  const waiterArn = env.TIMEBOX_WAITER_ARN;
  const { deps } = wireWorkflow({
    config,
    ...(catalogue ? { catalogue } : {}),
    store: new DynamoDbStore(dynamo, env.TIMEBOX_TABLE, (err) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'skipped a stored request no schema version can read')),
    queue: new LambdaJobQueue(lambda, env.TIMEBOX_WORKER_FUNCTION),
    scheduler: new EventBridgeScheduler(new SchedulerClient({}), {
      groupName: env.TIMEBOX_SCHEDULE_GROUP,
      targetArn: env.TIMEBOX_WORKER_ARN,
      roleArn: env.TIMEBOX_SCHEDULER_ROLE_ARN,
      ...(env.TIMEBOX_DLQ_ARN ? { deadLetterArn: env.TIMEBOX_DLQ_ARN } : {}),
      ...(waiterArn ? { waiterArn, handOff: (job) => invokeAsync(lambda, waiterArn, job) } : {}),
      logger,
    }),
    slackBotToken: secrets.botToken,
    ...(options.alarms ? { alarms: options.alarms } : {}),
    ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
    logger,
    // A claim outlives the worker's 5-minute timeout, so the sweep never starts a second worker
    // on a request the first may still be working on.
    workflow: { claimMs: 330_000, leaseWaitMs: 60_000 },
    // The worker has 5 minutes: lease wait + polling stay well inside it. One outstanding create
    // per worker, so reserved concurrency bounds creates across the account (AWS allows 15): the
    // grants of one request are then created one after another.
    identityCenter: { pollBudgetMs: 180_000, maxOutstandingCreates: 1 },
  });
  return { env, config, secrets, deps, lambda, catalogue };
}
