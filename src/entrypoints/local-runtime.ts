import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { advanceWork, notifyRequest } from '../app/advance-request';
import type { WorkflowDeps, WorkflowOptions } from '../app/deps';
import type { Catalogue, Clock, Logger } from '../app/ports';
import { reconcileAssignments, type ReconcileReport } from '../app/reconcile-assignments';
import { sweepDueRequests } from '../app/sweep';
import type { TimeboxConfig } from '../config/config-schema';
import type { LocalEnv } from '../config/env';
import { DynamoDbStore } from '../adapters/dynamodb/dynamodb-store';
import { ensureTable, startEmbeddedDynamoDb } from '../adapters/dynamodb/embedded-dynamodb';
import type { IdentityCenterOptions } from '../adapters/identity-center/identity-center-adapter';
import { checkIdentityCenterInstance } from '../adapters/identity-center/check-instance';
import { wireWorkflow } from './wire-workflow';
import { wireDiscoveringCatalogue, type DiscoveryTuning } from './catalogue-wiring';
import { settleHomeRefreshes } from '../app/home';
import { InProcessJobQueue } from '../adapters/scheduler/in-process-job-queue';
import { InProcessScheduler } from '../adapters/scheduler/in-process-scheduler';
import { startSlackApp } from '../adapters/slack/create-slack-app';
import type { SlackFront } from '../adapters/slack/slack-front';
import { StoreLanes } from '../adapters/store-lanes';

const SWEEP_INTERVAL_MS = 30_000;
const RECONCILE_INTERVAL_MS = 300_000;

/** How long after a change the local process republishes the Homes it concerns (see WorkflowOptions.homeRefreshDelayMs). */
const LOCAL_HOME_REFRESH_MS = 1_000;

export interface LocalRuntimeOptions {
  env: LocalEnv;
  config: TimeboxConfig;
  logger: Logger;
  /** Knobs for tests and the demo; production uses the defaults. */
  workflow?: Partial<WorkflowOptions>;
  identityCenter?: Pick<IdentityCenterOptions, 'pollDelaysMs' | 'pollBudgetMs'>;
  /** How long Slack user groups are cached (at most, and by default, 5 minutes). */
  slackUserGroupCacheMs?: number;
  sweepIntervalMs?: number;
  reconcileIntervalMs?: number;
  clock?: Clock;
  /** false: no HTTP server; requests reach `front` from another thread (the workflow thread, see local-thread.ts). */
  listen?: boolean;
  /** Skips the start-up check of the Identity Center instance (tests that start without one). */
  skipAwsCheck?: boolean;
  /** What can be granted, when not the config's own lists (the discovering catalogue, or a test's); see WiringParts.catalogue. */
  catalogue?: Catalogue;
  /** Test knobs for a config that discovers (the reader's pace, the refresh interval). */
  discovery?: DiscoveryTuning;
}

export interface LocalRuntime {
  /** Base URL of the HTTP server ('' when not listening). */
  url: string;
  /** The Slack HTTP receiver (none in Socket Mode). */
  front: SlackFront | undefined;
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

  // Local mode only (the Lambda path keeps its cold start lean): a wrong instance, store or set of
  // credentials stops the process here with one clear line, not at a user's first request.
  if (!options.skipAwsCheck) await checkIdentityCenterInstance(config.identityCenter);

  const embedded = env.TIMEBOX_TABLE ? undefined : await startEmbeddedDynamoDb(env.TIMEBOX_DATA_DIR);
  const dynamo = embedded?.client ?? new DynamoDBClient({});
  const tableName = embedded?.tableName ?? (env.TIMEBOX_TABLE as string);
  if (!embedded) await ensureTable(dynamo, tableName);

  // A config that discovers: the catalogue is loaded (cache, else AWS) before anything is served;
  // with neither, DiscoveryFailedError says so in one line and nothing is left running.
  const discovery = options.catalogue ? undefined : wireDiscoveringCatalogue({ config, dynamo, tableName, logger, clock, ...(options.discovery ? { tuning: options.discovery } : {}) });
  try {
    await discovery?.start();
  } catch (err) {
    await discovery?.stop();
    if (embedded) await embedded.close();
    else dynamo.destroy();
    throw err;
  }

  const catalogue = options.catalogue ?? discovery?.catalogue;

  const queue = new InProcessJobQueue(logger);
  const scheduler = new InProcessScheduler(queue, clock);
  // Everything in this process shares one store: the worker's grants and revokes go ahead of
  // filing, clicks and news, so one person's flood cannot delay another person's access.
  const lanes = new StoreLanes(new DynamoDbStore(dynamo, tableName, (err) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'skipped a stored request no schema version can read')));
  const wiring = wireWorkflow({
    config,
    store: lanes.lane('routine'),
    queue,
    scheduler,
    slackBotToken: env.SLACK_BOT_TOKEN,
    ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
    logger,
    clock,
    // One process serves everyone: a person's Home is republished at most once a second.
    workflow: { homeRefreshDelayMs: LOCAL_HOME_REFRESH_MS, ...options.workflow },
    ...(options.identityCenter ? { identityCenter: options.identityCenter } : {}),
    ...(options.slackUserGroupCacheMs !== undefined ? { slackUserGroupCacheMs: options.slackUserGroupCacheMs } : {}),
    ...(catalogue ? { catalogue } : {}),
  });
  const { deps } = wiring;
  const accessDeps: WorkflowDeps = { ...deps, store: lanes.lane('access') };
  queue.bind({ work: (job, written) => lanes.serveAccess(() => advanceWork(accessDeps, job, written)), notify: (job, known) => notifyRequest(deps, job.requestId, known) });

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
  discovery?.refreshEvery();

  const slack = await startSlackApp(
    {
      botToken: env.SLACK_BOT_TOKEN,
      signingSecret: env.SLACK_SIGNING_SECRET,
      ...(env.SLACK_APP_TOKEN ? { appToken: env.SLACK_APP_TOKEN } : {}),
      ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}),
      port: env.PORT,
      ...(options.listen === false ? { listen: false } : {}),
      isReady: () => ready,
      logger,
    },
    // What the door does, a person waits for: its store calls never queue behind news and Homes.
    { deps: { ...deps, store: lanes.lane('interactive') }, approvalChannel: config.slack.approvalChannel, ackFirst: true },
  );
  ready = true;
  // Not listening: the thread that serves HTTP says when Timebox is ready.
  if (options.listen !== false) logger.info({ url: slack.url, mode: env.SLACK_APP_TOKEN ? 'socket' : 'http', store: embedded ? 'embedded' : tableName }, 'timebox is ready');

  let stopped = false;
  return {
    url: slack.url,
    front: slack.front,
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
      await discovery?.stop();
      await settleHomeRefreshes(deps.home, { cancel: true });
      scheduler.close();
      await queue.close();
      // The news the drain told may have asked for Homes: they are dropped too (the store closes next).
      await settleHomeRefreshes(deps.home, { cancel: true });
      wiring.close();
      if (embedded) await embedded.close();
      else dynamo.destroy();
    },
  };
}
