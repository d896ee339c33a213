import { transition, type AccessRequest } from '../domain/access-request';
import { leaseKey, planRelease, type AssignmentTarget } from '../domain/assignment-lease';
import { SYSTEM_ACTOR } from '../domain/audit';
import { commit } from './commit';
import type { WorkflowDeps } from './deps';
import { targetOf } from './grant-access';
import { StoreConflictError } from './ports';

const MAX_REVOKE_RETRY_MS = 300_000;
const PRE_EXISTING = 'the assignment existed before Timebox granted it';

type ReleaseOutcome = { kind: 'removed' } | { kind: 'kept'; reason: string } | { kind: 'failed'; reason: string };

/**
 * REVOKING → ENDED. Removes the assignment only when this was the last Timebox grant holding it
 * and Timebox created it. Safe to run again after a crash at any point. A failed deletion
 * leaves the request REVOKING with a retry time, which the sweep honours.
 */
export async function revokeAccess(deps: WorkflowDeps, revoking: AccessRequest): Promise<AccessRequest> {
  const outcome: ReleaseOutcome = revoking.principalId
    ? await releaseAssignment(deps, targetOf({ ...revoking, principalId: revoking.principalId }), revoking.id)
    : { kind: 'removed' };
  if (outcome.kind === 'failed') return retryLater(deps, revoking, outcome.reason);
  const keptBecause = outcome.kind === 'kept' ? outcome.reason : undefined;
  return commit(
    deps,
    revoking,
    transition(revoking, 'ENDED', { endedAt: deps.clock.now(), claimUntil: undefined, lastError: undefined, ...(keptBecause ? { keptBecause } : {}) }),
    [
      ...(keptBecause ? [{ type: 'assignment_kept' as const, actor: SYSTEM_ACTOR, detail: keptBecause }] : []),
      { type: 'revoked' as const, actor: SYSTEM_ACTOR, detail: keptBecause ? 'assignment kept' : 'assignment removed' },
    ],
  );
}

/** Lets go of the lease for `requestId`, deleting the assignment if nothing else needs it. */
async function releaseAssignment(deps: WorkflowDeps, target: AssignmentTarget, requestId: string): Promise<ReleaseOutcome> {
  for (;;) {
    const lease = await deps.store.getLease(leaseKey(target));
    if (!lease) {
      // An earlier run of this revoke finished with the lease and crashed before recording it:
      // AWS tells which way it went (deleted, or kept because it was there before Timebox).
      return (await deps.identityCenter.hasAssignment(target)) ? { kind: 'kept', reason: PRE_EXISTING } : { kind: 'removed' };
    }
    const plan = lease.holders.includes(requestId)
      ? planRelease(lease, requestId, deps.clock.now())
      : lease.deleting
        ? ({ action: 'delete', lease } as const)
        : ({ action: 'keep', reason: '', lease } as const);
    try {
      if (plan.action === 'keep') {
        if (plan.lease !== lease) await deps.store.putLease({ ...plan.lease, version: lease.version + 1 }, lease.version);
        return { kind: 'kept', reason: `another Timebox grant is active (${plan.lease.holders.join(', ')})` };
      }
      if (plan.action === 'forget') {
        await deps.store.deleteLease(lease.key, lease.version);
        return { kind: 'kept', reason: PRE_EXISTING };
      }
      let deletingVersion = lease.version;
      if (!lease.deleting) {
        deletingVersion = lease.version + 1;
        await deps.store.putLease({ ...plan.lease, version: deletingVersion }, lease.version);
      }
      const deleted = await deps.identityCenter.deleteAssignment(target);
      if (!deleted.ok) return { kind: 'failed', reason: `AWS could not delete the assignment: ${deleted.reason}` };
      await deps.store.deleteLease(lease.key, deletingVersion);
      return { kind: 'removed' };
    } catch (err) {
      // Only lease writes land here: another grant or revoke of the same assignment moved first.
      if (err instanceof StoreConflictError) continue;
      throw err;
    }
  }
}

/** Records a failed revoke attempt; the sweep picks the request up again at claimUntil. */
export async function retryLater(deps: WorkflowDeps, request: AccessRequest, reason: string): Promise<AccessRequest> {
  const attempts = (request.revokeAttempts ?? 0) + 1;
  const delay = Math.min(deps.options.revokeRetryMs * 2 ** (attempts - 1), MAX_REVOKE_RETRY_MS);
  deps.logger.error({ requestId: request.id, attempts, reason }, 'revoke failed; will retry');
  return commit(deps, request, { ...request, revokeAttempts: attempts, lastError: reason, claimUntil: deps.clock.now() + delay }, [
    { type: 'revoke_failed', actor: SYSTEM_ACTOR, detail: `attempt ${attempts}: ${reason}` },
  ]);
}
