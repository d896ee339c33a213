import fc from 'fast-check';
import type { CatalogueAccount, CatalogueSnapshot } from '../../../src/domain/catalogue';
import { staticCatalogue } from '../../../src/domain/catalogue-view';
import { decider, evaluate } from '../../../src/domain/evaluate';
import { everyTarget } from '../../../src/domain/explain';
import type { Identity, Membership } from '../../../src/domain/identity';
import type { Policy, Rule } from '../../../src/domain/policy';

/** A small organisation with OUs and tags, so rules select accounts by id, name, OU, tag and "*". */
const WORKLOADS = { id: 'ou-ab12-workload1', name: 'Workloads' };
const PROD = { id: 'ou-ab12-prod0001', name: 'Prod' };
const SANDBOX = { id: 'ou-ab12-sandbox1', name: 'Sandbox' };
const ACCOUNTS: CatalogueAccount[] = [
  { name: 'payments', id: '300000000001', ouPath: [WORKLOADS, PROD], tags: { env: 'prod', team: 'payments' } },
  { name: 'search', id: '300000000002', ouPath: [WORKLOADS], tags: { env: 'staging', team: 'search' } },
  { name: 'dev-box', id: '300000000003', ouPath: [SANDBOX], tags: { env: 'dev' } },
  { name: 'legacy', id: '300000000004', ouPath: [], tags: {} },
];
const SNAPSHOT: CatalogueSnapshot = {
  accounts: ACCOUNTS,
  permissionSets: ['ReadOnly', 'Admin', 'Billing'].map((name) => ({ name, arn: `arn:aws:sso:::permissionSet/ssoins-1/ps-${name}` })),
  groups: ['oncall', 'dba'].map((name, i) => ({ name, id: `g-${i}` })),
  source: 'discovery',
};
const ACCOUNT_ENTRIES = ['300000000001', '300000000003', 'Search', 'legacy', 'gone-account', `ou:${WORKLOADS.id}`, `ou:${PROD.id}`, 'tag:env=dev', 'tag:team=payments', 'tag:env=qa'];
const SET_ENTRIES = ['ReadOnly', 'admin', 'Billing', 'Gone'];
const GROUP_ENTRIES = ['@devs', 'S0SRE00000', 'group:Platform Engineers'];
const REQUESTER_ENTRIES = ['alice@example.com', 'U0BOB00000', 'carol@example.com', ...GROUP_ENTRIES];

const listOrStar = (pool: string[]): fc.Arbitrary<string[]> => fc.oneof({ weight: 1, arbitrary: fc.constant<string[]>(['*']) }, { weight: 5, arbitrary: fc.subarray(pool, { minLength: 1 }) });
const ruleArb = (kind: 'account' | 'group'): fc.Arbitrary<Omit<Rule, 'name'>> =>
  fc.record({
    accountIds: kind === 'account' ? listOrStar(ACCOUNT_ENTRIES) : fc.constant([]),
    permissionSets: kind === 'account' ? listOrStar(SET_ENTRIES) : fc.constant([]),
    groups: kind === 'group' ? listOrStar(SNAPSHOT.groups.map((g) => g.name)) : fc.constant([]),
    requesters: listOrStar(REQUESTER_ENTRIES),
    approvers: fc.constant(['alice@example.com']),
    approvalsRequired: fc.constant(1),
    allowSelfApproval: fc.constant(false),
    autoApprove: fc.boolean(),
    maxDurationMs: fc.constant(3_600_000),
    breakGlass: fc.boolean(),
  });
const policyArb: fc.Arbitrary<Pick<Policy, 'catalogue' | 'rules'>> = fc
  .array(fc.oneof({ weight: 3, arbitrary: ruleArb('account') }, { weight: 1, arbitrary: ruleArb('group') }), { maxLength: 8 })
  .map((rules) => ({ catalogue: staticCatalogue(SNAPSHOT), rules: rules.map((r, i) => ({ ...r, name: `rule-${i}` })) }));
const membershipArb = fc.constantFrom<Membership | undefined>({ member: true }, { member: false }, { unresolved: 'Slack failed' }, undefined);
const identityArb: fc.Arbitrary<Identity> = fc
  .record({
    who: fc.constantFrom({ slackUserId: 'U0ALICE000', email: 'alice@example.com' }, { slackUserId: 'U0BOB00000', email: 'bob@example.com' }, { slackUserId: 'U0DAVE0000' }),
    groups: fc.tuple(...GROUP_ENTRIES.map(() => membershipArb)),
  })
  .map(({ who, groups }) => ({ ...who, groups: new Map(GROUP_ENTRIES.flatMap((entry, i): Array<[string, Membership]> => (groups[i] ? [[entry, groups[i]]] : []))) }));

describe('large-orgs: available and the type-ahead compute the deciding rule only', () => {
  test('for any rules (by id, name, OU, tag or "*"; break-glass or not), person and target, the deciding-rule-only path decides exactly as the full evaluate does', () => {
    fc.assert(
      fc.property(policyArb, identityArb, fc.boolean(), (policy, person, breakGlass) => {
        const { decide, anyRuleOn } = decider(policy, person, breakGlass);
        for (const target of everyTarget(SNAPSHOT)) {
          const { decision } = evaluate(policy, person, target, breakGlass);
          expect(decide(target)).toEqual(decision);
          if (target.kind === 'account' && decision.kind !== 'refused') expect(anyRuleOn(target.accountId)).toBe(true);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
