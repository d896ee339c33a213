import { lintPolicy } from '../../../src/config/config-lint';
import { parseConfig } from '../../../src/config/load-config';
import { testConfigYaml } from '../../support/timebox-harness';

const lint = (extraRules: string) => lintPolicy(parseConfig(testConfigYaml(extraRules)).policy);

describe('config lint: valid rule sets that are probably a mistake are flagged at start-up', () => {
  test('the shipped test rules raise nothing', () => {
    expect(lint('')).toEqual([]);
  });

  test('anyone granting themselves Admin without approval is flagged', () => {
    expect(lint(`
  - name: oops
    accounts: [production]
    permissionSets: [Admin]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h`)).toEqual(['rules[0] (oops): anyone can grant themselves Admin without approval (autoApprove with requesters "*")']);
  });

  test('self-approval of a privileged permission set is flagged, of ReadOnly it is not', () => {
    const warnings = lint(`
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
    expect(warnings).toContain('rules[0] (self-admin): an approver can approve their own access to any permission set (allowSelfApproval: true)');
    expect(warnings.filter((w) => w.includes('self-readonly'))).toEqual([]);
  });

  test('approvers "*" is flagged', () => {
    expect(lint(`
  - name: anyone-approves
    accounts: [production]
    permissionSets: [ReadOnly]
    requesters: [U0CAROL000]
    approvers: ["*"]
    maxDuration: 1h`)).toEqual(['rules[0] (anyone-approves): approvers "*" lets anyone in the workspace approve, and end anyone\'s access early']);
  });

  test('approvers "*" on an auto-approve rule is flagged: they decide nothing, but anyone could end access', () => {
    expect(lint(`
  - name: anyone-ends
    accounts: [staging]
    permissionSets: [ReadOnly]
    requesters: [U0CAROL000]
    autoApprove: true
    approvers: ["*"]
    maxDuration: 1h`)).toEqual(['rules[0] (anyone-ends): approvers "*" lets anyone in the workspace end anyone\'s access under this rule early']);
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
});
