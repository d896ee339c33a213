import type { AccessRequest, Grant } from './access-request';
import { samePerson, type Person, type Policy } from './policy';
import { naming } from './evaluate';

/**
 * Could `person` decide this grant now (the rules now running, as a click is checked by
 * checkApprover: not their own request unless the rule allows it, and named by the rule's
 * approvers, a group that could not be checked counting as not named)? Answered without building
 * checkApprover's refusals: an approver's Home asks this of every request waiting for approval.
 */
function mayDecideGrant(policy: Policy, request: AccessRequest, grant: Grant, person: Person): boolean {
  if (grant.status !== 'PENDING' || grant.approvals.some((a) => samePerson(a, person))) return false;
  const rule = policy.rules.find((r) => r.name === grant.ruleName);
  if (!rule) return false;
  if (samePerson(person, request.requester) && !rule.allowSelfApproval) return false;
  return naming(rule.approvers, person).kind === 'named';
}

/** Whether the request waits for `person`'s decision: a pending grant, not expired, they may decide and have not approved yet. */
export function waitsFor(policy: Policy, request: AccessRequest, person: Person, now: number): boolean {
  return now < request.expiresAt && request.grants.some((g) => mayDecideGrant(policy, request, g, person));
}

/**
 * Who the request concerns besides its requester: the approver entries (Slack ids, emails) of
 * the rules its grants that needed approval fall under. A wildcard names nobody in particular.
 */
export function approverEntries(policy: Policy, request: AccessRequest): string[] {
  const rules = new Set(request.grants.filter((g) => !g.autoApproved).map((g) => g.ruleName));
  const entries = policy.rules.filter((r) => rules.has(r.name)).flatMap((r) => r.approvers);
  return [...new Set(entries.filter((e) => e !== '*'))];
}
