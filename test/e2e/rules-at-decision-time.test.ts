import { eventually } from '../support/eventually';
import { TimeboxHarness, testConfigYaml } from '../support/timebox-harness';

/**
 * A click is checked against the config running at that moment, not the one the request was
 * filed under: the grant's rule must still exist, still cover this requester and target, and
 * still allow the duration; the approvals needed are the larger of then and now. A grant that no
 * longer passes is refused (DENIED, with the reason) and the clicker and the requester are told.
 */
describe('rules are checked again when an approver decides', () => {
  let h: TimeboxHarness;
  beforeEach(async () => {
    h = await TimeboxHarness.start();
  });
  afterEach(async () => {
    await h.stop();
  });

  const tightened = (from: string, to: string) => {
    const yaml = testConfigYaml();
    if (!yaml.includes(from)) throw new Error(`test config has no ${from}`);
    return yaml.replace(from, to);
  };

  test('maxDuration lowered below the filed duration: the approval is refused, the grant DENIED with the reason, the requester told, and it is audited', async () => {
    const id = await h.file('carol', 'production Admin 50m filed under the old maximum');
    await h.approvalMessage(id);
    await h.restartWithConfig(tightened('    approvers: [alice@example.com, U0BOB00000]\n    maxDuration: 1h', '    approvers: [alice@example.com, U0BOB00000]\n    maxDuration: 30m'));
    const reply = await h.nextEphemeral('alice', () => h.click('alice', 'approve', id));
    expect(reply).toContain('no longer allowed');
    expect(reply).toContain('above the maximum of 30m');
    const denied = await h.waitForStatus(id, 'DENIED');
    expect(denied.grants[0]!.refusedBecause).toContain('above the maximum of 30m');
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(0);
    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('no longer allowed')), 5000, 'the DM with the reason');
    const audit = await h.audit(id);
    expect(audit.find((e) => e.type === 'denied')).toMatchObject({ actor: 'timebox', grantId: '1', detail: expect.stringContaining('no longer allowed') });
  });

  test('the requester no longer covered by the rule: refused the same way', async () => {
    const id = await h.file('carol', 'production Admin 30m carol may ask today');
    await h.approvalMessage(id);
    await h.restartWithConfig(tightened('    permissionSets: [Admin, ReadOnly]\n    requesters: ["*"]', '    permissionSets: [Admin, ReadOnly]\n    requesters: [U0DAVE0000]'));
    const reply = await h.nextEphemeral('bob', () => h.click('bob', 'approve', id));
    expect(reply).toContain('no longer allowed');
    await h.waitForStatus(id, 'DENIED');
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(false);
  });

  test('the rule removed from the config: the grant can never be approved, so a click refuses it and says why', async () => {
    const id = await h.file('carol', 'production Admin 30m rule about to go');
    await h.approvalMessage(id);
    const withoutProdAdmin = testConfigYaml().replace(/ {2}- name: prod-admin[\s\S]*?maxDuration: 1h\n/, '');
    expect(withoutProdAdmin).not.toContain('prod-admin');
    await h.restartWithConfig(withoutProdAdmin);
    const reply = await h.nextEphemeral('alice', () => h.click('alice', 'approve', id));
    expect(reply).toContain('rule "prod-admin" it was filed under no longer exists');
    await h.waitForStatus(id, 'DENIED');
  });

  test('approvalsRequired raised after filing: the larger number is needed', async () => {
    const id = await h.file('carol', 'production Admin 30m two approvers now');
    await h.approvalMessage(id);
    await h.restartWithConfig(tightened('    approvers: [alice@example.com, U0BOB00000]\n    maxDuration: 1h', '    approvers: [alice@example.com, U0BOB00000]\n    approvalsRequired: 2\n    maxDuration: 1h'));
    await h.click('alice', 'approve', id);
    await eventually(async () => ((await h.request(id)).approvals.length === 1 ? true : undefined), 5000, 'one approval recorded');
    expect((await h.request(id)).status).toBe('PENDING');
    expect((await h.request(id)).approvalsRequired).toBe(2);
    await h.click('bob', 'approve', id);
    await h.waitForStatus(id, 'ACTIVE');
  });
});
