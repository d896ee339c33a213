import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsv } from '../support/parse-csv';
import { runTimeboxCli } from '../support/timebox-cli';
import { testConfigYaml } from '../support/timebox-harness';

// Admin on staging: @devs need @sre; Platform Engineers (and carol by email) are auto-approved.
const GROUP_RULES = `
  - name: devs-staging-admin
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["@devs"]
    approvers: ["@sre"]
    maxDuration: 2h
  - name: platform-staging-admin
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["group:Platform Engineers", carol@example.com]
    autoApprove: true
    maxDuration: 1h`;

// Valid, but: anyone may give themselves Admin without approval, and the last rule is never used.
const RISKY_RULES = `
  - name: admin-for-all
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h
  - name: admin-again
    accounts: [staging]
    permissionSets: [Admin]
    requesters: [dave@example.com]
    approvers: [alice@example.com]
    maxDuration: 1h`;

const BAD_RULES = `
  - name: broken
    accounts: [nowhere]
    permissionSets: [ReadOnly]
    requesters: [not-an-email]
    maxDuration: 3 parsecs`;

describe('explain-audit: the timebox CLI (policy check, explain, matrix)', () => {
  let dir: string;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  let good: string;
  let bad: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'timebox-cli-'));
    good = file('good.yaml', testConfigYaml(GROUP_RULES));
    bad = file('bad.yaml', testConfigYaml(BAD_RULES));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('policy check on a good config exits 0 and says it is valid with no warnings', async () => {
    const r = await runTimeboxCli(['policy', 'check', '--config', good, '--strict']);
    expect(r).toEqual({ code: 0, stdout: `${good}: valid, 0 warnings\n`, stderr: '' });
  });

  test('policy check on a bad config exits 1 and prints every problem with its path', async () => {
    const r = await runTimeboxCli(['policy', 'check', '--config', bad]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^error: rules\[0\]\.requesters\[0\]: must be an email, a Slack user id/),
        expect.stringMatching(/^error: rules\[0\]\.maxDuration: /),
        'error: rules[0].approvers: a rule without autoApprove needs at least one approver',
        'error: rules[0].accounts[0]: "nowhere" is not an account listed under accounts',
      ]),
    );
    expect(lines.at(-1)).toMatch(/bad\.yaml: \d+ errors \(warnings are checked once it is valid\)$/);
  });

  test('policy check on a file that is not YAML, or is missing, exits 1 with the reason', async () => {
    const notYaml = await runTimeboxCli(['policy', 'check', '--config', file('broken.yaml', 'rules: [unclosed\n')]);
    expect(notYaml.code).toBe(1);
    expect(notYaml.stdout).toMatch(/^error: not valid YAML: /);
    const missing = await runTimeboxCli(['policy', 'check', '--config', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('error: file not found');
  });

  test('policy check on a risky config prints each warning with its path and exits 0, and 1 with --strict', async () => {
    const risky = file('risky.yaml', testConfigYaml(RISKY_RULES));
    const loose = await runTimeboxCli(['policy', 'check', '--config', risky]);
    expect(loose.code).toBe(0);
    expect(loose.stdout).toContain('warning: rules[0] (admin-for-all): anyone can grant themselves Admin without approval (autoApprove with requesters "*")');
    expect(loose.stdout).toContain('warning: rules[1] (admin-again): never used, because the earlier rule "admin-for-all" matches every request it would');
    expect(loose.stdout).toContain(`${risky}: valid, 2 warnings`);
    const strict = await runTimeboxCli(['policy', 'check', '--config', risky, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('valid, 2 warnings (--strict: failing on warnings)');
  });

  test('policy check reads TIMEBOX_CONFIG, else ./timebox.yaml, when --config is not given', async () => {
    expect((await runTimeboxCli(['policy', 'check'], { env: { TIMEBOX_CONFIG: good } })).code).toBe(0);
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(cwd, 'timebox.yaml'), testConfigYaml(BAD_RULES));
    const r = await runTimeboxCli(['policy', 'check'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('timebox.yaml: ');
  });

  test('policy explain gives the rule that decides and why earlier ones did not, in the words /aws-access why uses', async () => {
    const r = await runTimeboxCli(['policy', 'explain', '--config', good, '--requester', 'bob@example.com', '--account', 'production', '--permission-set', 'Admin']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Why: Admin on production (222222222222), for bob@example.com');
    expect(r.stdout).toContain('Rule "prod-admin" decides: needs 1 approval (approvalsRequired: 1) from alice@example.com, U0BOB00000, for up to 1h.');
    expect(r.stdout).toContain('1. devs-staging-admin: does not apply: it covers accounts staging, not production');
    expect(r.stdout).toContain('4. prod-admin: matches (requesters include everyone (*))');
  });

  test('policy explain says plainly when the answer depends on a group membership it cannot check offline', async () => {
    const r = await runTimeboxCli(['policy', 'explain', '--config', good, '--requester', 'dave@example.com', '--account', 'staging', '--permission-set', 'Admin']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('If dave@example.com is in @devs: rule "devs-staging-admin" decides: needs 1 approval (approvalsRequired: 1) from @sre, for up to 2h.');
    expect(r.stdout).toContain('If dave@example.com is in group:Platform Engineers: rule "platform-staging-admin" decides: auto-approved, for up to 1h.');
    expect(r.stdout).toContain('Otherwise: no rule allows it, so a request would be refused.');
    expect(r.stdout).toContain('1. devs-staging-admin: matches only if the requester is in @devs (group membership cannot be checked offline)');
    // Carol is named by email in the second rule: the first still comes first if she is in @devs.
    const carol = await runTimeboxCli(['policy', 'explain', '--config', good, '--requester', 'carol@example.com', '--account', 'staging', '--permission-set', 'Admin']);
    expect(carol.stdout).toContain('If carol@example.com is in @devs: rule "devs-staging-admin" decides');
    expect(carol.stdout).toContain('Otherwise: rule "platform-staging-admin" decides: auto-approved, for up to 1h.');
  });

  test('policy explain for a group, and for someone no rule allows', async () => {
    const group = await runTimeboxCli(['policy', 'explain', '--config', good, '--requester', 'U0DAVE0000', '--group', 'oncall']);
    expect(group.stdout).toContain('Rule "oncall-group" decides: auto-approved, for up to 8h.');
    const refused = await runTimeboxCli(['policy', 'explain', '--config', file('plain.yaml', testConfigYaml()), '--requester', 'bob@example.com', '--account', 'staging', '--permission-set', 'Admin']);
    expect(refused.stdout).toContain('No rule allows it, so a request would be refused.');
    expect(refused.stdout).toContain('1. staging-readonly: does not apply: it covers permission sets ReadOnly, not Admin');
  });

  test('bad input to policy explain is one clear line on stderr and a non-zero exit', async () => {
    const unknown = await runTimeboxCli(['policy', 'explain', '--config', good, '--requester', 'bob@example.com', '--account', 'nowhere', '--permission-set', 'Admin']);
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'timebox policy explain: Unknown account "nowhere". Known accounts: staging, production\n' });
    const missing = await runTimeboxCli(['policy', 'explain', '--config', good, '--account', 'staging', '--permission-set', 'Admin']);
    expect(missing).toEqual({ code: 2, stdout: '', stderr: 'timebox policy explain: --requester is required; run `timebox policy explain --help`\n' });
    const badConfig = await runTimeboxCli(['policy', 'explain', '--config', bad, '--requester', 'bob@example.com', '--group', 'oncall']);
    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr.trim().split('\n')).toHaveLength(1);
    expect(badConfig.stderr).toContain('is not a valid config');
  });

  test('policy matrix as CSV parses back: one row per target and deciding rule, with who may request and who approves', async () => {
    const r = await runTimeboxCli(['policy', 'matrix', '--config', good, '--format', 'csv']);
    expect(r.code).toBe(0);
    const [header, ...rows] = parseCsv(r.stdout.trimEnd());
    expect(header).toEqual(['account', 'account_id', 'permission_set', 'group', 'rule', 'requesters', 'approval', 'approvers', 'approvals_required', 'max_duration']);
    const byTarget = (t: string) => rows.filter((row) => `${row[0]}/${row[2]}${row[3]}` === t).map((row) => [row[4], row[5], row[6], row[7], row[8], row[9]]);
    expect(byTarget('staging/Admin')).toEqual([
      ['devs-staging-admin', '@devs', 'needs approval', '@sre', '1', '2h'],
      ['platform-staging-admin', 'group:Platform Engineers; carol@example.com', 'auto-approved', '', '0', '1h'],
    ]);
    expect(byTarget('production/Admin')).toEqual([['prod-admin', '*', 'needs approval', 'alice@example.com; U0BOB00000', '1', '1h']]);
    expect(byTarget('/db-admins')).toEqual([['db-admins-group', '*', 'needs approval', 'alice@example.com; U0BOB00000', '1', '1h']]);
    // 2 accounts × 2 permission sets + 2 groups, and staging Admin under two rules.
    expect(rows).toHaveLength(7);
  });

  test('policy matrix as Markdown (the default) is a table with the same rows', async () => {
    const r = await runTimeboxCli(['policy', 'matrix', '--config', good]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('| account | account_id | permission_set | group | rule | requesters | approval | approvers | approvals_required | max_duration |');
    expect(lines).toHaveLength(2 + 7);
    expect(lines).toContain('| staging | 111111111111 | Admin |  | devs-staging-admin | @devs | needs approval | @sre | 1 | 2h |');
    const wrong = await runTimeboxCli(['policy', 'matrix', '--config', good, '--format', 'xml']);
    expect(wrong).toEqual({ code: 2, stdout: '', stderr: 'timebox policy matrix: --format must be md or csv, not "xml"; run `timebox policy matrix --help`\n' });
  });

  test('every subcommand has --help (exit 0); an unknown command or subcommand is one line and exit 2', async () => {
    const helps = await Promise.all(['check', 'explain', 'matrix'].map(async (sub) => [sub, await runTimeboxCli(['policy', sub, '--help'])] as const));
    for (const [sub, r] of helps) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: timebox policy ${sub} `));
    }
    expect((await runTimeboxCli(['--help'])).stdout).toContain('policy matrix');
    expect(await runTimeboxCli(['policy', 'nope'])).toEqual({ code: 2, stdout: '', stderr: 'timebox policy: unknown subcommand "nope" (known: check, explain, matrix); run `timebox policy --help`\n' });
    expect(await runTimeboxCli(['nope'])).toEqual({ code: 2, stdout: '', stderr: 'timebox: unknown command "nope"; run `timebox --help` for the list\n' });
  });
});
