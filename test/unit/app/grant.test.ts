/**
 * Filing, deciding and granting, over in-memory ports: which grants start at once, who may
 * decide which grant, and how a grant that AWS refuses, throws on or is slow about ends up.
 */
import { decideRequest } from '../../../src/app/decide-request';
import { DEFAULT_WORKFLOW_OPTIONS } from '../../../src/app/deps';
import { requestStatus } from '../../../src/domain/access-request';
import { TimeboxError } from '../../../src/domain/errors';
import { targetKey } from '../../../src/domain/grant-target';
import {
  ACCOUNTS,
  ALICE,
  APPROVAL_RULE,
  AUTO_RULE,
  BOB,
  CAROL,
  HOUR,
  MALLORY,
  MINUTE,
  PRINCIPAL,
  REQUESTER,
  T0,
  accountTarget,
  askForAccounts,
  grantStatuses,
  makeDeps,
  makePolicy,
  passTime,
  rule,
  stored,
  type TestWorld,
} from '../../support/in-memory-ports';

const CLAIM = DEFAULT_WORKFLOW_OPTIONS.claimMs;

async function refusal(promise: Promise<unknown>): Promise<TimeboxError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TimeboxError) return err;
    throw err;
  }
  throw new Error('expected a TimeboxError, but it went through');
}

async function decide(world: TestWorld, requestId: string, by: string, decision: 'approve' | 'deny' = 'approve', grantId?: string) {
  const result = await decideRequest(world.deps, { requestId, decision, clickerSlackUserId: by, ...(grantId ? { grantId } : {}) });
  await world.queue.runPending();
  return result;
}

describe('a 2×2 request under mixed rules', () => {
  it('grants what an autoApprove rule covers at once, keeps the rest pending, and gives each grant its own window', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging', 'production'], ['ReadOnly', 'Admin']);

    expect(grantStatuses(filed)).toBe('1=APPROVED,2=PENDING,3=PENDING,4=PENDING');
    expect(filed.grants.map((g) => g.ruleName)).toEqual(['staging-readonly', 'any-account', 'any-account', 'any-account']);
    expect(world.queue.dispatched).toEqual([{ requestId: filed.id }]);

    await world.queue.runPending();
    let request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ACTIVE,2=PENDING,3=PENDING,4=PENDING');
    expect(world.provisioner.everything()).toEqual([targetKey(accountTarget('staging', 'ReadOnly'))]);
    expect(request.grants[0]).toMatchObject({ activeAt: T0, endsAt: T0 + HOUR, timeboxOwned: true });
    expect(await world.store.auditTypes(filed.id, '1')).toEqual(['requested', 'auto_approved', 'grant_started', 'granted']);
    expect(await world.store.auditTypes(filed.id, '2')).toEqual(['requested']);

    // Ten minutes later Alice approves: every grant she may decide goes.
    world.clock.advance(10 * MINUTE);
    const result = await decide(world, filed.id, ALICE.slackUserId);
    expect(result.decided.map((g) => g.id)).toEqual(['2', '3', '4']);
    expect(result.leftAlone).toEqual([]);
    request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ACTIVE,2=ACTIVE,3=ACTIVE,4=ACTIVE');
    expect(requestStatus(request)).toBe('ACTIVE');
    expect(world.provisioner.everything()).toHaveLength(4);
    // Each window runs from its own grant's success.
    expect(request.grants.map((g) => g.endsAt)).toEqual([T0 + HOUR, T0 + 70 * MINUTE, T0 + 70 * MINUTE, T0 + 70 * MINUTE]);
    expect(request.grants[1]?.decidedBy?.slackUserId).toBe(ALICE.slackUserId);

    // The first window ends on its own time; the others stay.
    await passTime(world, 50 * MINUTE);
    request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ENDED,2=ACTIVE,3=ACTIVE,4=ACTIVE');
    expect(world.provisioner.has(accountTarget('staging', 'ReadOnly'))).toBe(false);
    expect(world.provisioner.everything()).toHaveLength(3);

    await passTime(world, 10 * MINUTE);
    request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ENDED,2=ENDED,3=ENDED,4=ENDED');
    expect(requestStatus(request)).toBe('ENDED');
    expect(world.provisioner.everything()).toEqual([]);
  });

  it('arms the timer for the first window end, carrying the targets Timebox created', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    const armed = world.scheduler.armedFor(filed.id);
    expect(armed?.at).toBe(T0 + HOUR);
    expect(armed?.job.created).toEqual([{ grantId: '1', target: accountTarget('staging', 'ReadOnly') }]);
  });

  it('files one request for one Slack interaction, however often it arrives', async () => {
    const world = makeDeps();
    const first = await askForAccounts(world, ['staging'], ['ReadOnly'], { idempotencyKey: 'view-123' });
    const again = await askForAccounts(world, ['staging'], ['ReadOnly'], { idempotencyKey: 'view-123' });
    expect(again.id).toBe(first.id);
    expect(world.queue.dispatched).toHaveLength(1);
    await world.queue.runPending();
    expect(world.provisioner.createsOf(accountTarget('staging', 'ReadOnly'))).toBe(1);
  });
});

describe('deciding', () => {
  /** Staging anything: Alice or Bob; production: Carol alone. */
  const split = () =>
    makeDeps({
      policy: makePolicy({ rules: [AUTO_RULE, rule({ name: 'prod', accountIds: [ACCOUNTS.prod.id], permissionSets: ['*'], approvers: [CAROL.slackUserId] }), APPROVAL_RULE] }),
    });

  it('decides only the grants the approver may decide, leaving the others pending', async () => {
    const world = split();
    const filed = await askForAccounts(world, ['staging', 'production'], ['Admin']);
    await world.queue.runPending();
    expect(filed.grants.map((g) => g.ruleName)).toEqual(['any-account', 'prod']);

    const byAlice = await decide(world, filed.id, ALICE.slackUserId);
    expect(byAlice.decided.map((g) => g.id)).toEqual(['1']);
    expect(byAlice.leftAlone.map((g) => g.id)).toEqual(['2']);
    let request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ACTIVE,2=PENDING');
    expect(world.provisioner.everything()).toEqual([targetKey(accountTarget('staging', 'Admin'))]);

    await decide(world, filed.id, CAROL.slackUserId);
    request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ACTIVE,2=ACTIVE');
    expect(request.grants[1]?.decidedBy?.slackUserId).toBe(CAROL.slackUserId);
  });

  it('refuses a clicker who may decide none of the grants, changes nothing, and audits decision_refused', async () => {
    const world = split();
    const filed = await askForAccounts(world, ['staging', 'production'], ['Admin']);
    await world.queue.runPending();
    const before = await stored(world, filed.id);
    const dispatches = world.queue.dispatched.length;

    const err = await refusal(decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: MALLORY.slackUserId }));
    expect(err.code).toBe('not_an_approver');
    expect(err.message).toContain('"any-account"');
    expect(err.message).toContain('"prod"');

    const after = await stored(world, filed.id);
    // Only the log grew (the refusal is recorded in a write of the request); no grant changed.
    expect(after.grants).toEqual(before.grants);
    expect(grantStatuses(after)).toBe('1=PENDING,2=PENDING');
    expect(world.queue.dispatched).toHaveLength(dispatches);
    const refused = (await world.store.listAudit(filed.id)).filter((e) => e.type === 'decision_refused');
    expect(refused).toEqual([expect.objectContaining({ actor: MALLORY.slackUserId, detail: 'approve: not_an_approver' })]);
  });

  it('refuses the requester approving their own request', async () => {
    const world = makeDeps({ policy: makePolicy({ rules: [rule({ name: 'self-ok-but-not-approver', accountIds: ['*'], permissionSets: ['*'], approvers: [REQUESTER.slackUserId] })] }) });
    const filed = await askForAccounts(world, ['production'], ['Admin']);
    const err = await refusal(decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: REQUESTER.slackUserId }));
    expect(err.code).toBe('self_approval');
    expect(await world.store.auditTypes(filed.id)).toContain('decision_refused');
  });

  it('a click on a request that does not exist is refused as not found', async () => {
    const world = makeDeps();
    const err = await refusal(decideRequest(world.deps, { requestId: 'R-NOSUCHREQ', decision: 'approve', clickerSlackUserId: ALICE.slackUserId }));
    expect(err.code).toBe('not_found');
    expect(world.queue.dispatched).toEqual([]);
  });

  it('refuses a button from another message', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['production'], ['Admin']);
    await world.queue.runPending();
    const err = await refusal(
      decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: ALICE.slackUserId, message: { channel: 'C_APPROVALS', ts: '1.2' } }),
    );
    expect(err.code).toBe('stale_button');
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=PENDING');
  });

  it('a per-grant button decides that grant only', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging', 'production'], ['Admin']);
    await world.queue.runPending();
    await decide(world, filed.id, BOB.slackUserId, 'approve', '2');
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=PENDING,2=ACTIVE');
  });

  it('deny ends the grants the approver may decide; nothing is created and the requester is told', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging', 'production'], ['ReadOnly', 'Admin']);
    await world.queue.runPending();
    await decide(world, filed.id, BOB.slackUserId, 'deny');

    const request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ACTIVE,2=DENIED,3=DENIED,4=DENIED');
    expect(requestStatus(request)).toBe('ACTIVE');
    expect(world.provisioner.everything()).toEqual([targetKey(accountTarget('staging', 'ReadOnly'))]);
    expect(world.notifier.dmStatuses().at(-1)).toBe('1=ACTIVE,2=DENIED,3=DENIED,4=DENIED');
    expect(await world.store.auditTypes(filed.id, '3')).toEqual(['requested', 'denied']);
    // A later click finds nothing left to decide.
    const err = await refusal(decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: ALICE.slackUserId }));
    expect(err.code).toBe('already_decided');
  });

  it('a request denied outright is DENIED, with nothing left to time', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['production'], ['Admin']);
    await world.queue.runPending();
    await decide(world, filed.id, ALICE.slackUserId, 'deny');
    const request = await stored(world, filed.id);
    expect(requestStatus(request)).toBe('DENIED');
    expect(world.provisioner.calls.create).toEqual([]);
    expect(world.notifier.dmStatuses()).toEqual(['1=PENDING', '1=DENIED']);
  });

  it('needs two distinct approvers when the rule says so', async () => {
    const world = makeDeps({
      policy: makePolicy({ rules: [rule({ name: 'prod-two', accountIds: ['*'], permissionSets: ['*'], approvers: [ALICE.slackUserId, BOB.slackUserId], approvalsRequired: 2 })] }),
    });
    const filed = await askForAccounts(world, ['production'], ['Admin']);
    await world.queue.runPending();

    await decide(world, filed.id, ALICE.slackUserId);
    let request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=PENDING');
    expect(request.grants[0]?.approvals.map((a) => a.slackUserId)).toEqual([ALICE.slackUserId]);
    expect(world.provisioner.calls.create).toEqual([]);
    // The channel shows the partial approval; the requester hears of it, after the DM at filing.
    expect(world.notifier.updates.at(-1)?.request.grants[0]?.approvals).toHaveLength(1);
    expect(world.notifier.dms.map((d) => d.request.grants[0]?.approvals.length)).toEqual([0, 1]);

    const twice = await refusal(decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: ALICE.slackUserId }));
    expect(twice.code).toBe('already_approved_by_you');
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=PENDING');

    await decide(world, filed.id, BOB.slackUserId);
    request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ACTIVE');
    expect(request.grants[0]?.approvals.map((a) => a.slackUserId)).toEqual([ALICE.slackUserId, BOB.slackUserId]);
    expect(await world.store.auditTypes(filed.id, '1')).toEqual(['requested', 'approval_recorded', 'approved', 'grant_started', 'granted']);
  });

  it('expires pending grants nobody decided, on the timer, and tells the requester', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging', 'production'], ['Admin']);
    await world.queue.runPending();
    expect(world.scheduler.armedFor(filed.id)?.at).toBe(filed.expiresAt);

    await passTime(world, 24 * HOUR);
    const request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=EXPIRED,2=EXPIRED');
    expect(requestStatus(request)).toBe('EXPIRED');
    expect(world.notifier.dmStatuses()).toEqual(['1=PENDING,2=PENDING', '1=EXPIRED,2=EXPIRED']);
    expect(await world.store.auditTypes(filed.id, '1')).toEqual(['requested', 'expired']);
    const late = await refusal(decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: ALICE.slackUserId }));
    expect(late.code).toBe('already_decided');
  });

  it('a click after the expiry time but before the worker ran is refused', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['production'], ['Admin']);
    await world.queue.runPending();
    world.clock.advance(24 * HOUR);
    const err = await refusal(decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: ALICE.slackUserId }));
    expect(err.code).toBe('already_decided');
    expect(world.provisioner.calls.create).toEqual([]);
  });
});

describe('granting', () => {
  /** Staging and production ReadOnly are both auto-approved. */
  const autoBoth = () => makeDeps({ policy: makePolicy({ rules: [rule({ name: 'readonly', accountIds: ['*'], permissionSets: ['ReadOnly'], autoApprove: true, approvalsRequired: 0 })] }) });

  it('a grant whose create FAILS is FAILED while the others go ACTIVE; the request stays ACTIVE and the requester is told', async () => {
    const world = autoBoth();
    world.provisioner.onCreate({ kind: 'failed', reason: 'ConflictException: permission set not provisioned' }, { target: accountTarget('prod', 'ReadOnly') });
    const filed = await askForAccounts(world, ['staging', 'production'], ['ReadOnly']);
    await world.queue.runPending();

    const request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ACTIVE,2=FAILED');
    expect(requestStatus(request)).toBe('ACTIVE');
    expect(request.grants[1]?.failure).toContain('permission set not provisioned');
    expect(world.provisioner.everything()).toEqual([targetKey(accountTarget('staging', 'ReadOnly'))]);
    expect(world.notifier.dmStatuses()).toEqual(['1=ACTIVE,2=FAILED']);
    expect(await world.store.auditTypes(filed.id, '2')).toEqual(['requested', 'auto_approved', 'grant_started', 'grant_failed']);
  });

  it('fails a grant when the requester has no Identity Center user', async () => {
    const world = makeDeps();
    world.directory.add({ slackUserId: 'U0NOAWS001', email: 'nobody@example.com' });
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly'], { by: 'U0NOAWS001' });
    await world.queue.runPending();
    const request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=FAILED');
    expect(request.grants[0]?.failure).toContain('nobody@example.com');
    expect(world.provisioner.calls.create).toEqual([]);
  });

  it('retries a grant AWS throws on, and FAILS it after 5 attempts, telling the requester of the failure only then', async () => {
    const world = makeDeps();
    world.provisioner.onCreate({ kind: 'throw', error: new Error('AccessDeniedException: not authorized') }, { times: 5 });
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();

    for (let attempt = 1; attempt <= 4; attempt++) {
      const request = await stored(world, filed.id);
      expect(grantStatuses(request)).toBe('1=GRANTING');
      expect(request.grants[0]?.grantAttempts).toBe(attempt);
      expect(request.grants[0]?.lastError).toContain('AccessDeniedException');
      // Told once that it is being granted, and of nothing more while the attempts go on.
      expect(world.notifier.dmStatuses()).toEqual(['1=GRANTING']);
      // The claim runs out and the timer resumes it.
      await passTime(world, CLAIM);
    }
    const request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=FAILED');
    expect(request.grants[0]?.failure).toMatch(/^AWS kept refusing: .*AccessDeniedException/);
    expect(world.provisioner.createsOf(accountTarget('staging', 'ReadOnly'))).toBe(5);
    expect(world.provisioner.everything()).toEqual([]);
    expect(world.notifier.dmStatuses()).toEqual(['1=GRANTING', '1=FAILED']);
    expect((await world.store.auditTypes(filed.id, '1')).filter((t) => t === 'grant_stalled')).toHaveLength(4);
    expect(world.scheduler.armedFor(filed.id)).toBeUndefined();
  });

  it('after 5 attempts, removes what the last attempt created before its call errored', async () => {
    const world = makeDeps();
    const target = accountTarget('staging', 'ReadOnly');
    world.provisioner.onCreate({ kind: 'throw' }, { times: 4 });
    world.provisioner.onCreate({ kind: 'throw', afterApplying: true, error: new Error('socket hang up') });
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    for (let i = 0; i < 4; i++) await passTime(world, CLAIM);

    expect(grantStatuses(await stored(world, filed.id))).toBe('1=FAILED');
    expect(world.provisioner.has(target)).toBe(false);
    expect(world.provisioner.removesOf(target)).toHaveLength(1);
    expect(world.store.leaseOf(target)).toBeUndefined();
  });

  it('a create still IN_PROGRESS is not an attempt: the lease keeps its operation id, and the grant finishes once AWS does', async () => {
    const world = makeDeps();
    const target = accountTarget('staging', 'ReadOnly');
    world.provisioner.onCreate({ kind: 'in_progress' });
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();

    let request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=GRANTING');
    expect(request.grants[0]?.grantAttempts).toBeUndefined();
    const [opId] = world.provisioner.operationIds('IN_PROGRESS');
    expect(world.store.leaseOf(target)?.operations).toEqual([expect.objectContaining({ kind: 'create', id: opId })]);
    expect(world.notifier.dmStatuses()).toEqual(['1=GRANTING']);

    world.provisioner.completeOperation(opId as string);
    await passTime(world, CLAIM);
    request = await stored(world, filed.id);
    expect(grantStatuses(request)).toBe('1=ACTIVE');
    // Found there on the second look, not created twice, and still Timebox's to remove.
    expect(world.provisioner.createsOf(target)).toBe(1);
    expect(request.grants[0]?.timeboxOwned).toBe(true);
    await passTime(world, HOUR);
    expect(grantStatuses(await stored(world, filed.id))).toBe('1=ENDED');
    expect(world.provisioner.has(target)).toBe(false);
  });

  it('FAILED after 5 attempts with an earlier create still IN_PROGRESS keeps the lease with its operation id', async () => {
    const world = makeDeps();
    const target = accountTarget('staging', 'ReadOnly');
    world.provisioner.onCreate({ kind: 'in_progress' });
    world.provisioner.onCreate({ kind: 'throw' }, { times: 5 });
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    for (let i = 0; i < 5; i++) await passTime(world, CLAIM);

    expect(grantStatuses(await stored(world, filed.id))).toBe('1=FAILED');
    const [opId] = world.provisioner.operationIds('IN_PROGRESS');
    expect(opId).toBeDefined();
    const lease = world.store.leaseOf(target);
    expect(lease?.createdByTimebox).toBe(true);
    expect(lease?.operations.map((o) => o.id)).toEqual([opId]);
  });

  it('a grant waits while the same target is still being removed by an earlier window, then creates it afresh', async () => {
    const world = makeDeps();
    const target = accountTarget('staging', 'ReadOnly');
    const first = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    // The first window ends and its removal errors, leaving the lease being deleted.
    world.provisioner.onRemove({ kind: 'throw', error: new Error('InternalServerException') });
    await passTime(world, HOUR);
    expect(grantStatuses(await stored(world, first.id))).toBe('1=REVOKING');
    expect(world.store.leaseOf(target)?.deleting).toBe(true);

    const second = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    let request = await stored(world, second.id);
    expect(grantStatuses(request)).toBe('1=GRANTING');
    expect(request.grants[0]?.grantAttempts).toBeUndefined(); // waiting is not failing

    await passTime(world, CLAIM);
    expect(grantStatuses(await stored(world, first.id))).toBe('1=ENDED');
    request = await stored(world, second.id);
    expect(grantStatuses(request)).toBe('1=ACTIVE');
    expect(request.grants[0]?.timeboxOwned).toBe(true);
    expect(world.provisioner.has(target)).toBe(true);
    expect(world.store.leaseOf(target)?.holders).toEqual([`${second.id}/1`]);
    expect(world.provisioner.createsOf(target)).toBe(2);
  });

  it('resolves the Identity Center user once, for every grant of the request', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging', 'production'], ['ReadOnly', 'Admin']);
    await world.queue.runPending();
    await decide(world, filed.id, ALICE.slackUserId);
    expect((await stored(world, filed.id)).principalId).toBe(PRINCIPAL);
    expect(world.provisioner.calls.findUser).toEqual([REQUESTER.email]);
  });
});
