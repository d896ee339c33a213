import { formatDuration } from './duration';
import { TimeboxError } from './errors';
import type { Account, Person, PermissionSet, Policy, Rule } from './policy';

export function resolveAccount(policy: Policy, text: string): Account {
  const wanted = text.trim().toLowerCase();
  const found = policy.accounts.find((a) => a.name.toLowerCase() === wanted || a.id === wanted);
  if (!found) {
    throw new TimeboxError('unknown_account', `Unknown account "${text.slice(0, 64)}". Known accounts: ${listNames(policy.accounts)}`);
  }
  return found;
}

export function resolvePermissionSet(policy: Policy, text: string): PermissionSet {
  const wanted = text.trim().toLowerCase();
  const found = policy.permissionSets.find((p) => p.name.toLowerCase() === wanted);
  if (!found) {
    throw new TimeboxError(
      'unknown_permission_set',
      `Unknown permission set "${text.slice(0, 64)}". Known permission sets: ${listNames(policy.permissionSets)}`,
    );
  }
  return found;
}

function listNames(items: Array<{ name: string }>): string {
  const names = items.map((i) => i.name);
  return names.length > 20 ? `${names.slice(0, 20).join(', ')} and ${names.length - 20} more` : names.join(', ');
}

/** True when `person` is named in `list` by Slack id or (case-insensitive) email, or the list is ["*"]. */
export function personMatches(list: string[], person: Person): boolean {
  if (list.includes('*')) return true;
  const email = person.email?.toLowerCase();
  return list.some((entry) => entry === person.slackUserId || (email !== undefined && entry === email));
}

/** The first rule, in file order, that covers this requester, account and permission set. */
export function findRule(policy: Policy, requester: Person, account: Account, permissionSet: PermissionSet): Rule | undefined {
  return policy.rules.find(
    (rule) =>
      (rule.accountIds.includes('*') || rule.accountIds.includes(account.id)) &&
      (rule.permissionSets.includes('*') || rule.permissionSets.includes(permissionSet.name)) &&
      personMatches(rule.requesters, requester),
  );
}

export interface Entitlement {
  rule: Rule;
  durationMs: number;
}

/** Decides whether a request is allowed at all, and under which rule. Throws a TimeboxError naming the problem. */
export function checkEntitlement(
  policy: Policy,
  requester: Person,
  account: Account,
  permissionSet: PermissionSet,
  durationMs: number,
): Entitlement {
  const rule = findRule(policy, requester, account, permissionSet);
  if (!rule) {
    throw new TimeboxError(
      'no_matching_rule',
      `No rule allows you to request ${permissionSet.name} on ${account.name} (${account.id}).`,
    );
  }
  if (durationMs < policy.durations.minMs) {
    throw new TimeboxError(
      'duration_too_short',
      `${formatDuration(durationMs)} is below the minimum of ${formatDuration(policy.durations.minMs)}.`,
    );
  }
  if (durationMs > rule.maxDurationMs) {
    throw new TimeboxError(
      'duration_too_long',
      `${formatDuration(durationMs)} is above the maximum of ${formatDuration(rule.maxDurationMs)} for ${permissionSet.name} on ${account.name} (rule "${rule.name}").`,
    );
  }
  return { rule, durationMs };
}

/** Throws unless `person` may decide a request filed under `rule` by `requester`. */
export function checkApprover(rule: Rule, requester: Person, person: Person): void {
  const isSelf = person.slackUserId === requester.slackUserId;
  if (isSelf && !rule.allowSelfApproval) {
    throw new TimeboxError('self_approval', 'You cannot approve or deny your own request.');
  }
  if (!personMatches(rule.approvers, person)) {
    throw new TimeboxError('not_an_approver', `You are not an approver for rule "${rule.name}".`);
  }
}

/** Who may end a window early: the requester, or an approver of the rule it was granted under. */
export function checkCanEnd(rule: Rule | undefined, requester: Person, person: Person): void {
  if (person.slackUserId === requester.slackUserId) return;
  if (rule && personMatches(rule.approvers, person)) return;
  throw new TimeboxError(
    'not_allowed_to_end',
    rule && rule.approvers.length > 0 ? `Only the requester or an approver for rule "${rule.name}" can end this access.` : 'Only the requester can end this access.',
  );
}
