import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../../src/config/load-config';

const EXAMPLE = readFileSync(join(__dirname, '..', '..', '..', 'timebox.example.yaml'), 'utf8');
const ACCOUNTS_MAP = 'accounts:                           # friendly name -> 12-digit account id\n  staging: "111111111111"\n  production: "222222222222"\n';
const SETS_MAP =
  'permissionSets:                     # friendly name -> permission set ARN\n  ReadOnly: arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1111111111111111\n  Admin: arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222\n';

/** The example config with its accounts / permission sets sections replaced. */
function example(accounts: string, permissionSets = SETS_MAP, extra = ''): string {
  expect(EXAMPLE).toContain(ACCOUNTS_MAP);
  expect(EXAMPLE).toContain(SETS_MAP);
  return EXAMPLE.replace(ACCOUNTS_MAP, accounts).replace(SETS_MAP, permissionSets + extra);
}

function problemsOf(text: string): string[] {
  try {
    parseConfig(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('large-orgs: the discovery config keys', () => {
  test('the listed accounts and permission sets need no discovery: no discovery settings', () => {
    expect(parseConfig(EXAMPLE).discovery).toBeUndefined();
  });

  test('accounts: discover and permissionSets: discover parse into discovery settings, refreshed every 15m by default; rules naming accounts by name stay names, matched against what is discovered', () => {
    const config = parseConfig(example('accounts: discover\n', 'permissionSets: discover\n'));
    expect(config.discovery).toEqual({ accounts: { names: {} }, permissionSets: true, refreshMs: 15 * 60_000 });
    expect(config.policy.rules.map((r) => r.accountIds)).toEqual([['staging'], ['production']]);
    expect(config.policy.catalogue.current().accounts).toEqual([]);
  });

  test('the combined form keeps include, exclude and names; discovery.refresh is read as a duration', () => {
    const config = parseConfig(
      example(
        'accounts:\n  discover: true\n  include: ["ou:ou-ab12-workload1", staging]\n  exclude: ["333333333333"]\n  names:\n    "222222222222": production\n',
        SETS_MAP,
        'discovery:\n  refresh: 5m\n',
      ),
    );
    expect(config.discovery).toEqual({ accounts: { include: ['ou:ou-ab12-workload1', 'staging'], exclude: ['333333333333'], names: { '222222222222': 'production' } }, permissionSets: false, refreshMs: 5 * 60_000 });
    // Permission sets are still the listed ones.
    expect(config.policy.catalogue.current().permissionSets.map((p) => p.name)).toEqual(['ReadOnly', 'Admin']);
  });

  test('rules may name an OU or a tag when accounts are discovered', () => {
    const text = example('accounts: discover\n').replace('accounts: [staging]', 'accounts: ["ou:ou-ab12-workload1", "tag:env=dev"]');
    expect(parseConfig(text).policy.rules[0]?.accountIds).toEqual(['ou:ou-ab12-workload1', 'tag:env=dev']);
  });

  test('an OU or tag rule with accounts listed by hand is an error at start-up, saying discovery is needed', () => {
    const text = EXAMPLE.replace('accounts: [staging]', 'accounts: ["ou:ou-ab12-workload1", "tag:env=dev"]');
    expect(problemsOf(text)).toEqual([
      'rules[0].accounts[0]: "ou:ou-ab12-workload1" needs accounts: discover (accounts listed by hand have no OU or tags)',
      'rules[0].accounts[1]: "tag:env=dev" needs accounts: discover (accounts listed by hand have no OU or tags)',
    ]);
  });

  test('a malformed OU or tag entry is an error even with discovery; an account the config does not list is not (it is checked against what is discovered)', () => {
    const text = example('accounts: discover\n').replace('accounts: [staging]', 'accounts: ["ou:Workloads", "tag:env", not-listed-anywhere]');
    expect(problemsOf(text)).toEqual([
      'rules[0].accounts[0]: "ou:Workloads" is not an OU: write ou: and the OU\'s id (e.g. ou:ou-ab12-cdef34gh, or the root r-ab12)',
      'rules[0].accounts[1]: "tag:env" is not a tag: write tag:<key>=<value> (e.g. tag:env=dev)',
    ]);
  });

  test('with accounts listed by hand, a rule naming an unlisted account is still an error (today\'s check)', () => {
    expect(problemsOf(EXAMPLE.replace('accounts: [staging]', 'accounts: [stagign]'))).toEqual(['rules[0].accounts[0]: "stagign" is not an account listed under accounts']);
  });

  test('bad discovery settings are named: a misspelt key, a tag in include, a names key that is not an id, a refresh under a minute, a word other than discover', () => {
    expect(problemsOf(example('accounts:\n  discover: true\n  exclud: [staging]\n'))).toEqual(['accounts.exclud: unknown key; did you mean "exclude"?']);
    expect(problemsOf(example('accounts:\n  discover: true\n  include: ["tag:env=dev"]\n'))).toEqual(['accounts.include[0]: "tag:env=dev": include and exclude take account ids, names or ou:<ou-id>']);
    expect(problemsOf(example('accounts:\n  discover: true\n  names:\n    production: "222222222222"\n'))).toEqual(['accounts.names.production: must be a 12-digit AWS account id (quoted)']);
    expect(problemsOf(example('accounts: discover\n', SETS_MAP, 'discovery:\n  refresh: 30s\n'))).toEqual(['discovery.refresh: must be at least 1m (Organizations allows only a few calls a second)']);
    expect(problemsOf(example('accounts: discovered\n'))).toEqual(['accounts: write the accounts as name: "id" lines, or discover, or { discover: true, include, exclude, names }']);
    expect(problemsOf(example(ACCOUNTS_MAP, 'permissionSets: discovr\n'))).toEqual(['permissionSets: write the permission sets as name: ARN lines, or discover']);
  });

  test('an account listed by hand and named "discover" is still an account, not discovery', () => {
    const config = parseConfig(example('accounts:\n  discover: "333333333333"\n  staging: "111111111111"\n  production: "222222222222"\n'));
    expect(config.discovery).toBeUndefined();
    expect(config.policy.catalogue.current().accounts.map((a) => a.name)).toEqual(['discover', 'staging', 'production']);
  });
});
