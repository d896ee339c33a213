import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lintPolicy } from '../../../src/config/config-lint';
import { parseConfig } from '../../../src/config/load-config';
import { testConfigYaml } from '../../support/timebox-harness';

/** A config with two accounts, two permission sets and three groups, and only the rules given. */
function configWith(rules: string): string {
  return `
identityCenter:
  instanceArn: arn:aws:sso:::instance/ssoins-1234567890abcdef
  identityStoreId: d-1234567890
slack:
  approvalChannel: C0APPROVALS
accounts:
  staging: "111111111111"
  production: "222222222222"
permissionSets:
  ReadOnly: arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1111111111111111
  Admin: arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222
groups:
  oncall: 9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000001
  prod-admins: 9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000002
  billing: 9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000003
durations:
  min: 1s
rules:${rules}
`;
}

const lintOf = (rules: string) => lintPolicy(parseConfig(configWith(rules)).policy);
const lint = (extraRules: string) => lintPolicy(parseConfig(testConfigYaml(extraRules)).policy);

describe('config lint: valid rule sets that are probably a mistake are flagged at start-up', () => {
  test('the shipped test rules and the example file raise nothing', () => {
    expect(lint('')).toEqual([]);
    expect(lintPolicy(parseConfig(readFileSync(join(__dirname, '..', '..', '..', 'timebox.example.yaml'), 'utf8')).policy)).toEqual([]);
  });

  test('anyone granting themselves Admin without approval is flagged', () => {
    expect(
      lintOf(`
  - name: oops
    accounts: [production]
    permissionSets: [Admin]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h`),
    ).toEqual(['rules[0] (oops): anyone can grant themselves Admin without approval (autoApprove with requesters "*")']);
  });

  test('self-approval of a privileged permission set is flagged, of ReadOnly it is not', () => {
    const warnings = lintOf(`
  - name: self-admin
    accounts: [production]
    permissionSets: ["*"]
    requesters: ["*"]
    approvers: [alice@example.com]
    allowSelfApproval: true
    maxDuration: 1h
  - name: self-readonly
    accounts: [staging]
    permissionSets: [ReadOnly]
    requesters: [U0CAROL000]
    approvers: [alice@example.com]
    allowSelfApproval: true
    maxDuration: 1h`);
    expect(warnings).toEqual(['rules[0] (self-admin): an approver can approve their own access to any permission set (allowSelfApproval: true)']);
  });

  test('approvers "*" is flagged', () => {
    expect(
      lintOf(`
  - name: anyone-approves
    accounts: [production]
    permissionSets: [ReadOnly]
    requesters: [U0CAROL000]
    approvers: ["*"]
    maxDuration: 1h`),
    ).toEqual(['rules[0] (anyone-approves): approvers "*" lets anyone in the workspace approve, and end anyone\'s access early']);
  });

  test('approvers "*" on an auto-approve rule is flagged: they decide nothing, but anyone could end access', () => {
    expect(
      lintOf(`
  - name: anyone-ends
    accounts: [staging]
    permissionSets: [ReadOnly]
    requesters: [U0CAROL000]
    autoApprove: true
    approvers: ["*"]
    maxDuration: 1h`),
    ).toEqual(['rules[0] (anyone-ends): approvers "*" lets anyone in the workspace end anyone\'s access under this rule early']);
  });

  test('a rule that an earlier rule always wins over is flagged as never used', () => {
    const warnings = lint(`
  - name: broad
    accounts: ["*"]
    permissionSets: [ReadOnly]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 1h`);
    expect(warnings).toContain('rules[1] (staging-readonly): never used, because the earlier rule "broad" matches every request it would');
  });

  test('an earlier rule for fewer requesters does not hide a later one', () => {
    expect(
      lintOf(`
  - name: carol-any
    accounts: ["*"]
    permissionSets: ["*"]
    requesters: [U0CAROL000]
    approvers: [alice@example.com]
    maxDuration: 1h
  - name: everyone-readonly
    accounts: [staging]
    permissionSets: [ReadOnly]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 1h`),
    ).toEqual([]);
  });
});

describe('config lint of group rules', () => {
  test('a group rule is never shadowed by an account rule, however broad', () => {
    expect(
      lintOf(`
  - name: everything
    accounts: ["*"]
    permissionSets: ["*"]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 1h
  - name: oncall
    groups: [oncall]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 1h`),
    ).toEqual([]);
  });

  test('nor is an account rule shadowed by a group rule for every group', () => {
    expect(
      lintOf(`
  - name: every-group
    groups: ["*"]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 1h
  - name: staging
    accounts: [staging]
    permissionSets: [ReadOnly]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 1h`),
    ).toEqual([]);
  });

  test('a group rule an earlier group rule always wins over is flagged as never used', () => {
    const warnings = lintOf(`
  - name: every-group
    groups: ["*"]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 1h
  - name: oncall
    groups: [oncall]
    requesters: [U0CAROL000]
    approvers: [alice@example.com]
    maxDuration: 8h`);
    expect(warnings).toEqual(['rules[1] (oncall): never used, because the earlier rule "every-group" matches every request it would']);
  });

  test('an earlier group rule for other groups, or only some of them, does not hide a later one', () => {
    expect(
      lintOf(`
  - name: billing
    groups: [billing]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 1h
  - name: oncall-and-billing
    groups: [oncall, billing]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 1h`),
    ).toEqual([]);
  });

  test('anyone joining a privileged-sounding group, or any group, without approval is flagged; oncall is not', () => {
    const warnings = lintOf(`
  - name: admins-free
    groups: [prod-admins]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h
  - name: oncall-free
    groups: [oncall]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h
  - name: all-free
    groups: ["*"]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h`);
    expect(warnings).toEqual([
      'rules[0] (admins-free): anyone can grant themselves prod-admins without approval (autoApprove with requesters "*")',
      'rules[2] (all-free): anyone can grant themselves any group without approval (autoApprove with requesters "*")',
    ]);
  });

  test('self-approval into a privileged group is flagged', () => {
    expect(
      lintOf(`
  - name: self-admins
    groups: [prod-admins]
    requesters: ["*"]
    approvers: [alice@example.com]
    allowSelfApproval: true
    maxDuration: 1h`),
    ).toEqual(['rules[0] (self-admins): an approver can approve their own access to prod-admins (allowSelfApproval: true)']);
  });

  test('approvers "*" on a group rule is flagged as on any rule', () => {
    expect(
      lintOf(`
  - name: anyone-approves-oncall
    groups: [oncall]
    requesters: [U0CAROL000]
    approvers: ["*"]
    maxDuration: 1h`),
    ).toEqual(['rules[0] (anyone-approves-oncall): approvers "*" lets anyone in the workspace approve, and end anyone\'s access early']);
  });
});
