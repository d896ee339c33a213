import { formatDuration } from './duration';
import { decider, evaluate, type Evaluation, type RuleVerdict } from './evaluate';
import { describeTarget, type GrantTarget } from './grant-target';
import { groupEntry, groupsNamed, type Identity, type Membership } from './identity';
import type { Policy, Rule } from './policy';
import type { CatalogueSnapshot } from './catalogue';
import { entitlementFacts } from './rules';

/**
 * Explanations of the rules, as plain text (no markup): Slack shows them (escaped) and the CLI
 * prints them, so `why` and `policy explain` give the same answer. Every one is read off
 * `evaluate`, never worked out beside it.
 */
export interface Explanation {
  title: string;
  sections: Array<{ heading?: string; lines: string[] }>;
}

/** A requesters or approvers entry as written, with "*" spelled out. */
export const entryText = (entry: string): string => (entry === '*' ? 'everyone (*)' : entry);
const entries = (list: string[]): string => list.map(entryText).join(', ');

/** "auto-approved" or "needs 2 approvals (approvalsRequired: 2) from …". */
export function approvalText(rule: Rule): string {
  if (rule.autoApprove) return 'auto-approved';
  const n = rule.approvalsRequired;
  const self = rule.allowSelfApproval ? '; an approver may approve their own request' : '';
  return `needs ${n} approval${n === 1 ? '' : 's'} (approvalsRequired: ${n}) from ${entries(rule.approvers)}${self}`;
}

/** What a request under `rule` gets: its approval and its longest window. */
export const outcomeText = (rule: Rule): string => `${approvalText(rule)}, for up to ${formatDuration(rule.maxDurationMs)}`;

/** "ReadOnly on staging (111111111111)" or "membership of group oncall". */
const targetText = (target: GrantTarget): string => (target.kind === 'group' ? `membership of group ${target.groupName}` : describeTarget(target));

function verdictText({ verdict }: RuleVerdict, offline: boolean): string {
  switch (verdict.kind) {
    case 'matched':
      return `matches (requesters include ${entryText(verdict.via)})`;
    case 'not_covered':
      return `does not apply: ${verdict.reason}`;
    case 'not_listed':
      return `does not apply: ${verdict.reason}`;
    case 'unknown':
      return offline
        ? `matches only if the requester is in ${verdict.groups.map((g) => g.group.entry).join(' or ')} (group membership cannot be checked offline)`
        : `cannot be decided: Timebox could not check membership of ${verdict.groups.map((g) => `${g.group.label} (${g.why})`).join(', ')}`;
  }
}

/**
 * `why` (and `policy explain`): the rule that would decide `who`'s request for the target and
 * its outcome, or why nothing allows it, with each rule in order and the first reason it did not
 * match. `offline` (the CLI, which has no Slack or AWS): a group rule is answered as a condition
 * ("if … is in @oncall") instead of a refusal, and the rules after it are followed.
 */
export function explainWhy(evaluation: Evaluation, who: string, options: { offline?: boolean } = {}): Explanation {
  const offline = options.offline ?? false;
  const { decision, verdicts, target } = evaluation;
  const outcome: string[] = [];
  if (decision.kind === 'allowed') {
    outcome.push(`Rule "${decision.rule.name}" decides: ${outcomeText(decision.rule)}.`);
  } else if (decision.kind === 'refused') {
    outcome.push('No rule allows it, so a request would be refused.');
  } else if (!offline) {
    outcome.push(`Rule "${decision.rule.name}" names a group whose membership Timebox could not check, so a request now would be refused. Try again in a few minutes, or ask an admin to check the rule.`);
  } else {
    // Follow the conditions in order until a rule matches outright or none is left.
    for (const { rule, verdict } of verdicts) {
      if (verdict.kind === 'unknown') {
        outcome.push(`If ${who} is in ${verdict.groups.map((g) => g.group.entry).join(' or ')}: rule "${rule.name}" decides: ${outcomeText(rule)}.`);
      } else if (verdict.kind === 'matched') {
        outcome.push(`Otherwise: rule "${rule.name}" decides: ${outcomeText(rule)}.`);
        break;
      }
    }
    if (!verdicts.some((v) => v.verdict.kind === 'matched')) outcome.push('Otherwise: no rule allows it, so a request would be refused.');
  }
  // Up to the rule that decides (the rules after it are never reached); every rule when none does.
  const last = decision.kind === 'allowed' || (decision.kind === 'unknown' && !offline) ? decision.index : verdicts.length - 1;
  const rules = verdicts.slice(0, last + 1).map((v) => `${v.index + 1}. ${v.rule.name}: ${verdictText(v, offline)}`);
  return {
    title: `Why: ${targetText(target)}, for ${who}`,
    sections: [{ lines: outcome }, { heading: 'Rules in order', lines: rules.length > 0 ? rules : ['(no rules)'] }],
  };
}

/**
 * Someone named only by `entry` (a user, a Slack or Identity Center group, or "*" for anyone
 * else) and in no other group the rules name: who `whocan` marks each rule's first match for.
 */
function representative(entry: string, groupEntries: string[]): Identity {
  const groups = new Map<string, Membership>(groupEntries.map((g) => [g, { member: g === entry }]));
  if (entry === '*' || groupEntry(entry)) return { slackUserId: '', groups };
  return entry.includes('@') ? { slackUserId: '', email: entry, groups } : { slackUserId: entry, groups };
}

/** Each covering rule, in order, with the requester entries it is the first match for. */
export function firstMatches(policy: Pick<Policy, 'catalogue' | 'rules'>, target: GrantTarget, snapshot = policy.catalogue.current()): Array<{ rule: Rule; index: number; firstFor: string[] }> {
  const covering = evaluate(policy, { slackUserId: '' }, target, false, snapshot).verdicts.filter((v) => v.verdict.kind !== 'not_covered');
  const groupEntries = groupsNamed(policy.rules.map((r) => r.requesters)).map((g) => g.entry);
  const kinds = [...new Set(covering.flatMap((v) => v.rule.requesters))];
  const firstFor = new Map<number, string[]>();
  for (const entry of kinds) {
    const { decision } = evaluate(policy, representative(entry, groupEntries), target, false, snapshot);
    if (decision.kind === 'allowed') firstFor.set(decision.index, [...(firstFor.get(decision.index) ?? []), entry]);
  }
  return covering.map(({ rule, index }) => ({ rule, index, firstFor: firstFor.get(index) ?? [] }));
}

/** `whocan`: the rules that cover a target, in order, who may request under each and what they get. */
export function explainWhoCan(policy: Pick<Policy, 'catalogue' | 'rules'>, target: GrantTarget): Explanation {
  const snapshot = policy.catalogue.current();
  const rules = firstMatches(policy, target, snapshot);
  const title = `Who can request ${targetText(target)}`;
  if (rules.length === 0) return { title, sections: [{ lines: ['No rule covers it, so nobody can request it.'] }] };
  return {
    title,
    sections: rules.map(({ rule, index, firstFor }) => ({
      heading: `${index + 1}. ${rule.name}${firstFor.length > 0 ? ` (first match for ${entries(firstFor)})` : ' (never the first match: earlier rules already take all its requesters)'}`,
      lines: [...coveredBy(rule, target, snapshot), `may request: ${entries(rule.requesters)}`, `approval: ${approvalText(rule)}`, `max duration: ${formatDuration(rule.maxDurationMs)}`],
    })),
  };
}

/** "covers it by ou:ou-ab12-cdef34gh (Workloads)" when an OU or tag entry of the rule takes the account; nothing otherwise. */
function coveredBy(rule: Rule, target: GrantTarget, snapshot: CatalogueSnapshot): string[] {
  if (target.kind !== 'account') return [];
  const { matchedBy } = entitlementFacts(snapshot, rule, target);
  return matchedBy ? [`covers ${target.accountName} by ${matchedBy}`] : [];
}

/** Every target the catalogue holds: each account × permission set, then each group. */
export function everyTarget(snapshot: Pick<CatalogueSnapshot, 'accounts' | 'permissionSets' | 'groups'>): GrantTarget[] {
  return [
    ...snapshot.accounts.flatMap((a) =>
      snapshot.permissionSets.map((p): GrantTarget => ({ kind: 'account', accountId: a.id, accountName: a.name, permissionSetName: p.name, permissionSetArn: p.arn })),
    ),
    ...snapshot.groups.map((g): GrantTarget => ({ kind: 'group', groupId: g.id, groupName: g.name })),
  ];
}

/**
 * `available`: what `person` may request, one section per account (then one for groups),
 * auto-approved first. Targets whose deciding rule names a group that could not be checked are
 * counted, not listed (a request for them would be refused now).
 */
export function explainAvailable(policy: Pick<Policy, 'catalogue' | 'rules'>, person: Identity): Explanation {
  const snapshot = policy.catalogue.current();
  const sections: Explanation['sections'] = [];
  let unchecked = 0;
  const byHeading = new Map<string, Array<{ name: string; rule: Rule; matchedBy?: string }>>();
  // The deciding rule only (decider): a verdict for every rule of every target is far past Slack's 3 s at 1,000 accounts.
  const { decide } = decider(policy, person, false, snapshot);
  for (const target of everyTarget(snapshot)) {
    const decision = decide(target);
    if (decision.kind === 'unknown') unchecked += 1;
    if (decision.kind !== 'allowed') continue;
    const heading = target.kind === 'group' ? 'Group membership' : `${target.accountName} (${target.accountId})`;
    const name = target.kind === 'group' ? target.groupName : target.permissionSetName;
    const { matchedBy } = entitlementFacts(snapshot, decision.rule, target);
    byHeading.set(heading, [...(byHeading.get(heading) ?? []), { name, rule: decision.rule, ...(matchedBy ? { matchedBy } : {}) }]);
  }
  for (const [heading, items] of byHeading) {
    const ordered = [...items.filter((i) => i.rule.autoApprove), ...items.filter((i) => !i.rule.autoApprove)];
    sections.push({ heading, lines: ordered.map((i) => `${i.name}: ${outcomeText(i.rule)} (rule ${i.rule.name}${i.matchedBy ? `, by ${i.matchedBy}` : ''})`) });
  }
  if (sections.length === 0) sections.push({ lines: ['Nothing: no rule lets you request any account, permission set or group.'] });
  if (unchecked > 0) sections.push({ lines: [`${unchecked} more depend on a group whose membership Timebox could not check just now; try again in a few minutes.`] });
  return { title: 'What you may request (auto-approved first)', sections };
}
