import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { WebClient } from '@slack/web-api';
import { advanceWork, notifyRequest } from '../app/advance-request';
import { DEFAULT_WORKFLOW_OPTIONS, type WorkflowDeps, type WorkflowOptions } from '../app/deps';
import type { Clock, Logger } from '../app/ports';
import { newRequestId, requestIdFor } from '../app/request-id';
import { reconcileAssignments, type ReconcileReport } from '../app/reconcile-assignments';
import { sweepDueRequests } from '../app/sweep';
import type { TimeboxConfig } from '../config/config-schema';
import type { LocalEnv } from '../config/env';
import { DynamoDbStore } from '../adapters/dynamodb/dynamodb-store';
import { ensureTable, startEmbeddedDynamoDb } from '../adapters/dynamodb/embedded-dynamodb';
import { IdentityCenterAdapter, type IdentityCenterOptions } from '../adapters/identity-center/identity-center-adapter';
import { InProcessJobQueue } from '../adapters/scheduler/in-process-job-queue';
import { InProcessScheduler } from '../adapters/scheduler/in-process-scheduler';
import { startSlackApp } from '../adapters/slack/create-slack-app';
import { SlackDirectory } from '../adapters/slack/slack-directory';
import { SlackNotifier } from '../adapters/slack/slack-notifier';

const SWEEP_INTERVAL_MS = 30_000;
const RECONCILE_INTERVAL_MS = 300_000;

export interface LocalRuntimeOptions {
  env: LocalEnv;
  config: TimeboxConfig;
  logger: Logger;
  /** Knobs for tests and the demo; production uses the defaults. */
  workflow?: Partial<WorkflowOptions>;
  identityCenter?: Pick<IdentityCenterOptions, 'pollDelaysMs' | 'pollBudgetMs'>;
  sweepIntervalMs?: number;
  reconcileIntervalMs?: number;
  clock?: Clock;
}

export interface LocalRuntime {
  /** Base URL of the HTTP server. */
  url: string;
  deps: WorkflowDeps;
  queue: InProcessJobQueue;
  scheduler: InProcessScheduler;
  /** The store's DynamoDB client (embedded or real), for diagnostics and tests. */
  dynamo: DynamoDBClient;
  /** Runs one sweep now (the timer runs one every 30 s). */
  sweep(): Promise<void>;
  /** Compares Timebox's leases with Identity Center now (the timer does so every 5 minutes). */
  reconcile(): Promise<ReconcileReport>;
  stop(): Promise<void>;
}

/**
 * The single local process: Bolt over HTTP or Socket Mode, dynalite (or a real table when
 * TIMEBOX_TABLE is set), in-process timers, and a sweep at start-up and every 30 s, so grants
 * made before a crash are still revoked on time.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { env, config, logger } = options;
  const clock = options.clock ?? { now: () => Date.now() };
  const sweepEvery = options.sweepIntervalMs ?? SWEEP_INTERVAL_MS;

  const embedded = env.TIMEBOX_TABLE ? undefined : await startEmbeddedDynamoDb(env.TIMEBOX_DATA_DIR);
  const dynamo = embedded?.client ?? new DynamoDBClient({});
  const tableName = embedded?.tableName ?? (env.TIMEBOX_TABLE as string);
  if (!embedded) await ensureTable(dynamo, tableName);

  const ssoAdmin = new SSOAdminClient({ maxAttempts: 5 });
  const identityStore = new IdentitystoreClient({ maxAttempts: 5 });
  const slackApi = env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {};
  // Notifications: Slack's default is ten retries over half an hour; a notification that still
  // fails is retried by the sweep instead.
  const slackClient = new WebClient(env.SLACK_BOT_TOKEN, { ...slackApi, retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2000 }, timeout: 5_000 });
  // Profile look-ups happen while Slack waits for its 3-second answer: fail fast instead.
  const slackLookups = new WebClient(env.SLACK_BOT_TOKEN, { ...slackApi, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: 2_000 });

  const queue = new InProcessJobQueue(logger);
  const scheduler = new InProcessScheduler(queue, clock);
  const deps: WorkflowDeps = {
    policy: config.policy,
    store: new DynamoDbStore(dynamo, tableName),
    identityCenter: new IdentityCenterAdapter(ssoAdmin, identityStore, { ...config.identityCenter, ...options.identityCenter }),
    queue,
    scheduler,
    directory: new SlackDirectory(slackLookups),
    notifier: new SlackNotifier(slackClient, config.slack.approvalChannel),
    clock,
    logger,
    options: { ...DEFAULT_WORKFLOW_OPTIONS, ...options.workflow },
    newRequestId,
    requestIdFor,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  queue.bind({ work: (job) => advanceWork(deps, job.requestId), notify: (job) => notifyRequest(deps, job.requestId) });

  let ready = false;
  const sweep = async () => {
    try {
      // Looking two intervals ahead arms timers for everything due before the next sweep, with room to spare.
      await sweepDueRequests(deps, sweepEvery * 2);
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'sweep failed');
    }
  };
  const reconcile = () => reconcileAssignments(deps);
  const reconcileQuietly = () =>
    reconcile().catch((err: unknown) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'reconcile failed'));
  await sweep();
  await reconcileQuietly();
  const sweepTimer = setInterval(() => void sweep(), sweepEvery);
  sweepTimer.unref();
  const reconcileTimer = setInterval(() => void reconcileQuietly(), options.reconcileIntervalMs ?? RECONCILE_INTERVAL_MS);
  reconcileTimer.unref();

  const slack = await startSlackApp(
    {
      botToken: env.SLACK_BOT_TOKEN,
      signingSecret: env.SLACK_SIGNING_SECRET,
      ...(env.SLACK_APP_TOKEN ? { appToken: env.SLACK_APP_TOKEN } : {}),
      ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}),
      port: env.PORT,
      isReady: () => ready,
      logger,
    },
    { deps, approvalChannel: config.slack.approvalChannel },
  );
  ready = true;
  logger.info({ url: slack.url, mode: env.SLACK_APP_TOKEN ? 'socket' : 'http', store: embedded ? 'embedded' : tableName }, 'timebox is ready');

  let stopped = false;
  return {
    url: slack.url,
    deps,
    queue,
    scheduler,
    dynamo,
    sweep,
    reconcile,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      ready = false;
      clearInterval(sweepTimer);
      clearInterval(reconcileTimer);
      await slack.stop();
      scheduler.close();
      await queue.close();
      ssoAdmin.destroy();
      identityStore.destroy();
      if (embedded) await embedded.close();
      else dynamo.destroy();
    },
  };
}
