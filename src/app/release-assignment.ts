import { leaseKey, planRelease, type AssignmentTarget } from '../domain/assignment-lease';
import type { WorkflowDeps } from './deps';
import { StoreConflictError } from './ports';

const PRE_EXISTING = 'the assignment existed before Timebox granted it';

export type ReleaseOutcome = { kind: 'removed' } | { kind: 'kept'; reason: string } | { kind: 'failed'; reason: string };

export /** Lets go of the lease for `requestId`, deleting the assignment if nothing else needs it. */
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

