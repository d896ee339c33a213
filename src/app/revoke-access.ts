import { transition, type AccessRequest } from '../domain/access-request';
import { leaseKey, planRelease } from '../domain/assignment-lease';
import { SYSTEM_ACTOR } from '../domain/audit';
import { commit } from './commit';
import type { WorkflowDeps } from './deps';
import { targetOf } from './grant-access';
import { StoreConflictError } from './ports';

const MAX_REVOKE_RETRY_MS = 300_000;

/**
 * REVOKING → ENDED. Removes the assignment only when this was the last Timebox grant holding it
 * and Timebox created it. Safe to run again after a crash at any point. A failed deletion
 * leaves the request REVOKING with a retry time, which the sweep honours.
 */
export async function revokeAccess(deps: WorkflowDeps, revoking: AccessRequest): Promise<AccessRequest> {
  const end = (keptBecause: string | undefined, detail: string) =>
    commit(deps, revoking, transition(revoking, 'ENDED', { endedAt: deps.clock.now(), claimUntil: undefined, lastError: undefined, ...(keptBecause ? { keptBecause } : {}) }), [
      ...(keptBecause ? [{ type: 'assignment_kept' as const, actor: SYSTEM_ACTOR, detail: keptBecause }] : []),
      { type: 'revoked' as const, actor: SYSTEM_ACTOR, detail },
    ]);

  if (!revoking.principalId) return end(undefined, 'nothing was assigned');
  const target = targetOf({ ...revoking, principalId: revoking.principalId });
  for (;;) {
    const lease = await deps.store.getLease(leaseKey(target));
    // No lease: an earlier run of this revoke finished deleting and crashed before recording it.
    if (!lease) return end(undefined, 'assignment removed');
    const plan = lease.holders.includes(revoking.id)
      ? planRelease(lease, revoking.id, deps.clock.now())
      : lease.deleting
        ? ({ action: 'delete', lease } as const)
        : ({ action: 'keep', reason: `still needed by ${lease.holders.join(', ')}`, lease } as const);
    try {
      if (plan.action === 'keep') {
        if (plan.lease !== lease) await deps.store.putLease({ ...plan.lease, version: lease.version + 1 }, lease.version);
        return end(`another Timebox grant is active (${plan.lease.holders.join(', ')})`, 'assignment kept');
      }
      if (plan.action === 'forget') {
        await deps.store.deleteLease(lease.key, lease.version);
        return end(plan.reason, 'assignment kept');
      }
      let deletingVersion = lease.version;
      if (!lease.deleting) {
        deletingVersion = lease.version + 1;
        await deps.store.putLease({ ...plan.lease, version: deletingVersion }, lease.version);
      }
      const outcome = await deps.identityCenter.deleteAssignment(target);
      if (!outcome.ok) return retryLater(deps, revoking, `AWS could not delete the assignment: ${outcome.reason}`);
      await deps.store.deleteLease(lease.key, deletingVersion);
      return end(undefined, 'assignment removed');
    } catch (err) {
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
