/** Who may act: members of Timebox's own workspace; everyone else is refused first, and a refused decision or end is audited. */
import { decideRequest } from '../../../src/app/decide-request';
import { endAccess } from '../../../src/app/end-access';
import type { SlackPerson } from '../../../src/app/ports';
import { TimeboxError } from '../../../src/domain/errors';
import { ALICE, askForAccounts, makeDeps, makePolicy, rule } from '../../support/in-memory-ports';

const GUEST: SlackPerson = { slackUserId: 'U0GUEST001', email: 'gina@contractor.example', guest: true };
const PARTNER: SlackPerson = { slackUserId: 'U0PARTNER1', email: 'otto@partner.example', teamId: 'T0PARTNER' };
const BOT: SlackPerson = { slackUserId: 'U0BOT00001', isBot: true };

/** production ReadOnly needs an approver; the outsiders are named as approvers, so only membership refuses them. */
function world() {
  const approvers = [ALICE.slackUserId, GUEST.slackUserId, PARTNER.slackUserId, BOT.slackUserId];
  const w = makeDeps({ policy: makePolicy({ rules: [rule({ name: 'prod', accountIds: ['*'], permissionSets: ['ReadOnly'], approvers })] }) });
  for (const p of [GUEST, PARTNER, BOT]) w.directory.add(p);
  return w;
}

async function refusal(promise: Promise<unknown>): Promise<TimeboxError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TimeboxError) return err;
    throw err;
  }
  throw new Error('expected a TimeboxError');
}

describe('reliability-3: membership is checked first, and refusals of non-members are audited', () => {
  test('a guest naming an unknown account is refused as a guest, not told the known accounts', async () => {
    const w = world();
    const err = await refusal(askForAccounts(w, ['sandbox'], ['ReadOnly'], { by: GUEST.slackUserId }));
    expect(err.code).toBe('not_a_member');
    expect(err.message).not.toContain('staging');
  });

  test.each([
    ['a guest', GUEST, 'guest'],
    ['a user of another workspace', PARTNER, 'another workspace'],
    ['a bot', BOT, 'bot'],
  ])('a decision and an end by %s are refused, and the audit log names who and why', async (_who, person, why) => {
    const w = world();
    const filed = await askForAccounts(w, ['production'], ['ReadOnly']);
    await refusal(decideRequest(w.deps, { requestId: filed.id, decision: 'deny', clickerSlackUserId: person.slackUserId, workspace: 'T0TIMEBOX' }));
    await refusal(endAccess(w.deps, { requestId: filed.id, bySlackUserId: person.slackUserId, workspace: 'T0TIMEBOX' }));
    const refused = (await w.store.listAudit(filed.id)).filter((e) => e.type.endsWith('_refused'));
    expect(refused.map((e) => [e.type, e.actor, e.detail])).toEqual([
      ['decision_refused', person.slackUserId, `deny: not_a_member (${why})`],
      ['end_refused', person.slackUserId, `not_a_member (${why})`],
    ]);
  });

  test('a click naming a request that does not exist writes no audit record', async () => {
    const w = world();
    await refusal(decideRequest(w.deps, { requestId: 'R-0000000000', decision: 'approve', clickerSlackUserId: GUEST.slackUserId }));
    expect(await w.store.listAudit('R-0000000000')).toEqual([]);
  });
});
