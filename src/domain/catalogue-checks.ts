/**
 * What an operator should hear about the rules against a catalogue snapshot, at start-up and on
 * every refresh: entries that name nothing (an account, OU, tag or permission set that is not,
 * or no longer, in the organisation: such an entry matches nothing, and Timebox carries on), and
 * permission sets whose AWS sessions outlive the longest window a rule allows (Timebox's revoke
 * removes the assignment, not the sessions already issued).
 */
import type { CatalogueSnapshot } from './catalogue';
import { accountById, accountSelector, permissionSetNamed, selects } from './catalogue-view';
import { formatDuration } from './duration';
import type { Rule } from './policy';

const isAccountRule = (rule: Rule): boolean => rule.groups.length === 0;

/** One warning per rule entry that selects nothing in the snapshot. */
export function ruleCatalogueWarnings(rules: readonly Rule[], snapshot: CatalogueSnapshot): string[] {
  const warnings: string[] = [];
  rules.forEach((rule, i) => {
    if (!isAccountRule(rule)) return;
    const where = `rules[${i}] "${rule.name}"`;
    for (const entry of rule.accountIds) {
      const selector = accountSelector(entry);
      if (selector.kind === 'any') continue;
      if (selector.kind === 'account' && accountById(snapshot, entry)) continue;
      if (snapshot.accounts.some((account) => selects(selector, account))) continue;
      const what = selector.kind === 'ou' ? `the OU ${selector.ouId} holds no account` : selector.kind === 'tag' ? `no account is tagged ${selector.key}=${selector.value}` : `the account "${entry}" is not`;
      warnings.push(`${where}: ${what} in the organisation as discovered, so this entry matches nothing`);
    }
    for (const name of rule.permissionSets) {
      if (name !== '*' && !permissionSetNamed(snapshot, name)) warnings.push(`${where}: the permission set "${name}" is not in Identity Center as discovered, so this entry matches nothing`);
    }
  });
  return warnings;
}

/**
 * One warning per permission set whose SessionDuration is longer than the longest window any rule
 * allows for it: a session started near a window's end outlives the revoke by up to its length.
 * Rules that end the sessions at the revoke (endSessions) do not count; a set no rule covers is
 * never granted, so it is not reported.
 */
export function sessionLengthWarnings(rules: readonly Rule[], snapshot: CatalogueSnapshot): string[] {
  const warnings: string[] = [];
  for (const set of snapshot.permissionSets) {
    if (set.sessionDurationMs === undefined) continue;
    const lower = set.name.toLowerCase();
    const covering = rules.filter((r) => isAccountRule(r) && r.permissionSets.some((p) => p === '*' || p.toLowerCase() === lower));
    const outliving = covering.filter((r) => !r.endSessions);
    if (outliving.length === 0) continue;
    const longest = outliving.reduce((a, b) => (b.maxDurationMs > a.maxDurationMs ? b : a));
    if (set.sessionDurationMs <= longest.maxDurationMs) continue;
    warnings.push(
      `permission set "${set.name}": AWS sessions last up to ${formatDuration(set.sessionDurationMs)}, longer than the longest window a rule allows for it (${formatDuration(longest.maxDurationMs)}, rule "${longest.name}"), so a session can outlive the revoke; set its session duration to ${formatDuration(longest.maxDurationMs)} or less in Identity Center, or set endSessions: true on the rules that cover it`,
    );
  }
  return warnings;
}

/** Both, as start-up and every refresh log them. */
export const catalogueWarnings = (rules: readonly Rule[], snapshot: CatalogueSnapshot): string[] => [...ruleCatalogueWarnings(rules, snapshot), ...sessionLengthWarnings(rules, snapshot)];
