import { isRequestOver, type AccessRequest, type Grant } from '../domain/access-request';
import { TimeboxError } from '../domain/errors';
import { samePerson } from '../domain/policy';
import { personMatches } from '../domain/rules';
import type { WorkflowDeps } from './deps';
import { lookUpMember } from './members';

/** How many of a person's newest requests `list` and App Home read (the requester index, newest first). */
export const OWN_REQUESTS_READ = 50;

/** `slackUserId`'s requests that are not over yet (waiting, being granted, active, ending), newest first. */
export async function listOpenRequests(deps: Pick<WorkflowDeps, 'store'>, slackUserId: string): Promise<AccessRequest[]> {
  const own = await deps.store.listByRequester(slackUserId, OWN_REQUESTS_READ);
  return own.filter((r) => !isRequestOver(r));
}

export interface ViewRequestInput {
  requestId: string;
  bySlackUserId: string;
  /** The Slack workspace the command came from (the one Timebox is installed in). */
  workspace?: string;
}

/**
 * One request, for its requester or an approver of a rule one of its grants falls under (the
 * rules now running). Anyone else is refused, and learns nothing about the request.
 */
export async function viewRequest(deps: WorkflowDeps, input: ViewRequestInput): Promise<AccessRequest> {
  const request = await deps.store.getRequest(input.requestId);
  if (!request) throw new TimeboxError('not_found', `There is no request ${input.requestId.slice(0, 40)}.`);
  if (input.bySlackUserId === request.requester.slackUserId) return request;
  const person = await lookUpMember(deps, input.bySlackUserId, input.workspace, 'decide on');
  const ruleOf = (g: Grant) => deps.policy.rules.find((r) => r.name === g.ruleName);
  if (samePerson(person, request.requester) || request.grants.some((g) => personMatches(ruleOf(g)?.approvers ?? [], person))) return request;
  throw new TimeboxError('not_allowed_to_view', `Request ${request.id} is not yours and you are not an approver for it, so Timebox cannot show it.`);
}
