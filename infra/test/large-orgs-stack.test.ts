import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { REPO_ROOT } from '../lib/config-source';
import { TimeboxStack } from '../lib/timebox-stack';

const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'infra', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
const EXAMPLE = readFileSync(join(REPO_ROOT, 'timebox.example.yaml'), 'utf8');
const LISTED = /^accounts:[\s\S]*?(?=^# Large organisations)/m;
const INSTANCE = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const ALL_SETS = 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/*';
const ALL_ACCOUNTS = 'arn:aws:sso:::account/*';
/** IAM: a customer managed policy holds at most 6,144 characters, a role's inline policies 10,240 in all (whitespace not counted). */
const MANAGED_POLICY_MAX = 6_144;
const INLINE_PER_ROLE_MAX = 10_240;

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
}
interface Synth {
  stack: TimeboxStack;
  template: Template;
  violations: string[];
}

const actions = (s: Statement) => [...(Array.isArray(s.Action) ? s.Action : [s.Action])].sort();
const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]) as unknown[];

function roleId(template: Template, kind: 'slack' | 'worker' | 'sweep'): string {
  return Object.keys(template.findResources('AWS::IAM::Role', { Properties: Match.objectLike({ Description: `Timebox ${kind} function` }) }))[0] as string;
}
/** The inline policies attached to a role, as IAM stores them. */
function inlinePolicies(template: Template, role: string): Array<{ Statement: Statement[] }> {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }>;
  return policies.filter((p) => p.Properties.Roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: role }))).map((p) => p.Properties.PolicyDocument);
}
const statementsOf = (template: Template, kind: 'slack' | 'worker' | 'sweep') => inlinePolicies(template, roleId(template, kind)).flatMap((d) => d.Statement);
function managedPolicies(template: Template): Array<{ roles: unknown[]; document: { Statement: Statement[] } }> {
  return (Object.values(template.findResources('AWS::IAM::ManagedPolicy')) as Array<{ Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }>).map((p) => ({
    roles: p.Properties.Roles,
    document: p.Properties.PolicyDocument,
  }));
}
/** Characters as IAM counts them: the JSON with no whitespace (CloudFormation intrinsics counted as written, an upper bound). */
const iamChars = (document: unknown) => JSON.stringify(document).length;

describe('large-orgs: the CDK stack with discovery (the sweep reads the organisation, IAM within its limits)', () => {
  let dir: string;
  let quiet: jest.SpyInstance;
  const synth = (name: string, yaml: string): Synth => {
    const path = join(dir, `${name}.yaml`);
    writeFileSync(path, yaml);
    const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], config: path } });
    const stack = new TimeboxStack(app, name);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    const template = Template.fromStack(stack);
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app);
    return { stack, template, violations: report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`) };
  };
  const END_SESSIONS_RULE = ['  - name: prod-admin-ends-sessions', '    accounts: [production]', '    permissionSets: [Admin]', '    requesters: ["*"]', '    approvers: [U0AAAAAAA]', '    maxDuration: 1h', '    endSessions: true', ''].join('\n');
  let discovering: Synth;
  let listed: Synth;

  beforeAll(() => {
    quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    dir = mkdtempSync(join(tmpdir(), 'timebox-orgs-stack-'));
    discovering = synth('Discovering', EXAMPLE.replace(LISTED, 'accounts: discover\npermissionSets: discover\n').concat(END_SESSIONS_RULE));
    // 1,000 accounts and 100 permission sets listed by hand: the other way a large organisation is configured.
    const accountLines = Array.from({ length: 1000 }, (_, i) => `  acct-${i}: "${String(100000000000 + i)}"`).join('\n');
    const setLines = Array.from({ length: 100 }, (_, i) => `  Set${i}: arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-${String(i).padStart(16, '0')}`).join('\n');
    const rules = '\n  - name: big\n    accounts: ["*"]\n    permissionSets: ["*"]\n    requesters: ["*"]\n    approvers: [U0AAAAAAA]\n    maxDuration: 1h\n    endSessions: true\n';
    listed = synth('Listed', EXAMPLE.replace(LISTED, `accounts:\n  staging: "111111111111"\n  production: "222222222222"\n${accountLines}\npermissionSets:\n${setLines}\n  ReadOnly: arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1111111111111111\n  Admin: arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222\n`).concat(rules));
  });
  afterAll(() => {
    quiet.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a config that discovers synthesises, and only the sweep may read the organisation and the permission sets: the read-only calls discovery makes, nothing more', () => {
    const discovery = (kind: 'slack' | 'worker' | 'sweep') => statementsOf(discovering.template, kind).filter((s) => actions(s).some((a) => a.startsWith('organizations:') || a === 'sso:ListPermissionSets'));
    expect(discovery('slack')).toEqual([]);
    expect(discovery('worker')).toEqual([]);
    const sweep = discovery('sweep');
    expect(sweep.flatMap(actions).sort()).toEqual(
      ['organizations:ListAccountsForParent', 'organizations:ListOrganizationalUnitsForParent', 'organizations:ListRoots', 'organizations:ListTagsForResource', 'sso:DescribePermissionSet', 'sso:ListPermissionSets'].sort(),
    );
    // ListRoots has no resource to name; the others are limited to roots, OUs and accounts of an organisation, and to the one instance.
    for (const s of sweep) {
      if (actions(s).includes('organizations:ListRoots')) expect(resources(s)).toEqual(['*']);
      else expect(resources(s)).not.toContain('*');
    }
    const sets = sweep.find((s) => actions(s).includes('sso:ListPermissionSets'))!;
    expect(resources(sets).sort()).toEqual([INSTANCE, ALL_SETS].sort());
    // No role anywhere may change the organisation.
    const everyAction = [...(['slack', 'worker', 'sweep'] as const).flatMap((k) => statementsOf(discovering.template, k)), ...managedPolicies(discovering.template).flatMap((p) => p.document.Statement)].flatMap(actions);
    expect(everyAction.filter((a) => a.startsWith('organizations:') && !/^organizations:List/.test(a))).toEqual([]);
  });

  test('a stack in a delegated administrator account (identityStoreAccount names the management account): the Organizations resources name any management account, never the stack\'s own', () => {
    const path = join(dir, 'Discovering.yaml');
    const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], config: path, identityStoreAccount: '999999999999' } });
    const template = Template.fromStack(new TimeboxStack(app, 'Delegated', { env: { account: '444444444444', region: 'eu-west-1' } }));
    const orgResources = statementsOf(template, 'sweep')
      .filter((s) => actions(s).some((a) => a.startsWith('organizations:')))
      .flatMap(resources)
      .map((r) => JSON.stringify(r));
    expect(orgResources.length).toBeGreaterThan(1);
    for (const r of orgResources.filter((x) => x !== '"*"')) {
      expect(r).toContain('organizations::*:');
      expect(r).not.toContain('444444444444');
    }
  });

  test('with discovery, the worker creates assignments on the instance, any of its permission sets and any account (unknown at synth), and ends sessions on the instance\'s permission sets', () => {
    const created = managedPolicies(discovering.template).flatMap((p) => p.document.Statement).filter((s) => actions(s).includes('sso:CreateAccountAssignment'));
    expect(created.flatMap(resources).sort()).toEqual([INSTANCE, ALL_SETS, ALL_ACCOUNTS].sort());
    const endSessions = statementsOf(discovering.template, 'worker').find((s) => s.Sid === 'EndSessionsInPermissionSets')!;
    expect(resources(endSessions).sort()).toEqual([INSTANCE, ALL_SETS, ALL_ACCOUNTS].sort());
  });

  test('1,000 accounts and 100 permission sets listed: a rule ending sessions on every set names the instance\'s permission sets by pattern, not 100 ARNs no IAM policy can hold', () => {
    const endSessions = statementsOf(listed.template, 'worker').find((s) => s.Sid === 'EndSessionsInPermissionSets')!;
    expect(resources(endSessions).sort()).toEqual([INSTANCE, ALL_SETS, ALL_ACCOUNTS].sort());
  });

  test('the sweep, which reads the organisation after its safety-net work, has 10 minutes with discovery (a 1,000-account read takes about 219 s); 3 without', () => {
    const timeoutOf = (t: Template) =>
      (Object.values(t.findResources('AWS::Lambda::Function', { Properties: Match.objectLike({ Description: Match.stringLikeRegexp('^Timebox sweep') }) }))[0] as { Properties: { Timeout: number } }).Properties.Timeout;
    expect(timeoutOf(discovering.template)).toBe(600);
    expect(timeoutOf(listed.template)).toBe(180);
  });

  test.each([
    ['discovery', () => discovering],
    ['1,000 accounts and 100 permission sets listed', () => listed],
  ])('%s: every managed policy is within 6,144 characters and each role\'s inline policies within 10,240 in all', (_what, get) => {
    const { template } = get();
    const managed = managedPolicies(template);
    expect(managed.length).toBeGreaterThan(0);
    for (const p of managed) expect(iamChars(p.document)).toBeLessThanOrEqual(MANAGED_POLICY_MAX);
    for (const kind of ['slack', 'worker', 'sweep'] as const) {
      const total = inlinePolicies(template, roleId(template, kind)).reduce((sum, d) => sum + iamChars(d), 0);
      expect(total).toBeLessThanOrEqual(INLINE_PER_ROLE_MAX);
    }
  });

  test.each([
    ['discovery', () => discovering],
    ['1,000 accounts and 100 permission sets listed', () => listed],
  ])('%s: cdk-nag finds nothing unacknowledged', (_what, get) => {
    expect(get().violations).toEqual([]);
  });
});
