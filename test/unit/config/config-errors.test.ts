import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, parseConfig } from '../../../src/config/load-config';
import { closestName } from '../../../src/config/closest-name';
import { resolvePermissionSet, resolveTargets, ruleCovers } from '../../../src/domain/rules';

const ROOT = join(__dirname, '..', '..', '..');
const EXAMPLE = readFileSync(join(ROOT, 'timebox.example.yaml'), 'utf8');

/** The example config with one line replaced (the line must be there). */
function exampleWith(line: string, replacement: string): string {
  expect(EXAMPLE).toContain(line);
  return EXAMPLE.replace(line, replacement);
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('deploy-grade: config errors that say how to fix them', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'timebox-config-errors-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('an empty file (or one of comments only) is named by its path and told what it needs, not "expected object, received null"', () => {
    for (const text of ['', '# nothing yet\n']) {
      const path = join(dir, 'timebox.yaml');
      writeFileSync(path, text);
      let message = '';
      try {
        loadConfigFile(path);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain(path);
      expect(message).toContain('(top level): the file is empty; it needs identityCenter, slack, accounts, permissionSets and rules');
      expect(message).not.toMatch(/received null/);
    }
  });

  test('a misspelt key gets "did you mean" with the key it is closest to, at the top level and inside a rule', () => {
    expect(problemsOf(() => parseConfig(exampleWith('durations:', 'duration:')))).toEqual(['duration: unknown key; did you mean "durations"?']);
    expect(problemsOf(() => parseConfig(exampleWith('    autoApprove: true', '    autoAprove: true')))).toContain('rules[0].autoAprove: unknown key; did you mean "autoApprove"?');
    expect(problemsOf(() => parseConfig(exampleWith('  approvalChannel: C0APPROVALS', '  approvalChanel: C0APPROVALS')))).toContain('slack.approvalChanel: unknown key; did you mean "approvalChannel"?');
  });

  test('an unknown key close to nothing lists the keys allowed there instead of guessing', () => {
    const problems = problemsOf(() => parseConfig(exampleWith('  approvalChannel: C0APPROVALS', '  approvalChannel: C0APPROVALS\n  colour: blue')));
    expect(problems).toEqual(['slack.colour: unknown key; the keys allowed here are approvalChannel, allowGuests, alertChannel, ticketUrl']);
  });

  test('autoApprove: "yes" is named as needing true or false without quotes, and causes no second, misleading problem', () => {
    expect(problemsOf(() => parseConfig(exampleWith('    autoApprove: true', '    autoApprove: "yes"')))).toEqual(['rules[0].autoApprove: must be true or false, written without quotes; got the text "yes"']);
  });

  test('a number written as text is named as needing a number', () => {
    const problems = problemsOf(() => parseConfig(exampleWith('durations:', 'limits:\n  maxGrantsPerRequest: "ten"\ndurations:')));
    expect(problems).toEqual(['limits.maxGrantsPerRequest: must be a number, written without quotes; got the text "ten"']);
  });

  test('an unquoted account id YAML read as a number (its leading zero stripped) gets: quote it: "011111111111"', () => {
    const problems = problemsOf(() => parseConfig(exampleWith('staging: "111111111111"', 'staging: 011111111111')));
    expect(problems).toEqual(['accounts.staging: must be a 12-digit AWS account id; YAML read 011111111111 as the number 11111111111, so quote it: "011111111111"']);
  });

  test('an unquoted 12-digit account id without a leading zero is still accepted (nothing was lost)', () => {
    const config = parseConfig(exampleWith('staging: "111111111111"', 'staging: 111111111111'));
    expect(config.policy.accounts).toContainEqual({ name: 'staging', id: '111111111111' });
  });

  test('a rule naming a permission set in another case is accepted and covers requests for it, as the command ignores case', () => {
    const config = parseConfig(exampleWith('permissionSets: [Admin]', 'permissionSets: [admin]'));
    const rule = config.policy.rules.find((r) => r.name === 'prod-admin');
    expect(rule?.permissionSets).toEqual(['Admin']);
    // The command resolves "ADMIN" to the listed name; the rule covers what it resolves to.
    expect(resolvePermissionSet(config.policy, 'ADMIN').name).toBe('Admin');
    const [target] = resolveTargets(config.policy, { kind: 'account', accounts: ['production'], permissionSets: ['ADMIN'] });
    expect(target && rule && ruleCovers(rule, target)).toBe(true);
  });

  test('a rule naming a permission set that is not listed in any case is still refused', () => {
    expect(problemsOf(() => parseConfig(exampleWith('permissionSets: [Admin]', 'permissionSets: [Admn]')))).toEqual(['rules[1].permissionSets[0]: "Admn" is not a permission set listed under permissionSets']);
  });

  /** The CDK app (infra/bin/timebox.ts) as `cdk synth -c …` runs it: the CLI passes context in CDK_CONTEXT_JSON. */
  function synthWithContext(context: Record<string, unknown>): { status: number | null; stderr: string } {
    const run = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), join(ROOT, 'infra/bin/timebox.ts')], {
      cwd: join(ROOT, 'infra'),
      env: { PATH: process.env.PATH ?? '', CDK_CONTEXT_JSON: JSON.stringify({ config: 'timebox.example.yaml', ...context }), CDK_OUTDIR: join(dir, 'cdk.out') },
      encoding: 'utf8',
      timeout: 25_000,
    });
    return { status: run.status, stderr: run.stderr };
  }

  test.each([
    [{ workerConcurrency: 'lots' }, 'context "workerConcurrency" must be a whole number from 1 to 15, or none, e.g. -c workerConcurrency=5; got "lots"'],
    [{ stackName: 'my stack' }, 'context "stackName" must be a CloudFormation stack name (a letter, then letters, digits or "-"), e.g. -c stackName=Timebox; got "my stack"'],
    [{ endpoint: 'alb' }, 'context "endpoint" must be apiGateway or functionUrl, e.g. -c endpoint=functionUrl; got "alb"'],
    [{ logRetentionDays: '100' }, 'context "logRetentionDays" must be one of CloudWatch Logs\' retention periods in days (1, 3, 5, 7, 14, 30, 60, 90'],
  ])('a bad CDK context value %j is named with the format expected, exit 1, without a stack trace', (context, message) => {
    const { status, stderr } = synthWithContext(context);
    expect(status).toBe(1);
    expect(stderr).toContain(message);
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  test('"did you mean" suggests only names a few edits away, ignoring case', () => {
    expect(closestName('autoaprove', ['autoApprove', 'approvers'])).toBe('autoApprove');
    expect(closestName('colour', ['approvalChannel', 'allowGuests'])).toBeUndefined();
  });
});
