import { parseConfig } from '../../src/config/load-config';
import { TimeboxHarness, testConfigYaml } from '../support/timebox-harness';

const QUICK_RULE = `
  - name: staging-admin-quick
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 1h
    pendingExpiry: 2s`;

describe('daily-use: per-rule pendingExpiry', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: testConfigYaml(QUICK_RULE) });
  });
  afterAll(async () => {
    await h.stop();
  });

  test("a request under a rule with pendingExpiry 2s expires after 2 s, while one under a rule without it (durations.pendingExpiry, 24h) keeps waiting", async () => {
    const quick = await h.file('carol', 'staging Admin 30m quick rule');
    const slow = await h.file('carol', 'production Admin 30m default expiry');
    const [quickFiled, slowFiled] = [await h.request(quick), await h.request(slow)];
    expect(quickFiled.expiresAt - quickFiled.createdAt).toBe(2_000);
    expect(slowFiled.expiresAt - slowFiled.createdAt).toBe(24 * 3_600_000);
    await h.waitForStatus(quick, 'EXPIRED', 10_000);
    expect((await h.request(slow)).status).toBe('PENDING');
    expect(h.hasAssignment('carol', 'staging', 'Admin')).toBe(false);
  });

  test('a request whose grants fall under both rules expires at the shorter expiry, every waiting grant with it', async () => {
    const id = await h.file('dave', 'staging,production Admin 30m both rules');
    await h.waitForGrants(id, ['EXPIRED', 'EXPIRED'], 10_000);
  });

  test('a bad rules[].pendingExpiry is a config error naming the field', () => {
    expect(() => parseConfig(testConfigYaml(QUICK_RULE.replace('pendingExpiry: 2s', 'pendingExpiry: soon')))).toThrow(/rules\[0\]\.pendingExpiry: "soon" is not a duration/);
  });
});
