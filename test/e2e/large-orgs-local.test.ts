/**
 * Discovery in the real local runtime: a config with `accounts: discover` and `permissionSets:
 * discover`, the organisation of 1,000 accounts in nested OUs (969 active) and 100 permission sets
 * from the fixture in the AWS stand-in, signed Slack requests against the real Bolt app, grants
 * and revokes in the stand-in, the cache in dynalite. The 1,000-account first read happens once
 * (the first describe); the refresh tests start from a cache written before the process starts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DynamoDbCatalogueCache } from '../../src/adapters/dynamodb/dynamodb-catalogue-cache';
import { startEmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import { AwsStandIn } from '../support/aws-stand-in';
import { eventually } from '../support/eventually';
import { accountIdFor, buildOrganization, permissionSetArnFor, seedOrganization } from '../support/organization-fixture';
import { SlackStandIn } from '../support/slack-stand-in';
import { childEnv, TimeboxChild } from '../support/timebox-child-process';
import { BOT_TOKEN, INSTANCE_ARN, PEOPLE, REVOKED_WITHIN_MS, TimeboxHarness, DISCOVERING_CONFIG_HEAD } from '../support/timebox-harness';

const fixture = buildOrganization();
const unit = (name: string) => {
  const found = fixture.organization.units.find((u) => u.name === name);
  if (!found) throw new Error(`no OU ${name} in the fixture`);
  return found;
};
const WORKLOADS = unit('workloads');
const SANDBOX = unit('sandbox');
/** An active account three OUs down under workloads (workloads / workloads-prod / workloads-prod-eu). */
const NESTED = fixture.expected.accounts.find((a) => a.ouPath.length === 3 && a.ouPath[0]?.id === WORKLOADS.id)!;
/** An active account tagged team=search that no OU rule covers. */
const SEARCH = fixture.expected.accounts.find((a) => a.tags.team === 'search' && a.ouPath[0]?.id !== WORKLOADS.id)!;
const ROLE = (i: number) => ({ name: fixture.permissionSets[i]!.name, arn: permissionSetArnFor(i) });
/** Role005 (PT30M), Role000 (PT1H): within their rules' windows; Role004 (PT12H) outlives its rule's 2h. */
const [OU_SET, TAG_SET, LONG_SET] = [ROLE(5), ROLE(0), ROLE(4)];

const CONFIG = `${DISCOVERING_CONFIG_HEAD}
  - name: workloads-ou
    accounts: ["ou:${WORKLOADS.id}"]
    permissionSets: [${OU_SET.name}]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h
  - name: search-team-tag
    accounts: ["tag:team=search"]
    permissionSets: [${TAG_SET.name}]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h
  - name: sandbox-long
    accounts: ["ou:${SANDBOX.id}"]
    permissionSets: [${LONG_SET.name}]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 2h
`;
const SESSION_WARNING = `permission set "${LONG_SET.name}": AWS sessions last up to 12h, longer than the longest window a rule allows for it (2h, rule "sandbox-long")`;
/** The stand-in answers as fast as it can: the reader's production pace (5 calls/s) would take minutes here. */
const FAST_READ = { callsPerSecond: 100_000, concurrency: 8, maxAttempts: 2 };

interface Logged {
  level: number;
  msg: string;
  [key: string]: unknown;
}
const collectingLogger = (into: Logged[]) => pino({ level: 'info' }, { write: (line: string) => void into.push(JSON.parse(line) as Logged) });

const assignmentOf = (accountId: string, permissionSetArn: string) => ({ instanceArn: INSTANCE_ARN, accountId, permissionSetArn, principalId: PEOPLE.carol.principalId });

/** Files `text` as carol, sees the assignment made in the stand-in, and removed once the window ends. */
async function grantedThenRevoked(h: TimeboxHarness, text: string, accountId: string, permissionSetArn: string): Promise<{ ruleName: string | undefined }> {
  const id = await h.file('carol', text);
  const active = await h.waitForStatus(id, 'ACTIVE');
  expect(h.aws.hasAssignment(assignmentOf(accountId, permissionSetArn))).toBe(true);
  const ended = await h.waitForStatus(id, 'ENDED', REVOKED_WITHIN_MS + 4_000);
  expect(ended.endedAt! - active.endsAt!).toBeLessThan(REVOKED_WITHIN_MS);
  expect(h.aws.hasAssignment(assignmentOf(accountId, permissionSetArn))).toBe(false);
  return { ruleName: ended.grants[0]?.ruleName };
}

describe('large-orgs: the local runtime discovers 1,000 accounts and 100 permission sets at start-up', () => {
  let h: TimeboxHarness;
  const logged: Logged[] = [];

  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: CONFIG, beforeStart: (aws) => seedOrganization(aws, fixture), discovery: FAST_READ, logger: collectingLogger(logged) });
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('no cache yet: the organisation is read from AWS and cached before the first request is served, and the session-length warning is logged at start-up', async () => {
    const ready = logged.findIndex((l) => l.msg === 'timebox is ready');
    const read = logged.findIndex((l) => l.msg === 'catalogue refreshed from AWS');
    expect(read).toBeGreaterThanOrEqual(0);
    expect(read).toBeLessThan(ready);
    expect(logged[read]).toMatchObject({ accounts: 969, permissionSets: 100 });
    expect(fixture.expected.accounts).toHaveLength(969);
    const warning = logged.findIndex((l) => l.level === 40 && l.msg.startsWith(SESSION_WARNING));
    expect(warning).toBeGreaterThan(read);
    expect(warning).toBeLessThan(ready);
    // Only the set that outlives its rule's window is reported.
    expect(logged.filter((l) => l.level === 40 && l.msg.includes('AWS sessions last up to'))).toHaveLength(1);
    const cached = await new DynamoDbCatalogueCache(h.runtime.dynamo, 'timebox').readCatalogue();
    expect([cached?.accounts.length, cached?.permissionSets.length]).toEqual([969, 100]);
  });

  test('a request for an account three OUs down under the rule\'s OU is granted in AWS by the OU rule and revoked at the window\'s end', async () => {
    const { ruleName } = await grantedThenRevoked(h, `${NESTED.name} ${OU_SET.name} 2s check the eu queue`, NESTED.id, OU_SET.arn);
    expect(ruleName).toBe('workloads-ou');
  });

  test('a request for an account tagged team=search is granted in AWS by the tag rule and revoked at the window\'s end', async () => {
    const { ruleName } = await grantedThenRevoked(h, `${SEARCH.name} ${TAG_SET.name} 2s look at the index`, SEARCH.id, TAG_SET.arn);
    expect(ruleName).toBe('search-team-tag');
  });
});

describe('large-orgs: the local runtime refreshes the discovered catalogue on its timer', () => {
  let h: TimeboxHarness;
  const logged: Logged[] = [];
  const ADDED = { id: accountIdFor(5_000), name: 'analytics-9000' };
  const REMOVED = fixture.expected.accounts.find((a) => a.ouPath[0]?.id === WORKLOADS.id && a.id !== NESTED.id)!;
  const warnings = () => logged.filter((l) => l.level === 40).map((l) => l.msg);
  const count = (msg: string) => logged.filter((l) => l.msg === msg).length;
  /**
   * The timer's next refresh, held at its first call (ListRoots): the timer fires every second, but
   * a refresh runs only when a test lets one go, so the 1,000-account reads do not run back to back
   * under the other tests. A tick while one is held shares it.
   */
  let parked: ReturnType<AwsStandIn['hold']>;
  /** Lets the held refresh go (after `meanwhile`, e.g. a change in AWS it must see) and holds the one after it. */
  const letOneRefreshGo = async (meanwhile: () => void = () => undefined): Promise<void> => {
    await parked.arrived;
    meanwhile();
    const current = parked;
    parked = h.aws.hold('ListRoots');
    current.release();
  };

  beforeAll(async () => {
    // The cache a previous run left: the process starts from it without reading AWS.
    const dataDir = mkdtempSync(join(tmpdir(), 'timebox-e2e-'));
    const store = await startEmbeddedDynamoDb(dataDir);
    await new DynamoDbCatalogueCache(store.client, store.tableName).writeCatalogue({ accounts: fixture.expected.accounts, permissionSets: fixture.expected.permissionSets, readAt: Date.now() });
    await store.close();
    h = await TimeboxHarness.start({
      configYaml: CONFIG,
      dataDir,
      beforeStart: (aws) => {
        seedOrganization(aws, fixture);
        parked = aws.hold('ListRoots');
      },
      discovery: { ...FAST_READ, refreshMs: 1_000 },
      logger: collectingLogger(logged),
    });
  });
  afterAll(async () => {
    parked?.release();
    await h?.stop();
  });

  test('start-up from the cache reads nothing from AWS and still logs the session-length warning', () => {
    expect(logged.find((l) => l.msg === 'catalogue loaded from the discovery cache')).toMatchObject({ accounts: 969, permissionSets: 100 });
    expect(warnings()).toContainEqual(expect.stringContaining(SESSION_WARNING));
    expect(h.aws.callsTo('ListAccountsForParent')).toHaveLength(0);
  });

  test('a refresh that finds an account added to an OU and one removed: each is logged once by name with the warnings again, the next request for the new account is granted by the OU rule, and the removed one is unknown', async () => {
    const addedLine = `discovery refresh: accounts added: ${ADDED.name} (${ADDED.id})`;
    const sessionWarningsBefore = warnings().filter((w) => w.includes(SESSION_WARNING)).length;
    await letOneRefreshGo(() => {
      h.aws.addOrganizationAccount({ id: ADDED.id, name: ADDED.name, email: 'analytics@example.com', state: 'ACTIVE', parentId: WORKLOADS.id, tags: {} });
      h.aws.removeOrganizationAccount(REMOVED.id);
    });
    await eventually(async () => count(addedLine) > 0, 15_000, 'the refresh to log the added account');
    // Ticks of the timer while the refresh ran shared it: one report, logged once.
    expect(count(addedLine)).toBe(1);
    expect(count(`discovery refresh: accounts removed: ${REMOVED.name} (${REMOVED.id})`)).toBe(1);
    expect(warnings().filter((w) => w.includes(SESSION_WARNING)).length).toBe(sessionWarningsBefore + 1);

    const { ruleName } = await grantedThenRevoked(h, `${ADDED.name} ${OU_SET.name} 2s created this morning`, ADDED.id, OU_SET.arn);
    expect(ruleName).toBe('workloads-ou');
    const { text } = await h.command('carol', `${REMOVED.name} ${OU_SET.name} 30m it was closed`);
    expect(text).toContain(`Unknown account "${REMOVED.name}"`);
  });

  test('AWS refusing discovery during a refresh: a warning names the failure, the cached catalogue keeps serving, and a request is still granted', async () => {
    const failed = 'discovery refresh failed; keeping the last good catalogue';
    const failuresBefore = logged.filter((l) => l.msg.startsWith(failed)).length;
    await letOneRefreshGo(() => h.aws.injectFault('ListRoots', { type: 'AccessDeniedException', message: 'You don’t have permissions to access this resource.' }, 1));
    const warning = await eventually(async () => logged.filter((l) => l.level === 40 && l.msg.startsWith(failed))[failuresBefore], 15_000, 'the failed refresh to be logged');
    expect(warning.msg).toContain('discovery failed: AWS refused organizations:ListRoots (AccessDeniedException');
    const { ruleName } = await grantedThenRevoked(h, `${NESTED.name} ${OU_SET.name} 2s while AWS refuses`, NESTED.id, OU_SET.arn);
    expect(ruleName).toBe('workloads-ou');
    expect(h.runtime.deps.policy.catalogue.current().accounts).toHaveLength(969);
  });

  test('stopping while a refresh reads AWS waits for it to finish and cache its read, instead of leaving it running against a closed store', async () => {
    await parked.arrived;
    const refreshedBefore = count('catalogue refreshed from AWS');
    const stopping = h.runtime.stop();
    parked.release();
    await stopping;
    expect(count('catalogue refreshed from AWS')).toBe(refreshedBefore + 1);
    expect(logged.some((l) => l.msg.includes('could not write the cache'))).toBe(false);
  });
});

describe('large-orgs: the local runtime restarted on a cache older than discovery.refresh', () => {
  test('it serves from the old cache at once and refreshes from AWS straight away, not a whole refresh interval later', async () => {
    const logged: Logged[] = [];
    const dataDir = mkdtempSync(join(tmpdir(), 'timebox-e2e-'));
    const store = await startEmbeddedDynamoDb(dataDir);
    const twoHoursAgo = Date.now() - 2 * 3_600_000;
    await new DynamoDbCatalogueCache(store.client, store.tableName).writeCatalogue({ accounts: fixture.expected.accounts, permissionSets: fixture.expected.permissionSets, readAt: twoHoursAgo });
    await store.close();
    // The timer would first fire in an hour: only the start-up can have asked for this refresh.
    const h = await TimeboxHarness.start({ configYaml: CONFIG, dataDir, beforeStart: (aws) => seedOrganization(aws, fixture), discovery: { ...FAST_READ, refreshMs: 3_600_000 }, logger: collectingLogger(logged) });
    try {
      expect(logged.find((l) => l.msg === 'catalogue loaded from the discovery cache')).toMatchObject({ readAt: new Date(twoHoursAgo).toISOString() });
      expect(h.runtime.deps.policy.catalogue.current().readAt).toBe(twoHoursAgo);
      const refreshed = await eventually(async () => logged.find((l) => l.msg === 'catalogue refreshed from AWS'), 15_000, 'the start-up refresh of the stale cache');
      expect(logged.indexOf(refreshed)).toBeGreaterThan(logged.findIndex((l) => l.msg === 'timebox is ready'));
      expect(h.runtime.deps.policy.catalogue.current().readAt).toBeGreaterThan(twoHoursAgo);
    } finally {
      await h.stop();
    }
  });
});

describe('large-orgs: npm start with discovery, no cache and AWS refusing', () => {
  test('no discovery cache in the store and Organizations refusing: npm start prints one clear line naming the refused call and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'timebox-e2e-'));
    const [aws, slack] = await Promise.all([AwsStandIn.start(), SlackStandIn.start({ users: [], token: BOT_TOKEN })]);
    try {
      seedOrganization(aws, buildOrganization({ accounts: 20, permissionSets: 5 }));
      aws.injectFault('ListRoots', { type: 'AccessDeniedException', message: 'You don’t have permissions to access this resource.' }, 10);
      const configPath = join(dir, 'timebox.yaml');
      writeFileSync(configPath, CONFIG);
      const { code, stderr } = await TimeboxChild.runToExit(childEnv({ aws, slack, configPath, dataDir: join(dir, 'data'), knobs: {} }), 'src/entrypoints/local.ts');
      expect(code).toBe(1);
      expect(stderr).toBe(
        'timebox: cannot start: no discovery cache in the store and discovery failed: AWS refused organizations:ListRoots (AccessDeniedException: You don’t have permissions to access this resource.)\n',
      );
      // It stopped before serving: nobody was granted anything and nothing was asked of Slack.
      expect(aws.listAssignments()).toHaveLength(0);
    } finally {
      await Promise.all([aws.close(), slack.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
