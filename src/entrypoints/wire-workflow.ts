import { sha256Hex } from '../adapters/audit/sha256';
import { randomUUID } from 'node:crypto';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { WebClient } from '@slack/web-api';
import { DEFAULT_WORKFLOW_OPTIONS, type WorkflowDeps, type WorkflowOptions } from '../app/deps';
import type { Alarms, Catalogue, Clock, JobQueue, JobScheduler, Logger, Notifier, Store } from '../app/ports';
import { catalogueWarnings } from '../domain/catalogue-checks';
import type { CatalogueSnapshot } from '../domain/catalogue';
import { isTimeboxError } from '../domain/errors';
import { newRequestId, requestIdFor } from '../adapters/request-id';
import type { TimeboxConfig } from '../config/config-schema';
import { IdentityCenterAdapter, type IdentityCenterOptions } from '../adapters/identity-center/identity-center-adapter';
import { SlackDirectory } from '../adapters/slack/slack-directory';
import { SlackNotifier } from '../adapters/slack/slack-notifier';
import { SlackHomeTab } from '../adapters/slack/slack-home-tab';
import { LoggedAlarms } from '../adapters/alarms/revoke-alarms';

/** What differs between the local process and the Lambda functions; everything else is wired the same. */
export interface WiringParts {
  config: TimeboxConfig;
  store: Store;
  queue: JobQueue;
  scheduler: JobScheduler;
  slackBotToken: string;
  slackApiUrl?: string;
  logger: Logger;
  clock?: Clock;
  workflow?: Partial<WorkflowOptions>;
  /**
   * How a stuck revoke is raised: LoggedAlarms unless given. The Lambda functions that revoke pass
   * CloudWatchAlarms (an embedded-format metric for the stack's alarm too); taking it as a part keeps
   * its metrics library out of the Slack function's bundle, which never revokes.
   */
  alarms?: new (logger: Logger, notifier: Notifier) => Alarms;
  identityCenter?: Partial<Omit<IdentityCenterOptions, 'instanceArn' | 'identityStoreId'>>;
  /** How long Slack user groups are cached (at most, and by default, 5 minutes). */
  slackUserGroupCacheMs?: number;
  /**
   * What can be granted, when it is not the config's own lists: the discovering catalogue (config
   * with discovery), or a test's. The policy holds it, so a refreshed snapshot is read by the next request.
   */
  catalogue?: Catalogue;
}

/** The catalogue the workflow reads: the one given, else the config's own lists; a config that discovers needs one given. */
function catalogueFor(parts: WiringParts): Catalogue {
  if (parts.catalogue) return parts.catalogue;
  if (parts.config.discovery) {
    throw new Error('the config discovers accounts or permission sets (accounts: discover / permissionSets: discover), but this runtime was started without a discovering catalogue');
  }
  return parts.config.policy.catalogue;
}

function readyOrNot(catalogue: Catalogue): CatalogueSnapshot | undefined {
  try {
    return catalogue.current();
  } catch (err) {
    if (isTimeboxError(err, 'catalogue_not_ready')) return undefined;
    throw err;
  }
}

export interface Wiring {
  deps: WorkflowDeps;
  /** Closes the SDK clients' sockets. */
  close(): void;
}

/** The one place the workflow's parts are put together, for every runtime. */
export function wireWorkflow(parts: WiringParts): Wiring {
  const ssoAdmin = new SSOAdminClient({ maxAttempts: 5 });
  const identityStore = new IdentitystoreClient({ maxAttempts: 5 });
  const slackApi = parts.slackApiUrl ? { slackApiUrl: parts.slackApiUrl } : {};
  // Notifications: Slack's default is ten retries over half an hour; a notification that still
  // fails is retried by the sweep instead.
  const slack = new WebClient(parts.slackBotToken, { ...slackApi, retryConfig: { retries: 2, factor: 2, minTimeout: 300, maxTimeout: 2000 }, timeout: 5_000 });
  // Profile look-ups happen while Slack waits for its 3-second answer: fail fast instead.
  const slackLookups = new WebClient(parts.slackBotToken, { ...slackApi, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: 2_000 });
  const notifier = new SlackNotifier(slack, parts.config.slack.approvalChannel, parts.config.identityCenter.portalUrl, parts.config.slack.alertChannel);
  const { alerts } = parts.config;
  const catalogue = catalogueFor(parts);
  const policy = { ...parts.config.policy, catalogue };
  // The rules against what can be granted now: entries naming nothing, sessions outliving windows (a discovering catalogue says the same on each refresh).
  // A Lambda function's catalogue with no discovery cache yet has nothing to check (it says so when read).
  const snapshot = readyOrNot(catalogue);
  for (const warning of snapshot ? catalogueWarnings(policy.rules, snapshot) : []) parts.logger.warn({ source: snapshot?.source }, warning);
  const identityCenter = new IdentityCenterAdapter(ssoAdmin, identityStore, { ...parts.config.identityCenter, ...parts.identityCenter });
  const deps: WorkflowDeps = {
    policy,
    store: parts.store,
    provisioner: identityCenter,
    permissionSets: identityCenter,
    queue: parts.queue,
    scheduler: parts.scheduler,
    directory: new SlackDirectory(slackLookups, Date.now, parts.slackUserGroupCacheMs),
    notifier,
    home: new SlackHomeTab(slack),
    alarms: new (parts.alarms ?? LoggedAlarms)(parts.logger, notifier),
    clock: parts.clock ?? { now: () => Date.now() },
    logger: parts.logger,
    options: { ...DEFAULT_WORKFLOW_OPTIONS, revokeStuckAttempts: alerts.revokeStuckAttempts, revokeStuckMs: alerts.revokeStuckAfter, ...parts.workflow },
    newRequestId,
    newGeneration: randomUUID,
    sha256: sha256Hex,
    requestIdFor,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  return {
    deps,
    close: () => {
      ssoAdmin.destroy();
      identityStore.destroy();
    },
  };
}
