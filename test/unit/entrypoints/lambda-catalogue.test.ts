import { DiscoveringCatalogue } from '../../../src/app/discovering-catalogue';
import type { CatalogueCache, OrganizationReader } from '../../../src/app/ports';
import type { DiscoveredOrganization } from '../../../src/domain/catalogue';
import { isTimeboxError } from '../../../src/domain/errors';
import { CATALOGUE_REFRESH_LOCK, LambdaCatalogue, SWEEP_TIMEOUT_MS } from '../../../src/entrypoints/lambda/lambda-catalogue';
import { InMemoryRequestStore, ManualClock, SilentLogger } from '../../support/in-memory-ports';

const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);
const REFRESH_MS = 15 * 60_000;
const account = (id: string, name: string) => ({ id, name, ouPath: [{ id: 'ou-ab12-00000001', name: 'workloads' }], tags: {} });

/** The table's discovery cache, shared by every function (what DynamoDbCatalogueCache keeps). */
class SharedCache implements CatalogueCache {
  stored: (DiscoveredOrganization & { readAt: number }) | undefined;
  reads = 0;
  readCatalogue() {
    this.reads++;
    return Promise.resolve(this.stored && structuredClone(this.stored));
  }
  writeCatalogue(found: DiscoveredOrganization & { readAt: number }) {
    if (!this.stored || this.stored.readAt <= found.readAt) this.stored = structuredClone(found);
    return Promise.resolve();
  }
}

/** Organizations as the sweep reads it: counts reads, and can be held mid-read. */
class CountingReader implements OrganizationReader {
  reads = 0;
  accounts = [account('300000000001', 'payments-prod')];
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open();
  }
  async readAccounts() {
    this.reads++;
    await this.gate;
    return structuredClone(this.accounts);
  }
  readPermissionSets() {
    return Promise.resolve([]);
  }
}

describe('large-orgs: the Lambda functions\' catalogue (the cache in the table, the sweep\'s one-at-a-time refresh)', () => {
  let clock: ManualClock;
  let cache: SharedCache;
  let reader: CountingReader;
  let locks: InMemoryRequestStore;
  const fn = (logger = new SilentLogger()) =>
    new LambdaCatalogue(
      new DiscoveringCatalogue({ config: { accounts: [], permissionSets: [], groups: [], source: 'config' }, settings: { accounts: { names: {} }, permissionSets: false, refreshMs: REFRESH_MS }, reader, cache, clock, logger }),
      [],
      clock,
      logger,
    );

  beforeEach(() => {
    clock = new ManualClock(T0);
    cache = new SharedCache();
    reader = new CountingReader();
    locks = new InMemoryRequestStore();
  });

  test('no cache yet: reading the catalogue is the "not read yet" answer (a TimeboxError), an error is logged, and nothing reads AWS', async () => {
    const logger = new SilentLogger();
    const slack = fn(logger);
    await slack.load();
    let thrown: unknown;
    try {
      slack.current();
    } catch (err) {
      thrown = err;
    }
    expect(isTimeboxError(thrown, 'catalogue_not_ready')).toBe(true);
    expect(logger.entries.filter((e) => e.level === 'error')).toHaveLength(1);
    expect(reader.reads).toBe(0);
  });

  test('a warm Slack function whose snapshot is older than discovery.refresh picks up the sweep\'s newer cache, re-reading the table at most once a minute and never AWS', async () => {
    const sweep = fn();
    expect(await sweep.refreshIfStale(locks)).toBe('refreshed');
    const slack = fn();
    await slack.load();
    expect(slack.current().accounts.map((a) => a.name)).toEqual(['payments-prod']);

    // The organisation changes; 15 minutes later the sweep reads it again.
    reader.accounts = [...reader.accounts, account('300000000002', 'search-prod')];
    clock.advance(REFRESH_MS);
    const readsBefore = cache.reads;
    // Stale, but the sweep has not refreshed yet: the Slack function looks once, then not again within the minute.
    await slack.load();
    await slack.load();
    expect(cache.reads - readsBefore).toBe(1);
    expect(await sweep.refreshIfStale(locks)).toBe('refreshed');
    await slack.load();
    expect(slack.current().accounts).toHaveLength(1);
    clock.advance(60_000);
    await slack.load();
    expect(slack.current().accounts.map((a) => a.name)).toEqual(['payments-prod', 'search-prod']);
    expect(reader.reads).toBe(2); // the sweep's two reads; the Slack function's none
  });

  test('two sweeps at once read AWS once: the second finds the refresh lock taken; once the first is done the cache is fresh for both', async () => {
    const [first, second] = [fn(), fn()];
    reader.hold();
    const reading = first.refreshIfStale(locks);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await second.refreshIfStale(locks)).toBe('busy');
    reader.release();
    expect(await reading).toBe('refreshed');
    clock.advance(60_000);
    expect(await second.refreshIfStale(locks)).toBe('fresh');
    expect(reader.reads).toBe(1);
  });

  test('a sweep killed mid-read leaves its lock behind: it blocks the next sweep only until the sweep\'s timeout has passed', async () => {
    expect(await locks.tryLock(CATALOGUE_REFRESH_LOCK, 'killed-sweep', T0 + SWEEP_TIMEOUT_MS, T0)).toBe(true);
    const next = fn();
    clock.advance(5 * 60_000);
    expect(await next.refreshIfStale(locks)).toBe('busy');
    clock.advance(SWEEP_TIMEOUT_MS);
    expect(await next.refreshIfStale(locks)).toBe('refreshed');
    expect(reader.reads).toBe(1);
  });
});
