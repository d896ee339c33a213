import type { CatalogueAccount, CatalogueSnapshot } from '../../../src/domain/catalogue';
import { ruleCatalogueWarnings, sessionLengthWarnings } from '../../../src/domain/catalogue-checks';
import { accountSelector, accountSelectorProblem, matchText, selectingEntry, selects } from '../../../src/domain/catalogue-view';
import type { Rule } from '../../../src/domain/policy';
import { rule } from '../../support/in-memory-ports';

const H = 3_600_000;
const ROOT_CHILD = { id: 'ou-ab12-workload1', name: 'Workloads' };
const LEAF = { id: 'ou-ab12-nonprod01', name: 'NonProd' };
const acct = (name: string, id: string, ouPath: CatalogueAccount['ouPath'], tags: Record<string, string> = {}): CatalogueAccount => ({ name, id, ouPath, tags });
const STAGING = acct('staging', '111111111111', [ROOT_CHILD, LEAF], { env: 'staging', team: 'core' });
const PROD = acct('production', '222222222222', [], { env: 'prod' });
const SNAPSHOT: CatalogueSnapshot = {
  accounts: [STAGING, PROD],
  permissionSets: [
    { name: 'ReadOnly', arn: 'arn:ro', sessionDurationMs: H },
    { name: 'Admin', arn: 'arn:admin', sessionDurationMs: 12 * H },
    { name: 'Billing', arn: 'arn:billing' },
  ],
  groups: [],
  source: 'discovery',
};
const accountRule = (name: string, accountIds: string[], permissionSets: string[], extra: Partial<Rule> = {}) => rule({ name, accountIds, permissionSets, ...extra });

describe('large-orgs: account selectors', () => {
  test('an OU entry selects an account under that OU at any depth, and not one outside it', () => {
    expect(selects(accountSelector('ou:ou-ab12-workload1'), STAGING)).toBe(true);
    expect(selects(accountSelector('ou:ou-ab12-nonprod01'), STAGING)).toBe(true);
    expect(selects(accountSelector('ou:ou-ab12-workload1'), PROD)).toBe(false);
  });

  test('a tag entry selects only an exact key and value; a value of another tag or a prefix does not', () => {
    expect(selects(accountSelector('tag:env=staging'), STAGING)).toBe(true);
    expect(selects(accountSelector('tag:env=stag'), STAGING)).toBe(false);
    expect(selects(accountSelector('tag:team=staging'), STAGING)).toBe(false);
    expect(selects(accountSelector('tag:constructor='), acct('x', '999999999999', []))).toBe(false);
  });

  test('an account entry selects by id or by name ignoring case, never by a prefix of the id', () => {
    expect(selects(accountSelector('STAGING'), STAGING)).toBe(true);
    expect(selects(accountSelector('111111111111'), STAGING)).toBe(true);
    expect(selects(accountSelector('11111111111'), STAGING)).toBe(false);
  });

  test('the entry that matched is named for the message: an OU with its name, a tag as written, nothing for an id', () => {
    expect(selectingEntry(['tag:env=prod', 'ou:ou-ab12-nonprod01'], STAGING.id, SNAPSHOT)).toBe('ou:ou-ab12-nonprod01');
    expect(matchText('ou:ou-ab12-nonprod01', STAGING.id, SNAPSHOT)).toBe('ou:ou-ab12-nonprod01 (NonProd)');
    expect(matchText('tag:env=prod', PROD.id, SNAPSHOT)).toBe('tag:env=prod');
    expect(matchText(PROD.id, PROD.id, SNAPSHOT)).toBeUndefined();
    expect(selectingEntry(['ou:ou-ab12-workload1'], '999999999999', SNAPSHOT)).toBeUndefined();
  });

  test.each([
    ['ou:', 'is not an OU'],
    ['ou:Workloads', 'is not an OU'],
    ['tag:env', 'is not a tag'],
    ['tag:=dev', 'is not a tag'],
  ])('a malformed entry %j is refused with a hint', (entry, problem) => {
    expect(accountSelectorProblem(entry)).toContain(problem);
  });

  test.each(['ou:ou-ab12-workload1', 'ou:r-ab12', 'tag:env=dev', 'tag:cost-centre=', 'staging', '*'])('a well-formed entry %j has no problem', (entry) => {
    expect(accountSelectorProblem(entry)).toBeUndefined();
  });
});

describe('large-orgs: rules validated against the catalogue', () => {
  test('entries that name nothing in the snapshot are one warning each, naming the rule and the entry; entries that select something are not', () => {
    const rules = [
      accountRule('ok', ['ou:ou-ab12-workload1', 'tag:env=prod', 'production', '111111111111'], ['ReadOnly', 'admin']),
      accountRule('stale', ['closed-account', '333333333333', 'ou:ou-ab12-gone0000', 'tag:env=qa'], ['PowerUser']),
      rule({ name: 'group', groups: ['oncall'] }),
    ];
    expect(ruleCatalogueWarnings(rules, SNAPSHOT)).toEqual([
      'rules[1] "stale": the account "closed-account" is not in the organisation as discovered, so this entry matches nothing',
      'rules[1] "stale": the account "333333333333" is not in the organisation as discovered, so this entry matches nothing',
      'rules[1] "stale": the OU ou-ab12-gone0000 holds no account in the organisation as discovered, so this entry matches nothing',
      'rules[1] "stale": no account is tagged env=qa in the organisation as discovered, so this entry matches nothing',
      'rules[1] "stale": the permission set "PowerUser" is not in Identity Center as discovered, so this entry matches nothing',
    ]);
  });

  test('"*" never warns, even in an empty organisation', () => {
    expect(ruleCatalogueWarnings([accountRule('any', ['*'], ['*'])], { ...SNAPSHOT, accounts: [], permissionSets: [] })).toEqual([]);
  });
});

describe('large-orgs: session length against the longest window', () => {
  test('a permission set whose sessions outlast the longest window any rule allows for it gets one warning, naming that rule and what to set', () => {
    const rules = [accountRule('short-admin', ['*'], ['Admin'], { maxDurationMs: H }), accountRule('long-admin', ['production'], ['Admin'], { maxDurationMs: 4 * H })];
    const [warning, ...rest] = sessionLengthWarnings(rules, SNAPSHOT);
    expect(rest).toEqual([]);
    expect(warning).toContain('permission set "Admin": AWS sessions last up to 12h, longer than the longest window a rule allows for it (4h, rule "long-admin")');
    expect(warning).toContain('set its session duration to 4h or less');
  });

  test('no warning when a rule allows a window as long as the session, when the set has no known duration, when no rule covers it, or when every rule covering it ends sessions', () => {
    expect(sessionLengthWarnings([accountRule('ro', ['*'], ['ReadOnly'], { maxDurationMs: H })], SNAPSHOT)).toEqual([]);
    expect(sessionLengthWarnings([accountRule('billing', ['*'], ['Billing'], { maxDurationMs: H })], SNAPSHOT)).toEqual([]);
    expect(sessionLengthWarnings([accountRule('ro', ['*'], ['ReadOnly'], { maxDurationMs: 8 * H })], SNAPSHOT)).toEqual([]);
    expect(sessionLengthWarnings([accountRule('admin-ends', ['*'], ['Admin'], { maxDurationMs: H, endSessions: true })], SNAPSHOT)).toEqual([]);
  });

  test('"*" covers every permission set: each whose sessions outlast the window is reported', () => {
    const warnings = sessionLengthWarnings([accountRule('all', ['*'], ['*'], { maxDurationMs: 30 * 60_000 })], SNAPSHOT);
    expect(warnings.map((w) => w.split(':')[0])).toEqual(['permission set "ReadOnly"', 'permission set "Admin"']);
  });
});
