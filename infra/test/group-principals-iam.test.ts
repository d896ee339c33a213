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
const SID = 'CheckIdentityCenterGroupMembership';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
}

/** A stack synthesised (without bundling) from the example config with `extraRule` appended. */
function synth(name: string, extraRule: string): { stack: TimeboxStack; template: Template; violations: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'timebox-infra-group-principals-'));
  try {
    const path = join(dir, 'config.yaml');
    writeFileSync(path, EXAMPLE_CONFIG.concat(extraRule));
    const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], config: path } });
    const stack = new TimeboxStack(app, name);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    const template = Template.fromStack(stack);
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app);
    return { stack, template, violations: report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function statementsOfRole(template: Template, description: string): Statement[] {
  const role = Object.keys(template.findResources('AWS::IAM::Role', { Properties: Match.objectLike({ Description: description }) }))[0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }[];
  return policies.filter((p) => p.Properties.Roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: role }))).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('daily-use: groups as requesters and approvers (IAM on AWS)', () => {
  let quiet: jest.SpyInstance;
  beforeAll(() => {
    quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterAll(() => quiet.mockRestore());

  test('a rule naming an Identity Center group gives the Slack function read-only membership checks in the configured store, and nothing else gets them', () => {
    const rule = ['  - name: dba-approved', '    accounts: [production]', '    permissionSets: [ReadOnly]', '    requesters: ["group:Platform Engineers"]', '    approvers: ["group:DBA"]', '    maxDuration: 1h', ''].join('\n');
    const { template, violations } = synth('IdcGroups', rule);
    const slack = statementsOfRole(template, 'Timebox slack function').filter((s) => s.Sid === SID);
    expect(slack).toHaveLength(1);
    expect([...(slack[0]!.Action as string[])].sort()).toEqual(['identitystore:GetGroupId', 'identitystore:GetUserId', 'identitystore:IsMemberInGroups']);
    expect(JSON.stringify(slack[0]!.Resource)).toContain(':identitystore/d-1234567890');
    for (const kind of ['worker', 'sweep']) expect(statementsOfRole(template, `Timebox ${kind} function`).filter((s) => s.Sid === SID)).toEqual([]);
    expect(violations).toEqual([]);
  });

  test('rules naming only Slack user groups (or no groups) give no identity store access to the Slack function', () => {
    const rule = ['  - name: slack-group-approved', '    accounts: [production]', '    permissionSets: [ReadOnly]', '    requesters: ["@devs"]', '    approvers: ["@sre"]', '    maxDuration: 1h', ''].join('\n');
    const { template, violations } = synth('SlackGroups', rule);
    expect(statementsOfRole(template, 'Timebox slack function').filter((s) => JSON.stringify(s.Action).includes('identitystore'))).toEqual([]);
    expect(violations).toEqual([]);
  });
});
