import { endEarly, type AccessRequest } from '../domain/access-request';
import { TimeboxError, isTimeboxError } from '../domain/errors';
import type { Person } from '../domain/policy';
import { checkCanEnd } from '../domain/rules';
import { commit } from './commit';
import type { WorkflowDeps } from './deps';
import { StoreConflictError } from './ports';

export interface EndAccessInput {
  requestId: string;
  /** Who asked: the requester, or an approver of the rule (checked against the stored request). */
  bySlackUserId: string;
}

const MAX_RACE_RETRIES = 8;

/**
 * Ends an active window now. The window's end moves to this moment (a conditional write), its
 * timer or schedule is cancelled, and the worker is handed the ordinary revoke, which removes
 * the assignment only if no other window or permanent assignment needs it. Should the hand-off
 * be lost, the request is due now, so the sweep revokes it. Refusals are audited and thrown as
 * TimeboxError, and change nothing.
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
    try {
      checkCanEnd(
        deps.policy.rules.find((r) => r.name === request.ruleName),
        request.requester,
        person,
      );
      const plannedEnd = request.endsAt;
      const saved = await commit(deps, request, endEarly(request, person, deps.clock.now()), [
        { type: 'ended_early', actor: person.slackUserId, detail: plannedEnd ? `was to end ${new Date(plannedEnd).toISOString()}` : undefined },
      ]);
      deps.logger.info({ requestId: saved.id, by: person.slackUserId }, 'access ended early');
      await deps.scheduler.cancel({ requestId: saved.id });
      await deps.queue.dispatch({ requestId: saved.id });
      return saved;
    } catch (err) {
      if (err instanceof StoreConflictError && attempt < MAX_RACE_RETRIES) continue;
      if (isTimeboxError(err)) {
        await deps.store.appendAudit({
          requestId: request.id,
          at: deps.clock.now(),
          seq: `refused-${deps.clock.now()}-${deps.newRequestId()}`,
          type: 'end_refused',
          actor: person.slackUserId,
          detail: err.code,
        });
      }
      throw err;
    }
  }
}
