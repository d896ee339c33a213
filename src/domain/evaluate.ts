import { TimeboxError } from './errors';
import type { GrantTarget } from './grant-target';
import { groupsNamed, type GroupEntry, type Identity } from './identity';
import type { Policy, Rule } from './policy';

/**
 * Whether a requesters (or approvers) list names a person: by an entry (their Slack id, their
 * email, a group they are in, or "*"), not at all, or not known because a group it names could
 * not be checked (unknown, Slack or AWS failing, not looked up, or offline).
 */
export type Naming =
  | { kind: 'named'; via: string }
  | { kind: 'not_named'; notIn: GroupEntry[] }
  | { kind: 'unknown'; groups: Array<{ group: GroupEntry; why: string }> };

/** How `list` names `person`. A direct entry or a group they are in wins over a group that could not be checked. */
export function naming(list: string[], person: Identity): Naming {
  if (list.includes('*')) return { kind: 'named', via: '*' };
  const email = person.email?.toLowerCase();
  const direct = list.find((entry) => entry === person.slackUserId || (email !== undefined && entry === email));
  if (direct !== undefined) return { kind: 'named', via: direct };
  const notIn: GroupEntry[] = [];
  const unknown: Array<{ group: GroupEntry; why: string }> = [];
  for (const group of groupsNamed([list])) {
    const membership = person.groups?.get(group.entry);
    if (membership && 'member' in membership) {
      if (membership.member) return { kind: 'named', via: group.entry };
      notIn.push(group);
      continue;
    }
    unknown.push({ group, why: membership?.unresolved ?? 'it was not looked up' });
  }
  return unknown.length > 0 ? { kind: 'unknown', groups: unknown } : { kind: 'not_named', notIn };
}

/** The refusal when a group decides and could not be checked: Timebox refuses rather than guess. */
export function groupUnresolvedError(groups: Array<{ group: GroupEntry; why: string }>): TimeboxError {
  const first = groups[0]!;
  return new TimeboxError(
    'group_unresolved',
    `Timebox could not check membership of ${first.group.label} (${first.why}), so it refuses rather than guess. Try again in a few minutes, or ask an admin to check the rule.`,
  );
}

/** What one rule says about one person and one target: it matches, or the first reason it does not. */
export type Verdict =
  | { kind: 'matched'; via: string }
  | { kind: 'not_covered'; reason: string }
  | { kind: 'not_listed'; reason: string; notIn: GroupEntry[] }
  | { kind: 'unknown'; groups: Array<{ group: GroupEntry; why: string }> };

export interface RuleVerdict {
  rule: Rule;
  /** Its place in the file, from 0. */
  index: number;
  verdict: Verdict;
}

/**
 * Which rule decides: the first whose verdict is matched, unless an earlier rule's verdict
 * depends on a group that could not be checked (then nothing is decided: Timebox refuses rather
 * than let a later rule, or a "no", stand in for the failed look-up).
 */
export type Decision =
  | { kind: 'allowed'; rule: Rule; index: number }
  | { kind: 'unknown'; rule: Rule; index: number; groups: Array<{ group: GroupEntry; why: string }> }
  | { kind: 'refused' };

export interface Evaluation {
  target: GrantTarget;
  /** Every rule, in file order. */
  verdicts: RuleVerdict[];
  decision: Decision;
}

const listed = (items: string[]): string => (items.includes('*') ? 'any' : items.join(', '));

/** Account names by id, built once per policy: a reason names a rule's accounts for every target judged. */
const accountNames = new WeakMap<readonly { id: string; name: string }[], Map<string, string>>();
function accountName(accounts: readonly { id: string; name: string }[], id: string): string {
  let names = accountNames.get(accounts);
  if (!names) {
    names = new Map(accounts.map((a) => [a.id, a.name]));
    accountNames.set(accounts, names);
  }
  return names.get(id) ?? id;
}

/** Whether a rule covers a target (its accounts and permission sets, or its groups). */
export function covers(rule: Rule, target: GrantTarget): boolean {
  if (target.kind === 'group') return rule.groups.includes('*') || rule.groups.includes(target.groupName);
  return (rule.accountIds.includes('*') || rule.accountIds.includes(target.accountId)) && (rule.permissionSets.includes('*') || rule.permissionSets.includes(target.permissionSetName));
}

/** Why a rule does not cover a target, or undefined when it does. */
export function whyNotCovered(policy: Pick<Policy, 'accounts'>, rule: Rule, target: GrantTarget): string | undefined {
  if (target.kind === 'group') {
    if (rule.groups.length === 0) return 'it covers accounts, not group membership';
    if (rule.groups.includes('*') || rule.groups.includes(target.groupName)) return undefined;
    return `it covers groups ${listed(rule.groups)}, not ${target.groupName}`;
  }
  if (rule.groups.length > 0) return 'it covers group membership, not accounts';
  if (!rule.accountIds.includes('*') && !rule.accountIds.includes(target.accountId)) {
    const names = rule.accountIds.map((id) => accountName(policy.accounts, id));
    return `it covers accounts ${listed(names)}, not ${target.accountName}`;
  }
  if (!rule.permissionSets.includes('*') && !rule.permissionSets.includes(target.permissionSetName)) {
    return `it covers permission sets ${listed(rule.permissionSets)}, not ${target.permissionSetName}`;
  }
  return undefined;
}

/**
 * One rule's verdict: coverage first, then whether its requesters name the person. A break-glass
 * rule covers only break-glass requests (`/aws-access breakglass`), and an ordinary rule only
 * ordinary ones, so nobody falls under break-glass by accident and every explanation agrees.
 */
export function judgeRule(policy: Pick<Policy, 'accounts'>, rule: Rule, person: Identity, target: GrantTarget, breakGlass = false): Verdict {
  if ((rule.breakGlass === true) !== breakGlass) {
    return { kind: 'not_covered', reason: rule.breakGlass ? 'it is a break-glass rule, reached only with `/aws-access breakglass`' : 'it is not a break-glass rule' };
  }
  if (!covers(rule, target)) {
    // Worded only when read: `available` and `matrix` judge every rule for every target.
    return {
      kind: 'not_covered',
      get reason() {
        return whyNotCovered(policy, rule, target) ?? '';
      },
    };
  }
  const named = naming(rule.requesters, person);
  if (named.kind === 'named') return { kind: 'matched', via: named.via };
  if (named.kind === 'unknown') return { kind: 'unknown', groups: named.groups };
  const notIn = named.notIn.length > 0 ? `; not in ${named.notIn.map((g) => g.entry).join(', ')}` : '';
  return { kind: 'not_listed', reason: `the requester is not listed (requesters: ${rule.requesters.join(', ')}${notIn})`, notIn: named.notIn };
}

/**
 * The rules, in file order, judged for one person and one target, and which one decides. Filing,
 * the click-time re-check, `why`, `whocan`, `available` and the CLI all read this, so an
 * explanation can never disagree with a decision.
 */
export function evaluate(policy: Pick<Policy, 'accounts' | 'rules'>, person: Identity, target: GrantTarget, breakGlass = false): Evaluation {
  const verdicts = policy.rules.map((rule, index) => ({ rule, index, verdict: judgeRule(policy, rule, person, target, breakGlass) }));
  let decision: Decision = { kind: 'refused' };
  for (const { rule, index, verdict } of verdicts) {
    if (verdict.kind === 'matched') {
      decision = { kind: 'allowed', rule, index };
      break;
    }
    if (verdict.kind === 'unknown') {
      decision = { kind: 'unknown', rule, index, groups: verdict.groups };
      break;
    }
  }
  return { target, verdicts, decision };
}

/** The rule that decides, or the refusal naming the group that could not be checked; undefined when no rule allows it. */
export function decidingRule(evaluation: Evaluation): Rule | undefined {
  const { decision } = evaluation;
  if (decision.kind === 'unknown') throw groupUnresolvedError(decision.groups);
  return decision.kind === 'allowed' ? decision.rule : undefined;
}
