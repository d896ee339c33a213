import fc from 'fast-check';
import { isTimeboxError } from '../../../src/domain/errors';
import { evaluate } from '../../../src/domain/evaluate';
import { explainWhy, firstMatches } from '../../../src/domain/explain';
import type { GrantTarget } from '../../../src/domain/grant-target';
import type { Identity, Membership } from '../../../src/domain/identity';
import type { Account, Group, PermissionSet, Policy, Rule } from '../../../src/domain/policy';
import { checkEntitlements, findRule, recheckGrant } from '../../../src/domain/rules';

const H = 3_600_000;
const ACCOUNTS: Account[] = Array.from({ length: 4 }, (_, i) => ({ name: `acct${i}`, id: String(100000000000 + i) }));
const SETS: PermissionSet[] = ['ReadOnly', 'Admin', 'Billing'].map((name) => ({ name, arn: `arn:${name}` }));
const GROUPS: Group[] = ['oncall', 'dba'].map((name, i) => ({ name, id: `g-${i}` }));
const TARGETS: GrantTarget[] = [
  ...ACCOUNTS.flatMap((a) => SETS.map((p): GrantTarget => ({ kind: 'account', accountId: a.id, accountName: a.name, permissionSetName: p.name, permissionSetArn: p.arn }))),
  ...GROUPS.map((g): GrantTarget => ({ kind: 'group', groupId: g.id, groupName: g.name })),
];
/** People by id or email, and groups of both kinds. */
const PERSON_ENTRIES = ['alice@example.com', 'U0BOB00000', 'carol@example.com'];
const GROUP_ENTRIES = ['@devs', 'S0SRE00000', 'group:Platform Engineers'];
const ENTRIES = [...PERSON_ENTRIES, ...GROUP_ENTRIES];

const listOrStar = <T>(pool: T[]) =>
  fc.oneof({ weight: 1, arbitrary: fc.constant<(T | '*')[]>(['*']) }, { weight: 4, arbitrary: fc.subarray(pool, { minLength: 1 }) as fc.Arbitrary<(T | '*')[]> });
const ruleArb = (kind: 'account' | 'group'): fc.Arbitrary<Omit<Rule, 'name'>> =>
  fc.record({
    accountIds: kind === 'account' ? listOrStar(ACCOUNTS.map((a) => a.id)) : fc.constant([]),
    permissionSets: kind === 'account' ? listOrStar(SETS.map((p) => p.name)) : fc.constant([]),
    groups: kind === 'group' ? listOrStar(GROUPS.map((g) => g.name)) : fc.constant([]),
    requesters: listOrStar(ENTRIES),
    approvers: fc.subarray(ENTRIES, { minLength: 1 }),
    approvalsRequired: fc.integer({ min: 1, max: 3 }),
    allowSelfApproval: fc.boolean(),
    autoApprove: fc.boolean(),
    maxDurationMs: fc.integer({ min: 1, max: 8 }).map((h) => h * H),
  });
const policyArb: fc.Arbitrary<Policy> = fc.array(fc.oneof(ruleArb('account'), ruleArb('group')), { maxLength: 6 }).map((rules) => ({
  accounts: ACCOUNTS,
  permissionSets: SETS,
  groups: GROUPS,
  limits: { maxGrantsPerRequest: 10, maxPendingPerRequester: 20 },
  allowGuests: false,
  durations: { defaultMs: H, minMs: 1, pendingExpiryMs: 24 * H },
  rules: rules.map((r, i) => ({ ...r, name: `rule-${i}` })),
}));
const membershipArb: fc.Arbitrary<Membership | undefined> = fc.constantFrom<Membership | undefined>({ member: true }, { member: false }, { unresolved: 'Slack failed' }, undefined);
const identityArb: fc.Arbitrary<Identity> = fc
  .record({
    who: fc.constantFrom({ slackUserId: 'U0ALICE000', email: 'alice@example.com' }, { slackUserId: 'U0BOB00000', email: 'bob@example.com' }, { slackUserId: 'U0DAVE0000' }),
    groups: fc.tuple(...GROUP_ENTRIES.map(() => membershipArb)),
  })
  .map(({ who, groups }) => ({
    ...who,
    groups: new Map(GROUP_ENTRIES.flatMap((entry, i): Array<[string, Membership]> => (groups[i] ? [[entry, groups[i]]] : []))),
  }));

/** Written apart from the code under test: does a list name the person, not, or can it not be told? */
function reference(list: string[], person: Identity): 'yes' | 'no' | 'unknown' {
  if (list.includes('*') || list.includes(person.slackUserId) || (person.email !== undefined && list.includes(person.email))) return 'yes';
  const groups = list.filter((e) => GROUP_ENTRIES.includes(e)).map((e) => person.groups?.get(e));
  if (groups.some((m) => m !== undefined && 'member' in m && m.member)) return 'yes';
  return groups.some((m) => m === undefined || 'unresolved' in m) ? 'unknown' : 'no';
}
const covers = (r: Rule, t: GrantTarget) =>
  t.kind === 'group'
    ? r.groups.includes('*') || r.groups.includes(t.groupName)
    : (r.accountIds.includes('*') || r.accountIds.includes(t.accountId)) && (r.permissionSets.includes('*') || r.permissionSets.includes(t.permissionSetName));

describe('explain-audit: evaluate is the one decision', () => {
  test('each verdict is "matched" exactly when the rule covers the target and its requesters name the person, and "unknown" only when a group cannot be told', () => {
    fc.assert(
      fc.property(policyArb, fc.constantFrom(...TARGETS), identityArb, (policy, target, person) => {
        for (const { rule, verdict } of evaluate(policy, person, target).verdicts) {
          const expected = !covers(rule, target) ? 'not_covered' : { yes: 'matched', no: 'not_listed', unknown: 'unknown' }[reference(rule.requesters, person)];
          if (verdict.kind !== expected) return false;
        }
        return true;
      }),
      { numRuns: 1_000 },
    );
  });

  test("evaluate's deciding rule is exactly what findRule, checkEntitlements and the click-time re-check decide, and a group that cannot be checked refuses in all of them", () => {
    fc.assert(
      fc.property(policyArb, fc.constantFrom(...TARGETS), identityArb, (policy, target, person) => {
        const { decision } = evaluate(policy, person, target);
        const outcome = <T>(f: () => T): T | string => {
          try {
            return f();
          } catch (err) {
            if (!isTimeboxError(err)) throw err;
            return err.code;
          }
        };
        const found = outcome(() => findRule(policy, person, target));
        const entitled = outcome(() => checkEntitlements(policy, person, [target], 1)[0]?.rule);
        if (decision.kind === 'unknown') return found === 'group_unresolved' && entitled === 'group_unresolved';
        if (decision.kind === 'refused') return found === undefined && entitled === 'no_matching_rule';
        const recheck = recheckGrant(policy, person, { ruleName: decision.rule.name, target, approvalsRequired: 0 }, 1);
        // And the explanation names the same rule.
        const why = explainWhy(evaluate(policy, person, target), 'them').sections[0]!.lines[0]!;
        return found === decision.rule && entitled === decision.rule && recheck.ok && why.startsWith(`Rule "${decision.rule.name}" decides`);
      }),
      { numRuns: 1_000 },
    );
  });

  test('whocan marks as first match for an entry exactly the rule that decides for someone named only by that entry', () => {
    fc.assert(
      fc.property(policyArb, fc.constantFrom(...TARGETS), (policy, target) => {
        for (const { rule, firstFor } of firstMatches(policy, target)) {
          for (const entry of firstFor) {
            const groups = new Map<string, Membership>(GROUP_ENTRIES.map((g) => [g, { member: g === entry }]));
            const person: Identity = entry.includes('@') && !entry.startsWith('@') ? { slackUserId: '', email: entry, groups } : { slackUserId: entry.startsWith('U') ? entry : '', groups };
            if (findRule(policy, person, target) !== rule) return false;
          }
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });
});
