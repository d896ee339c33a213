import { snapshotOf, staticCatalogue } from '../../../src/domain/catalogue-view';
import fc from 'fast-check';
import { TimeboxError } from '../../../src/domain/errors';
import type { AccountTarget, GrantTarget, GroupTarget } from '../../../src/domain/grant-target';
import { samePerson, type Account, type Group, type PermissionSet, type Person, type Policy, type Rule } from '../../../src/domain/policy';
import {
  checkApprover,
  checkCanEnd,
  checkEntitlements,
  findRule,
  personMatches,
  resolveAccount,
  resolveGroup,
  resolvePermissionSet,
  resolveTargets,
} from '../../../src/domain/rules';

const M = 60_000;
const H = 60 * M;

const STAGING: Account = { name: 'staging', id: '111111111111' };
const PRODUCTION: Account = { name: 'production', id: '222222222222' };
const SANDBOX: Account = { name: 'sandbox', id: '333333333333' };
const READ_ONLY: PermissionSet = { name: 'ReadOnly', arn: 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1111111111111111' };
const ADMIN: PermissionSet = { name: 'Admin', arn: 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222' };
const ONCALL: Group = { name: 'oncall', id: '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000001' };
const DB_ADMINS: Group = { name: 'DbAdmins', id: '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000002' };

const accountTarget = (a: Account, p: PermissionSet): AccountTarget => ({
  kind: 'account',
  accountId: a.id,
  accountName: a.name,
  permissionSetName: p.name,
  permissionSetArn: p.arn,
});
const groupTarget = (g: Group): GroupTarget => ({ kind: 'group', groupId: g.id, groupName: g.name });

function rule(overrides: Partial<Rule> & { name: string }): Rule {
  return {
    accountIds: ['*'],
    permissionSets: ['*'],
    groups: [],
    requesters: ['*'],
    approvers: [],
    approvalsRequired: 1,
    allowSelfApproval: false,
    autoApprove: false,
    maxDurationMs: H,
    ...overrides,
  };
}
const groupRule = (overrides: Partial<Rule> & { name: string; groups: string[] }): Rule => rule({ accountIds: [], permissionSets: [], ...overrides });

/** timebox.example.yaml after config/ has normalised it, plus two groups and a group rule. */
const LISTS = { accounts: [STAGING, PRODUCTION, SANDBOX], permissionSets: [READ_ONLY, ADMIN], groups: [ONCALL, DB_ADMINS] };
const SNAPSHOT = snapshotOf(LISTS);
const POLICY: Policy = {
  catalogue: staticCatalogue(SNAPSHOT),
  limits: { maxGrantsPerRequest: 10, maxPendingPerRequester: 20 },
  allowGuests: false,
  durations: { defaultMs: H, minMs: 15 * M, pendingExpiryMs: 24 * H },
  rules: [
    rule({ name: 'staging-readonly', accountIds: [STAGING.id, SANDBOX.id], permissionSets: ['ReadOnly'], autoApprove: true, maxDurationMs: 8 * H }),
    rule({ name: 'prod-admin', accountIds: [PRODUCTION.id], permissionSets: ['Admin', 'ReadOnly'], approvers: ['alice@example.com', 'U0BOB00000'], maxDurationMs: H }),
    groupRule({ name: 'oncall', groups: ['oncall'], approvers: ['U0DAVE0000'], maxDurationMs: 4 * H }),
  ],
};

const ALICE: Person = { slackUserId: 'U0ALICE000', email: 'Alice@Example.com', name: 'Alice' };
const BOB: Person = { slackUserId: 'U0BOB00000', email: 'bob@example.com' };
const CAROL: Person = { slackUserId: 'U0CAROL000', email: 'carol@example.com' };
const DAVE: Person = { slackUserId: 'U0DAVE0000', email: 'dave@example.com' };
const NO_EMAIL: Person = { slackUserId: 'U0NOMAIL00' };

function timeboxErrorFrom(fn: () => unknown): TimeboxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TimeboxError);
    return err as TimeboxError;
  }
  throw new Error('expected a TimeboxError, but nothing was thrown');
}

const names = (targets: GrantTarget[]) => targets.map((t) => (t.kind === 'group' ? `group:${t.groupName}` : `${t.accountName}/${t.permissionSetName}`));

describe('resolveAccount', () => {
  test.each(['staging', 'STAGING', 'Staging', '  staging  '])('finds %j by name, case-insensitively', (text) => {
    expect(resolveAccount(SNAPSHOT, text)).toMatchObject(STAGING);
  });

  test('finds an account by its 12-digit id', () => {
    expect(resolveAccount(SNAPSHOT, '222222222222')).toMatchObject(PRODUCTION);
    expect(resolveAccount(SNAPSHOT, ' 111111111111 ')).toMatchObject(STAGING);
  });

  test('an unknown account is unknown_account, quoting the input and listing the known names', () => {
    const err = timeboxErrorFrom(() => resolveAccount(SNAPSHOT, 'prod'));
    expect(err.code).toBe('unknown_account');
    expect(err.message).toContain('"prod"');
    expect(err.message).toContain('staging, production, sandbox');
  });

  test('a prefix of an id is not the account', () => {
    expect(timeboxErrorFrom(() => resolveAccount(SNAPSHOT, '11111111111')).code).toBe('unknown_account');
  });

  test('a long list of known accounts is shortened', () => {
    const accounts = Array.from({ length: 25 }, (_, i) => ({ name: `acct${i}`, id: String(100000000000 + i) }));
    const err = timeboxErrorFrom(() => resolveAccount(snapshotOf({ ...LISTS, accounts }), 'nope'));
    expect(err.message).toContain('acct19');
    expect(err.message).not.toContain('acct20');
    expect(err.message).toContain('and 5 more');
  });
});

describe('resolvePermissionSet', () => {
  test.each(['ReadOnly', 'readonly', 'READONLY', ' ReadOnly '])('finds %j by name, case-insensitively, returning the canonical name', (text) => {
    expect(resolvePermissionSet(SNAPSHOT, text)).toEqual(READ_ONLY);
  });

  test('an unknown permission set is unknown_permission_set listing the known names', () => {
    const err = timeboxErrorFrom(() => resolvePermissionSet(SNAPSHOT, 'PowerUser'));
    expect(err.code).toBe('unknown_permission_set');
    expect(err.message).toContain('"PowerUser"');
    expect(err.message).toContain('ReadOnly, Admin');
  });

  test('a permission set is not found by its ARN', () => {
    expect(timeboxErrorFrom(() => resolvePermissionSet(SNAPSHOT, ADMIN.arn)).code).toBe('unknown_permission_set');
  });
});

describe('resolveGroup', () => {
  test.each(['oncall', 'ONCALL', ' OnCall '])('finds %j by name, case-insensitively, returning the canonical name', (text) => {
    expect(resolveGroup(SNAPSHOT, text)).toEqual(ONCALL);
  });

  test('finds a group by its Identity Store id', () => {
    expect(resolveGroup(SNAPSHOT, DB_ADMINS.id)).toEqual(DB_ADMINS);
  });

  test('an unknown group is unknown_group, quoting the input and listing the known groups', () => {
    const err = timeboxErrorFrom(() => resolveGroup(SNAPSHOT, 'admins'));
    expect(err.code).toBe('unknown_group');
    expect(err.message).toContain('"admins"');
    expect(err.message).toContain('oncall, DbAdmins');
  });

  test('with no groups configured, the refusal says so', () => {
    const err = timeboxErrorFrom(() => resolveGroup(snapshotOf({ ...LISTS, groups: [] }), 'oncall'));
    expect(err.code).toBe('unknown_group');
    expect(err.message).toContain('No groups are configured');
  });
});

describe('resolveTargets', () => {
  test('one account and one permission set → one grant, carrying names and ids', () => {
    expect(resolveTargets(POLICY, { kind: 'account', accounts: ['staging'], permissionSets: ['readonly'] })).toEqual([accountTarget(STAGING, READ_ONLY)]);
  });

  test('accounts × permission sets → one grant per pair', () => {
    const targets = resolveTargets(POLICY, { kind: 'account', accounts: ['staging', 'production'], permissionSets: ['ReadOnly', 'Admin'] });
    expect(names(targets).sort()).toEqual(['production/Admin', 'production/ReadOnly', 'staging/Admin', 'staging/ReadOnly']);
  });

  test('the same account or permission set named twice (by name, case or id) is one grant', () => {
    const targets = resolveTargets(POLICY, { kind: 'account', accounts: ['staging', 'STAGING', '111111111111'], permissionSets: ['ReadOnly', 'readonly'] });
    expect(targets).toEqual([accountTarget(STAGING, READ_ONLY)]);
  });

  test('groups → one grant per group, duplicates folded', () => {
    const targets = resolveTargets(POLICY, { kind: 'group', groups: ['oncall', 'DbAdmins', 'ONCALL', ONCALL.id] });
    expect(targets).toEqual([groupTarget(ONCALL), groupTarget(DB_ADMINS)]);
  });

  test('one unknown name refuses the whole request, naming it', () => {
    const err = timeboxErrorFrom(() => resolveTargets(POLICY, { kind: 'account', accounts: ['staging', 'dev'], permissionSets: ['ReadOnly'] }));
    expect(err.code).toBe('unknown_account');
    expect(err.message).toContain('"dev"');
    expect(timeboxErrorFrom(() => resolveTargets(POLICY, { kind: 'group', groups: ['oncall', 'nobody'] })).code).toBe('unknown_group');
  });

  test('more grants than limits.maxGrantsPerRequest → too_many_grants, giving the count and the limit and naming the setting', () => {
    const policy: Policy = { ...POLICY, limits: { ...POLICY.limits, maxGrantsPerRequest: 5 } };
    const err = timeboxErrorFrom(() => resolveTargets(policy, { kind: 'account', accounts: ['staging', 'production', 'sandbox'], permissionSets: ['ReadOnly', 'Admin'] }));
    expect(err.code).toBe('too_many_grants');
    expect(err.message).toContain('6');
    expect(err.message).toContain('5');
    expect(err.message).toContain('limits.maxGrantsPerRequest');
  });

  test('exactly at the limit is fine, and duplicates do not count against it', () => {
    const policy: Policy = { ...POLICY, limits: { ...POLICY.limits, maxGrantsPerRequest: 2 } };
    expect(resolveTargets(policy, { kind: 'account', accounts: ['staging', 'production'], permissionSets: ['ReadOnly'] })).toHaveLength(2);
    expect(resolveTargets(policy, { kind: 'account', accounts: ['staging', 'staging', 'STAGING'], permissionSets: ['ReadOnly', 'Admin'] })).toHaveLength(2);
  });

  test('the limit applies to groups too', () => {
    const policy: Policy = { ...POLICY, limits: { ...POLICY.limits, maxGrantsPerRequest: 1 } };
    const err = timeboxErrorFrom(() => resolveTargets(policy, { kind: 'group', groups: ['oncall', 'DbAdmins'] }));
    expect(err.code).toBe('too_many_grants');
    expect(err.message).toContain('limits.maxGrantsPerRequest');
    expect(resolveTargets(policy, { kind: 'group', groups: ['oncall', 'OnCall'] })).toEqual([groupTarget(ONCALL)]);
  });

  test('asking for nothing is invalid_command', () => {
    expect(timeboxErrorFrom(() => resolveTargets(POLICY, { kind: 'account', accounts: [], permissionSets: ['ReadOnly'] })).code).toBe('invalid_command');
    expect(timeboxErrorFrom(() => resolveTargets(POLICY, { kind: 'group', groups: [] })).code).toBe('invalid_command');
  });

  test('property: every pair asked for is there exactly once, and nothing else', () => {
    const pick = <T>(pool: T[]) => fc.array(fc.constantFrom(...pool), { minLength: 1, maxLength: 5 });
    const accountNames = [STAGING, PRODUCTION, SANDBOX].flatMap((a) => [a.name, a.name.toUpperCase(), a.id]);
    const setNames = [READ_ONLY, ADMIN].flatMap((p) => [p.name, p.name.toLowerCase()]);
    fc.assert(
      fc.property(pick(accountNames), pick(setNames), (accounts, sets) => {
        const targets = resolveTargets(POLICY, { kind: 'account', accounts, permissionSets: sets });
        const wantedAccounts = new Set(accounts.map((a) => resolveAccount(SNAPSHOT, a).id));
        const wantedSets = new Set(sets.map((p) => resolvePermissionSet(SNAPSHOT, p).arn));
        const got = targets.map((t) => (t.kind === 'account' ? `${t.accountId}|${t.permissionSetArn}` : 'group'));
        return (
          new Set(got).size === got.length &&
          got.length === wantedAccounts.size * wantedSets.size &&
          targets.every((t) => t.kind === 'account' && wantedAccounts.has(t.accountId) && wantedSets.has(t.permissionSetArn))
        );
      }),
    );
  });
});

describe('personMatches', () => {
  test('matches by Slack user id', () => {
    expect(personMatches(['U0BOB00000'], BOB)).toBe(true);
  });
  test('matches by email, whatever the case Slack reports it in', () => {
    expect(personMatches(['alice@example.com'], ALICE)).toBe(true);
    expect(personMatches(['alice@example.com'], { slackUserId: 'U0X0000000', email: 'ALICE@EXAMPLE.COM' })).toBe(true);
  });
  test('"*" matches anyone, even someone without an email', () => {
    expect(personMatches(['*'], NO_EMAIL)).toBe(true);
    expect(personMatches(['bob@example.com', '*'], CAROL)).toBe(true);
  });
  test('does not match someone who is not listed', () => {
    expect(personMatches(['alice@example.com', 'U0BOB00000'], CAROL)).toBe(false);
    expect(personMatches(['alice@example.com'], NO_EMAIL)).toBe(false);
    expect(personMatches([], ALICE)).toBe(false);
  });
  test('a Slack id is not matched case-insensitively or by prefix', () => {
    expect(personMatches(['u0bob00000'], BOB)).toBe(false);
    expect(personMatches(['U0BOB'], BOB)).toBe(false);
  });
});

describe('findRule', () => {
  test('finds the matching rule for each kind of target', () => {
    expect(findRule(POLICY, CAROL, accountTarget(STAGING, READ_ONLY))?.name).toBe('staging-readonly');
    expect(findRule(POLICY, CAROL, accountTarget(PRODUCTION, ADMIN))?.name).toBe('prod-admin');
    expect(findRule(POLICY, CAROL, groupTarget(ONCALL))?.name).toBe('oncall');
  });

  test('no rule covers a combination nobody listed, nor a group no rule names', () => {
    expect(findRule(POLICY, CAROL, accountTarget(STAGING, ADMIN))).toBeUndefined();
    expect(findRule(POLICY, CAROL, groupTarget(DB_ADMINS))).toBeUndefined();
  });

  test('an account rule never covers a group, and a group rule never covers an account, even with "*"', () => {
    const policy: Policy = {
      ...POLICY,
      rules: [rule({ name: 'every-account', accountIds: ['*'], permissionSets: ['*'] }), groupRule({ name: 'every-group', groups: ['*'] })],
    };
    expect(findRule(policy, CAROL, groupTarget(DB_ADMINS))?.name).toBe('every-group');
    expect(findRule(policy, CAROL, accountTarget(PRODUCTION, ADMIN))?.name).toBe('every-account');
    expect(findRule({ ...policy, rules: [policy.rules[1]!] }, CAROL, accountTarget(PRODUCTION, ADMIN))).toBeUndefined();
    expect(findRule({ ...policy, rules: [policy.rules[0]!] }, CAROL, groupTarget(ONCALL))).toBeUndefined();
  });

  test('the first matching rule in file order wins, even if a later one is more generous', () => {
    const policy: Policy = {
      ...POLICY,
      rules: [
        rule({ name: 'oncall-short', requesters: ['carol@example.com'], maxDurationMs: 30 * M, autoApprove: true }),
        rule({ name: 'everyone-long', maxDurationMs: 8 * H, approvers: ['U0BOB00000'] }),
      ],
    };
    expect(findRule(policy, CAROL, accountTarget(PRODUCTION, ADMIN))?.name).toBe('oncall-short');
    expect(findRule(policy, BOB, accountTarget(PRODUCTION, ADMIN))?.name).toBe('everyone-long');
    const reversed: Policy = { ...policy, rules: [...policy.rules].reverse() };
    expect(findRule(reversed, CAROL, accountTarget(PRODUCTION, ADMIN))?.name).toBe('everyone-long');
  });

  test('requesters are matched by email (case-insensitive), by Slack id, or "*"', () => {
    const policy: Policy = {
      ...POLICY,
      rules: [
        rule({ name: 'by-email', requesters: ['alice@example.com'], accountIds: [STAGING.id] }),
        rule({ name: 'by-id', requesters: ['U0BOB00000'], accountIds: [STAGING.id] }),
        rule({ name: 'anyone-prod', requesters: ['*'], accountIds: [PRODUCTION.id] }),
        groupRule({ name: 'dave-groups', requesters: ['U0DAVE0000'], groups: ['*'] }),
      ],
    };
    expect(findRule(policy, ALICE, accountTarget(STAGING, ADMIN))?.name).toBe('by-email');
    expect(findRule(policy, BOB, accountTarget(STAGING, ADMIN))?.name).toBe('by-id');
    expect(findRule(policy, CAROL, accountTarget(STAGING, ADMIN))).toBeUndefined();
    expect(findRule(policy, NO_EMAIL, accountTarget(PRODUCTION, ADMIN))?.name).toBe('anyone-prod');
    expect(findRule(policy, DAVE, groupTarget(ONCALL))?.name).toBe('dave-groups');
    expect(findRule(policy, CAROL, groupTarget(ONCALL))).toBeUndefined();
  });

  test('"*" in accountIds and permissionSets covers every account and permission set', () => {
    const policy: Policy = { ...POLICY, rules: [rule({ name: 'all', requesters: ['U0BOB00000'] })] };
    for (const account of [STAGING, PRODUCTION]) {
      for (const ps of [READ_ONLY, ADMIN]) expect(findRule(policy, BOB, accountTarget(account, ps))?.name).toBe('all');
    }
  });

  test('a rule naming an account by name (as a discovered config leaves it) matches that account, ignoring case, and no other', () => {
    const policy: Policy = { ...POLICY, rules: [rule({ name: 'by-name', accountIds: ['STAGING'], permissionSets: ['*'] })] };
    expect(findRule(policy, BOB, accountTarget(STAGING, READ_ONLY))?.name).toBe('by-name');
    expect(findRule(policy, BOB, accountTarget(PRODUCTION, READ_ONLY))).toBeUndefined();
  });
});

describe('checkEntitlements', () => {
  test('every grant is matched to its own first matching rule', () => {
    const targets = [accountTarget(STAGING, READ_ONLY), accountTarget(PRODUCTION, READ_ONLY), accountTarget(SANDBOX, READ_ONLY)];
    const ents = checkEntitlements(POLICY, CAROL, targets, H);
    expect(ents.map((e) => [e.target, e.rule.name])).toEqual([
      [targets[0], 'staging-readonly'],
      [targets[1], 'prod-admin'],
      [targets[2], 'staging-readonly'],
    ]);
  });

  test('group grants are matched to group rules', () => {
    expect(checkEntitlements(POLICY, CAROL, [groupTarget(ONCALL)], 2 * H).map((e) => e.rule.name)).toEqual(['oncall']);
  });

  test('one grant without a rule refuses the whole request, naming that grant', () => {
    const err = timeboxErrorFrom(() => checkEntitlements(POLICY, CAROL, [accountTarget(STAGING, READ_ONLY), accountTarget(STAGING, ADMIN)], H));
    expect(err.code).toBe('no_matching_rule');
    expect(err.message).toContain('Admin on staging (111111111111)');
    expect(err.message).not.toContain('ReadOnly');
  });

  test('a group no rule covers is refused, naming the group', () => {
    const err = timeboxErrorFrom(() => checkEntitlements(POLICY, CAROL, [groupTarget(ONCALL), groupTarget(DB_ADMINS)], H));
    expect(err.code).toBe('no_matching_rule');
    expect(err.message).toContain('DbAdmins');
    expect(err.message).not.toContain('oncall');
  });

  test("one grant over its own rule's maximum refuses the whole request, naming that grant, its maximum and its rule", () => {
    // 2h is within staging-readonly's 8h but above prod-admin's 1h.
    const err = timeboxErrorFrom(() => checkEntitlements(POLICY, CAROL, [accountTarget(STAGING, READ_ONLY), accountTarget(PRODUCTION, ADMIN)], 2 * H));
    expect(err.code).toBe('duration_too_long');
    expect(err.message).toContain('2h is above the maximum of 1h');
    expect(err.message).toContain('Admin on production (222222222222)');
    expect(err.message).toContain('prod-admin');
    expect(err.message).not.toContain('staging');
  });

  test('over a group rule\'s maximum names the group', () => {
    const err = timeboxErrorFrom(() => checkEntitlements(POLICY, CAROL, [groupTarget(ONCALL)], 5 * H));
    expect(err.code).toBe('duration_too_long');
    expect(err.message).toContain('group oncall');
    expect(err.message).toContain('4h');
  });

  test('below the minimum → duration_too_short naming the minimum', () => {
    const err = timeboxErrorFrom(() => checkEntitlements(POLICY, CAROL, [accountTarget(STAGING, READ_ONLY)], 10 * M));
    expect(err.code).toBe('duration_too_short');
    expect(err.message).toContain('10m');
    expect(err.message).toContain('15m');
  });

  test("exactly the minimum, and exactly a rule's maximum, are allowed", () => {
    expect(checkEntitlements(POLICY, CAROL, [accountTarget(STAGING, READ_ONLY)], 15 * M)).toHaveLength(1);
    expect(checkEntitlements(POLICY, CAROL, [accountTarget(STAGING, READ_ONLY)], 8 * H)[0]!.rule.name).toBe('staging-readonly');
    expect(() => checkEntitlements(POLICY, CAROL, [accountTarget(STAGING, READ_ONLY)], 8 * H + 1_000)).toThrow(TimeboxError);
  });

  test("the first matching rule's maximum applies, even if a later rule would allow longer", () => {
    const policy: Policy = {
      ...POLICY,
      rules: [rule({ name: 'short', maxDurationMs: 30 * M, autoApprove: true }), rule({ name: 'long', maxDurationMs: 8 * H, autoApprove: true })],
    };
    expect(timeboxErrorFrom(() => checkEntitlements(policy, CAROL, [accountTarget(STAGING, ADMIN)], H)).code).toBe('duration_too_long');
  });
});

describe('checkApprover', () => {
  const prodAdmin = POLICY.rules[1]!;
  const oncall = POLICY.rules[2]!;

  test('an approver listed by email (any case) may decide', () => {
    expect(() => checkApprover(prodAdmin, CAROL, ALICE)).not.toThrow();
  });

  test('an approver listed by Slack id may decide', () => {
    expect(() => checkApprover(prodAdmin, CAROL, BOB)).not.toThrow();
    expect(() => checkApprover(oncall, CAROL, DAVE)).not.toThrow();
  });

  test("someone not listed is not_an_approver, naming the rule; an approver of one rule is not one of another's", () => {
    const err = timeboxErrorFrom(() => checkApprover(prodAdmin, ALICE, CAROL));
    expect(err.code).toBe('not_an_approver');
    expect(err.message).toContain('prod-admin');
    const other = timeboxErrorFrom(() => checkApprover(oncall, CAROL, ALICE));
    expect(other.code).toBe('not_an_approver');
    expect(other.message).toContain('"oncall"');
  });

  test('someone without an email cannot match an email-only entry', () => {
    expect(timeboxErrorFrom(() => checkApprover(prodAdmin, CAROL, { slackUserId: 'U0ALICE999' })).code).toBe('not_an_approver');
  });

  test('an approver may not approve their own request', () => {
    expect(timeboxErrorFrom(() => checkApprover(prodAdmin, BOB, BOB)).code).toBe('self_approval');
    // Same Slack user, even if the request recorded no email.
    expect(timeboxErrorFrom(() => checkApprover(prodAdmin, { slackUserId: ALICE.slackUserId }, ALICE)).code).toBe('self_approval');
  });

  test('"*" approvers still cannot approve their own request', () => {
    const anyone = rule({ name: 'anyone', approvers: ['*'] });
    expect(() => checkApprover(anyone, CAROL, BOB)).not.toThrow();
    expect(timeboxErrorFrom(() => checkApprover(anyone, CAROL, CAROL)).code).toBe('self_approval');
  });

  test('with allowSelfApproval an approver may approve their own request', () => {
    expect(() => checkApprover({ ...prodAdmin, allowSelfApproval: true }, BOB, BOB)).not.toThrow();
  });

  test('allowSelfApproval does not make a non-approver an approver', () => {
    expect(timeboxErrorFrom(() => checkApprover({ ...prodAdmin, allowSelfApproval: true }, CAROL, CAROL)).code).toBe('not_an_approver');
  });
});

describe('checkCanEnd', () => {
  const [stagingReadonly, prodAdmin, oncall] = POLICY.rules as [Rule, Rule, Rule];

  test('the requester may end their own access, whatever the rules say about approvers, even if a rule is gone', () => {
    expect(() => checkCanEnd([prodAdmin], CAROL, CAROL)).not.toThrow();
    expect(() => checkCanEnd([undefined], CAROL, CAROL)).not.toThrow();
    expect(() => checkCanEnd([stagingReadonly, undefined, oncall], CAROL, CAROL)).not.toThrow();
  });

  test("an approver of any rule the request's grants fall under may end the request", () => {
    expect(() => checkCanEnd([stagingReadonly, prodAdmin], CAROL, ALICE)).not.toThrow();
    expect(() => checkCanEnd([stagingReadonly, prodAdmin, oncall], CAROL, DAVE)).not.toThrow();
    expect(() => checkCanEnd([undefined, oncall], CAROL, DAVE)).not.toThrow();
  });

  test('anyone else is not_allowed_to_end, naming every rule whose approvers could', () => {
    const err = timeboxErrorFrom(() => checkCanEnd([stagingReadonly, prodAdmin, oncall], CAROL, { slackUserId: 'U0EVE00000' }));
    expect(err.code).toBe('not_allowed_to_end');
    expect(err.message).toContain('"prod-admin"');
    expect(err.message).toContain('"oncall"');
    // staging-readonly is auto-approved and has no approvers: naming it would mislead.
    expect(err.message).not.toContain('staging-readonly');
  });

  test("an approver of a rule the request does not fall under may not end it", () => {
    const err = timeboxErrorFrom(() => checkCanEnd([stagingReadonly, oncall], CAROL, BOB));
    expect(err.code).toBe('not_allowed_to_end');
    expect(err.message).not.toContain('prod-admin');
  });

  test('when no rule has approvers (or the rules are gone from the config), only the requester may end it, and the refusal says so', () => {
    for (const rules of [[undefined], [stagingReadonly], [stagingReadonly, undefined]]) {
      const err = timeboxErrorFrom(() => checkCanEnd(rules, CAROL, ALICE));
      expect(err.code).toBe('not_allowed_to_end');
      expect(err.message).toBe('Only the requester can end this access.');
    }
  });

  // src bug (reported): a request whose grants share a rule (staging,production ReadOnly under one
  // rule) passes that rule once per grant, and the refusal repeats it: 'rule "x" or "x"'.
  test('a rule shared by several grants is named once in the refusal', () => {
    const err = timeboxErrorFrom(() => checkCanEnd([prodAdmin, prodAdmin], CAROL, { slackUserId: 'U0EVE00000' }));
    expect(err.message.match(/"prod-admin"/g)).toHaveLength(1);
  });
});

describe('rule properties', () => {
  const ACCOUNT_POOL: Account[] = Array.from({ length: 5 }, (_, i) => ({ name: `acct${i}`, id: String(100000000000 + i) }));
  const PS_POOL: PermissionSet[] = ['ReadOnly', 'Admin', 'PowerUser', 'Billing'].map((name) => ({ name, arn: `arn:${name}` }));
  const GROUP_POOL: Group[] = ['oncall', 'dba', 'billing'].map((name, i) => ({ name, id: `g-${i}` }));
  const PEOPLE: Person[] = [ALICE, BOB, CAROL, NO_EMAIL];
  const PEOPLE_ENTRIES = ['alice@example.com', 'U0BOB00000', 'carol@example.com', 'U0NOMAIL00', 'dave@example.com', 'U0ZED00000'];
  const TARGETS: GrantTarget[] = [...ACCOUNT_POOL.flatMap((a) => PS_POOL.map((p) => accountTarget(a, p))), ...GROUP_POOL.map(groupTarget)];

  const listOrStar = <T>(pool: T[]) =>
    fc.oneof({ weight: 1, arbitrary: fc.constant<(T | '*')[]>(['*']) }, { weight: 4, arbitrary: fc.subarray(pool, { minLength: 1 }) as fc.Arbitrary<(T | '*')[]> });

  const common = {
    name: fc.string({ minLength: 1, maxLength: 8 }),
    requesters: listOrStar(PEOPLE_ENTRIES),
    approvers: fc.subarray(PEOPLE_ENTRIES),
    approvalsRequired: fc.integer({ min: 1, max: 3 }),
    allowSelfApproval: fc.boolean(),
    autoApprove: fc.boolean(),
    maxDurationMs: fc.integer({ min: 1, max: 48 * 60 }).map((m) => m * M),
  };
  const accountRuleArb: fc.Arbitrary<Rule> = fc.record({
    ...common,
    accountIds: listOrStar(ACCOUNT_POOL.map((a) => a.id)),
    permissionSets: listOrStar(PS_POOL.map((p) => p.name)),
    groups: fc.constant([]),
  });
  const groupRuleArb: fc.Arbitrary<Rule> = fc.record({
    ...common,
    accountIds: fc.constant([]),
    permissionSets: fc.constant([]),
    groups: listOrStar(GROUP_POOL.map((g) => g.name)),
  });

  const policyArb: fc.Arbitrary<Policy> = fc.record({
    catalogue: fc.constant(staticCatalogue(snapshotOf({ accounts: ACCOUNT_POOL, permissionSets: PS_POOL, groups: GROUP_POOL }))),
    limits: fc.constant({ maxGrantsPerRequest: 10, maxPendingPerRequester: 20 }),
    allowGuests: fc.constant(false),
    durations: fc.record({ defaultMs: fc.constant(H), minMs: fc.integer({ min: 1, max: 60 }).map((m) => m * M), pendingExpiryMs: fc.constant(24 * H) }),
    rules: fc.array(fc.oneof(accountRuleArb, groupRuleArb), { maxLength: 6 }),
  });

  const covers = (r: Rule, t: GrantTarget) =>
    t.kind === 'group'
      ? r.groups.includes('*') || r.groups.includes(t.groupName)
      : (r.accountIds.includes('*') || r.accountIds.includes(t.accountId)) && (r.permissionSets.includes('*') || r.permissionSets.includes(t.permissionSetName));

  test('a rule never matches a target or requester outside its lists, and no earlier rule would have matched', () => {
    fc.assert(
      fc.property(policyArb, fc.constantFrom(...TARGETS), fc.constantFrom(...PEOPLE), (policy, target, person) => {
        const found = findRule(policy, person, target);
        const matches = (r: Rule) => covers(r, target) && personMatches(r.requesters, person);
        if (found === undefined) return policy.rules.every((r) => !matches(r));
        const first = policy.rules.indexOf(found);
        // A group rule lists no accounts, an account rule no groups: the kinds never cross.
        const kindMatches = target.kind === 'group' ? found.groups.length > 0 : found.accountIds.length > 0;
        return matches(found) && kindMatches && policy.rules.slice(0, first).every((r) => !matches(r));
      }),
      { numRuns: 1_000 },
    );
  });

  test('an allowed request has every grant under its own first matching rule, within that rule\'s max and the policy minimum', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.subarray(TARGETS, { minLength: 1, maxLength: 6 }),
        fc.constantFrom(...PEOPLE),
        fc.integer({ min: 1, max: 72 * 60 * 60 }).map((s) => s * 1_000),
        (policy, targets, person, durationMs) => {
          let ents;
          try {
            ents = checkEntitlements(policy, person, targets, durationMs);
          } catch (err) {
            if (!(err instanceof TimeboxError)) return false;
            // A refusal is right only if some grant really has no rule, or is out of bounds.
            const rules = targets.map((t) => findRule(policy, person, t));
            return (
              (err.code === 'duration_too_short' && durationMs < policy.durations.minMs) ||
              (err.code === 'no_matching_rule' && rules.some((r) => r === undefined)) ||
              (err.code === 'duration_too_long' && rules.some((r) => r !== undefined && durationMs > r.maxDurationMs))
            );
          }
          return (
            durationMs >= policy.durations.minMs &&
            ents.length === targets.length &&
            ents.every((e, i) => e.target === targets[i] && e.rule === findRule(policy, person, targets[i]!) && durationMs <= e.rule.maxDurationMs)
          );
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('samePerson', () => {
  it('is the same Slack user, or the same email in any case', () => {
    expect(samePerson({ slackUserId: 'U1' }, { slackUserId: 'U1' })).toBe(true);
    expect(samePerson({ slackUserId: 'U1', email: 'ann@example.com' }, { slackUserId: 'U2', email: 'Ann@Example.COM' })).toBe(true);
    expect(samePerson({ slackUserId: 'U1', email: 'ann@example.com' }, { slackUserId: 'U2', email: 'bob@example.com' })).toBe(false);
    // No email on one side: only the Slack id can say.
    expect(samePerson({ slackUserId: 'U1', email: 'ann@example.com' }, { slackUserId: 'U2' })).toBe(false);
  });
});
