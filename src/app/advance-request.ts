import { transition, type AccessRequest } from '../domain/access-request';
import { SYSTEM_ACTOR } from '../domain/audit';
import { commit } from './commit';
import type { WorkflowDeps } from './deps';
import { RetryLaterError, grantAccess } from './grant-access';
import { notifyPeople } from './notify-people';
import { StoreConflictError } from './ports';
import { retryLater, revokeAccess } from './revoke-access';

const MAX_STEPS = 20;

/**
 * The worker: looks at one request and moves it as far as its state and the clock allow
 * (tell people, expire, grant, revoke). Every door that wants work done (a click, a timer,
 * EventBridge Scheduler, the sweep) calls this, and calling it twice is harmless.
 */
export async function advanceRequest(deps: WorkflowDeps, requestId: string): Promise<AccessRequest | undefined> {
  let last: AccessRequest | undefined;
  for (let step = 0; step < MAX_STEPS; step++) {
    const request = await deps.store.getRequest(requestId);
    if (!request) return undefined;
    last = request;
    try {
      const next = await advanceOnce(deps, request);
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

/** Does one step; returns the request after it, or undefined when there is nothing to do now. */
async function advanceOnce(deps: WorkflowDeps, request: AccessRequest): Promise<AccessRequest | undefined> {
  const now = deps.clock.now();
  const notified = await notifyPeople(deps, request);
  if (notified !== request) return notified;
  const claim = { claimUntil: now + deps.options.claimMs };
  switch (request.status) {
    case 'PENDING':
      if (now < request.expiresAt) return undefined;
      return commit(deps, request, transition(request, 'EXPIRED', {}), [{ type: 'expired', actor: SYSTEM_ACTOR, detail: 'nobody decided in time' }]);
    case 'APPROVED': {
      const granting = await commit(deps, request, transition(request, 'GRANTING', claim), [{ type: 'grant_started', actor: SYSTEM_ACTOR }]);
      return grantAccess(deps, granting);
    }
    case 'GRANTING': {
      if ((request.claimUntil ?? 0) > now) return undefined; // another worker holds it
      const reclaimed = await commit(deps, request, { ...request, ...claim }, [{ type: 'grant_started', actor: SYSTEM_ACTOR, detail: 'resumed' }]);
      return grantAccess(deps, reclaimed);
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
