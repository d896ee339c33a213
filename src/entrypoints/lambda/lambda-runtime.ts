import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { WebClient } from '@slack/web-api';
import { DEFAULT_WORKFLOW_OPTIONS, type WorkflowDeps } from '../../app/deps';
import { newRequestId, requestIdFor } from '../../app/request-id';
import type { TimeboxConfig } from '../../config/config-schema';
import { readLambdaEnv, type LambdaEnv } from '../../config/lambda-env';
import { lintPolicy } from '../../config/config-lint';
import { loadJsonConfigFile } from '../../config/validate-config';
import { DynamoDbStore } from '../../adapters/dynamodb/dynamodb-store';
import { IdentityCenterAdapter } from '../../adapters/identity-center/identity-center-adapter';
import { createLogger } from '../../adapters/logger';
import { EventBridgeScheduler } from '../../adapters/scheduler/eventbridge-scheduler';
import { LambdaJobQueue } from '../../adapters/scheduler/lambda-job-queue';
import { readSlackSecrets, type SlackSecrets } from '../../adapters/secrets/slack-secrets';
import { SlackDirectory } from '../../adapters/slack/slack-directory';
import { SlackNotifier } from '../../adapters/slack/slack-notifier';

export interface LambdaRuntime {
  env: LambdaEnv;
  config: TimeboxConfig;
  secrets: SlackSecrets;
  deps: WorkflowDeps;
}

let cached: Promise<LambdaRuntime> | undefined;

/**
 * Built once per cold start and reused: environment, config file and secrets are read and
 * validated here, so a broken deployment fails loudly in the logs on its first invocation.
 */
export function lambdaRuntime(): Promise<LambdaRuntime> {
  cached ??= buildLambdaRuntime().catch((err: unknown) => {
    cached = undefined; // let the next invocation try again (e.g. the secret was just fixed)
    throw err;
  });
  return cached;
}

async function buildLambdaRuntime(): Promise<LambdaRuntime> {
  const env = readLambdaEnv();
  const logger = createLogger(env.LOG_LEVEL);
  let config: TimeboxConfig;
  try {
    config = loadJsonConfigFile(env.TIMEBOX_CONFIG);
  } catch (err) {
    logger.error({ err: err instanceof Error ? err.message : String(err) }, 'invalid Timebox config');
    throw err;
  }
  for (const warning of lintPolicy(config.policy)) logger.warn({ config: env.TIMEBOX_CONFIG }, warning);
  const secrets = await readSlackSecrets(new SecretsManagerClient({}), env.TIMEBOX_SECRET_ARN);
  const slackApi = env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {};
  const slack = new WebClient(secrets.botToken, { ...slackApi, retryConfig: { retries: 2, factor: 2, minTimeout: 300, maxTimeout: 2000 }, timeout: 5_000 });
  // Profile look-ups happen while Slack waits for its 3-second answer: fail fast instead.
  const slackLookups = new WebClient(secrets.botToken, { ...slackApi, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: 2_000 });
  const deps: WorkflowDeps = {
    policy: config.policy,
    store: new DynamoDbStore(new DynamoDBClient({}), env.TIMEBOX_TABLE),
    identityCenter: new IdentityCenterAdapter(new SSOAdminClient({ maxAttempts: 5 }), new IdentitystoreClient({ maxAttempts: 5 }), {
      ...config.identityCenter,
      // The worker has 5 minutes: lease wait + polling stay well inside it.
      pollBudgetMs: 180_000,
    }),
    queue: new LambdaJobQueue(new LambdaClient({}), env.TIMEBOX_WORKER_FUNCTION),
    scheduler: new EventBridgeScheduler(new SchedulerClient({}), {
      groupName: env.TIMEBOX_SCHEDULE_GROUP,
      targetArn: env.TIMEBOX_WORKER_ARN,
      roleArn: env.TIMEBOX_SCHEDULER_ROLE_ARN,
      ...(env.TIMEBOX_DLQ_ARN ? { deadLetterArn: env.TIMEBOX_DLQ_ARN } : {}),
    }),
    directory: new SlackDirectory(slackLookups),
    notifier: new SlackNotifier(slack, config.slack.approvalChannel),
    clock: { now: () => Date.now() },
    logger,
    // A claim outlives the worker's 5-minute timeout, so the sweep never starts a second worker
    // on a request the first may still be working on.
    options: { ...DEFAULT_WORKFLOW_OPTIONS, claimMs: 330_000, leaseWaitMs: 60_000 },
    newRequestId,
    requestIdFor,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  return { env, config, secrets, deps };
}
