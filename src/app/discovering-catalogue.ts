import {
  applyDiscovery,
  catalogueChanges,
  DiscoveryFailedError,
  type CatalogueChanges,
  type CatalogueSnapshot,
  type DiscoveredOrganization,
  type DiscoverySettings,
} from '../domain/catalogue';
import type { Catalogue, CatalogueCache, Clock, Logger, OrganizationReader } from './ports';

export interface DiscoveringCatalogueDeps {
  /** What the config file lists (its accounts and permission sets maps, its groups), as a snapshot. */
  config: CatalogueSnapshot;
  settings: DiscoverySettings;
  reader: OrganizationReader;
  cache: CatalogueCache;
  clock: Clock;
  logger: Logger;
}

export type RefreshReport =
  | ({ ok: true; readAt: number; accounts: number; permissionSets: number; cached: boolean } & CatalogueChanges)
  | { ok: false; error: string; servingReadAt: number | undefined };

const oneLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');
const iso = (ms: number | undefined): string => (ms === undefined ? 'never' : new Date(ms).toISOString());

/**
 * The catalogue when accounts or permission sets are discovered: the config combined with the last
 * good read of AWS. Reads are synchronous (`current()`), so rule matching and menus never wait on
 * AWS; `refresh()` reads AWS, keeps the result in the store (so a restart or a cold Lambda starts
 * from it) and swaps the snapshot. When AWS fails, the last good snapshot keeps serving.
 */
export class DiscoveringCatalogue implements Catalogue {
  private snapshot: CatalogueSnapshot | undefined;
  private inFlight: Promise<RefreshReport> | undefined;

  constructor(private readonly deps: DiscoveringCatalogueDeps) {}

  current(): CatalogueSnapshot {
    if (!this.snapshot) throw new Error('the discovered catalogue was read before start()');
    return this.snapshot;
  }

  /**
   * Loads the cache; with none, reads AWS (unless `readAws` is false: the Slack Lambda never calls
   * AWS for this). With neither, throws DiscoveryFailedError: one line, for the runtime to print
   * before it exits 1.
   */
  async start(options: { readAws?: boolean } = {}): Promise<{ from: 'cache' | 'aws'; readAt: number }> {
    let cached;
    try {
      cached = await this.deps.cache.readCatalogue();
    } catch (err) {
      throw new DiscoveryFailedError(`cannot start: the discovery cache could not be read from the store (${oneLine(err)})`, { cause: err });
    }
    if (cached) {
      this.snapshot = applyDiscovery(this.deps.config, cached, this.deps.settings);
      this.deps.logger.info({ readAt: iso(cached.readAt), accounts: this.snapshot.accounts.length, permissionSets: this.snapshot.permissionSets.length }, 'catalogue loaded from the discovery cache');
      return { from: 'cache', readAt: cached.readAt };
    }
    if (options.readAws === false) throw new DiscoveryFailedError('cannot start: no discovery cache in the store yet (the sweep fills it on its next run)');
    const report = await this.refresh();
    if (!report.ok) throw new DiscoveryFailedError(`cannot start: no discovery cache in the store and ${report.error}`);
    return { from: 'aws', readAt: report.readAt };
  }

  /** Whether the snapshot is older than discovery.refresh (or there is none): the sweep's cue to refresh. */
  isStale(): boolean {
    const readAt = this.snapshot?.readAt;
    return readAt === undefined || this.deps.clock.now() - readAt >= this.deps.settings.refreshMs;
  }

  /**
   * Re-reads the store's cache and swaps the snapshot if it holds a newer discovery (a warm Slack
   * Lambda picking up what the sweep refreshed). Returns whether it swapped; never calls AWS.
   */
  async reload(): Promise<boolean> {
    const cached = await this.deps.cache.readCatalogue();
    if (!cached || (this.snapshot?.readAt !== undefined && cached.readAt <= this.snapshot.readAt)) return false;
    this.snapshot = applyDiscovery(this.deps.config, cached, this.deps.settings);
    return true;
  }

  /** Reads AWS, caches and swaps; a second call while one runs gets the same report (one read of AWS, never two at once). */
  refresh(): Promise<RefreshReport> {
    this.inFlight ??= this.readAndSwap().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async readAndSwap(): Promise<RefreshReport> {
    const { settings, reader, logger } = this.deps;
    let found: DiscoveredOrganization & { readAt: number };
    try {
      const readAt = this.deps.clock.now();
      // Both reads finish before the refresh does, failed or not: no read of AWS outlives its refresh,
      // so the next refresh never overlaps the tail of this one.
      const [accounts, permissionSets] = await Promise.allSettled([settings.accounts ? reader.readAccounts() : [], settings.permissionSets ? reader.readPermissionSets() : []]);
      if (accounts.status === 'rejected') throw accounts.reason;
      if (permissionSets.status === 'rejected') throw permissionSets.reason;
      found = { accounts: accounts.value, permissionSets: permissionSets.value, readAt };
    } catch (err) {
      const error = oneLine(err);
      const servingReadAt = this.snapshot?.readAt;
      logger.warn({ err: error, servingReadAt: iso(servingReadAt) }, `discovery refresh failed; keeping the last good catalogue (read ${iso(servingReadAt)}): ${error}`);
      return { ok: false, error, servingReadAt };
    }
    const before = this.snapshot;
    const after = applyDiscovery(this.deps.config, found, settings);
    this.snapshot = after;
    let cached = true;
    try {
      await this.deps.cache.writeCatalogue(found);
    } catch (err) {
      // The new snapshot serves this process; the next refresh writes the cache again.
      cached = false;
      logger.warn({ err: oneLine(err) }, 'discovery read AWS but could not write the cache to the store');
    }
    const changes = catalogueChanges(before, after);
    logger.info(
      {
        readAt: iso(found.readAt),
        accounts: after.accounts.length,
        permissionSets: after.permissionSets.length,
        accountsAdded: changes.accountsAdded.length,
        accountsRemoved: changes.accountsRemoved.length,
        permissionSetsAdded: changes.permissionSetsAdded.length,
        permissionSetsRemoved: changes.permissionSetsRemoved.length,
      },
      'catalogue refreshed from AWS',
    );
    return { ok: true, readAt: found.readAt, accounts: after.accounts.length, permissionSets: after.permissionSets.length, cached, ...changes };
  }
}
