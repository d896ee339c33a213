import { transition, type AccessRequest } from '../domain/access-request';
import { SYSTEM_ACTOR } from '../domain/audit';
import { commit } from './commit';
import type { WorkflowDeps } from './deps';
import { targetOf } from './grant-access';
import { releaseAssignment, type ReleaseOutcome } from './release-assignment';

const MAX_REVOKE_RETRY_MS = 300_000;

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

/** Records a failed revoke attempt; the sweep picks the request up again at claimUntil. */
export async function retryLater(deps: WorkflowDeps, request: AccessRequest, reason: string): Promise<AccessRequest> {
  const attempts = (request.revokeAttempts ?? 0) + 1;
  const delay = Math.min(deps.options.revokeRetryMs * 2 ** (attempts - 1), MAX_REVOKE_RETRY_MS);
  deps.logger.error({ requestId: request.id, attempts, reason }, 'revoke failed; will retry');
  return commit(deps, request, { ...request, revokeAttempts: attempts, lastError: reason, claimUntil: deps.clock.now() + delay }, [
    { type: 'revoke_failed', actor: SYSTEM_ACTOR, detail: `attempt ${attempts}: ${reason}` },
  ]);
}
