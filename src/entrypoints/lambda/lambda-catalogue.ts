import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbCatalogueCache } from '../../adapters/dynamodb/dynamodb-catalogue-cache';
import { DiscoveringCatalogue } from '../../app/discovering-catalogue';
import type { Catalogue, Clock, LockStore, Logger, OrganizationReader } from '../../app/ports';
import type { TimeboxConfig } from '../../config/config-schema';
import type { CatalogueSnapshot } from '../../domain/catalogue';
import { catalogueWarnings } from '../../domain/catalogue-checks';
import { TimeboxError } from '../../domain/errors';

/**
 * The sweep function's timeout (infra reads it). A full read of 1,000 accounts at discovery's 5
 * calls a second takes about 219 s, after the sweep's own work: 10 minutes leave room for some
 * 2,500 accounts. A sweep that outlives the next one's start (every 5 minutes) overlaps it
 * harmlessly: the refresh lock below keeps the read of AWS to one at a time.
 */
export const SWEEP_TIMEOUT_MS = 600_000;
/** The lock item that keeps discovery's read of AWS to one sweep at a time. */
export const CATALOGUE_REFRESH_LOCK = 'catalogue-refresh';
/** A stale snapshot re-reads the store's cache at most this often (the sweep may not have refreshed it yet). */
const RELOAD_EVERY_MS = 60_000;

export const CATALOGUE_NOT_READY =
  'Timebox has not read the AWS organisation yet (its first read ends within about 10 minutes of deploying), so it cannot tell what you can ask for. Nothing was changed; please try again in a few minutes, and tell your Timebox admins if this lasts.';

/** What the sweep's refresh step did: the cache fresh, another sweep reading, or this one read AWS (and whether that worked). */
export type CatalogueRefreshOutcome = 'fresh' | 'busy' | 'refreshed' | 'failed';

const oneLine = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The catalogue of a Lambda function when the config discovers: the discovery cache in the table,
 * never AWS at a cold start. The Slack function and the worker only read the cache (before each
 * invocation, `load()` starts from it, or re-reads it once the snapshot is older than
 * discovery.refresh); the sweep alone reads AWS, in `refreshIfStale`. With no cache yet, reading
 * it is a TimeboxError the person sees (CATALOGUE_NOT_READY), and the function keeps running, so
 * nothing that does not need the catalogue (revokes, above all) ever waits for discovery.
 */
export class LambdaCatalogue implements Catalogue {
  private started = false;
  private lastLoad = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly discovering: DiscoveringCatalogue,
    private readonly rules: TimeboxConfig['policy']['rules'],
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  current(): CatalogueSnapshot {
    if (!this.started) throw new TimeboxError('catalogue_not_ready', CATALOGUE_NOT_READY);
    return this.discovering.current();
  }

  /** Starts from the store's cache, or re-reads it when the snapshot is stale (at most once a minute). Never calls AWS; never throws. */
  async load(): Promise<void> {
    const now = this.clock.now();
    if (this.started && (!this.discovering.isStale() || now - this.lastLoad < RELOAD_EVERY_MS)) return;
    this.lastLoad = now;
    if (!this.started) {
      try {
        await this.discovering.start({ readAws: false });
        this.started = true;
      } catch (err) {
        this.logger.error({ err: oneLine(err) }, `no discovery cache to serve from; until the sweep's first read, people are told Timebox has not read the organisation yet: ${oneLine(err)}`);
      }
      return;
    }
    try {
      await this.discovering.reload();
    } catch (err) {
      this.logger.warn({ err: oneLine(err) }, 'could not re-read the discovery cache; the last snapshot keeps serving');
    }
  }

  /**
   * The sweep's step: when the cache is older than discovery.refresh (or there is none), read AWS
   * and write the cache, unless another sweep holds the refresh lock. The lock runs out with the
   * sweep's timeout, so a sweep killed mid-read never blocks the next one for longer.
   */
  async refreshIfStale(locks: LockStore): Promise<CatalogueRefreshOutcome> {
    await this.load();
    if (this.started && !this.discovering.isStale()) return 'fresh';
    const owner = randomUUID();
    const now = this.clock.now();
    if (!(await locks.tryLock(CATALOGUE_REFRESH_LOCK, owner, now + SWEEP_TIMEOUT_MS, now))) return 'busy';
    try {
      const report = await this.discovering.refresh();
      if (!report.ok) {
        // With a cache, the last good one serves (the catalogue logged a warning). Without one, nobody can ask for anything: an error.
        if (!this.started) this.logger.error({ err: report.error }, `discovery failed and there is no cache yet, so nobody can ask for access until a read succeeds: ${report.error}`);
        return 'failed';
      }
      this.started = true;
      this.lastLoad = this.clock.now();
      this.warnAboutRules();
      return 'refreshed';
    } finally {
      await locks.unlock(CATALOGUE_REFRESH_LOCK, owner).catch((err: unknown) => this.logger.warn({ err: oneLine(err) }, 'could not let go of the discovery refresh lock; it runs out by itself'));
    }
  }

  /** Rules naming what was not discovered, and sessions outliving windows: said on each refresh (and by wireWorkflow at a cold start). */
  private warnAboutRules(): void {
    const snapshot = this.discovering.current();
    for (const warning of catalogueWarnings(this.rules, snapshot)) this.logger.warn({ source: snapshot.source }, warning);
  }
}

/**
 * The Lambda catalogue for a config that discovers, or undefined (the config's own lists serve).
 * Only the sweep passes a reader (so only its bundle carries the Organizations client); the others
 * get one that refuses, which start({ readAws: false }) and reload() never call.
 */
export function lambdaCatalogue(parts: { config: TimeboxConfig; dynamo: DynamoDBClient; tableName: string; clock: Clock; logger: Logger; reader?: OrganizationReader }): LambdaCatalogue | undefined {
  const { config, logger } = parts;
  const settings = config.discovery;
  if (!settings) return undefined;
  const refuse = (): Promise<never> => Promise.reject(new Error('only the sweep function reads AWS for discovery'));
  const cache = new DynamoDbCatalogueCache(parts.dynamo, parts.tableName, (err) => logger.warn({ err: oneLine(err) }, 'the discovery cache in the table is not readable; it counts as no cache'));
  const discovering = new DiscoveringCatalogue({
    config: config.policy.catalogue.current(),
    settings,
    reader: parts.reader ?? { readAccounts: refuse, readPermissionSets: refuse },
    cache,
    clock: parts.clock,
    logger,
  });
  return new LambdaCatalogue(discovering, config.policy.rules, parts.clock, logger);
}
