import fc from 'fast-check';
import { snapshotOf, staticCatalogue } from '../../../src/domain/catalogue-view';
import { decidingRule, evaluate } from '../../../src/domain/evaluate';
import type { GrantTarget } from '../../../src/domain/grant-target';
import type { Identity, Membership } from '../../../src/domain/identity';
import type { Policy, Rule } from '../../../src/domain/policy';
import { checkEntitlements, findRule, resolveTargets } from '../../../src/domain/rules';
import { requestable } from '../../../src/domain/type-ahead';
import { parseConfig } from '../../../src/config/load-config';
import { scaleConfigYaml } from '../../../bench/local';

const SNAPSHOT = snapshotOf({
  accounts: [
    { name: 'prod', id: '100000000001' },
    { name: 'Staging', id: '100000000002' },
    { name: 'sandbox', id: '100000000003' },
  ],
  permissionSets: ['ReadOnly', 'Admin'].map((name) => ({ name, arn: `arn:aws:sso:::permissionSet/ssoins-1/ps-${name}` })),
  groups: [{ name: 'oncall', id: 'g-1' }],
});
const TARGETS: GrantTarget[] = [
  ...SNAPSHOT.accounts.flatMap((a) => SNAPSHOT.permissionSets.map((p): GrantTarget => ({ kind: 'account', accountId: a.id, accountName: a.name, permissionSetName: p.name, permissionSetArn: p.arn }))),
  { kind: 'group', groupId: 'g-1', groupName: 'oncall' },
];
/** Requesters as a config may spell them: ids, emails (one in capitals, which never matches), duplicates, groups, "*". */
const REQUESTER_ENTRIES = ['U0ALICE000', 'alice@example.com', 'ALICE@EXAMPLE.COM', 'bob@example.com', 'bob@example.com', '@devs', 'group:Platform', 'U0CAROL000'];

const ruleArb: fc.Arbitrary<Omit<Rule, 'name'>> = fc.record({
  accountIds: fc.oneof(fc.constant<string[]>(['*']), fc.subarray(['100000000001', 'staging', 'sandbox'], { minLength: 1 })),
  permissionSets: fc.oneof(fc.constant<string[]>(['*']), fc.subarray(['ReadOnly', 'admin'], { minLength: 1 })),
  groups: fc.oneof({ weight: 4, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.constant<string[]>(['oncall']) }),
  requesters: fc.oneof({ weight: 1, arbitrary: fc.constant<string[]>(['*']) }, { weight: 6, arbitrary: fc.array(fc.constantFrom(...REQUESTER_ENTRIES), { minLength: 1, maxLength: 4 }) }),
  approvers: fc.constant(['U0BOB00000']),
  approvalsRequired: fc.constant(1),
  allowSelfApproval: fc.constant(false),
  autoApprove: fc.boolean(),
  maxDurationMs: fc.constant(3_600_000),
  breakGlass: fc.boolean(),
});
const policyArb = fc.array(ruleArb, { maxLength: 10 }).map((rules) => ({ catalogue: staticCatalogue(SNAPSHOT), durations: { minMs: 1_000 }, rules: rules.map((r, i) => ({ ...r, name: `rule-${i}` })) }) as unknown as Policy);
const membershipArb = fc.constantFrom<Membership | undefined>({ member: true }, { member: false }, { unresolved: 'Slack failed' }, undefined);
const personArb: fc.Arbitrary<Identity> = fc
  .record({
    who: fc.constantFrom<Identity>(
      { slackUserId: 'U0ALICE000', email: 'Alice@Example.com' },
      { slackUserId: 'U0BOB00000', email: 'bob@example.com' },
      { slackUserId: 'U0CAROL000' },
      { slackUserId: 'U0DAVE0000', email: 'dave@example.com' },
    ),
    devs: membershipArb,
    platform: membershipArb,
  })
  .map(({ who, devs, platform }) => ({
    ...who,
    groups: new Map<string, Membership>([...(devs ? [['@devs', devs] as [string, Membership]] : []), ...(platform ? [['group:Platform', platform] as [string, Membership]] : [])]),
  }));

/** The full evaluation's answer: the deciding rule's name, or the refusal's code. */
const fullAnswer = (policy: Policy, person: Identity, target: GrantTarget, breakGlass: boolean): string => {
  try {
    return decidingRule(evaluate(policy, person, target, breakGlass))?.name ?? 'none';
  } catch (err) {
    return (err as { code?: string }).code ?? 'error';
  }
};

describe('performance-2: rule evaluation looks only at the rules that name the requester, and decides as before', () => {
  test('for any rules (ids, emails in any case, duplicates, groups, "*"; break-glass or not) and any person, the rule a grant falls under (or the refusal) is the one the full evaluation of every rule gives', () => {
    fc.assert(
      fc.property(policyArb, personArb, fc.boolean(), (policy, person, breakGlass) => {
        for (const target of TARGETS) {
          let fast: string;
          try {
            fast = findRule(policy, person, target, breakGlass)?.name ?? 'none';
          } catch (err) {
            fast = (err as { code?: string }).code ?? 'error';
          }
          expect(fast).toBe(fullAnswer(policy, person, target, breakGlass));
        }
      }),
      { numRuns: 500 },
    );
  });

  test('a request of several grants is judged grant by grant as the full evaluation judges each: the same rules, or the same refusal', () => {
    fc.assert(
      fc.property(policyArb, personArb, (policy, person) => {
        const targets = TARGETS.filter((t) => t.kind === 'account');
        const each = targets.map((t) => fullAnswer(policy, person, t, false));
        const firstRefusal = each.find((a) => a === 'none' || a === 'group_unresolved');
        try {
          const entitlements = checkEntitlements(policy, person, targets, 60_000);
          expect(firstRefusal).toBeUndefined();
          expect(entitlements.map((e) => e.rule.name)).toEqual(each);
        } catch (err) {
          expect((err as { code?: string }).code).toBe(firstRefusal === 'none' ? 'no_matching_rule' : firstRefusal);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('an account typed by name in any case resolves to it; a name that only begins several is refused as ambiguous, naming them', () => {
    const policy = { catalogue: staticCatalogue(SNAPSHOT), rules: [], limits: { maxGrantsPerRequest: 20 } } as unknown as Policy;
    expect(resolveTargets(policy, { kind: 'account', accounts: ['STAGING', 'Prod'], permissionSets: ['readonly'] }).map((t) => t.kind === 'account' && t.accountId)).toEqual(['100000000002', '100000000001']);
    expect(() => resolveTargets(policy, { kind: 'account', accounts: ['s'], permissionSets: ['ReadOnly'] })).toThrow(/matches 2 accounts by prefix and none exactly: Staging \(100000000002\), sandbox \(100000000003\)/);
  });

  /**
   * The scale config (bench item 5: 1,000 accounts, 100 permission sets, 200 rules of 10 requesters
   * each), each rule noted when anything of it is read: which rules a decision looks at, once the
   * policy's rules have been read the first time (what is worked out once per policy).
   */
  const countedScalePolicy = () => {
    const policy = parseConfig(scaleConfigYaml(), 'scale config').policy;
    const looked = new Set<string>();
    const rules = policy.rules.map((rule) => new Proxy(rule, { get: (r, key) => (looked.add(r.name), Reflect.get(r, key)) }));
    return { policy: { ...policy, rules }, looked };
  };
  const LAST = { slackUserId: 'U0TEAM1999', email: 'team199-dev9@bench.example.com' };
  const TEN_GRANTS = { kind: 'account' as const, accounts: ['acct-0995', 'acct-0996', 'acct-0997', 'acct-0998', 'acct-0999'], permissionSets: ['PermSet099', 'PermSet000'] };

  test('a 10-grant request only the last of 200 rules covers: matched under that rule, looking at that one rule, not at all 200 for every grant', () => {
    const { policy, looked } = countedScalePolicy();
    checkEntitlements(policy, LAST, resolveTargets(policy, TEN_GRANTS), 3_600_000);
    looked.clear();
    const entitlements = checkEntitlements(policy, LAST, resolveTargets(policy, TEN_GRANTS), 3_600_000);
    expect(entitlements.map((e) => e.rule.name)).toEqual(Array(10).fill('team-199'));
    expect([...looked]).toEqual(['team-199']);
  });

  test('opening the form for a new person no rule names: nothing is listed first, without looking at any of the 200 rules', () => {
    const { policy, looked } = countedScalePolicy();
    const snapshot = policy.catalogue.current();
    requestable(policy, { slackUserId: 'U0NEW00001', email: 'new@bench.example.com' });
    looked.clear();
    const may = requestable(policy, { slackUserId: 'U0NEW00002', email: 'newer@bench.example.com' });
    expect(snapshot.permissionSets.filter((p) => may.permissionSet(p))).toEqual([]);
    expect([...looked]).toEqual([]);
  });
});
