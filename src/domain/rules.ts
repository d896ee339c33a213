import { formatDuration } from './duration';
import { isTimeboxError, TimeboxError } from './errors';
import { describeTarget, type GrantTarget } from './grant-target';
import { covers, decider, groupUnresolvedError, judgeRule, naming, ruleDecided, type Decider } from './evaluate';
import type { Identity } from './identity';
import { samePerson, type Account, type Group, type PermissionSet, type Policy, type Rule } from './policy';
import type { CatalogueSnapshot } from './catalogue';
import { accountById, accountNamed, lowerOf, matchText, permissionSetNamed, selectingEntry } from './catalogue-view';

/** How many accounts an ambiguous name lists before counting the rest. */
export const CANDIDATES_SHOWN = 10;

/**
 * The account a person typed: its exact id or name (ignoring case) wins. Typed text that only
 * begins several accounts' names or ids is not guessed at: the refusal names the candidates (at
 * most CANDIDATES_SHOWN, and how many more); one candidate is offered as "did you mean".
 */
export function resolveAccount(snapshot: CatalogueSnapshot, text: string): Account {
  const wanted = text.trim().toLowerCase();
  const found = accountById(snapshot, wanted) ?? accountNamed(snapshot, wanted);
  if (found) return found;
  const candidates = wanted === '' ? [] : snapshot.accounts.filter((a) => lowerOf(a.name).startsWith(wanted) || a.id.startsWith(wanted));
  const quoted = `"${text.slice(0, 64)}"`;
  const named = (a: Account) => `${a.name} (${a.id})`;
  if (candidates.length > 1) {
    const more = candidates.length - CANDIDATES_SHOWN;
    throw new TimeboxError(
      'ambiguous_account',
      `${quoted} matches ${candidates.length} accounts by prefix and none exactly: ${candidates.slice(0, CANDIDATES_SHOWN).map(named).join(', ')}${more > 0 ? ` and ${more} more` : ''}. Say which with its full name or id.`,
    );
  }
  const didYouMean = candidates.length === 1 ? ` Did you mean ${named(candidates[0]!)}?` : '';
  throw new TimeboxError('unknown_account', `Unknown account ${quoted}.${didYouMean} Known accounts: ${listNames(snapshot.accounts)}`);
}

export function resolvePermissionSet(snapshot: CatalogueSnapshot, text: string): PermissionSet {
  const found = permissionSetNamed(snapshot, text.trim());
  if (!found) {
    throw new TimeboxError(
      'unknown_permission_set',
      `Unknown permission set "${text.slice(0, 64)}". Known permission sets: ${listNames(snapshot.permissionSets)}`,
    );
  }
  return found;
}

export function resolveGroup(snapshot: CatalogueSnapshot, text: string): Group {
  const wanted = text.trim().toLowerCase();
  const found = snapshot.groups.find((g) => g.name.toLowerCase() === wanted || g.id.toLowerCase() === wanted);
  if (!found) {
    const known = snapshot.groups.length > 0 ? `Known groups: ${listNames(snapshot.groups)}` : 'No groups are configured.';
    throw new TimeboxError('unknown_group', `Unknown group "${text.slice(0, 64)}". ${known}`);
  }
  return found;
}

function listNames(items: Array<{ name: string }>): string {
  const names = items.map((i) => i.name);
  return names.length > 20 ? `${names.slice(0, 20).join(', ')} and ${names.length - 20} more` : names.join(', ');
}

/** What a person asked for: accounts × permission sets, or groups (names or ids as typed). */
export type TargetSpec = { kind: 'account'; accounts: string[]; permissionSets: string[] } | { kind: 'group'; groups: string[] };

const unique = <T>(items: T[], key: (t: T) => string): T[] => [...new Map(items.map((i) => [key(i), i])).values()];

/** Every grant a spec asks for (each account × permission set pair, or each group), duplicates folded. */
export function resolveTargets(policy: Policy, spec: TargetSpec, snapshot = policy.catalogue.current()): GrantTarget[] {
  let targets: GrantTarget[];
  let count: number;
  if (spec.kind === 'group') {
    const groups = unique(spec.groups.map((g) => resolveGroup(snapshot, g)), (g) => g.id);
    count = groups.length;
    targets = groups.map((g) => ({ kind: 'group', groupId: g.id, groupName: g.name }));
  } else {
    const accounts = unique(spec.accounts.map((a) => resolveAccount(snapshot, a)), (a) => a.id);
    const sets = unique(spec.permissionSets.map((p) => resolvePermissionSet(snapshot, p)), (p) => p.arn);
    count = accounts.length * sets.length;
    targets = count > policy.limits.maxGrantsPerRequest ? [] : accounts.flatMap((a) => sets.map((p) => ({ kind: 'account' as const, accountId: a.id, accountName: a.name, permissionSetName: p.name, permissionSetArn: p.arn })));
  }
  if (count > policy.limits.maxGrantsPerRequest) {
    throw new TimeboxError(
      'too_many_grants',
      `That asks for ${count} grants; one request may hold at most ${policy.limits.maxGrantsPerRequest} (limits.maxGrantsPerRequest). Split it up.`,
    );
  }
  if (count === 0) throw new TimeboxError('invalid_command', 'Say which accounts and permission sets, or which groups, you need.');
  return targets;
}

/**
 * True when `person` is named in `list`: by Slack id, (case-insensitive) email, a group they are
 * in (as their resolved Identity says), or the list is ["*"]. A group that could not be resolved
 * (unknown, Slack or AWS failing, or not looked up) lets nobody in: when nothing else in the list
 * names the person, that refuses with an error naming the group rather than quietly answering no,
 * so neither a later rule nor a silent "not an approver" stands in for a failed look-up.
 */
export function personMatches(list: string[], person: Identity): boolean {
  const named = naming(list, person);
  if (named.kind === 'unknown') throw groupUnresolvedError(named.groups);
  return named.kind === 'named';
}

/**
 * True when any of the lists names `person`. Only when none does is a group that could not be
 * resolved reported (thrown, as personMatches does): one failing group in one rule must not
 * refuse someone another rule names directly.
 */
export function matchesAny(lists: string[][], person: Identity): boolean {
  let failure: unknown;
  for (const list of lists) {
    try {
      if (personMatches(list, person)) return true;
    } catch (err) {
      if (!isTimeboxError(err, 'group_unresolved')) throw err;
      failure ??= err;
    }
  }
  if (failure) throw failure;
  return false;
}

/** personMatches, with a group that could not be resolved counting as "not named" (for choosing, never for allowing). */
export function namedOrNot(list: string[], person: Identity): boolean {
  try {
    return personMatches(list, person);
  } catch (err) {
    if (isTimeboxError(err, 'group_unresolved')) return false;
    throw err;
  }
}

/** Whether a rule covers a grant's target (its accounts, by id, name, OU or tag, and permission sets; or its groups). */
export function ruleCovers(rule: Rule, target: GrantTarget, snapshot: CatalogueSnapshot): boolean {
  return covers(rule, target, snapshot);
}

/**
 * The first rule, in file order, that covers this requester and target (as `evaluate` decides,
 * read off `decider`: only the rules that name the requester are looked at).
 */
export function findRule(policy: Policy, requester: Identity, target: GrantTarget, breakGlass = false, snapshot = policy.catalogue.current(), decide: Decider = decider(policy, requester, breakGlass, snapshot)): Rule | undefined {
  return ruleDecided(decide.decide(target));
}

export interface Entitlement {
  target: GrantTarget;
  rule: Rule;
  /** The OU or tag entry of the rule that took the account, as the approval message shows it ("ou:ou-ab12-cdef34gh (Workloads)", "tag:env=dev"). */
  matchedBy?: string;
  /** How long the permission set's AWS sessions last, when the catalogue knows. */
  sessionDurationMs?: number;
}

/** What the catalogue adds to an entitlement: the OU or tag that matched, the permission set's session length. */
export function entitlementFacts(snapshot: CatalogueSnapshot, rule: Rule, target: GrantTarget): Pick<Entitlement, 'matchedBy' | 'sessionDurationMs'> {
  if (target.kind !== 'account') return {};
  const entry = selectingEntry(rule.accountIds, target.accountId, snapshot);
  const matchedBy = entry === undefined ? undefined : matchText(entry, target.accountId, snapshot);
  const sessionDurationMs = permissionSetNamed(snapshot, target.permissionSetName)?.sessionDurationMs;
  return { ...(matchedBy ? { matchedBy } : {}), ...(sessionDurationMs !== undefined ? { sessionDurationMs } : {}) };
}

/**
 * Decides whether every grant of a request is allowed, and under which rule each falls. One
 * grant without a rule, or past its rule's maximum, refuses the whole request (naming the grant).
 */
export function checkEntitlements(policy: Policy, requester: Identity, targets: GrantTarget[], durationMs: number, breakGlass = false, snapshot = policy.catalogue.current()): Entitlement[] {
  if (durationMs < policy.durations.minMs) {
    throw new TimeboxError('duration_too_short', `${formatDuration(durationMs)} is below the minimum of ${formatDuration(policy.durations.minMs)}.`);
  }
  // Who the requester is against the rules, worked out once for every grant of the request.
  const decide = decider(policy, requester, breakGlass, snapshot);
  return targets.map((target) => {
    const rule = findRule(policy, requester, target, breakGlass, snapshot, decide);
    if (!rule) {
      const what = target.kind === 'group' ? `membership of ${target.groupName}` : `${target.permissionSetName} on ${target.accountName} (${target.accountId})`;
      throw new TimeboxError('no_matching_rule', `No rule allows you to request ${what}.`);
    }
    if (durationMs > rule.maxDurationMs) {
      throw new TimeboxError(
        'duration_too_long',
        `${formatDuration(durationMs)} is above the maximum of ${formatDuration(rule.maxDurationMs)} for ${describeTarget(target)} (rule "${rule.name}").`,
      );
    }
    return { target, rule, ...entitlementFacts(snapshot, rule, target) };
  });
}

export type Recheck = { ok: true; rule: Rule; approvalsRequired: number } | { ok: false; rule?: Rule; reason: string };

/**
 * A pending grant checked again against the config running now, at a decision: its rule must
 * still exist, still cover this requester and target, and still allow the duration; the
 * approvals needed are the larger of those at filing and now.
 */
export function recheckGrant(policy: Policy, requester: Identity, grant: { ruleName: string; target: GrantTarget; approvalsRequired: number }, durationMs: number): Recheck {
  const rule = policy.rules.find((r) => r.name === grant.ruleName);
  if (!rule) return { ok: false, reason: `the rule "${grant.ruleName}" it was filed under no longer exists` };
  // The same judgement `evaluate` makes for this rule; a group that cannot be checked refuses.
  const verdict = judgeRule(policy.catalogue.current(), rule, requester, grant.target);
  if (verdict.kind === 'unknown') throw groupUnresolvedError(verdict.groups);
  if (verdict.kind !== 'matched') {
    return { ok: false, rule, reason: `rule "${rule.name}" no longer covers ${describeTarget(grant.target)} for this requester` };
  }
  if (durationMs > rule.maxDurationMs) {
    return { ok: false, rule, reason: `${formatDuration(durationMs)} is now above the maximum of ${formatDuration(rule.maxDurationMs)} of rule "${rule.name}"` };
  }
  return { ok: true, rule, approvalsRequired: rule.autoApprove ? grant.approvalsRequired : Math.max(grant.approvalsRequired, rule.approvalsRequired) };
}

/** Throws unless `person` may decide a grant filed under `rule` by `requester`. */
export function checkApprover(rule: Rule, requester: Identity, person: Identity): void {
  const isSelf = samePerson(person, requester);
  if (isSelf && !rule.allowSelfApproval) {
    throw new TimeboxError(
      'self_approval',
      person.slackUserId === requester.slackUserId ? 'You cannot approve or deny your own request.' : 'You cannot approve or deny this request: it was filed by another Slack account with your email, so it is your own.',
    );
  }
  if (!personMatches(rule.approvers, person)) {
    throw new TimeboxError('not_an_approver', `You are not an approver for rule "${rule.name}".`);
  }
}

/** Who may end a window early: the requester, or an approver of a rule the request's grants fall under. */
export function checkCanEnd(rules: Array<Rule | undefined>, requester: Identity, person: Identity): void {
  if (samePerson(person, requester)) return;
  if (matchesAny(rules.flatMap((rule) => (rule ? [rule.approvers] : [])), person)) return;
  const named = [...new Set(rules.filter((r): r is Rule => r !== undefined && r.approvers.length > 0))];
  throw new TimeboxError(
    'not_allowed_to_end',
    named.length > 0 ? `Only the requester or an approver for rule ${named.map((r) => `"${r.name}"`).join(' or ')} can end this access.` : 'Only the requester can end this access.',
  );
}
