import { lookUpMember } from './members';
import { endEarly, type AccessRequest, type Grant } from '../domain/access-request';
import { holderRef, planRelease } from '../domain/lease';
import { TimeboxError, isTimeboxError } from '../domain/errors';
import { provisionTarget, targetKey } from '../domain/grant-target';
import type { Identity } from '../domain/identity';
import { samePerson } from '../domain/policy';
import { checkCanEnd, namedOrNot } from '../domain/rules';
import { resolveIdentity } from './resolve-identity';
import { commit, noteOnRequest, retryOnConflict } from './commit';
import type { WorkflowDeps } from './deps';
import { handToWorker } from './hand-off';

export interface EndAccessInput {
  requestId: string;
  /** Who asked: the requester, or an approver of the rule (checked against the stored request). */
  bySlackUserId: string;
  /** The Slack workspace the click or command came from (the one Timebox is installed in). */
  workspace?: string;
}


/**
 * Ends an active window now (the requester's end also withdraws the grants still waiting for
 * approval: see endEarly). The window's end moves to this moment (a conditional write), the
 * worker is handed the ordinary revoke, which removes the assignment only if no other window or
 * permanent assignment needs it, and the window's timer or schedule is cancelled. Once the end
 * is stored it stands: should the hand-off fail, the request is due now and the sweep revokes it.
 * A refusal changes nothing and is thrown as TimeboxError; one by someone not allowed to end the
 * access (not its requester or an approver, or not a member of the workspace) is audited
 * (`end_refused`, with who and why).
 */
export async function endAccess(deps: WorkflowDeps, input: EndAccessInput): Promise<AccessRequest> {
  let person: Identity | undefined;
  const saved = await retryOnConflict(async () => {
    const request = await deps.store.getRequest(input.requestId);
    if (!request) throw new TimeboxError('not_found', `There is no request ${input.requestId.slice(0, 40)}.`);
    // The requester is known from the request; anyone else is looked up for the approver check.
    const ruleOf = (g: Grant) => deps.policy.rules.find((r) => r.name === g.ruleName);
    // Looked up once for this click: membership of the groups named as approvers by the request's rules.
    person ??=
      input.bySlackUserId === request.requester.slackUserId
        ? request.requester
        : await resolveIdentity(
            deps,
            await lookUpMember(deps, input.bySlackUserId, input.workspace, 'end', (why) => noteOnRequest(deps, request.id, 'end_refused', input.bySlackUserId, why)),
            request.grants.flatMap((g) => [ruleOf(g)?.approvers ?? []]),
          );
    const by: Identity = person;
    let ended: ReturnType<typeof endEarly>;
    try {
      checkCanEnd(request.grants.map(ruleOf), request.requester, by);
      // The requester ends all of it; an approver ends the grants under the rules they approve.
      const isRequester = samePerson(by, request.requester);
      ended = endEarly(request, by, deps.clock.now(), (g) => isRequester || namedOrNot(ruleOf(g)?.approvers ?? [], by));
    } catch (err) {
      if (isTimeboxError(err, 'not_allowed_to_end') || isTimeboxError(err, 'group_unresolved')) await noteOnRequest(deps, request.id, 'end_refused', by.slackUserId, err.code);
      // Already past its end but not yet revoked (a late schedule, a lost timer): nudge the worker.
      if (isTimeboxError(err, 'already_ending') && request.grants.some((g) => g.status === 'ACTIVE')) await handOver(deps, request, false);
      throw err;
    }
    return commit(deps, request, ended.next, ended.events);
  });
  deps.logger.info({ requestId: saved.id, by: input.bySlackUserId }, 'access ended early');
  await handOver(deps, saved, true);
  return saved;
}

/** Best effort once the end is stored: the revoke is due now, so the sweep covers a failure here. */
async function handOver(deps: WorkflowDeps, request: AccessRequest, cancelSchedule: boolean): Promise<void> {
  // The old end's timer or schedule would find nothing to do; cancelling saves the call. It goes
  // first, so it cannot remove a timer the worker arms for the request's next work.
  if (cancelSchedule) {
    await deps.scheduler.cancel({ requestId: request.id }).catch((err: unknown) =>
      deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not cancel the revoke schedule; it will find nothing to do'),
    );
  }
  await handToWorker(deps, request.id, 'the early end');
}

/**
 * Why targets will outlive this request's windows, if any will (another Timebox window holds
 * them, or they were there before Timebox), for the person ending it. Empty when all go, or when unknown.
 */
export async function whatKeepsAccess(deps: WorkflowDeps, request: AccessRequest): Promise<string[]> {
  const principalId = request.principalId;
  if (!principalId) return [];
  const reasons: string[] = [];
  for (const grant of request.grants.filter((g) => g.status === 'ACTIVE')) {
    try {
      const lease = await deps.store.getLease(targetKey(provisionTarget(grant.target, principalId)));
      if (!lease) continue;
      const plan = planRelease(lease, holderRef(request.id, grant.id), deps.clock.now());
      if (plan.action !== 'delete') reasons.push(plan.reason);
    } catch {
      // unknown: say nothing rather than guess
    }
  }
  return reasons;
}
