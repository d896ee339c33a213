import { findGrant, grantTransitions, type AccessRequest } from '../domain/access-request';
import { SYSTEM_ACTOR } from '../domain/audit';
import { describeTarget, provisionTarget, targetKey } from '../domain/grant-target';
import { holderRef } from '../domain/lease';
import type { WorkflowDeps } from './deps';
import { updateGrant } from './grant-access';
import { releaseLease, removeTarget, updateLease, type ReleaseOutcome } from './leases';
import type { AdvanceJob, StuckRevoke } from './ports';

const MAX_REVOKE_RETRY_MS = 300_000;

/**
 * One REVOKING grant → ENDED. Removes the target only when this was the last Timebox grant
 * holding it and Timebox put it there. Safe to run again after a crash at any point. A failed
 * removal leaves the grant REVOKING with a retry time, which the sweep honours.
 */
export async function revokeOne(deps: WorkflowDeps, revoking: AccessRequest, grantId: string): Promise<AccessRequest | undefined> {
  const grant = findGrant(revoking, grantId);
  const outcome: ReleaseOutcome = revoking.principalId
    ? await releaseLease(deps, provisionTarget(grant.target, revoking.principalId), holderRef(revoking.id, grantId))
    : { kind: 'removed' };
  if (outcome.kind === 'failed') return retryRevokeLater(deps, revoking.id, grantId, outcome.reason);
  const keptBecause = outcome.kind === 'kept' ? outcome.reason : undefined;
  return updateGrant(deps, revoking.id, grantId, (g) =>
    g.status !== 'REVOKING'
      ? undefined
      : {
          grant: grantTransitions.end(g, deps.clock.now(), keptBecause, revoking.id),
          events: [
            ...(keptBecause ? [{ type: 'assignment_kept' as const, actor: SYSTEM_ACTOR, grantId, detail: keptBecause }] : []),
            { type: 'revoked' as const, actor: SYSTEM_ACTOR, grantId, detail: keptBecause ? 'kept' : 'removed' },
          ],
        },
  );
}

/**
 * Records a failed revoke attempt; the sweep picks the grant up again at its claimUntil. Past
 * `revokeStuckAttempts` attempts or `revokeStuckMs` after the window's end, every further failure
 * raises the stuck-revoke alarm (the first one loudly, audited as revoke_stuck).
 */
export async function retryRevokeLater(deps: WorkflowDeps, requestId: string, grantId: string, reason: string): Promise<AccessRequest | undefined> {
  let stuck: StuckRevoke | undefined;
  const saved = await updateGrant(deps, requestId, grantId, (g, request) => {
    stuck = undefined;
    if (g.status !== 'REVOKING') return undefined;
    const now = deps.clock.now();
    const attempts = (g.revokeAttempts ?? 0) + 1;
    const delay = Math.min(deps.options.revokeRetryMs * 2 ** (attempts - 1), MAX_REVOKE_RETRY_MS);
    deps.logger.error({ requestId, grantId, attempts, reason }, 'revoke failed; will retry');
    const overdueMs = now - (g.endsAt ?? now);
    const isStuck = attempts >= deps.options.revokeStuckAttempts || overdueMs >= deps.options.revokeStuckMs;
    const first = isStuck && g.stuckSince === undefined;
    if (isStuck) stuck = { requestId, grantId, target: `${describeTarget(g.target)} for ${request.requester.email ?? request.requester.slackUserId}`, attempts, overdueMs, reason, first };
    return {
      grant: { ...g, revokeAttempts: attempts, lastError: reason, claimUntil: now + delay, ...(first ? { stuckSince: now } : {}) },
      events: [
        { type: 'revoke_failed', actor: SYSTEM_ACTOR, grantId, detail: `attempt ${attempts}: ${reason}` },
        ...(first ? [{ type: 'revoke_stuck' as const, actor: SYSTEM_ACTOR, grantId, detail: `${attempts} attempts, ${Math.round(overdueMs / 1000)} s past the window's end: ${reason}` }] : []),
      ],
    };
  });
  if (stuck) await deps.alarms.revokeStuck(stuck).catch((err: unknown) => deps.logger.error({ requestId, grantId, err: String(err) }, 'could not raise the stuck-revoke alarm'));
  return saved;
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
