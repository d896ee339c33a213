/**
 * Discovery's reader with the real Organizations and SSO Admin clients, pointed at the wire-level
 * stand-in the way a deployment is pointed at AWS (AWS_ENDPOINT_URL_ORGANIZATIONS /
 * AWS_ENDPOINT_URL_SSO_ADMIN): an organisation of 1,000 accounts in OUs three levels deep, 100
 * permission sets, every page read, throttling survived, refusals named in one line.
 */
import { AwsOrganizationReader, discoveryClients } from '../../src/adapters/organizations/organization-reader';
import { DiscoveryFailedError } from '../../src/domain/catalogue';
import { AwsStandIn } from '../support/aws-stand-in';
import { buildOrganization, FIXTURE_INSTANCE_ARN, FIXTURE_ROOT_ID, seedOrganization, type OrganizationFixture } from '../support/organization-fixture';

const ORG_LIST_CALLS = ['ListRoots', 'ListOrganizationalUnitsForParent', 'ListAccountsForParent', 'ListTagsForResource'];

describe('large-orgs: discovery reads the organisation and the permission sets from AWS', () => {
  let aws: AwsStandIn;
  let fixture: OrganizationFixture;
  const savedEnv = { ...process.env };
  let clients: ReturnType<typeof discoveryClients>;
  const reader = (options: { concurrency?: number; maxAttempts?: number } = {}): AwsOrganizationReader => {
    clients = discoveryClients(options.maxAttempts ?? 8);
    return new AwsOrganizationReader(clients.organizations, clients.ssoAdmin, { instanceArn: FIXTURE_INSTANCE_ARN, callsPerSecond: 100_000, concurrency: options.concurrency ?? 8 });
  };

  beforeEach(async () => {
    aws = await AwsStandIn.start();
    Object.assign(process.env, aws.env());
    fixture = buildOrganization();
    seedOrganization(aws, fixture);
  });
  afterEach(async () => {
    clients?.organizations.destroy();
    clients?.ssoAdmin.destroy();
    await aws.close();
    process.env = { ...savedEnv };
  });

  test('1,000 accounts in nested OUs: every page of every listing is read, suspended and closed accounts are left out, OU paths and tags are right', async () => {
    const accounts = await reader().readAccounts();

    const byId = (list: Array<{ id: string }>) => [...list].sort((a, b) => a.id.localeCompare(b.id));
    expect(fixture.expected.accounts.length).toBeGreaterThan(950);
    expect(byId(accounts)).toEqual(byId(fixture.expected.accounts));
    expect(accounts.filter((a) => fixture.expected.suspendedOrClosedIds.includes(a.id))).toEqual([]);
    // Three levels, the root's first child first: workloads > workloads-prod > workloads-prod-eu.
    const deep = accounts.find((a) => a.ouPath.length === 3);
    expect(deep?.ouPath.map((o) => o.name)).toEqual([expect.any(String), expect.stringMatching(/^[a-z]+-[a-z]+$/), expect.stringMatching(/^[a-z]+-[a-z]+-[a-z]+$/)]);
    expect(deep?.ouPath[1]?.name.startsWith(`${deep.ouPath[0]?.name}-`)).toBe(true);
    // Accounts directly under the root have no OU path.
    const atRoot = fixture.organization.accounts.filter((a) => a.parentId === FIXTURE_ROOT_ID && a.state === 'ACTIVE').map((a) => a.id);
    expect(accounts.filter((a) => atRoot.includes(a.id)).every((a) => a.ouPath.length === 0)).toBe(true);
    // Read-only listing calls only, 20 a page (Organizations' most); one tag listing per active account.
    for (const call of aws.calls.filter((c) => c.service === 'organizations')) {
      expect(ORG_LIST_CALLS).toContain(call.operation);
    }
    expect(aws.callsTo('ListAccountsForParent').every((c) => (c.input as { MaxResults?: number }).MaxResults === 20)).toBe(true);
    expect(aws.callsTo('ListAccountsForParent').some((c) => (c.input as { NextToken?: string }).NextToken !== undefined)).toBe(true);
    expect(aws.callsTo('ListTagsForResource')).toHaveLength(accounts.length);
  });

  test('AWS answering a short or empty page that still carries a NextToken: the reader follows it and loses no account or tag', async () => {
    aws.setOrganization(buildOrganization({ accounts: 120 }).organization);
    aws.setOrganizationsEmptyFirstPages(true);
    const accounts = await reader().readAccounts();
    expect(accounts).toHaveLength(buildOrganization({ accounts: 120 }).expected.accounts.length);
    expect(accounts.every((a) => Object.keys(a.tags).length === 5)).toBe(true);
    // Every listing's first page was empty, so each was read to its second page at least.
    const parents = 1 + fixture.organization.units.length;
    const firstPages = (op: string) => aws.callsTo(op).filter((c) => (c.input as { NextToken?: string }).NextToken === undefined).length;
    expect(firstPages('ListAccountsForParent')).toBe(parents);
    expect(aws.callsTo('ListAccountsForParent').length).toBeGreaterThanOrEqual(2 * parents);
    expect(aws.callsTo('ListTagsForResource')).toHaveLength(2 * accounts.length);
  });

  test('250 permission sets over three pages of ListPermissionSets, each with its name, description and session duration', async () => {
    const more = buildOrganization({ accounts: 0, permissionSets: 250 });
    for (const p of more.permissionSets.slice(100)) aws.addPermissionSet(p);
    const sets = await reader().readPermissionSets();
    const byArn = (list: Array<{ arn: string }>) => [...list].sort((a, b) => a.arn.localeCompare(b.arn));
    expect(byArn(sets)).toEqual(byArn(more.expected.permissionSets));
    expect(new Set(sets.map((s) => s.sessionDurationMs))).toEqual(new Set([3_600_000, 7_200_000, 14_400_000, 28_800_000, 43_200_000, 1_800_000, 5_400_000]));
    expect(aws.callsTo('ListPermissionSets').map((c) => (c.input as { MaxResults?: number }).MaxResults)).toEqual([100, 100, 100]);
    expect(aws.callsTo('DescribePermissionSet')).toHaveLength(250);
  });

  test('Organizations throttling (TooManyRequestsException, HTTP 429) on the tree walk and the tags is survived: the SDK retries and every account is still read', async () => {
    const small = buildOrganization({ accounts: 20 });
    aws.setOrganization(small.organization);
    for (const p of fixture.permissionSets.slice(20)) aws.removePermissionSet(p.permissionSetArn);
    // Answers take a moment, so calls overlap as they would against AWS and the reader's bound shows.
    aws.setLatency('organizations', 5);
    // Throttled part-way through each read, as a busy organisation would be. A small organisation
    // keeps this short: the SDK's adaptive limiter measures the send rate in half-second buckets, so
    // after a throttle in a read this short it restarts from 0.5 calls/s and climbs (cubic); with
    // 56 accounts and 100 permission sets the same read took about 9 s.
    let orgCalls = 0;
    let ssoCalls = 0;
    aws.onCall((call) => {
      if (call.service === 'organizations' && ++orgCalls === 60) {
        aws.injectFault('ListAccountsForParent', { type: 'TooManyRequestsException', message: "AWS Organizations can't complete your request because another request is already in progress." }, 1);
        aws.injectFault('ListTagsForResource', { type: 'TooManyRequestsException' }, 2);
      }
      if (call.operation === 'DescribePermissionSet' && ++ssoCalls === 10) aws.injectFault('DescribePermissionSet', { type: 'ThrottlingException' }, 2);
    });
    const r = reader({ concurrency: 4 });
    const t0 = Date.now();
    const [accounts, sets] = await Promise.all([r.readAccounts(), r.readPermissionSets()]);
    const tookMs = Date.now() - t0;
    expect(accounts).toHaveLength(small.expected.accounts.length);
    expect(sets).toHaveLength(20);
    expect(accounts.every((a) => Object.keys(a.tags).length === 5)).toBe(true);
    // Each throttled call was answered 429 (or 400 ThrottlingException) and tried again: one more call than listings.
    const parents = 1 + small.organization.units.length;
    expect(aws.callsTo('ListTagsForResource')).toHaveLength(small.expected.accounts.length + 2);
    expect(aws.callsTo('DescribePermissionSet')).toHaveLength(20 + 2);
    expect(aws.callsTo('ListAccountsForParent').length).toBeGreaterThan(parents);
    // Never more calls open at once than the reader's bound.
    expect(aws.maxInFlight('organizations')).toBeLessThanOrEqual(4);
    console.log(`large-orgs reader: throttled 5 times, read in ${tookMs} ms; at most ${aws.maxInFlight('organizations')} Organizations calls open at once (bound 4); ${aws.calls.filter((c) => c.service === 'organizations').length} calls for ${small.expected.accounts.length} active accounts`);
  });

  test('AWS refusing (AccessDeniedException) fails the read with one line naming the call; a bad page token is refused by the stand-in as InvalidInputException', async () => {
    aws.injectFault('ListRoots', { type: 'AccessDeniedException', message: 'You don’t have permissions to access this resource.' }, 10);
    const err: unknown = await reader({ maxAttempts: 2 }).readAccounts().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscoveryFailedError);
    expect((err as Error).message).toMatch(/^discovery failed: AWS refused organizations:ListRoots \(AccessDeniedException: /);
    expect((err as Error).message).not.toContain('\n');

    const { ListAccountsCommand } = await import('@aws-sdk/client-organizations');
    await expect(clients.organizations.send(new ListAccountsCommand({ NextToken: 'bm90LWEtdG9rZW4=' }))).rejects.toMatchObject({ name: 'InvalidInputException', Reason: 'INVALID_PAGINATION_TOKEN' });
    await expect(clients.organizations.send(new ListAccountsCommand({ MaxResults: 21 }))).rejects.toMatchObject({ name: 'InvalidInputException', Reason: 'MAX_VALUE_EXCEEDED' });
  });

  test('AWS refusing one tag read in the middle of 1,000: the read fails at once, the queued calls are never sent, and nothing is left running against AWS', async () => {
    let tagCalls = 0;
    aws.onCall((call) => {
      if (call.operation === 'ListTagsForResource' && ++tagCalls === 100) aws.injectFault('ListTagsForResource', { type: 'AccessDeniedException', message: 'no tags for you' });
    });
    const err: unknown = await reader({ maxAttempts: 1, concurrency: 8 }).readAccounts().catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^discovery failed: AWS refused organizations:ListTagsForResource \d{12} \(AccessDeniedException: no tags for you/);
    // The fault is armed as the 100th read arrives, so the first refused read is the 101st. Sent: those
    // 101, the 7 others already on their way (concurrency 8), and at most one more round whose slots
    // the others' answers freed before the refusal's answer was read; never the ~870 still queued.
    const sent = aws.callsTo('ListTagsForResource').length;
    console.log(`large-orgs reader: refused at tag read 100 of ${fixture.expected.accounts.length}; ${sent} tag reads sent in all`);
    expect(sent).toBeLessThanOrEqual(101 + 7 + 8);
    // The read returned only after everything it had sent was answered: nothing more arrives.
    await reader().readPermissionSets();
    expect(aws.callsTo('ListTagsForResource')).toHaveLength(sent);
  });

  test('no organisation at all (AWSOrganizationsNotInUseException) and an unreachable endpoint each fail with one clear line', async () => {
    const lone = await AwsStandIn.start();
    try {
      process.env.AWS_ENDPOINT_URL_ORGANIZATIONS = lone.url;
      const err: unknown = await reader({ maxAttempts: 1 }).readAccounts().catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/^discovery failed: AWS refused organizations:ListRoots \(AWSOrganizationsNotInUseException: /);
    } finally {
      clients.organizations.destroy();
      await lone.close();
    }
    process.env.AWS_ENDPOINT_URL_ORGANIZATIONS = 'http://127.0.0.1:9';
    const err: unknown = await reader({ maxAttempts: 1 }).readAccounts().catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^discovery failed: cannot reach AWS Organizations \(organizations:ListRoots: /);
  });
});
