import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbCatalogueCache } from '../adapters/dynamodb/dynamodb-catalogue-cache';
import { AwsOrganizationReader, discoveryClients, type OrganizationReaderOptions } from '../adapters/organizations/organization-reader';
import { DiscoveringCatalogue, type RefreshReport } from '../app/discovering-catalogue';
import type { Clock, Logger } from '../app/ports';
import type { TimeboxConfig } from '../config/config-schema';
import { catalogueWarnings } from '../domain/catalogue-checks';
import type { Account, PermissionSet } from '../domain/policy';

/** Knobs for tests and the demo; production reads at the reader's defaults (4 calls at once, 5 calls/s per service, 8 attempts). */
export interface DiscoveryTuning extends Pick<OrganizationReaderOptions, 'callsPerSecond' | 'concurrency'> {
  maxAttempts?: number;
  /** Instead of the config's discovery.refresh (which is at least 1m). */
  refreshMs?: number;
}

export interface CatalogueWiringParts {
  config: TimeboxConfig;
  /** The store's table, which holds the discovery cache beside the requests. */
  dynamo: DynamoDBClient;
  tableName: string;
  logger: Logger;
  clock: Clock;
  tuning?: DiscoveryTuning;
}

export interface CatalogueWiring {
  catalogue: DiscoveringCatalogue;
  /**
   * Loads the catalogue from the store's cache, else from AWS (throws DiscoveryFailedError, one
   * line, when neither can); a cache older than the refresh interval serves at once and is
   * refreshed in the background.
   */
  start(): Promise<void>;
  /** How often the cache is refreshed: discovery.refresh, unless tuned. */
  refreshMs: number;
  /** Refreshes now and logs what changed and every warning about the rules against the new catalogue. */
  refresh(): Promise<RefreshReport>;
  /** Refreshes every refreshMs (a refresh still running is shared, never doubled). */
  refreshEvery(): void;
  /** Stops the timer, waits for a refresh that is running, closes the SDK clients. */
  stop(): Promise<void>;
}

/** At most this many accounts or permission sets are named in one log line; the rest are counted. */
const NAMED_PER_LINE = 50;

const named = (items: Array<Account | PermissionSet>): string => {
  const shown = items.slice(0, NAMED_PER_LINE).map((i) => ('id' in i ? `${i.name} (${i.id})` : i.name));
  return items.length > NAMED_PER_LINE ? `${shown.join(', ')} and ${items.length - NAMED_PER_LINE} more` : shown.join(', ');
};

/**
 * The discovering catalogue for a config that discovers (accounts: discover / permissionSets:
 * discover), built the same way for every runtime: the reader's SDK clients from the SDK's own
 * chain (AWS_ENDPOINT_URL_ORGANIZATIONS, AWS_ENDPOINT_URL_SSO_ADMIN), the cache in the store's
 * table. Undefined when the config discovers nothing (its own lists are the catalogue).
 */
export function wireDiscoveringCatalogue(parts: CatalogueWiringParts): CatalogueWiring | undefined {
  const { config, logger, tuning = {} } = parts;
  const settings = config.discovery;
  if (!settings) return undefined;
  const clients = discoveryClients(tuning.maxAttempts);
  const reader = new AwsOrganizationReader(clients.organizations, clients.ssoAdmin, {
    instanceArn: config.identityCenter.instanceArn,
    ...(tuning.callsPerSecond !== undefined ? { callsPerSecond: tuning.callsPerSecond } : {}),
    ...(tuning.concurrency !== undefined ? { concurrency: tuning.concurrency } : {}),
  });
  const cache = new DynamoDbCatalogueCache(parts.dynamo, parts.tableName, (err) =>
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'the discovery cache in the store is not readable; it counts as no cache'),
  );
  const catalogue = new DiscoveringCatalogue({ config: config.policy.catalogue.current(), settings, reader, cache, clock: parts.clock, logger });
  const refreshMs = tuning.refreshMs ?? settings.refreshMs;

  const reportRefresh = (report: RefreshReport): RefreshReport => {
    // A failed refresh changed nothing: its warning is logged by the catalogue, the snapshot it keeps was reported before.
    if (!report.ok) return report;
    const changes = [
      ['accounts added', report.accountsAdded],
      ['accounts removed', report.accountsRemoved],
      ['permission sets added', report.permissionSetsAdded],
      ['permission sets removed', report.permissionSetsRemoved],
    ] as const;
    for (const [what, items] of changes) if (items.length > 0) logger.info({ [what.replace(/ /g, '_')]: items.length }, `discovery refresh: ${what}: ${named(items)}`);
    const snapshot = catalogue.current();
    for (const warning of catalogueWarnings(config.policy.rules, snapshot)) logger.warn({ source: snapshot.source }, warning);
    return report;
  };

  // The refresh running now (a timer tick or a sweep asking while one runs shares it, and its report
  // is logged once); stop() waits for it, as the store and the clients close after it.
  let running: Promise<RefreshReport> | undefined;
  const refresh = (): Promise<RefreshReport> => {
    running ??= catalogue
      .refresh()
      .then(reportRefresh)
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = (): void => {
    refresh().catch((err: unknown) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'discovery refresh failed'));
  };
  return {
    catalogue,
    start: async () => {
      logger.info({ refreshMs }, 'loading the discovered catalogue: from the store\'s cache, or with none from AWS before serving (at 5 calls/s, about 4 minutes for 1,000 accounts)');
      const started = await catalogue.start();
      if (started.from === 'cache' && catalogue.isStale()) tick();
    },
    refreshMs,
    refresh,
    refreshEvery: () => {
      if (timer || stopped) return;
      timer = setInterval(tick, refreshMs);
      timer.unref();
    },
    stop: async () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      stopped = true;
      await running?.catch(() => undefined);
      clients.organizations.destroy();
      clients.ssoAdmin.destroy();
    },
  };
}
