import { transition, type AccessRequest } from '../domain/access-request';
import { SYSTEM_ACTOR } from '../domain/audit';
import { commit } from './commit';
import type { WorkflowDeps } from './deps';
import { RetryLaterError, grantAccess, targetOf } from './grant-access';
import { notifyPeople } from './notify-people';
import { AssignmentStillInProgressError, StoreConflictError } from './ports';
import { releaseAssignment } from './release-assignment';
import { retryLater, revokeAccess } from './revoke-access';

const MAX_STEPS = 20;
/** A grant that errors this many times (AWS refusing, not just slow) is failed and the requester told. */
const MAX_GRANT_ATTEMPTS = 5;

/**
 * The worker: moves one request as far as its state and the clock allow (expire, grant,
 * revoke), then tells people. Every door that wants work done (a click, a timer, EventBridge
 * Scheduler, the sweep) calls this, and calling it twice is harmless.
 */
export async function advanceRequest(deps: WorkflowDeps, requestId: string): Promise<AccessRequest | undefined> {
  const worked = await advanceWork(deps, requestId);
  if (!worked) return undefined;
  return notifyRequest(deps, requestId);
}

/**
 * The state work alone. Slack is never on this path, so a slow or failing Slack can neither
 * delay a grant nor hold access open past its window.
 */
export async function advanceWork(deps: WorkflowDeps, requestId: string): Promise<AccessRequest | undefined> {
  let last: AccessRequest | undefined;
  for (let step = 0; step < MAX_STEPS; step++) {
    const request = await deps.store.getRequest(requestId);
    if (!request) return undefined;
    last = request;
    try {
      const next = await workOnce(deps, request);
      if (!next) return request;
    } catch (err) {
      if (err instanceof StoreConflictError) continue; // someone else moved it: look again
      if (err instanceof RetryLaterError) {
        deps.logger.warn({ requestId, reason: err.message }, 'will retry later');
        return request;
      }
      throw err;
    }
  }
  return last;
}

/** Tells people about the request's latest state (channel message, requester's DM). */
export async function notifyRequest(deps: WorkflowDeps, requestId: string): Promise<AccessRequest | undefined> {
  let request = await deps.store.getRequest(requestId);
  for (let step = 0; request && step < 3; step++) {
    const notified = await notifyPeople(deps, request);
    if (notified === request) break;
    request = await deps.store.getRequest(requestId);
  }
  return request;
}

/** Does one step of work; returns the request after it, or undefined when there is nothing to do now. */
async function workOnce(deps: WorkflowDeps, request: AccessRequest): Promise<AccessRequest | undefined> {
  const now = deps.clock.now();
  const claim = { claimUntil: now + deps.options.claimMs };
  switch (request.status) {
    case 'PENDING':
      if (now < request.expiresAt) return undefined;
      return commit(deps, request, transition(request, 'EXPIRED', {}), [{ type: 'expired', actor: SYSTEM_ACTOR, detail: 'nobody decided in time' }]);
    case 'APPROVED': {
      const granting = await commit(deps, request, transition(request, 'GRANTING', claim), [{ type: 'grant_started', actor: SYSTEM_ACTOR }]);
      return grantSafely(deps, granting);
    }
    case 'GRANTING': {
      if ((request.claimUntil ?? 0) > now) return undefined; // another worker holds it
      const reclaimed = await commit(deps, request, { ...request, ...claim }, [{ type: 'grant_started', actor: SYSTEM_ACTOR, detail: 'resumed' }]);
      return grantSafely(deps, reclaimed);
    }
    case 'ACTIVE': {
      if ((request.endsAt ?? 0) > now) return undefined;
      const revoking = await commit(deps, request, transition(request, 'REVOKING', claim), [{ type: 'revoke_started', actor: SYSTEM_ACTOR }]);
      return revokeSafely(deps, revoking);
    }
    case 'REVOKING': {
      if ((request.claimUntil ?? 0) > now) return undefined;
      const reclaimed = await commit(deps, request, { ...request, ...claim }, [{ type: 'revoke_started', actor: SYSTEM_ACTOR, detail: 'retry' }]);
      return revokeSafely(deps, reclaimed);
    }
    default:
      return undefined;
  }
}

/**
 * A grant that throws (AWS refusing, or unreachable past the SDK's retries) is recorded on the
 * request and in the audit log, and resumed by the sweep once the claim runs out; after
 * MAX_GRANT_ATTEMPTS it is FAILED, anything an attempt created is removed, and the requester told.
 */
async function grantSafely(deps: WorkflowDeps, granting: AccessRequest): Promise<AccessRequest> {
  try {
    return await grantAccess(deps, granting);
  } catch (err) {
    if (err instanceof StoreConflictError || err instanceof RetryLaterError) throw err;
    // Slow provisioning is not a refusal: the sweep resumes it when the claim runs out.
    if (err instanceof AssignmentStillInProgressError) throw new RetryLaterError(err.message, { cause: err });
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const fresh = await deps.store.getRequest(granting.id);
    if (!fresh || fresh.status !== 'GRANTING') throw err;
    const attempts = (fresh.grantAttempts ?? 0) + 1;
    deps.logger.error({ requestId: fresh.id, attempts, reason }, 'grant attempt failed');
    if (attempts < MAX_GRANT_ATTEMPTS) {
      await commit(deps, fresh, { ...fresh, grantAttempts: attempts, lastError: reason }, [
        { type: 'grant_stalled', actor: SYSTEM_ACTOR, detail: `attempt ${attempts}: ${reason}` },
      ]);
      throw new RetryLaterError(`grant of ${fresh.id} failed`, { cause: err });
    }
    if (fresh.principalId) {
      const target = targetOf({ ...fresh, principalId: fresh.principalId });
      // If AWS shows it now, remove it; if not, stay on the lease: an earlier attempt may still
      // be IN_PROGRESS, and the reconciler removes this stale holder (and anything it created).
      if (await deps.identityCenter.hasAssignment(target).catch(() => true)) await releaseAssignment(deps, target, fresh.id);
    }
    return commit(deps, fresh, transition(fresh, 'FAILED', { grantAttempts: attempts, failure: `AWS kept refusing: ${reason}`, claimUntil: undefined }), [
      { type: 'grant_failed', actor: SYSTEM_ACTOR, detail: `gave up after ${attempts} attempts: ${reason}` },
    ]);
  }
}

/** A revoke that throws (AWS down, throttled past the SDK's retries) is recorded and retried, never dropped. */
async function revokeSafely(deps: WorkflowDeps, revoking: AccessRequest): Promise<AccessRequest> {
  try {
    return await revokeAccess(deps, revoking);
  } catch (err) {
    if (err instanceof StoreConflictError) throw err;
    const fresh = await deps.store.getRequest(revoking.id);
    if (!fresh || fresh.status !== 'REVOKING') throw err;
    await retryLater(deps, fresh, err instanceof Error ? err.message : String(err));
    throw new RetryLaterError(`revoke of ${revoking.id} failed`, { cause: err });
  }
}
