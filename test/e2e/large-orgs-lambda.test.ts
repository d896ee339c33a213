import fs from 'node:fs';
import { findRequestId } from '../../src/domain/request-id';
import { LambdaWorld } from '../support/lambda-world';
import { viewOf } from '../support/request-view';
import { APPROVAL_CHANNEL, PEOPLE, PERMISSION_SETS, DISCOVERING_CONFIG_HEAD } from '../support/timebox-harness';
import type { StandInOrganization } from '../support/organization-fixture';

/**
 * Discovery on AWS: the sweep function is the only one that reads Organizations and Identity
 * Center's permission sets (one refresh at a time across sweeps, only when the cache is older than
 * discovery.refresh); the Slack function and the worker read the cache in the table. Everything
 * real below: the handlers as Lambda loads them, the SDK against the AWS stand-in, dynalite.
 * The organisation is small (3 OUs, 4 accounts) so the sweep reads it at the production pace of
 * 5 calls a second in about 2 s; the 1,000-account read is large-orgs-reader's.
 */
const WORKLOADS = 'ou-ab12-00000001';
const PAYMENTS = 'ou-ab12-00000002';
const SANDBOX = 'ou-ab12-00000003';
const ORG: StandInOrganization = {
  id: 'o-ab12cd34ef',
  rootId: 'r-ab12',
  managementAccountId: '123456789012',
  units: [
    { id: WORKLOADS, name: 'workloads', parentId: 'r-ab12' },
    { id: PAYMENTS, name: 'payments', parentId: WORKLOADS },
    { id: SANDBOX, name: 'sandbox', parentId: 'r-ab12' },
  ],
  accounts: [
    { id: '300000000001', name: 'payments-prod', email: 'a1@example.com', state: 'ACTIVE', parentId: PAYMENTS, tags: { env: 'prod' } },
    { id: '300000000002', name: 'workloads-shared', email: 'a2@example.com', state: 'ACTIVE', parentId: WORKLOADS, tags: {} },
    { id: '300000000003', name: 'sandbox-one', email: 'a3@example.com', state: 'ACTIVE', parentId: SANDBOX, tags: { env: 'dev' } },
    { id: '300000000004', name: 'payments-old', email: 'a4@example.com', state: 'SUSPENDED', parentId: PAYMENTS, tags: {} },
  ],
};

const CONFIG = `${DISCOVERING_CONFIG_HEAD}
  - name: workloads-readonly
    accounts: ["ou:${WORKLOADS}"]
    permissionSets: [ReadOnly]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h
`;

describe('large-orgs: discovery on the Lambda path (the sweep refreshes the cache, the Slack function and the worker read it)', () => {
  let w: LambdaWorld;
  let logged: string[];
  let capture: jest.SpyInstance;
  const organizationsCalls = () => w.aws.calls.filter((c) => c.service === 'organizations' || /PermissionSet/.test(c.operation)).length;

  beforeAll(async () => {
    w = await LambdaWorld.start(CONFIG);
    w.aws.addPermissionSet({ permissionSetArn: PERMISSION_SETS.ReadOnly, name: 'ReadOnly', sessionDuration: 'PT1H' });
    w.aws.addPermissionSet({ permissionSetArn: PERMISSION_SETS.Admin, name: 'Admin', sessionDuration: 'PT8H' });
    // What an operator reads in CloudWatch: the functions' log lines (pino hands them to fs.write on fd 1).
    process.env.LOG_LEVEL = 'warn';
    logged = [];
    const write = fs.write.bind(fs) as (...args: unknown[]) => void;
    capture = jest.spyOn(fs, 'write').mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
      const text = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : '';
      if (fd === 1 && text.includes('"service":"timebox"')) {
        logged.push(text);
        const done = rest.find((r): r is (err: null, written: number) => void => typeof r === 'function');
        done?.(null, Buffer.byteLength(text));
        return;
      }
      write(fd, data, ...rest);
    }) as typeof fs.write);
  });
  afterAll(async () => {
    capture.mockRestore();
    await w.stop();
  });

  test('before the first discovery, a request is told Timebox has not read the organisation yet (nothing filed, an error logged, no AWS call) and the next one gets the same answer, not a crash', async () => {
    for (const attempt of [1, 2]) {
      const reply = await w.command('carol', `payments-prod ReadOnly 3s attempt ${attempt}`);
      expect(reply.statusCode).toBe(200);
      expect(reply.body).toContain('has not read the AWS organisation yet');
      expect(findRequestId(reply.body ?? '')).toBeUndefined();
    }
    expect(organizationsCalls()).toBe(0);
    expect(w.slackApi.messagesIn(APPROVAL_CHANNEL)).toHaveLength(0);
    expect(logged.some((l) => l.includes('"level":50') && l.includes('no discovery cache'))).toBe(true);
  });

  test('while another sweep holds the refresh lock, a sweep does its work but does not read AWS', async () => {
    const now = Date.now();
    expect(await w.store.tryLock('catalogue-refresh', 'another-sweep', now + 60_000, now)).toBe(true);
    expect(await w.sweep({})).toMatchObject({ catalogue: 'busy' });
    expect(organizationsCalls()).toBe(0);
    await w.store.unlock('catalogue-refresh', 'another-sweep');
  });

  test('AWS refusing the first read (the account is not in an organisation Timebox may read): the sweep still does its work, reports the read failed and logs an error naming the refused call; people are still told the organisation is not read yet', async () => {
    logged.length = 0;
    expect(await w.sweep({})).toEqual({ dispatched: 0, orphansRevoked: 0, catalogue: 'failed' });
    expect(logged.filter((l) => l.includes('"level":50') && l.includes('organizations:ListRoots'))).toHaveLength(1);
    const reply = await w.command('carol', 'payments-prod ReadOnly 3s still nothing');
    expect(reply.body).toContain('has not read the AWS organisation yet');
  });

  test('the sweep reads the organisation and caches it; the Slack function files a request matched by an OU rule from the cache (no AWS call), the worker grants it and the revoke happens at its end', async () => {
    w.aws.setOrganization(ORG);
    expect(await w.sweep({})).toMatchObject({ catalogue: 'refreshed' });
    const afterRefresh = organizationsCalls();
    expect(w.aws.callsTo('ListTagsForResource')).toHaveLength(3); // the three active accounts
    // Fresh now: the next sweep does not read AWS again.
    expect(await w.sweep({})).toMatchObject({ catalogue: 'fresh' });
    expect(organizationsCalls()).toBe(afterRefresh);

    // Outside the OU: refused, with the reason; inside it (a child OU): filed and approved by the OU rule.
    const refused = await w.command('carol', 'sandbox-one ReadOnly 3s not in workloads');
    expect(findRequestId(refused.body ?? '')).toBeUndefined();
    const filed = await w.command('carol', 'payments-prod ReadOnly 1s lambda discovery');
    expect(filed.body).toContain('was approved automatically');
    const id = findRequestId(filed.body ?? '')!;
    expect(viewOf((await w.store.getRequest(id))!).grants[0]).toMatchObject({ ruleName: 'workloads-readonly', target: { accountId: '300000000001', permissionSetArn: PERMISSION_SETS.ReadOnly } });
    expect(organizationsCalls()).toBe(afterRefresh);

    w.takeWaiting();
    await w.runHandedOverWork();
    expect(viewOf((await w.store.getRequest(id))!).status).toBe('ACTIVE');
    expect(w.aws.listAssignments().filter((a) => a.principalId === PEOPLE.carol.principalId && a.accountId === '300000000001')).toHaveLength(1);

    const end = w.takeWaiting().find((j) => j.requestId === id);
    expect(end).toBeDefined();
    await w.sweep(end);
    await w.runHandedOverWork();
    expect(viewOf((await w.store.getRequest(id))!).status).toBe('ENDED');
    expect(w.aws.listAssignments().filter((a) => a.principalId === PEOPLE.carol.principalId)).toHaveLength(0);
    expect(organizationsCalls()).toBe(afterRefresh);
  });
});
