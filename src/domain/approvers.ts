import type { AccessRequest } from './access-request';
import type { Policy, Reminders, Rule } from './policy';

/**
 * How one entry of a rule's approvers reads in a message: everyone ("*"), a Slack user (listed
 * by id, or by an email Slack knows), a Slack user group, or the entry as the config writes it
 * (an email Slack does not know, or a group that could not be resolved).
 */
export type ApproverName = { kind: 'anyone' } | { kind: 'user'; slackUserId: string } | { kind: 'user-group'; id: string } | { kind: 'as-written'; entry: string };

/** Who can decide each grant still waiting, by grant id. */
export type Deciders = ReadonlyMap<string, readonly ApproverName[]>;

/** The rule running now that a grant was filed under (by name), if it still exists. */
export const ruleOf = (policy: Pick<Policy, 'rules'>, grant: { ruleName: string }): Rule | undefined => policy.rules.find((r) => r.name === grant.ruleName);

/**
 * The approvers' entries of each grant still waiting for a decision, as the rules running now
 * list them (decisions are authorised against those): a grant whose rule is gone lists nobody.
 */
/** How many approvers a message names before it says "N more" (Slack allows 3,000 characters in a section). */
export const APPROVERS_NAMED = 20;

export function waitingFor(policy: Pick<Policy, 'rules'>, request: Pick<AccessRequest, 'grants'>): Map<string, string[]> {
  return new Map(request.grants.filter((g) => g.status === 'PENDING').map((g) => [g.id, ruleOf(policy, g)?.approvers ?? []]));
}

/** Where a rule's requests are posted: its own channel, or undefined for slack.approvalChannel. */
export const channelOf = (rule: Pick<Rule, 'channel'> | undefined): string | undefined => rule?.channel;

/**
 * Where the approvers of a request's grants are asked: the channels of their rules (undefined
 * for slack.approvalChannel, listed first), each once, and whether some are asked by DM. A grant
 * whose rule is gone is asked in the approvals channel.
 */
export function whereAsked(policy: Pick<Policy, 'rules'>, request: Pick<AccessRequest, 'grants'>, grants = request.grants): { channels: Array<string | undefined>; byDm: boolean } {
  const rules = grants.map((g) => ruleOf(policy, g));
  const channels = [...new Set(rules.filter(asksInChannel).map(channelOf))];
  // The approvals channel first, when it is one of them: the first channel holds the request's main message.
  return { channels: [...channels.filter((c) => c === undefined), ...channels.filter((c) => c !== undefined)], byDm: rules.some(asksByDm) };
}

/** Whether a rule's approvers are asked in a channel, by DM, or both (default: the channel). */
export const asksInChannel = (rule: Pick<Rule, 'notify'> | undefined): boolean => (rule?.notify ?? 'channel') !== 'dm';
export const asksByDm = (rule: Pick<Rule, 'notify'> | undefined): boolean => rule?.notify === 'dm' || rule?.notify === 'both';

/**
 * When the reminder numbered `sent` (0 for the first) is due for a request filed at `filedAt`:
 * `afterMs` after filing, then each gap `backoff` times the one before (15m, 30m, 60m, 120m).
 */
export function reminderAt(reminders: Reminders, filedAt: number, sent: number): number {
  let at = filedAt;
  let gap = reminders.afterMs;
  for (let i = 0; i <= sent; i++) {
    at += gap;
    gap *= reminders.backoff;
  }
  return Math.round(at);
}

/**
 * When the request's next reminder is due, if one is left: while a grant waits for approval,
 * before the request expires, at most `max` reminders in all.
 */
export function nextReminderAt(reminders: Reminders | undefined, request: Pick<AccessRequest, 'grants' | 'createdAt' | 'expiresAt'>, sent: number): number | undefined {
  if (!reminders || reminders.afterMs <= 0 || sent >= reminders.max) return undefined;
  if (!request.grants.some((g) => g.status === 'PENDING')) return undefined;
  const at = reminderAt(reminders, request.createdAt, sent);
  return at < request.expiresAt ? at : undefined;
}
