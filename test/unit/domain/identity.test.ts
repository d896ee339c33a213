import { isTimeboxError } from '../../../src/domain/errors';
import type { Identity, Membership } from '../../../src/domain/identity';
import { checkApprover, checkCanEnd, matchesAny, personMatches } from '../../../src/domain/rules';
import type { Rule } from '../../../src/domain/policy';

const identity = (groups: Record<string, Membership>): Identity => ({ slackUserId: 'U0BOB00000', email: 'bob@example.com', groups: new Map(Object.entries(groups)) });
const rule = (approvers: string[]): Rule => ({
  name: 'r',
  accountIds: ['*'],
  permissionSets: ['*'],
  groups: [],
  requesters: ['*'],
  approvers,
  approvalsRequired: 1,
  allowSelfApproval: false,
  autoApprove: false,
  maxDurationMs: 3_600_000,
});
const CAROL = { slackUserId: 'U0CAROL000', email: 'carol@example.com' };

describe('daily-use: groups as requesters and approvers (matching a resolved identity)', () => {
  test('a member of a named Slack or Identity Center group matches; a non-member does not', () => {
    expect(personMatches(['@sre'], identity({ '@sre': { member: true } }))).toBe(true);
    expect(personMatches(['group:DBA'], identity({ 'group:DBA': { member: true } }))).toBe(true);
    expect(personMatches(['@sre', 'group:DBA'], identity({ '@sre': { member: false }, 'group:DBA': { member: false } }))).toBe(false);
  });

  test('a group that could not be resolved refuses, naming it, unless the person is named some other way', () => {
    const unresolved = identity({ '@sre': { unresolved: 'Slack failed: fatal_error' } });
    expect(() => personMatches(['@sre'], unresolved)).toThrow('Timebox could not check membership of Slack user group @sre (Slack failed: fatal_error)');
    expect(personMatches(['@sre', 'bob@example.com'], unresolved)).toBe(true);
    // Not looked up at all is no licence either.
    expect(() => personMatches(['group:DBA'], identity({}))).toThrow(/Identity Center group "DBA" \(it was not looked up\)/);
  });

  test('one rule with a failing group does not refuse someone another rule names; with no other match the failure is the answer', () => {
    const unresolved = identity({ '@sre': { unresolved: 'Slack failed' } });
    expect(matchesAny([['@sre'], ['U0BOB00000']], unresolved)).toBe(true);
    expect(() => matchesAny([['@sre'], ['alice@example.com']], unresolved)).toThrow(/could not check membership/);
    expect(() => checkCanEnd([rule(['@sre'])], CAROL, unresolved)).toThrow(/could not check membership of Slack user group @sre/);
    let code: string | undefined;
    try {
      checkApprover(rule(['@sre']), CAROL, unresolved);
    } catch (err) {
      code = isTimeboxError(err) ? err.code : undefined;
    }
    expect(code).toBe('group_unresolved');
  });
});
