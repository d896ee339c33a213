import { TimeboxError } from './errors';
import type { GrantTarget } from './grant-target';
import { groupsIn, type GroupEntry, type Identity } from './identity';
import type { Policy, Rule } from './policy';
import type { CatalogueSnapshot } from './catalogue';
import { entryLabel, namesPermissionSet, selectingEntry } from './catalogue-view';

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
  for (const group of groupsIn(list)) {
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

/**
 * Whether a rule covers a target: its groups, or its accounts (by id, name, OU or tag, read
 * from the snapshot) and its permission sets (by name, ignoring case).
 */
export function covers(rule: Rule, target: GrantTarget, snapshot: CatalogueSnapshot): boolean {
  if (target.kind === 'group') return rule.groups.includes('*') || rule.groups.includes(target.groupName);
  return namesPermissionSet(rule.permissionSets, target.permissionSetName) && selectingEntry(rule.accountIds, target.accountId, snapshot) !== undefined;
}

/** Why a rule does not cover a target, or undefined when it does. */
export function whyNotCovered(snapshot: CatalogueSnapshot, rule: Rule, target: GrantTarget): string | undefined {
  if (target.kind === 'group') {
    if (rule.groups.length === 0) return 'it covers accounts, not group membership';
    if (rule.groups.includes('*') || rule.groups.includes(target.groupName)) return undefined;
    return `it covers groups ${listed(rule.groups)}, not ${target.groupName}`;
  }
  if (rule.groups.length > 0) return 'it covers group membership, not accounts';
  if (selectingEntry(rule.accountIds, target.accountId, snapshot) === undefined) {
    return `it covers accounts ${listed(rule.accountIds.map((entry) => entryLabel(entry, snapshot)))}, not ${target.accountName}`;
  }
  if (!namesPermissionSet(rule.permissionSets, target.permissionSetName)) {
    return `it covers permission sets ${listed(rule.permissionSets)}, not ${target.permissionSetName}`;
  }
  return undefined;
}

/**
 * One rule's verdict: coverage first, then whether its requesters name the person. A break-glass
 * rule covers only break-glass requests (`/aws-access breakglass`), and an ordinary rule only
 * ordinary ones, so nobody falls under break-glass by accident and every explanation agrees.
 */
export function judgeRule(snapshot: CatalogueSnapshot, rule: Rule, person: Identity, target: GrantTarget, breakGlass = false): Verdict {
  if ((rule.breakGlass === true) !== breakGlass) {
    return { kind: 'not_covered', reason: rule.breakGlass ? 'it is a break-glass rule, reached only with `/aws-access breakglass`' : 'it is not a break-glass rule' };
  }
  if (!covers(rule, target, snapshot)) {
    // Worded only when read: `available` and `matrix` judge every rule for every target.
    return {
      kind: 'not_covered',
      get reason() {
        return whyNotCovered(snapshot, rule, target) ?? '';
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
export function evaluate(policy: Pick<Policy, 'catalogue' | 'rules'>, person: Identity, target: GrantTarget, breakGlass = false, snapshot = policy.catalogue.current()): Evaluation {
  const verdicts = policy.rules.map((rule, index) => ({ rule, index, verdict: judgeRule(snapshot, rule, person, target, breakGlass) }));
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

const REFUSED: Decision = { kind: 'refused' };

/**
 * The decision `evaluate` reaches, for one person and many targets, without a verdict for every
 * rule: `available`, the form's type-ahead and anything else that asks "what may this person
 * request?" of thousands of targets (1,000 accounts × 100 permission sets × 200 rules is 20 million
 * verdicts). Whether a rule names the person does not depend on the target, so it is worked out
 * once per rule, and rules that do not name them (and break-glass rules for an ordinary request,
 * or the other way round) can never decide; the rules that can are then looked at in file order
 * per target, and the first that covers it decides, as in `evaluate`. Which of those rules select
 * an account is read once per account. A property test holds it to `evaluate(...).decision`.
 */
export interface Decider {
  decide(target: GrantTarget): Decision;
  /** Whether any rule could decide something on this account for the person (false: nothing on it is allowed, without asking per permission set). */
  anyRuleOn(accountId: string): boolean;
}

/**
 * Which rules can name a person, read once per list of rules (a policy's rules never change while
 * it runs): by each entry that names one person (a Slack id, an email, as written), and the rules
 * whose requesters any person may be named by ("*", or a group). A rule in neither for someone
 * does not name them, so working out who may request what looks at a handful of rules, not all.
 */
interface RequesterIndex {
  byEntry: Map<string, number[]>;
  open: number[];
}
const requesterIndexes = new WeakMap<readonly Rule[], RequesterIndex>();
function requesterIndex(rules: readonly Rule[]): RequesterIndex {
  let index = requesterIndexes.get(rules);
  if (!index) {
    index = { byEntry: new Map(), open: [] };
    for (const [i, rule] of rules.entries()) {
      if (rule.requesters.includes('*') || groupsIn(rule.requesters).length > 0) index.open.push(i);
      for (const entry of new Set(rule.requesters)) {
        const named = index.byEntry.get(entry);
        if (named) named.push(i);
        else index.byEntry.set(entry, [i]);
      }
    }
    requesterIndexes.set(rules, index);
  }
  return index;
}

/** The places (in file order) of the rules whose requesters could name `person`: every other rule does not. */
function rulesThatMayName(rules: readonly Rule[], person: Identity): number[] {
  const { byEntry, open } = requesterIndex(rules);
  const email = person.email?.toLowerCase();
  const direct = [...(byEntry.get(person.slackUserId) ?? []), ...(email === undefined ? [] : (byEntry.get(email) ?? []))];
  if (direct.length === 0) return open;
  return [...new Set([...open, ...direct])].sort((a, b) => a - b);
}

export function decider(policy: Pick<Policy, 'catalogue' | 'rules'>, person: Identity, breakGlass = false, snapshot = policy.catalogue.current()): Decider {
  const inPlay: Array<{ rule: Rule; decision: Decision }> = [];
  for (const index of rulesThatMayName(policy.rules, person)) {
    const rule = policy.rules[index]!;
    if ((rule.breakGlass === true) !== breakGlass) continue;
    const named = naming(rule.requesters, person);
    if (named.kind === 'named') inPlay.push({ rule, decision: { kind: 'allowed', rule, index } });
    else if (named.kind === 'unknown') inPlay.push({ rule, decision: { kind: 'unknown', rule, index, groups: named.groups } });
  }
  const byAccount = new Map<string, typeof inPlay>();
  const selecting = (accountId: string): typeof inPlay => {
    // Nobody's rules (most people opening the form): nothing to read per account.
    if (inPlay.length === 0) return inPlay;
    let rules = byAccount.get(accountId);
    if (!rules) {
      rules = inPlay.filter(({ rule }) => selectingEntry(rule.accountIds, accountId, snapshot) !== undefined);
      byAccount.set(accountId, rules);
    }
    return rules;
  };
  return {
    decide: (target) => {
      if (target.kind === 'group') return inPlay.find(({ rule }) => covers(rule, target, snapshot))?.decision ?? REFUSED;
      for (const { rule, decision } of selecting(target.accountId)) if (namesPermissionSet(rule.permissionSets, target.permissionSetName)) return decision;
      return REFUSED;
    },
    anyRuleOn: (accountId) => selecting(accountId).length > 0,
  };
}

/** The rule that decides, or the refusal naming the group that could not be checked; undefined when no rule allows it. */
export function decidingRule(evaluation: Evaluation): Rule | undefined {
  return ruleDecided(evaluation.decision);
}

/** The rule a decision allows under, or the refusal naming the group that could not be checked; undefined when it refuses. */
export function ruleDecided(decision: Decision): Rule | undefined {
  if (decision.kind === 'unknown') throw groupUnresolvedError(decision.groups);
  return decision.kind === 'allowed' ? decision.rule : undefined;
}
