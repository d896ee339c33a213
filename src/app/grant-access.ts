import { transition, type AccessRequest } from '../domain/access-request';
import { leaseKey, planRelease, type AssignmentLease, type AssignmentTarget } from '../domain/assignment-lease';
import { SYSTEM_ACTOR } from '../domain/audit';
import { commit } from './commit';
import type { WorkflowDeps } from './deps';
import { StoreConflictError } from './ports';
import { releaseAssignment } from './release-assignment';

export function targetOf(request: AccessRequest & { principalId: string }): AssignmentTarget {
  return { accountId: request.accountId, permissionSetArn: request.permissionSetArn, principalId: request.principalId };
}

/** Thrown when the work cannot go on now but may later (busy lease, AWS unavailable). */
export class RetryLaterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryLaterError';
  }
}

/**
 * Adds `requestId` to the holders of the assignment's lease. The first holder learns whether
 * the assignment already existed (then Timebox will never delete it). Waits while a previous
 * holder's revoke is still deleting the assignment.
 */
export async function acquireLease(deps: WorkflowDeps, target: AssignmentTarget, requestId: string): Promise<AssignmentLease> {
  const key = leaseKey(target);
  const deadline = deps.clock.now() + deps.options.leaseWaitMs;
  for (;;) {
    const now = deps.clock.now();
    const lease = await deps.store.getLease(key);
    try {
      if (!lease) {
        const preExisting = await deps.identityCenter.hasAssignment(target);
        const created: AssignmentLease = { key, target, holders: [requestId], preExisting, deleting: false, version: 1, updatedAt: now };
        await deps.store.putLease(created, undefined);
        return created;
      }
      if (lease.holders.includes(requestId)) return lease;
      if (!lease.deleting) {
        const next = { ...lease, holders: [...lease.holders, requestId], version: lease.version + 1, updatedAt: now };
        await deps.store.putLease(next, lease.version);
        return next;
      }
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
      continue;
    }
    if (deps.clock.now() >= deadline) throw new RetryLaterError(`assignment ${key} is still being revoked`);
    await deps.sleep(deps.options.leasePollMs);
  }
}

/** Takes `requestId` off the lease after a failed grant; deletes nothing in AWS. */
export async function dropFromLease(deps: WorkflowDeps, target: AssignmentTarget, requestId: string): Promise<void> {
  for (;;) {
    const lease = await deps.store.getLease(leaseKey(target));
    if (!lease || !lease.holders.includes(requestId)) return;
    const plan = planRelease(lease, requestId, deps.clock.now());
    try {
      if (plan.action === 'keep') await deps.store.putLease({ ...plan.lease, version: lease.version + 1 }, lease.version);
      else await deps.store.deleteLease(lease.key, lease.version);
      return;
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
    }
  }
}

/**
 * GRANTING → ACTIVE or FAILED. Safe to run again after a crash at any point: the lease and
 * CreateAccountAssignment are idempotent, and the window only starts once AWS says SUCCEEDED.
 */
export async function grantAccess(deps: WorkflowDeps, granting: AccessRequest): Promise<AccessRequest> {
  let request = granting;
  const fail = async (reason: string): Promise<AccessRequest> => {
    const failed = await commit(deps, request, transition(request, 'FAILED', { failure: reason, claimUntil: undefined }), [
      { type: 'grant_failed', actor: SYSTEM_ACTOR, detail: reason },
    ]);
    deps.logger.warn({ requestId: request.id, reason }, 'grant failed');
    return failed;
  };

  if (!request.principalId) {
    const email = request.requester.email ?? '';
    const principalId = await deps.identityCenter.findUserIdByEmail(email);
    if (!principalId) return fail(`no Identity Center user has the email ${email}`);
    request = await commit(deps, request, { ...request, principalId }, []);
  }
  const target = targetOf({ ...request, principalId: request.principalId as string });
  await acquireLease(deps, target, request.id);
  const outcome = await deps.identityCenter.createAssignment(target);
  if (!outcome.ok) {
    // An earlier attempt of this grant (before a crash, or past its poll budget) may have
    // created the assignment after all: then it is Timebox's to remove, like any revoke.
    if (await deps.identityCenter.hasAssignment(target)) await releaseAssignment(deps, target, request.id);
    else await dropFromLease(deps, target, request.id);
    return fail(`AWS could not create the assignment: ${outcome.reason}`);
  }
  const now = deps.clock.now();
  const active = await commit(
    deps,
    request,
    transition(request, 'ACTIVE', { activeAt: now, endsAt: now + request.durationMs, claimUntil: undefined, lastError: undefined }),
    [{ type: 'granted', actor: SYSTEM_ACTOR, detail: `until ${new Date(now + request.durationMs).toISOString()}` }],
  );
  await deps.scheduler.scheduleAt({ requestId: active.id }, active.endsAt as number);
  deps.logger.info({ requestId: active.id, endsAt: active.endsAt }, 'access granted');
  return active;
}
