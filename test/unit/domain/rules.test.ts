import fc from 'fast-check';
import { TimeboxError } from '../../../src/domain/errors';
import type { Account, PermissionSet, Person, Policy, Rule } from '../../../src/domain/policy';
import { checkApprover, checkCanEnd, checkEntitlement, findRule, personMatches, resolveAccount, resolvePermissionSet } from '../../../src/domain/rules';

const M = 60_000;
const H = 60 * M;

const STAGING: Account = { name: 'staging', id: '111111111111' };
const PRODUCTION: Account = { name: 'production', id: '222222222222' };
const READ_ONLY: PermissionSet = { name: 'ReadOnly', arn: 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1111111111111111' };
const ADMIN: PermissionSet = { name: 'Admin', arn: 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222' };

function rule(overrides: Partial<Rule> & { name: string }): Rule {
  return {
    accountIds: ['*'],
    permissionSets: ['*'],
    requesters: ['*'],
    approvers: [],
    approvalsRequired: 1,
    allowSelfApproval: false,
    autoApprove: false,
    maxDurationMs: H,
    ...overrides,
  };
}

/** timebox.example.yaml after config/ has normalised it. */
const EXAMPLE_POLICY: Policy = {
  accounts: [STAGING, PRODUCTION],
  permissionSets: [READ_ONLY, ADMIN],
  durations: { defaultMs: H, minMs: 15 * M, pendingExpiryMs: 24 * H },
  rules: [
    rule({ name: 'staging-readonly', accountIds: [STAGING.id], permissionSets: ['ReadOnly'], autoApprove: true, maxDurationMs: 8 * H }),
    rule({ name: 'prod-admin', accountIds: [PRODUCTION.id], permissionSets: ['Admin'], approvers: ['alice@example.com', 'U0BOB00000'], maxDurationMs: H }),
  ],
};

const ALICE: Person = { slackUserId: 'U0ALICE000', email: 'Alice@Example.com', name: 'Alice' };
const BOB: Person = { slackUserId: 'U0BOB00000', email: 'bob@example.com' };
const CAROL: Person = { slackUserId: 'U0CAROL000', email: 'carol@example.com' };
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

describe('resolveAccount', () => {
  test.each(['staging', 'STAGING', 'Staging', '  staging  '])('finds %j by name, case-insensitively', (text) => {
    expect(resolveAccount(EXAMPLE_POLICY, text)).toEqual(STAGING);
  });

  test('finds an account by its 12-digit id', () => {
    expect(resolveAccount(EXAMPLE_POLICY, '222222222222')).toEqual(PRODUCTION);
    expect(resolveAccount(EXAMPLE_POLICY, ' 111111111111 ')).toEqual(STAGING);
  });

  test('an unknown account is unknown_account, quoting the input and listing the known names', () => {
    const err = timeboxErrorFrom(() => resolveAccount(EXAMPLE_POLICY, 'prod'));
    expect(err.code).toBe('unknown_account');
    expect(err.message).toContain('"prod"');
    expect(err.message).toContain('staging, production');
  });

  test('a prefix of an id is not the account', () => {
    expect(timeboxErrorFrom(() => resolveAccount(EXAMPLE_POLICY, '11111111111')).code).toBe('unknown_account');
  });

  test('a long list of known accounts is shortened', () => {
    const accounts = Array.from({ length: 25 }, (_, i) => ({ name: `acct${i}`, id: String(100000000000 + i) }));
    const err = timeboxErrorFrom(() => resolveAccount({ ...EXAMPLE_POLICY, accounts }, 'nope'));
    expect(err.message).toContain('acct19');
    expect(err.message).not.toContain('acct20');
    expect(err.message).toContain('and 5 more');
  });
});

describe('resolvePermissionSet', () => {
  test.each(['ReadOnly', 'readonly', 'READONLY', ' ReadOnly '])('finds %j by name, case-insensitively, returning the canonical name', (text) => {
    expect(resolvePermissionSet(EXAMPLE_POLICY, text)).toEqual(READ_ONLY);
  });

  test('an unknown permission set is unknown_permission_set listing the known names', () => {
    const err = timeboxErrorFrom(() => resolvePermissionSet(EXAMPLE_POLICY, 'PowerUser'));
    expect(err.code).toBe('unknown_permission_set');
    expect(err.message).toContain('"PowerUser"');
    expect(err.message).toContain('ReadOnly, Admin');
  });

  test('a permission set is not found by its ARN', () => {
    expect(timeboxErrorFrom(() => resolvePermissionSet(EXAMPLE_POLICY, ADMIN.arn)).code).toBe('unknown_permission_set');
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
  test('finds the matching rule of the example policy', () => {
    expect(findRule(EXAMPLE_POLICY, CAROL, STAGING, READ_ONLY)?.name).toBe('staging-readonly');
    expect(findRule(EXAMPLE_POLICY, CAROL, PRODUCTION, ADMIN)?.name).toBe('prod-admin');
  });

  test('no rule covers a combination nobody listed', () => {
    expect(findRule(EXAMPLE_POLICY, CAROL, PRODUCTION, READ_ONLY)).toBeUndefined();
    expect(findRule(EXAMPLE_POLICY, CAROL, STAGING, ADMIN)).toBeUndefined();
  });

  test('the first matching rule in file order wins, even if a later one is more generous', () => {
    const policy: Policy = {
      ...EXAMPLE_POLICY,
      rules: [
        rule({ name: 'oncall-short', requesters: ['carol@example.com'], maxDurationMs: 30 * M, autoApprove: true }),
        rule({ name: 'everyone-long', maxDurationMs: 8 * H, approvers: ['U0BOB00000'] }),
      ],
    };
    expect(findRule(policy, CAROL, PRODUCTION, ADMIN)?.name).toBe('oncall-short');
    expect(findRule(policy, BOB, PRODUCTION, ADMIN)?.name).toBe('everyone-long');
    const reversed: Policy = { ...policy, rules: [...policy.rules].reverse() };
    expect(findRule(reversed, CAROL, PRODUCTION, ADMIN)?.name).toBe('everyone-long');
  });

  test('requesters are matched by email (case-insensitive), by Slack id, or "*"', () => {
    const policy: Policy = {
      ...EXAMPLE_POLICY,
      rules: [
        rule({ name: 'by-email', requesters: ['alice@example.com'], accountIds: [STAGING.id] }),
        rule({ name: 'by-id', requesters: ['U0BOB00000'], accountIds: [STAGING.id] }),
        rule({ name: 'anyone-prod', requesters: ['*'], accountIds: [PRODUCTION.id] }),
      ],
    };
    expect(findRule(policy, ALICE, STAGING, ADMIN)?.name).toBe('by-email');
    expect(findRule(policy, BOB, STAGING, ADMIN)?.name).toBe('by-id');
    expect(findRule(policy, CAROL, STAGING, ADMIN)).toBeUndefined();
    expect(findRule(policy, NO_EMAIL, PRODUCTION, ADMIN)?.name).toBe('anyone-prod');
  });

  test('"*" in accountIds and permissionSets covers every account and permission set', () => {
    const policy: Policy = { ...EXAMPLE_POLICY, rules: [rule({ name: 'all', requesters: ['U0BOB00000'] })] };
    for (const account of [STAGING, PRODUCTION]) {
      for (const ps of [READ_ONLY, ADMIN]) expect(findRule(policy, BOB, account, ps)?.name).toBe('all');
    }
  });

  test('a rule naming an account by name, not id, does not match (config must resolve names to ids)', () => {
    const policy: Policy = { ...EXAMPLE_POLICY, rules: [rule({ name: 'by-name', accountIds: ['staging'] })] };
    expect(findRule(policy, BOB, STAGING, READ_ONLY)).toBeUndefined();
  });
});

describe('checkEntitlement', () => {
  test('no rule → no_matching_rule naming the permission set and account', () => {
    const err = timeboxErrorFrom(() => checkEntitlement(EXAMPLE_POLICY, CAROL, PRODUCTION, READ_ONLY, H));
    expect(err.code).toBe('no_matching_rule');
    expect(err.message).toContain('ReadOnly');
    expect(err.message).toContain('production');
    expect(err.message).toContain('222222222222');
  });

  test('below the minimum → duration_too_short naming the minimum', () => {
    const err = timeboxErrorFrom(() => checkEntitlement(EXAMPLE_POLICY, CAROL, STAGING, READ_ONLY, 10 * M));
    expect(err.code).toBe('duration_too_short');
    expect(err.message).toContain('10m');
    expect(err.message).toContain('15m');
  });

  test('exactly the minimum is allowed', () => {
    expect(checkEntitlement(EXAMPLE_POLICY, CAROL, STAGING, READ_ONLY, 15 * M).durationMs).toBe(15 * M);
  });

  test("above the rule's maximum → duration_too_long naming the maximum and the rule", () => {
    const err = timeboxErrorFrom(() => checkEntitlement(EXAMPLE_POLICY, CAROL, PRODUCTION, ADMIN, 2 * H));
    expect(err.code).toBe('duration_too_long');
    expect(err.message).toContain('2h is above the maximum of 1h');
    expect(err.message).toContain('prod-admin');
  });

  test("exactly the rule's maximum is allowed, under that rule", () => {
    const ent = checkEntitlement(EXAMPLE_POLICY, CAROL, STAGING, READ_ONLY, 8 * H);
    expect(ent.rule.name).toBe('staging-readonly');
    expect(ent.durationMs).toBe(8 * H);
    expect(() => checkEntitlement(EXAMPLE_POLICY, CAROL, STAGING, READ_ONLY, 8 * H + 1_000)).toThrow(TimeboxError);
  });

  test("the first matching rule's maximum applies, even if a later rule would allow longer", () => {
    const policy: Policy = {
      ...EXAMPLE_POLICY,
      rules: [rule({ name: 'short', maxDurationMs: 30 * M, autoApprove: true }), rule({ name: 'long', maxDurationMs: 8 * H, autoApprove: true })],
    };
    expect(timeboxErrorFrom(() => checkEntitlement(policy, CAROL, STAGING, ADMIN, H)).code).toBe('duration_too_long');
  });
});

describe('checkApprover', () => {
  const prodAdmin = EXAMPLE_POLICY.rules[1]!;

  test('an approver listed by email (any case) may decide', () => {
    expect(() => checkApprover(prodAdmin, CAROL, ALICE)).not.toThrow();
  });

  test('an approver listed by Slack id may decide', () => {
    expect(() => checkApprover(prodAdmin, CAROL, BOB)).not.toThrow();
  });

  test('someone not listed is not_an_approver, naming the rule', () => {
    const err = timeboxErrorFrom(() => checkApprover(prodAdmin, ALICE, CAROL));
    expect(err.code).toBe('not_an_approver');
    expect(err.message).toContain('prod-admin');
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
    const selfOk: Rule = { ...prodAdmin, allowSelfApproval: true };
    expect(() => checkApprover(selfOk, BOB, BOB)).not.toThrow();
  });

  test('allowSelfApproval does not make a non-approver an approver', () => {
    const selfOk: Rule = { ...prodAdmin, allowSelfApproval: true };
    expect(timeboxErrorFrom(() => checkApprover(selfOk, CAROL, CAROL)).code).toBe('not_an_approver');
  });
});

describe('rule properties', () => {
  const ACCOUNT_POOL: Account[] = Array.from({ length: 5 }, (_, i) => ({ name: `acct${i}`, id: String(100000000000 + i) }));
  const PS_POOL: PermissionSet[] = ['ReadOnly', 'Admin', 'PowerUser', 'Billing'].map((name) => ({ name, arn: `arn:${name}` }));
  const PEOPLE: Person[] = [ALICE, BOB, CAROL, NO_EMAIL];
  const PEOPLE_ENTRIES = ['alice@example.com', 'U0BOB00000', 'carol@example.com', 'U0NOMAIL00', 'dave@example.com', 'U0ZED00000'];

  const listOrStar = <T>(pool: T[]) =>
    fc.oneof({ weight: 1, arbitrary: fc.constant<(T | '*')[]>(['*']) }, { weight: 4, arbitrary: fc.subarray(pool, { minLength: 1 }) as fc.Arbitrary<(T | '*')[]> });

  const ruleArb: fc.Arbitrary<Rule> = fc.record({
    name: fc.string({ minLength: 1, maxLength: 8 }),
    accountIds: listOrStar(ACCOUNT_POOL.map((a) => a.id)),
    permissionSets: listOrStar(PS_POOL.map((p) => p.name)),
    requesters: listOrStar(PEOPLE_ENTRIES),
    approvers: fc.subarray(PEOPLE_ENTRIES),
    approvalsRequired: fc.integer({ min: 1, max: 3 }),
    allowSelfApproval: fc.boolean(),
    autoApprove: fc.boolean(),
    maxDurationMs: fc.integer({ min: 1, max: 48 * 60 }).map((m) => m * M),
  });

  const policyArb: fc.Arbitrary<Policy> = fc.record({
    accounts: fc.constant(ACCOUNT_POOL),
    permissionSets: fc.constant(PS_POOL),
    durations: fc.record({ defaultMs: fc.constant(H), minMs: fc.integer({ min: 1, max: 60 }).map((m) => m * M), pendingExpiryMs: fc.constant(24 * H) }),
    rules: fc.array(ruleArb, { maxLength: 6 }),
  });

  test('a rule never matches an account, permission set or requester outside its lists', () => {
    fc.assert(
      fc.property(policyArb, fc.constantFrom(...ACCOUNT_POOL), fc.constantFrom(...PS_POOL), fc.constantFrom(...PEOPLE), (policy, account, ps, person) => {
        const found = findRule(policy, person, account, ps);
        if (found === undefined) {
          // Nothing matched: no rule covers all three.
          return policy.rules.every(
            (r) =>
              !(r.accountIds.includes('*') || r.accountIds.includes(account.id)) ||
              !(r.permissionSets.includes('*') || r.permissionSets.includes(ps.name)) ||
              !personMatches(r.requesters, person),
          );
        }
        const first = policy.rules.findIndex((r) => r === found);
        return (
          (found.accountIds.includes('*') || found.accountIds.includes(account.id)) &&
          (found.permissionSets.includes('*') || found.permissionSets.includes(ps.name)) &&
          (found.requesters.includes('*') || found.requesters.includes(person.slackUserId) || (person.email !== undefined && found.requesters.includes(person.email.toLowerCase()))) &&
          // and no earlier rule would have matched
          policy.rules.slice(0, first).every((r) => findRule({ ...policy, rules: [r] }, person, account, ps) === undefined)
        );
      }),
      { numRuns: 1_000 },
    );
  });

  test("an allowed entitlement's duration is never above its rule's max nor below the policy minimum", () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.constantFrom(...ACCOUNT_POOL),
        fc.constantFrom(...PS_POOL),
        fc.constantFrom(...PEOPLE),
        fc.integer({ min: 1, max: 72 * 60 * 60 }).map((s) => s * 1_000),
        (policy, account, ps, person, durationMs) => {
          let ent;
          try {
            ent = checkEntitlement(policy, person, account, ps, durationMs);
          } catch (err) {
            return err instanceof TimeboxError && ['no_matching_rule', 'duration_too_short', 'duration_too_long'].includes(err.code);
          }
          return (
            ent.durationMs === durationMs &&
            ent.durationMs <= ent.rule.maxDurationMs &&
            ent.durationMs >= policy.durations.minMs &&
            ent.rule === findRule(policy, person, account, ps)
          );
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('checkCanEnd', () => {
  const prodAdmin = EXAMPLE_POLICY.rules[1]!;

  test('the requester may end their own access, whatever the rule says about approvers', () => {
    expect(() => checkCanEnd(prodAdmin, CAROL, CAROL)).not.toThrow();
    expect(() => checkCanEnd(undefined, CAROL, CAROL)).not.toThrow();
  });

  test("an approver of the rule may end someone's access", () => {
    expect(() => checkCanEnd(prodAdmin, CAROL, ALICE)).not.toThrow();
    expect(() => checkCanEnd(prodAdmin, CAROL, BOB)).not.toThrow();
  });

  test('anyone else is not_allowed_to_end, naming the rule', () => {
    const err = timeboxErrorFrom(() => checkCanEnd(prodAdmin, ALICE, CAROL));
    expect(err.code).toBe('not_allowed_to_end');
    expect(err.message).toContain('prod-admin');
  });

  test('when the rule is gone from the config, only the requester may end it', () => {
    expect(timeboxErrorFrom(() => checkCanEnd(undefined, CAROL, ALICE)).code).toBe('not_allowed_to_end');
  });
});
