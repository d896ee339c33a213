import { grantTransitions, withGrant, type AccessRequest, type Grant } from '../domain/access-request';
import { RevokeFailedError } from '../domain/errors';
import { provisionTarget, targetKey } from '../domain/grant-target';
import { holderRef } from '../domain/lease';
import { endsSessions, withSessionEnd } from '../domain/session-end';
import { updateRequest } from './commit';
import type { WorkflowDeps } from './deps';
import { releaseLease, removeTarget, updateLease, type ReleaseOutcome } from './leases';
import type { AdvanceJob } from './ports';

/**
 * One REVOKING grant → ENDED. Removes the target only when this was the last Timebox grant
 * holding it and Timebox put it there. Safe to run again after a crash at any point. A failed
 * removal throws; the worker records the attempt (recordAttempt) and the sweep retries it.
 */
export async function revokeOne(deps: WorkflowDeps, revoking: AccessRequest, grant: Grant): Promise<AccessRequest | undefined> {
  const grantId = grant.id;
  const outcome: ReleaseOutcome = revoking.principalId
    ? await releaseLease(deps, provisionTarget(grant.target, revoking.principalId), holderRef(revoking.id, grantId))
    : { kind: 'removed' };
  if (outcome.kind === 'failed') throw new RevokeFailedError(outcome.reason);
  const keptBecause = outcome.kind === 'kept' ? outcome.reason : undefined;
  // Timebox removed the assignment under an endSessions rule: ending the sessions already issued
  // is due at once, as a step of its own, written with the end so a crash cannot lose it.
  const endSessions = outcome.kind === 'removed' && revoking.principalId !== undefined && endsSessions(deps.policy, grant);
  return updateRequest(deps, revoking.id, (fresh) => {
    const g = fresh.grants.find((x) => x.id === grantId);
    if (g?.status !== 'REVOKING') return undefined;
    const ended = grantTransitions.end(g, deps.clock.now(), keptBecause, revoking.id);
    const next = withGrant(fresh, ended.grant);
    return { next: endSessions ? withSessionEnd(next, grantId, ended.grant.endedAt ?? deps.clock.now()) : next, events: ended.events };
  }, revoking);
}

/**
 * A window's end fired for a request the store does not have (the table was replaced, or
 * restored from a backup older than the grant): the job itself says what Timebox created for
 * it, so that is removed anyway, unless a grant in the store now holds it (then that lease
 * learns the target is Timebox's, and its last holder removes it).
 */
export async function revokeFromReceipt(deps: WorkflowDeps, job: AdvanceJob): Promise<void> {
  for (const held of job.created ?? []) {
    const key = targetKey(held.target);
    const lease = await deps.store.getLease(key);
    const holder = holderRef(job.requestId, held.grantId);
    if (lease && lease.holders.some((h) => h !== holder)) {
      await updateLease(deps, key, (l) => ({ ...l, createdByTimebox: true, membershipId: l.membershipId ?? held.membershipId, updatedAt: deps.clock.now() }), lease.generation);
      deps.logger.warn({ requestId: job.requestId, target: key }, 'a window ended for a request the store does not know; another grant holds its target, which is now known to be Timebox\'s');
      continue;
    }
    const look = await deps.provisioner.lookup(held.target);
    if (!look.present) continue;
    const stored = lease ?? { key, target: held.target, holders: [], createdByTimebox: true, operations: [], deleting: false, generation: deps.newGeneration(), version: 1, updatedAt: deps.clock.now(), ...(held.membershipId ? { membershipId: held.membershipId } : {}) };
    if (!lease) await deps.store.putLease(stored, undefined);
    const outcome = await removeTarget(deps, stored);
    deps.logger.error({ requestId: job.requestId, target: key, outcome: outcome.kind }, 'a window ended for a request the store does not know (was the store replaced?); removed what Timebox created for it');
  }
}
