import { endEarly, type AccessRequest } from '../domain/access-request';
import { leaseKey, planRelease } from '../domain/assignment-lease';
import { TimeboxError, isTimeboxError } from '../domain/errors';
import type { Person } from '../domain/policy';
import { checkCanEnd } from '../domain/rules';
import { commit, noteOnRequest } from './commit';
import type { WorkflowDeps } from './deps';
import { targetOf } from './grant-access';
import { StoreConflictError } from './ports';

export interface EndAccessInput {
  requestId: string;
  /** Who asked: the requester, or an approver of the rule (checked against the stored request). */
  bySlackUserId: string;
}

const MAX_RACE_RETRIES = 8;

/**
 * Ends an active window now. The window's end moves to this moment (a conditional write), the
 * worker is handed the ordinary revoke, which removes the assignment only if no other window or
 * permanent assignment needs it, and the window's timer or schedule is cancelled. Once the end
 * is stored it stands: should the hand-off fail, the request is due now and the sweep revokes it.
 * A refusal changes nothing and is thrown as TimeboxError; one by someone not allowed to end the
 * access is audited (`end_refused`).
 */
export async function endAccess(deps: WorkflowDeps, input: EndAccessInput): Promise<AccessRequest> {
  let person: Person | undefined;
  for (let attempt = 0; ; attempt++) {
    const request = await deps.store.getRequest(input.requestId);
    if (!request) throw new TimeboxError('not_found', `There is no request ${input.requestId.slice(0, 40)}.`);
    // The requester is known from the request; anyone else is looked up for the approver check.
    person ??=
      input.bySlackUserId === request.requester.slackUserId
        ? request.requester
        : ((await deps.directory.lookup(input.bySlackUserId)) ?? { slackUserId: input.bySlackUserId });
    let ended: AccessRequest;
    try {
      checkCanEnd(
        deps.policy.rules.find((r) => r.name === request.ruleName),
        request.requester,
        person,
      );
      ended = endEarly(request, person, deps.clock.now());
    } catch (err) {
      if (isTimeboxError(err, 'not_allowed_to_end')) await noteOnRequest(deps, request.id, 'end_refused', person.slackUserId, err.code);
      // Already past its end but not yet revoked (a late schedule, a lost timer): nudge the worker.
      if (isTimeboxError(err, 'already_ending') && request.status === 'ACTIVE') await handOver(deps, request, false);
      throw err;
    }
    let saved: AccessRequest;
    try {
      saved = await commit(deps, request, ended, [
        { type: 'ended_early', actor: person.slackUserId, detail: request.endsAt ? `was to end ${new Date(request.endsAt).toISOString()}` : undefined },
      ]);
    } catch (err) {
      if (err instanceof StoreConflictError && attempt < MAX_RACE_RETRIES) continue;
      throw err;
    }
    deps.logger.info({ requestId: saved.id, by: person.slackUserId }, 'access ended early');
    await handOver(deps, saved, true);
    return saved;
  }
}

/** Best effort once the end is stored: the revoke is due now, so the sweep covers a failure here. */
async function handOver(deps: WorkflowDeps, request: AccessRequest, cancelSchedule: boolean): Promise<void> {
  await deps.queue.dispatch({ requestId: request.id }).catch((err: unknown) =>
    deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not hand the early end to the worker; the sweep will revoke it'),
  );
  if (!cancelSchedule) return;
  // The old end's timer or schedule would find the request ENDED and do nothing; cancelling saves the call.
  await deps.scheduler.cancel({ requestId: request.id }).catch((err: unknown) =>
    deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not cancel the revoke schedule; it will find the request ended'),
  );
}

/**
 * Why the assignment will outlive this window, if it will (another Timebox window holds it, or it
 * was there before Timebox), for the person ending it. Undefined when it goes, or when unknown.
 */
export async function whatKeepsAssignment(deps: WorkflowDeps, request: AccessRequest): Promise<string | undefined> {
  if (!request.principalId) return undefined;
  try {
    const lease = await deps.store.getLease(leaseKey(targetOf({ ...request, principalId: request.principalId })));
    if (!lease) return undefined;
    const plan = planRelease(lease, request.id, deps.clock.now());
    return plan.action === 'delete' ? undefined : plan.reason;
  } catch {
    return undefined;
  }
}
