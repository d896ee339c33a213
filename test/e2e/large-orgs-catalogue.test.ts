/**
 * The discovering catalogue with everything real below it: the reader's SDK clients against the
 * AWS stand-in (an organisation of 1,000 accounts in nested OUs, 100 permission sets), the cache
 * in dynalite. Start-up from AWS and from the cache, refreshes that add and remove, AWS failing
 * with and without a cache, and refreshes that never run twice at once.
 */
import { DynamoDbCatalogueCache } from '../../src/adapters/dynamodb/dynamodb-catalogue-cache';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import { AwsOrganizationReader, discoveryClients } from '../../src/adapters/organizations/organization-reader';
import { DiscoveringCatalogue, type RefreshReport } from '../../src/app/discovering-catalogue';
import type { CatalogueSnapshot, DiscoverySettings } from '../../src/domain/catalogue';
import { AwsStandIn } from '../support/aws-stand-in';
import { ManualClock, SilentLogger } from '../support/in-memory-ports';
import { accountIdFor, buildOrganization, FIXTURE_INSTANCE_ARN, permissionSetArnFor, seedOrganization, type OrganizationFixture } from '../support/organization-fixture';

const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);
const CONFIG: CatalogueSnapshot = {
  accounts: [],
  permissionSets: [{ name: 'Break-Glass', arn: 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-bbbbbbbbbbbbbbbb' }],
  groups: [{ name: 'oncall', id: '11111111-2222-3333-4444-555555555555' }],
  source: 'config',
};
const SETTINGS: DiscoverySettings = { accounts: { names: {} }, permissionSets: true, refreshMs: 15 * 60_000 };

describe('large-orgs: the discovering catalogue (start, refresh, AWS failing)', () => {
  let aws: AwsStandIn;
  let db: EmbeddedDynamoDb;
  let fixture: OrganizationFixture;
  let clock: ManualClock;
  const savedEnv = { ...process.env };
  const opened: Array<ReturnType<typeof discoveryClients>> = [];

  const catalogue = (options: { settings?: DiscoverySettings; maxAttempts?: number } = {}) => {
    const clients = discoveryClients(options.maxAttempts ?? 8);
    opened.push(clients);
    const logger = new SilentLogger();
    const reader = new AwsOrganizationReader(clients.organizations, clients.ssoAdmin, { instanceArn: FIXTURE_INSTANCE_ARN, callsPerSecond: 100_000, concurrency: 8 });
    const cache = new DynamoDbCatalogueCache(db.client, db.tableName);
    return { logger, cache, catalogue: new DiscoveringCatalogue({ config: CONFIG, settings: options.settings ?? SETTINGS, reader, cache, clock, logger }) };
  };
  const organizationsCalls = () => aws.calls.filter((c) => c.service === 'organizations' || c.operation.includes('PermissionSet')).length;
  const okReport = (report: RefreshReport) => {
    if (!report.ok) throw new Error(`refresh failed: ${report.error}`);
    return report;
  };

  beforeEach(async () => {
    [aws, db] = await Promise.all([AwsStandIn.start(), startEmbeddedDynamoDb(undefined)]);
    Object.assign(process.env, aws.env());
    clock = new ManualClock(T0);
  });
  afterEach(async () => {
    for (const c of opened.splice(0)) {
      c.organizations.destroy();
      c.ssoAdmin.destroy();
    }
    await Promise.all([aws.close(), db.close()]);
    process.env = { ...savedEnv };
  });

  test('no cache yet: start-up reads 1,000 accounts and 100 permission sets from AWS and caches them; a restart starts from the cache without calling AWS', async () => {
    fixture = buildOrganization();
    seedOrganization(aws, fixture);
    const first = catalogue();
    expect(await first.catalogue.start()).toEqual({ from: 'aws', readAt: T0 });
    const snapshot = first.catalogue.current();
    expect(snapshot.accounts).toHaveLength(fixture.expected.accounts.length);
    // The config's own permission set is kept beside the 100 discovered ones.
    expect(snapshot.permissionSets).toHaveLength(101);
    expect(snapshot.groups).toEqual(CONFIG.groups);
    expect(snapshot.source).toBe('discovery');

    const callsBefore = organizationsCalls();
    const restarted = catalogue();
    expect(await restarted.catalogue.start()).toEqual({ from: 'cache', readAt: T0 });
    expect(organizationsCalls()).toBe(callsBefore);
    expect(restarted.catalogue.current()).toEqual(snapshot);
  });

  test('a refresh after accounts and permission sets changed in AWS swaps the snapshot and reports what was added and removed', async () => {
    fixture = buildOrganization({ accounts: 80, permissionSets: 8 });
    seedOrganization(aws, fixture);
    const { catalogue: c, logger } = catalogue();
    await c.start();
    expect(c.isStale()).toBe(false);
    clock.advance(15 * 60_000);
    expect(c.isStale()).toBe(true);

    const newId = accountIdFor(9_000);
    aws.addOrganizationAccount({ id: newId, name: 'analytics-prod', email: 'a@example.com', state: 'ACTIVE', parentId: fixture.organization.units[0]?.id ?? '', tags: { env: 'prod' } });
    const closed = fixture.expected.accounts[3];
    const left = fixture.expected.accounts[4];
    aws.setOrganizationAccountState(closed?.id ?? '', 'CLOSED');
    aws.removeOrganizationAccount(left?.id ?? '');
    aws.removePermissionSet(permissionSetArnFor(2));
    aws.addPermissionSet({ permissionSetArn: permissionSetArnFor(50), name: 'DataScientist', sessionDuration: 'PT4H' });

    const report = okReport(await c.refresh());
    expect(report).toMatchObject({
      readAt: T0 + 15 * 60_000,
      cached: true,
      accountsAdded: [{ id: newId, name: 'analytics-prod' }],
      accountsRemoved: expect.arrayContaining([{ id: closed?.id, name: closed?.name }, { id: left?.id, name: left?.name }]),
      permissionSetsAdded: [{ name: 'DataScientist', arn: permissionSetArnFor(50) }],
      permissionSetsRemoved: [{ name: fixture.permissionSets[2]?.name, arn: permissionSetArnFor(2) }],
    });
    expect(report.accountsRemoved).toHaveLength(2);
    const now = c.current();
    expect(now.accounts.find((a) => a.id === newId)).toMatchObject({ name: 'analytics-prod', ouPath: [{ id: fixture.organization.units[0]?.id }], tags: { env: 'prod' } });
    expect(now.accounts.some((a) => a.id === closed?.id || a.id === left?.id)).toBe(false);
    expect(now.permissionSets.find((p) => p.name === 'DataScientist')?.sessionDurationMs).toBe(4 * 3_600_000);
    expect(c.isStale()).toBe(false);
    expect(logger.entries.filter((e) => e.msg === 'catalogue refreshed from AWS').at(-1)?.obj).toMatchObject({ accountsAdded: 1, accountsRemoved: 2, permissionSetsAdded: 1, permissionSetsRemoved: 1 });
    // The cache holds the new read: a restart sees the new account.
    const restarted = catalogue();
    await restarted.catalogue.start();
    expect(restarted.catalogue.current().accounts.some((a) => a.id === newId)).toBe(true);
  });

  test('AWS failing during a refresh: the last good snapshot keeps serving, the cache is kept, and a warning names the failure', async () => {
    fixture = buildOrganization({ accounts: 60, permissionSets: 5 });
    seedOrganization(aws, fixture);
    const { catalogue: c, logger, cache } = catalogue({ maxAttempts: 2 });
    await c.start();
    const before = c.current();
    clock.advance(20 * 60_000);
    aws.injectFault('ListRoots', { type: 'AccessDeniedException', message: 'You don’t have permissions to access this resource.' }, 5);

    const report = await c.refresh();
    expect(report).toEqual({ ok: false, error: expect.stringMatching(/^discovery failed: AWS refused organizations:ListRoots \(AccessDeniedException: /), servingReadAt: T0 });
    expect(c.current()).toBe(before);
    expect((await cache.readCatalogue())?.readAt).toBe(T0);
    const warning = logger.entries.find((e) => e.level === 'warn');
    expect(warning?.msg).toMatch(/^discovery refresh failed; keeping the last good catalogue \(read 2026-12-07T09:00:00.000Z\): discovery failed: AWS refused organizations:ListRoots \(AccessDeniedException/);
    // Still stale, so the next sweep tries again; once AWS answers, the refresh goes through.
    expect(c.isStale()).toBe(true);
    aws.clearFaults();
    expect((await c.refresh()).ok).toBe(true);
  });

  test('no cache and AWS failing at start-up: start() fails with one clear line naming the failure (the runtime prints it and exits 1); the Slack side never calls AWS', async () => {
    aws.injectFault('ListRoots', { type: 'AccessDeniedException', message: 'You don’t have permissions to access this resource.' }, 5);
    aws.addPermissionSet({ permissionSetArn: permissionSetArnFor(1), name: 'ReadOnly' });
    const { catalogue: c } = catalogue({ maxAttempts: 2 });
    const err = (await c.start().catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('discovery_failed');
    expect(err.message).toMatch(/^cannot start: no discovery cache in the store and discovery failed: AWS refused organizations:ListRoots \(AccessDeniedException: You don’t have permissions/);
    expect(err.message).not.toContain('\n');
    expect(() => c.current()).toThrow('before start()');

    const callsBefore = aws.calls.length;
    const slackSide = catalogue();
    await expect(slackSide.catalogue.start({ readAws: false })).rejects.toThrow('cannot start: no discovery cache in the store yet (the sweep fills it on its next run)');
    expect(aws.calls.length).toBe(callsBefore);
  });

  test('two refreshes asked for at once (a timer and a sweep) read AWS once and get the same report', async () => {
    fixture = buildOrganization({ accounts: 40, permissionSets: 3 });
    seedOrganization(aws, fixture);
    const { catalogue: c } = catalogue();
    await c.start();
    const rootsBefore = aws.callsTo('ListRoots').length;
    const held = aws.hold('ListRoots');
    const first = c.refresh();
    await held.arrived;
    const second = c.refresh();
    held.release();
    const [a, b] = await Promise.all([first, second]);
    expect(b).toBe(a);
    expect(aws.callsTo('ListRoots').length - rootsBefore).toBe(1);
    expect(aws.callsTo('ListPermissionSets')).toHaveLength(2);
    // Once it is over, the next refresh reads AWS again.
    await c.refresh();
    expect(aws.callsTo('ListRoots').length - rootsBefore).toBe(2);
  });

  test('a warm Slack-side catalogue picks up what the sweep refreshed from the store, without calling AWS', async () => {
    fixture = buildOrganization({ accounts: 30, permissionSets: 2 });
    seedOrganization(aws, fixture);
    const sweepSide = catalogue();
    await sweepSide.catalogue.start();
    const slackSide = catalogue();
    expect(await slackSide.catalogue.start({ readAws: false })).toEqual({ from: 'cache', readAt: T0 });
    expect(await slackSide.catalogue.reload()).toBe(false);

    const newId = accountIdFor(7_000);
    aws.addOrganizationAccount({ id: newId, name: 'fresh', email: 'f@example.com', state: 'ACTIVE', parentId: fixture.organization.rootId, tags: {} });
    clock.advance(16 * 60_000);
    okReport(await sweepSide.catalogue.refresh());
    const callsBefore = aws.calls.length;
    expect(slackSide.catalogue.current().accounts.some((a) => a.id === newId)).toBe(false);
    expect(await slackSide.catalogue.reload()).toBe(true);
    expect(slackSide.catalogue.current().accounts.find((a) => a.id === newId)?.name).toBe('fresh');
    expect(slackSide.catalogue.current().readAt).toBe(T0 + 16 * 60_000);
    expect(aws.calls.length).toBe(callsBefore);
  });

  test('include by OU and a config name for a discovered account shape what people see', async () => {
    fixture = buildOrganization({ accounts: 90, permissionSets: 2 });
    seedOrganization(aws, fixture);
    const workloads = fixture.organization.units.find((u) => u.name === 'workloads');
    const renamed = fixture.expected.accounts.find((a) => a.ouPath[0]?.id === workloads?.id);
    const { catalogue: c } = catalogue({ settings: { ...SETTINGS, accounts: { include: [`ou:${workloads?.id ?? ''}`], names: { [renamed?.id ?? '']: 'the-renamed-one' } } } });
    await c.start();
    const accounts = c.current().accounts;
    expect(accounts.length).toBe(fixture.expected.accounts.filter((a) => a.ouPath[0]?.id === workloads?.id).length);
    expect(accounts.every((a) => a.ouPath[0]?.name === 'workloads')).toBe(true);
    expect(accounts.find((a) => a.id === renamed?.id)?.name).toBe('the-renamed-one');
  });
});
