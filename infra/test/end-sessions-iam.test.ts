import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { REPO_ROOT } from '../lib/config-source';
import { TimeboxStack } from '../lib/timebox-stack';

const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'infra', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
const EXAMPLE_CONFIG = readFileSync(join(REPO_ROOT, 'timebox.example.yaml'), 'utf8');
const SID = 'EndSessionsInPermissionSets';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
}

/** A stack synthesised (without bundling) from the example config with `extra` appended to its rules. */
function synth(name: string, extra: string): { template: Template; violations: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'timebox-infra-end-sessions-'));
  try {
    const path = join(dir, 'config.yaml');
    writeFileSync(path, EXAMPLE_CONFIG.concat(extra));
    const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], config: path } });
    const stack = new TimeboxStack(app, name);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    const template = Template.fromStack(stack);
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app);
    return { template, violations: report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function statementsOfRole(template: Template, description: string): Statement[] {
  const role = Object.keys(template.findResources('AWS::IAM::Role', { Properties: Match.objectLike({ Description: description }) }))[0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }[];
  return policies.filter((p) => p.Properties.Roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: role }))).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('sessions-breakglass: ending sessions already issued (IAM on AWS)', () => {
  let quiet: jest.SpyInstance;
  beforeAll(() => {
    quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterAll(() => quiet.mockRestore());

  test('a rule with endSessions gives the worker, and only the worker, the permission-set policy and provisioning actions on the permission sets it covers', () => {
    const rule = ['  - name: admin-ends-sessions', '    accounts: [production]', '    permissionSets: [Admin]', '    requesters: ["*"]', '    approvers: [U0AAAAAAA]', '    maxDuration: 1h', '    endSessions: true', ''].join('\n');
    const { template, violations } = synth('EndSessions', rule);
    const worker = statementsOfRole(template, 'Timebox worker function').filter((s) => s.Sid === SID);
    expect(worker).toHaveLength(1);
    expect([...(worker[0]!.Action as string[])].sort()).toEqual([
      'sso:DescribePermissionSet',
      'sso:DescribePermissionSetProvisioningStatus',
      'sso:GetInlinePolicyForPermissionSet',
      'sso:ProvisionPermissionSet',
      'sso:PutInlinePolicyToPermissionSet',
    ]);
    const resources = JSON.stringify(worker[0]!.Resource);
    expect(resources).toContain('permissionSet/ssoins-');
    expect((resources.match(/permissionSet\//g) ?? []).length).toBe(1);
    for (const kind of ['slack', 'sweep']) expect(statementsOfRole(template, `Timebox ${kind} function`).filter((s) => JSON.stringify(s.Action).includes('PermissionSet'))).toEqual([]);
    expect(violations).toEqual([]);
  });

  test('without a rule setting endSessions, no function may touch a permission set\'s policy', () => {
    const { template, violations } = synth('NoEndSessions', '');
    for (const kind of ['slack', 'worker', 'sweep']) {
      expect(statementsOfRole(template, `Timebox ${kind} function`).filter((s) => JSON.stringify(s.Action).includes('InlinePolicy') || JSON.stringify(s.Action).includes('ProvisionPermissionSet'))).toEqual([]);
    }
    expect(violations).toEqual([]);
  });
});
