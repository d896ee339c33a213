import { decide, type AccessRequest, type Decision } from '../domain/access-request';
import { TimeboxError, isTimeboxError } from '../domain/errors';
import type { Person } from '../domain/policy';
import { checkApprover } from '../domain/rules';
import { commit, noteOnRequest } from './commit';
import type { WorkflowDeps } from './deps';
import { StoreConflictError, type MessageRef } from './ports';

export interface DecideInput {
  requestId: string;
  decision: Decision;
  clickerSlackUserId: string;
  /** The message the button sat on; must be the request's own approval message. */
  message?: MessageRef;
}

const MAX_RACE_RETRIES = 8;

/**
 * Records one approver's click. Who may decide comes from the stored request and the rule it
 * was filed under, never from the button. Concurrent clicks are settled by conditional writes:
 * exactly one of them moves the request on. Refusals are audited and thrown as TimeboxError.
 */
export async function decideRequest(deps: WorkflowDeps, input: DecideInput): Promise<AccessRequest> {
  const clicker = await deps.directory.lookup(input.clickerSlackUserId);
  const person: Person = clicker ?? { slackUserId: input.clickerSlackUserId };
  for (let attempt = 0; ; attempt++) {
    const request = await deps.store.getRequest(input.requestId);
    if (!request) throw new TimeboxError('not_found', `There is no request ${input.requestId.slice(0, 40)}.`);
    try {
      const next = authoriseAndDecide(deps, request, input, person);
      const saved = await commit(deps, request, next, [
        {
          type: next.status === 'DENIED' ? 'denied' : next.status === 'APPROVED' ? 'approved' : 'approval_recorded',
          actor: person.slackUserId,
          detail: `${next.approvals.length}/${next.approvalsRequired} approvals`,
        },
      ]);
      deps.logger.info({ requestId: saved.id, status: saved.status, by: person.slackUserId }, 'decision recorded');
      if (saved.status !== 'PENDING') await deps.scheduler.cancel({ requestId: saved.id });
      // The worker grants, or updates the channel message (a partial approval shows who approved so far).
      await deps.queue.dispatch({ requestId: saved.id });
      return saved;
    } catch (err) {
      if (err instanceof StoreConflictError && attempt < MAX_RACE_RETRIES) continue;
      if (isTimeboxError(err)) {
        await noteOnRequest(deps, request.id, 'decision_refused', person.slackUserId, `${input.decision}: ${err.code}`);
      }
      throw err;
    }
  }
}

function authoriseAndDecide(deps: WorkflowDeps, request: AccessRequest, input: DecideInput, person: Person): AccessRequest {
  // A button must sit on this request's own message. (Until the message's ts is recorded, a
  // click can only come from the message just posted, so there is nothing to compare yet.)
  const ref = request.approvalMessage;
  if (input.message && ref && (ref.channel !== input.message.channel || ref.ts !== input.message.ts)) {
    throw new TimeboxError('stale_button', 'That button does not belong to this request.');
  }
  const rule = deps.policy.rules.find((r) => r.name === request.ruleName);
  if (!rule) {
    throw new TimeboxError('not_an_approver', `The rule "${request.ruleName}" this request was filed under no longer exists.`);
  }
  checkApprover(rule, request.requester, person);
  return decide(request, input.decision, person, deps.clock.now());
}
