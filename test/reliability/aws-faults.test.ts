import { targetKey } from '../../src/domain/grant-target';
import { eventually } from '../support/eventually';
import { ACCOUNTS, INSTANCE_ARN, PEOPLE, PERMISSION_SETS, type TimeboxHarness } from '../support/timebox-harness';
import {
  DAVE_STAGING_READONLY as DAVE,
  FAST_RECOVERY,
  assignmentsFor,
  auditOf,
  auditTypes,
  countSuccesses,
  failDeletions,
  holds,
  startHarness,
  waitForAudit,
  waitForRequest,
  watchInvariants,
} from './fault-helpers';

/**
 * What IAM Identity Center's own failures do to a request: throttling, server errors, conflicts,
 * provisioning that fails or takes too long. The promises under test: access starts only once
 * AWS says SUCCEEDED, is granted at most once, and always ends with the assignment removed
 * (or kept when it was there before Timebox), whatever AWS does in between.
 */

let h: TimeboxHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const daveTarget = {
  instanceArn: INSTANCE_ARN,
  accountId: ACCOUNTS.staging,
  permissionSetArn: PERMISSION_SETS.ReadOnly,
  principalId: PEOPLE.dave.principalId,
};

describe('AWS faults: SSO Admin', () => {
  test('ThrottlingException burst (3 in a row) on CreateAccountAssignment: the grant still succeeds, and exactly one assignment is created', async () => {
    h = await startHarness();
    const succeeded = countSuccesses(h.aws);
    h.aws.injectFault('CreateAccountAssignment', { type: 'ThrottlingException', message: 'Rate exceeded' }, 3);
    const id = await h.file('dave', 'staging ReadOnly 1s throttled create');

    const active = await h.waitForStatus(id, 'ACTIVE', 30_000);
    expect(holds(h, DAVE)).toBe(true);
    expect(active.activeAt).toBeDefined();
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(4); // 3 throttled + 1 accepted
    expect(succeeded('CreateAccountAssignment')).toBe(1);
    expect(assignmentsFor(h, DAVE)).toBe(1);
    expect((await waitForAudit(h, id, 'granted')).map((e) => e.type)).toEqual(['requested', 'auto_approved', 'grant_started', 'granted']);
  });

  test('InternalServerException (HTTP 500) burst on DescribeAccountAssignmentCreationStatus: the request still becomes ACTIVE, and only after AWS reports SUCCEEDED', async () => {
    h = await startHarness();
    const aws = h.aws;
    const succeeded = countSuccesses(aws);
    aws.injectFault('DescribeAccountAssignmentCreationStatus', { type: 'InternalServerException', message: 'We encountered an internal error' }, 3);
    const id = await h.file('dave', 'staging ReadOnly 1s flaky polls');
    const invariants = watchInvariants(h, id, DAVE);

    await h.waitForStatus(id, 'ACTIVE', 30_000);
    expect(holds(h, DAVE)).toBe(true);
    expect(succeeded('CreateAccountAssignment')).toBe(1);
    expect(aws.callsTo('DescribeAccountAssignmentCreationStatus').length).toBeGreaterThanOrEqual(4);
    expect((await invariants.stop()).violations).toEqual([]);
  });

  test('ThrottlingException and HTTP 500 on ListAccountAssignments (the "did they already have it?" check): the grant still succeeds and the assignment is removed at the end', async () => {
    h = await startHarness();
    h.aws.injectFault('ListAccountAssignments', { type: 'ThrottlingException', message: 'Rate exceeded' }, 1);
    h.aws.injectFault('ListAccountAssignments', { type: 'InternalServerException' }, 1);
    const id = await h.file('dave', 'staging ReadOnly 1s flaky listing');

    await h.waitForStatus(id, 'ACTIVE', 30_000);
    expect(holds(h, DAVE)).toBe(true);
    expect(h.aws.callsTo('ListAccountAssignments').length).toBeGreaterThanOrEqual(3);

    const ended = await h.waitForStatus(id, 'ENDED');
    expect(ended.keptBecause).toBeUndefined();
    expect(holds(h, DAVE)).toBe(false);
  });

  test('ListAccountAssignments failing past every SDK retry while the user already holds the assignment: the grant resumes later, and the pre-existing assignment is kept at the end', async () => {
    h = await startHarness(FAST_RECOVERY);
    h.aws.addAssignment({ ...daveTarget, principalType: 'USER' });
    // The SDK makes 5 attempts; 6 faults make the first grant attempt give up entirely.
    h.aws.injectFault('ListAccountAssignments', { type: 'InternalServerException' }, 6);
    const id = await h.file('dave', 'staging ReadOnly 1s already have it');

    await h.waitForStatus(id, 'ACTIVE', 30_000);
    expect((await auditOf(h, id, 'grant_started')).map((e) => e.detail)).toContain('resumed');
    const lease = await h.runtime.deps.store.getLease(targetKey({ kind: 'account', principalId: daveTarget.principalId, accountId: daveTarget.accountId, permissionSetArn: daveTarget.permissionSetArn }));
    expect(lease?.createdByTimebox).toBe(false);

    const ended = await h.waitForStatus(id, 'ENDED', 20_000);
    expect(ended.keptBecause).toContain('existed before');
    expect(holds(h, DAVE)).toBe(true);
    expect(h.aws.callsTo('DeleteAccountAssignment')).toHaveLength(0);
  });

  test('ConflictException ("another operation is in progress") twice on CreateAccountAssignment: the grant still succeeds, exactly once', async () => {
    h = await startHarness();
    const succeeded = countSuccesses(h.aws);
    h.aws.injectFault('CreateAccountAssignment', { type: 'ConflictException', message: 'An operation is in progress' }, 2);
    const id = await h.file('dave', 'staging ReadOnly 1s conflicting create');

    await h.waitForStatus(id, 'ACTIVE', 30_000);
    expect(holds(h, DAVE)).toBe(true);
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(3);
    expect(succeeded('CreateAccountAssignment')).toBe(1);
    expect(assignmentsFor(h, DAVE)).toBe(1);
  });

  test('ConflictException twice on DeleteAccountAssignment: the window still ends and the assignment is removed', async () => {
    h = await startHarness();
    h.aws.injectFault('DeleteAccountAssignment', { type: 'ConflictException', message: 'An operation is in progress' }, 2);
    const id = await h.file('dave', 'staging ReadOnly 1s conflicting delete');

    await h.waitForStatus(id, 'ACTIVE');
    const ended = await h.waitForStatus(id, 'ENDED', 30_000);
    expect(ended.keptBecause).toBeUndefined();
    expect(holds(h, DAVE)).toBe(false);
    expect(h.aws.callsTo('DeleteAccountAssignment')).toHaveLength(3);
    expect(await auditTypes(h, id)).not.toContain('revoke_failed');
  });

  test('ThrottlingException bursts (2 in a row each) on DeleteAccountAssignment and DescribeAccountAssignmentDeletionStatus: the window still ends and the assignment is removed', async () => {
    h = await startHarness();
    h.aws.injectFault('DeleteAccountAssignment', { type: 'ThrottlingException', message: 'Rate exceeded' }, 2);
    h.aws.injectFault('DescribeAccountAssignmentDeletionStatus', { type: 'ThrottlingException', message: 'Rate exceeded' }, 2);
    const id = await h.file('dave', 'staging ReadOnly 1s throttled delete');
    const invariants = watchInvariants(h, id, DAVE);

    await h.waitForStatus(id, 'ACTIVE');
    const ended = await h.waitForStatus(id, 'ENDED', 40_000);
    expect(ended.keptBecause).toBeUndefined();
    expect(holds(h, DAVE)).toBe(false);
    expect(h.aws.callsTo('DeleteAccountAssignment').length).toBeGreaterThanOrEqual(3);
    expect(h.aws.callsTo('DescribeAccountAssignmentDeletionStatus').length).toBeGreaterThanOrEqual(3);
    expect((await invariants.stop()).violations).toEqual([]);
  });

  test('Provisioning that ends FAILED: the request is FAILED with no access window, the requester is told why, and the next request for the same access is granted and revoked normally', async () => {
    h = await startHarness();
    h.aws.failNextCreation('Permission set provisioning failed: role quota exceeded');
    const failedId = await h.file('dave', 'staging ReadOnly 1s will fail');

    const failed = await h.waitForStatus(failedId, 'FAILED');
    expect(failed.failure).toContain('role quota exceeded');
    expect(failed.activeAt).toBeUndefined();
    expect(failed.endsAt).toBeUndefined();
    expect(holds(h, DAVE)).toBe(false);
    expect((await waitForAudit(h, failedId, 'grant_failed')).map((e) => e.type)).toEqual(['requested', 'auto_approved', 'grant_started', 'grant_failed']);
    await h.slack.waitFor(() => h!.dmTextsTo('dave').find((t) => t.includes(failedId) && t.includes('could not be granted') && t.includes('role quota exceeded')), 5000, 'the failure DM');
    // The failed grant let go of the assignment's lease, so nothing stops or confuses the next one.
    expect(await h.runtime.deps.store.getLease(targetKey({ kind: 'account', principalId: daveTarget.principalId, accountId: daveTarget.accountId, permissionSetArn: daveTarget.permissionSetArn }))).toBeUndefined();

    const retryId = await h.file('dave', 'staging ReadOnly 1s try again');
    await h.waitForStatus(retryId, 'ACTIVE');
    expect(holds(h, DAVE)).toBe(true);
    const ended = await h.waitForStatus(retryId, 'ENDED');
    expect(ended.keptBecause).toBeUndefined();
    expect(holds(h, DAVE)).toBe(false);
    expect(h.aws.callsTo('DeleteAccountAssignment')).toHaveLength(1);
    expect((await h.request(failedId)).status).toBe('FAILED');
  });

  test('Provisioning slower than the poll budget: the request stays GRANTING while AWS says IN_PROGRESS, the sweep resumes it after the claim expires, and it becomes ACTIVE only once AWS says SUCCEEDED, with a single assignment that is then revoked', async () => {
    h = await startHarness(FAST_RECOVERY);
    const harness = h;
    harness.aws.setCreationPolls(1000);
    const id = await harness.file('dave', 'staging ReadOnly 1s slow provisioning');
    const invariants = watchInvariants(harness, id, DAVE);

    await harness.slack.waitFor(() => harness.aws.callsTo('DescribeAccountAssignmentCreationStatus').length >= 10, 10_000, 'AWS to be polled while IN_PROGRESS');
    const inProgress = await harness.request(id);
    expect(inProgress.status).toBe('GRANTING');
    expect(inProgress.activeAt).toBeUndefined();
    expect(holds(harness, DAVE)).toBe(false);

    // The first attempt gives up past its poll budget and the sweep resumes the grant; then AWS
    // catches up and the creation still in progress finishes. The resumed grant waits for that
    // creation (AWS would refuse a second one while it runs): the assignment is created once.
    await eventually(async () => (await auditOf(harness, id, 'grant_started')).some((e) => e.detail === 'resumed'), 15_000, 'the sweep to resume the grant');
    harness.aws.completeOperations();
    const active = await harness.waitForStatus(id, 'ACTIVE', 30_000);
    expect(harness.aws.callsTo('CreateAccountAssignment')).toHaveLength(1);
    expect(holds(harness, DAVE)).toBe(true);
    expect(active.activeAt).toBeDefined();
    expect((await auditOf(harness, id, 'grant_started')).map((e) => e.detail)).toContain('resumed');
    expect((await waitForAudit(harness, id, 'granted')).filter((e) => e.type === 'granted')).toHaveLength(1);
    expect(assignmentsFor(harness, DAVE)).toBe(1);

    await harness.waitForStatus(id, 'ENDED', 15_000);
    expect(holds(harness, DAVE)).toBe(false);
    const report = await invariants.stop();
    expect(report.violations).toEqual([]);
    expect(report.statuses).toEqual(expect.arrayContaining(['GRANTING', 'ACTIVE']));
  });

  test('A deletion that ends FAILED: the request stays REVOKING with the reason recorded and audited (the assignment is not reported gone), and the next attempt removes it', async () => {
    h = await startHarness({ workflow: { revokeRetryMs: 800 }, sweepIntervalMs: 300 });
    h.aws.failNextDeletion('Role in use: cannot remove the permission set role');
    const id = await h.file('dave', 'staging ReadOnly 1s delete will fail once');
    await h.waitForStatus(id, 'ACTIVE');

    const stuck = await waitForRequest(h, id, (r) => r.status === 'REVOKING' && r.lastError !== undefined, 'REVOKING with a recorded error');
    expect(stuck.revokeAttempts).toBeGreaterThanOrEqual(1);
    expect(stuck.lastError).toContain('Role in use');
    expect(holds(h, DAVE)).toBe(true);
    const failures = (await waitForAudit(h, id, 'revoke_failed')).filter((e) => e.type === 'revoke_failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.detail).toContain('Role in use');

    const ended = await h.waitForStatus(id, 'ENDED', 15_000);
    expect(holds(h, DAVE)).toBe(false);
    expect(ended.lastError).toBeUndefined();
    expect(ended.keptBecause).toBeUndefined();
    expect(h.aws.callsTo('DeleteAccountAssignment')).toHaveLength(2);
    expect((await auditOf(h, id, 'revoke_started')).map((e) => e.detail)).toContain('retry');
    await h.slack.waitFor(() => h!.dmTextsTo('dave').find((t) => t.includes(id) && t.includes('has ended')), 5000, 'the ended DM');
  });

  test('Deletions ending FAILED three times in a row: each failure is recorded, each retry waits out a doubling back-off, and the assignment is removed once AWS recovers', async () => {
    const revokeRetryMs = 200;
    h = await startHarness({ workflow: { revokeRetryMs }, sweepIntervalMs: 200 });
    failDeletions(h.aws, 3, 'Internal failure removing the role');
    const id = await h.file('dave', 'staging ReadOnly 1s delete keeps failing');
    const invariants = watchInvariants(h, id, DAVE);

    const ended = await h.waitForStatus(id, 'ENDED', 30_000);
    expect(holds(h, DAVE)).toBe(false);
    expect(ended.revokeAttempts).toBe(3);
    expect(h.aws.callsTo('DeleteAccountAssignment')).toHaveLength(4);

    const events = await waitForAudit(h, id, 'revoked');
    const failures = events.filter((e) => e.type === 'revoke_failed');
    expect(failures.map((e) => e.detail?.slice(0, 10))).toEqual(['attempt 1:', 'attempt 2:', 'attempt 3:']);
    const retries = events.filter((e) => e.type === 'revoke_started' && e.detail === 'retry');
    expect(retries).toHaveLength(3);
    // No retry comes before its back-off is over: 200 ms, then 400 ms, then 800 ms (less 100 ms of
    // slack for the store writes between computing the retry time and stamping the event).
    failures.forEach((failure, i) => {
      expect(retries[i]!.at - failure.at).toBeGreaterThanOrEqual(revokeRetryMs * 2 ** i - 100);
    });
    expect(events.filter((e) => e.type === 'revoked')).toHaveLength(1);
    expect((await invariants.stop()).violations).toEqual([]);
  });

  test('Faults that outlast every retry (status polls failing during the grant, deletes failing during the revoke): the request is never ACTIVE without the assignment and never ENDED while it remains', async () => {
    h = await startHarness(FAST_RECOVERY);
    // 6 faults each: more than the SDK's 5 attempts, so each step fails once outright.
    h.aws.injectFault('DescribeAccountAssignmentCreationStatus', { type: 'InternalServerException' }, 6);
    h.aws.injectFault('DeleteAccountAssignment', { type: 'InternalServerException', message: 'Service unavailable, try again' }, 6);
    const id = await h.file('dave', 'staging ReadOnly 1s aws having a bad day');
    const invariants = watchInvariants(h, id, DAVE);

    await h.waitForStatus(id, 'ACTIVE', 30_000);
    expect(holds(h, DAVE)).toBe(true);
    expect((await auditOf(h, id, 'grant_started')).map((e) => e.detail)).toContain('resumed');

    const ended = await h.waitForStatus(id, 'ENDED', 30_000);
    expect(ended.keptBecause).toBeUndefined();
    expect(ended.revokeAttempts).toBeGreaterThanOrEqual(1);
    expect(holds(h, DAVE)).toBe(false);
    expect((await auditOf(h, id, 'revoke_failed'))[0]?.detail).toContain('Service unavailable');

    const report = await invariants.stop();
    expect(report.violations).toEqual([]);
    expect(report.statuses).toEqual(expect.arrayContaining(['GRANTING', 'ACTIVE', 'REVOKING']));
    expect(assignmentsFor(h, DAVE)).toBe(0);
  });

  test('CreateAccountAssignment refused outright on every attempt (AccessDeniedException): no access is reported, and the AWS error is recorded on the request, not only in the logs', async () => {
    h = await startHarness(FAST_RECOVERY);
    const harness = h;
    harness.aws.injectFault('CreateAccountAssignment', { type: 'AccessDeniedException', message: 'User is not authorized to perform sso:CreateAccountAssignment' }, 1000);
    const id = await harness.file('dave', 'staging ReadOnly 1s timebox lacks permission');
    const invariants = watchInvariants(harness, id, DAVE);

    // Let it try, give up, and be picked up again by the sweep at least once.
    await eventually(
      async () => harness.aws.callsTo('CreateAccountAssignment').length >= 2 || (await harness.request(id)).status === 'FAILED',
      15_000,
      'a second attempt, or the request to fail',
    );
    const request = await harness.request(id);
    expect(request.status).not.toBe('ACTIVE');
    expect(holds(harness, DAVE)).toBe(false);
    expect((await invariants.stop()).violations).toEqual([]);
    const trail = [request.lastError, request.failure, ...(await harness.audit(id)).map((e) => e.detail)].join(' | ');
    expect(trail).toContain('not authorized');
  });
});

describe('AWS faults: Identity Store', () => {
  test('ThrottlingException and HTTP 500 on GetUserId: the requester\'s AWS identity is still found and access is granted', async () => {
    h = await startHarness();
    h.aws.injectFault('GetUserId', { type: 'ThrottlingException', message: 'Rate exceeded' }, 1);
    h.aws.injectFault('GetUserId', { type: 'InternalServerException' }, 1);
    const id = await h.file('dave', 'staging ReadOnly 1s flaky directory');

    const active = await h.waitForStatus(id, 'ACTIVE', 30_000);
    expect(active.principalId).toBe(PEOPLE.dave.principalId);
    expect(holds(h, DAVE)).toBe(true);
    expect(h.aws.callsTo('GetUserId')).toHaveLength(3);
  });

  test('GetUserId failing past every SDK retry: the request is not failed as "no Identity Center user"; the grant resumes and succeeds', async () => {
    h = await startHarness(FAST_RECOVERY);
    h.aws.injectFault('GetUserId', { type: 'InternalServerException' }, 6);
    const id = await h.file('dave', 'staging ReadOnly 1s directory outage');
    const invariants = watchInvariants(h, id, DAVE);

    const active = await h.waitForStatus(id, 'ACTIVE', 30_000);
    expect(active.principalId).toBe(PEOPLE.dave.principalId);
    expect(active.failure).toBeUndefined();
    expect(holds(h, DAVE)).toBe(true);
    const report = await invariants.stop();
    expect(report.statuses).not.toContain('FAILED');
    expect(report.violations).toEqual([]);
  });
});
