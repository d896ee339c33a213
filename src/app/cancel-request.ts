import { grantTransitions, isRequestOver, requestStatus, type AccessRequest, type Grant } from '../domain/access-request';
import { TimeboxError } from '../domain/errors';
import { commit, noteOnRequest, retryOnConflict } from './commit';
import type { WorkflowDeps } from './deps';
import { handToWorker } from './hand-off';

export interface CancelInput {
  requestId: string;
  bySlackUserId: string;
}

export interface Cancelled {
  request: AccessRequest;
  /** The grants this cancel withdrew (every one still waiting for approval). */
  withdrawn: Grant[];
  /** False when the worker could not be handed the change: it stands, and the sweep updates the messages. */
  handedOff: boolean;
}

/**
 * The requester withdraws a request while it waits for approval: every grant still PENDING
 * becomes CANCELLED (it can no longer be approved), audited as `cancelled`. Grants already decided
 * are left as they are (active access is ended with `end`). The worker then brings the approvers'
 * message up to date (its buttons go) and tells the requester. Refused, changing nothing, for
 * anyone but the requester (audited as `cancel_refused`) and for a request with nothing waiting.
 */
export async function cancelRequest(deps: WorkflowDeps, input: CancelInput): Promise<Cancelled> {
  let withdrawn: Grant[] = [];
  const saved = await retryOnConflict(async () => {
    const request = await deps.store.getRequest(input.requestId);
    if (!request) throw new TimeboxError('not_found', `There is no request ${input.requestId.slice(0, 40)}.`);
    if (input.bySlackUserId !== request.requester.slackUserId) {
      await noteOnRequest(deps, request.id, 'cancel_refused', input.bySlackUserId, 'not the requester');
      throw new TimeboxError('not_allowed_to_cancel', `Only the person who asked for request ${request.id} can cancel it.`);
    }
    const now = deps.clock.now();
    const pending = request.grants.filter((g) => g.status === 'PENDING');
    if (pending.length === 0 || now >= request.expiresAt) {
      const status = now >= request.expiresAt && pending.length > 0 ? 'expired' : requestStatus(request).toLowerCase();
      const active = request.grants.some((g) => g.status === 'ACTIVE');
      throw new TimeboxError(
        'already_decided',
        `Request ${request.id} is already ${status}, so there is nothing waiting to cancel.${active ? ` To end its access now: \`/aws-access end ${request.id}\`.` : ''}`,
      );
    }
    const steps = pending.map((g) => grantTransitions.cancel(g, request.requester, now, request.id, 'withdrawn by the requester while waiting for approval'));
    const next = { ...request, grants: request.grants.map((g) => steps.find((s) => s.grant.id === g.id)?.grant ?? g) };
    withdrawn = steps.map((s) => s.grant);
    return commit(deps, request, next, steps.flatMap((s) => s.events));
  });
  deps.logger.info({ requestId: saved.id, grants: withdrawn.map((g) => g.id) }, 'request cancelled by its requester');
  // Nothing is left to expire: the expiry's timer would find nothing to do. (With a grant still
  // active, its window's timer stays; the worker re-arms it anyway.)
  if (isRequestOver(saved)) {
    await deps.scheduler.cancel({ requestId: saved.id }).catch((err: unknown) =>
      deps.logger.warn({ requestId: saved.id, err: String(err) }, 'could not cancel the expiry schedule; it will find nothing to do'),
    );
  }
  return { request: saved, withdrawn, handedOff: await handToWorker(deps, saved.id, 'the cancellation') };
}
