/**
 * Ending sessions already issued, with in-memory ports: the step that follows a revoke under an
 * endSessions rule, and what keeps two of them on one permission set from losing each other's
 * statement when they run in different processes.
 */
import { advanceRequest } from '../../../src/app/advance-request';
import { sessionDenySid, timeboxStatements } from '../../../src/domain/session-deny';
import { FakePermissionSets } from '../../support/fake-permission-sets';
import { HOUR, MINUTE, PERMISSION_SETS, PRINCIPAL, ACCOUNTS, askForAccounts, grantStatuses, makeDeps, makePolicy, passTime, rule, stored } from '../../support/in-memory-ports';

const RO = PERMISSION_SETS.ReadOnly.arn;
const ENDS_SESSIONS = rule({ name: 'readonly-ends-sessions', accountIds: ['*'], permissionSets: ['ReadOnly'], autoApprove: true, approvalsRequired: 0, endSessions: true });

function world() {
  const permissionSets = new FakePermissionSets();
  const w = makeDeps({ permissionSets, policy: makePolicy({ rules: [ENDS_SESSIONS] }) });
  return { ...w, permissionSets };
}

describe('sessions-breakglass: ending sessions already issued (use case)', () => {
  it('two ends on one permission set, run side by side in two processes, both keep their deny statement', async () => {
    const w = world();
    const staging = await askForAccounts(w, ['staging'], ['ReadOnly']);
    const production = await askForAccounts(w, ['production'], ['ReadOnly']);
    await w.queue.runPending();
    expect(grantStatuses(await stored(w, staging.id))).toBe('1=ACTIVE');
    expect(grantStatuses(await stored(w, production.id))).toBe('1=ACTIVE');

    // Both windows end; each revoke hands its session end to a job of its own.
    w.clock.advance(HOUR);
    for (const job of w.scheduler.takeDue(w.clock.now())) await advanceRequest(w.deps, job);
    const followUps = w.queue.pendingJobs;
    expect(followUps.map((j) => j.requestId).sort()).toEqual([staging.id, production.id].sort());
    w.queue.dropPending();
    // Two workers at once, as two Lambda containers would run them.
    await Promise.all(followUps.map((job) => advanceRequest(w.deps, job)));
    await passTime(w, 10 * MINUTE);

    const sids = timeboxStatements(w.permissionSets.policies.get(RO)).map((s) => s.sid).sort();
    expect(sids).toEqual([sessionDenySid({ userId: PRINCIPAL, accountId: ACCOUNTS.staging.id }), sessionDenySid({ userId: PRINCIPAL, accountId: ACCOUNTS.prod.id })].sort());
    expect(timeboxStatements(w.permissionSets.provisioned.get(RO))).toHaveLength(2);
    for (const id of [staging.id, production.id]) {
      expect((await stored(w, id)).sessionEnds?.[0]?.doneAt).toEqual(expect.any(Number));
      expect(await w.store.auditTypes(id, '1')).toContain('sessions_ended');
    }
  });

  it('a rule without endSessions never touches a permission set', async () => {
    const permissionSets = new FakePermissionSets();
    const w = makeDeps({ permissionSets, policy: makePolicy({ rules: [{ ...ENDS_SESSIONS, endSessions: false }] }) });
    const filed = await askForAccounts(w, ['staging'], ['ReadOnly']);
    await w.queue.runPending();
    await passTime(w, HOUR);
    expect(grantStatuses(await stored(w, filed.id))).toBe('1=ENDED');
    expect((await stored(w, filed.id)).sessionEnds).toBeUndefined();
    expect(permissionSets.policies.size).toBe(0);
  });
});
