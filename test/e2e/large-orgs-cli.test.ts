import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTimeboxCli } from '../support/timebox-cli';
import { testConfigYaml } from '../support/timebox-harness';

/** The harness's config, its accounts (and optionally permission sets) discovered, with an OU and a tag rule. */
function discovering(permissionSets: 'listed' | 'discovered', accountEntry = '"ou:ou-ab12-workload1", "tag:env=dev"'): string {
  let text = testConfigYaml().replace(/accounts:\n {2}staging: "\d+"\n {2}production: "\d+"\n/, 'accounts: discover\n');
  if (permissionSets === 'discovered') text = text.replace(/permissionSets:\n {2}ReadOnly: \S+\n {2}Admin: \S+\n/, 'permissionSets: discover\n');
  return text.replace('accounts: [staging]', `accounts: [${accountEntry}]`);
}

describe('large-orgs: timebox policy check with discovery', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'timebox-orgs-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test('a discovering config with OU and tag rules is valid offline, and policy check says what it could not check without AWS', async () => {
    const path = file('discover.yaml', discovering('discovered'));
    expect(await runTimeboxCli(['policy', 'check', '--config', path, '--strict'])).toEqual({
      code: 0,
      stdout: [
        'not checked offline: accounts are discovered from AWS Organizations at start-up (accounts: discover): the accounts, OUs and tags rules name are checked against them then (a warning for each that matches nothing), not offline',
        "not checked offline: permission sets are discovered from Identity Center at start-up (permissionSets: discover): the names rules use, and each set's session length against the longest window, are checked then, not offline",
        `${path}: valid, 0 warnings`,
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  test('a malformed OU entry is an error offline too: exit 1 with its path and the form to write', async () => {
    const r = await runTimeboxCli(['policy', 'check', '--config', file('bad-ou.yaml', discovering('listed', '"ou:Workloads"'))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error: rules[0].accounts[0]: "ou:Workloads" is not an OU: write ou: and the OU\'s id');
  });

  test('an OU rule over accounts listed by hand stays a start-up error: exit 1, saying accounts: discover is needed', async () => {
    const r = await runTimeboxCli(['policy', 'check', '--config', file('static-ou.yaml', testConfigYaml().replace('accounts: [staging]', 'accounts: ["ou:ou-ab12-workload1"]'))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error: rules[0].accounts[0]: "ou:ou-ab12-workload1" needs accounts: discover (accounts listed by hand have no OU or tags)');
  });

  test('policy explain on a discovering config says on stderr that discovered accounts are not known offline, rather than listing none silently', async () => {
    const r = await runTimeboxCli(['policy', 'explain', '--config', file('explain.yaml', discovering('listed')), '--requester', 'carol@example.com', '--account', 'staging', '--permission-set', 'ReadOnly']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('timebox policy explain: not known offline: accounts are discovered from AWS Organizations at start-up');
    expect(r.stderr).toContain('Unknown account "staging"');
  });
});
