import { TimeboxError } from './errors';
import type { AccessRequest } from './access-request';
import type { EventDraft } from './audit';
import type { Identity } from './identity';
import { asPerson, samePerson, type Person, type Policy, type Rule } from './policy';
import { personMatches } from './rules';

/**
 * A break-glass request's review: a record on the request that is not a decision. The access
 * was granted at once; the rule's approvers look at it afterwards and say they have (who, when).
 */
export interface Review {
  /** Unreviewed by then, the approvers are reminded (filed at + the rule's reviewWithin). */
  dueAt: number;
  by?: Person;
  at?: number;
}

/**
 * The rules a request may be filed under: break-glass rules only for `/aws-access breakglass`
 * (an explicit word, so nobody gets it by accident), and never for an ordinary request.
 */
export function rulesFor(policy: Policy, breakGlass: boolean): Policy {
  return { ...policy, rules: policy.rules.filter((r) => (r.breakGlass === true) === breakGlass) };
}

/** Whether any break-glass rule names this person among its requesters (a group that cannot be checked: no). */
export function mayBreakGlass(policy: Policy, person: Identity): boolean {
  return policy.rules.some((r) => {
    if (!r.breakGlass) return false;
    try {
      return personMatches(r.requesters, person);
    } catch {
      return false;
    }
  });
}

export const DEFAULT_MIN_REASON_LENGTH = 20;
export const DEFAULT_REVIEW_WITHIN_MS = 24 * 3_600_000;
const minReasonOf = (rule: Rule): number => rule.minReasonLength ?? DEFAULT_MIN_REASON_LENGTH;

/** Throws unless the reason is as long as every break-glass rule in play asks. */
export function checkBreakGlassReason(rules: Rule[], reason: string): void {
  const strictest = rules.reduce<Rule | undefined>((a, r) => (a && minReasonOf(a) >= minReasonOf(r) ? a : r), undefined);
  if (strictest && reason.length < minReasonOf(strictest)) {
    throw new TimeboxError(
      'reason_too_short',
      `A break-glass reason must be at least ${minReasonOf(strictest)} characters (rule "${strictest.name}"); yours has ${reason.length}. Say what is broken and why you need this access. Nothing was filed.`,
    );
  }
}

/** When an unreviewed break-glass request filed `now` under these rules is due for a reminder: the soonest rule's. */
export function reviewDueAt(rules: Rule[], now: number): number {
  return now + Math.min(...rules.map((r) => r.reviewWithinMs ?? DEFAULT_REVIEW_WITHIN_MS));
}

/**
 * The message kind that records the break-glass alert. `shown` is 'alerted', then 'reminded';
 * while one is half sent (Slack failed part way), `alert-partial:<places>` or
 * `reminder-partial:<places>` lists the places it reached, so a retry posts only to the rest.
 */
export const ALERT_KIND = 'break-glass-alert';
export type AlertPhase = 'alert' | 'reminder';

const alertShown = (request: Pick<AccessRequest, 'messages'>): string | undefined => request.messages.find((m) => m.kind === ALERT_KIND)?.shown;

/** The places (`approvals`, `alerts`, a Slack user id) this phase already reached. */
export function reachedSoFar(request: Pick<AccessRequest, 'messages'>, phase: AlertPhase): string[] {
  const shown = alertShown(request) ?? '';
  const prefix = `${phase}-partial:`;
  return shown.startsWith(prefix) ? shown.slice(prefix.length).split(',').filter(Boolean) : [];
}

export const partlySent = (phase: AlertPhase, places: string[]): string => `${phase}-partial:${places.join(',')}`;

/** The alert (approvals channel, alert channel, each approver's DM) has not gone out yet, or only part of it. */
export function alertNeedsSending(request: Pick<AccessRequest, 'breakGlass' | 'messages'>): boolean {
  const shown = alertShown(request);
  return request.breakGlass === true && (shown === undefined || shown.startsWith('alert-partial:'));
}

/** When the approvers are to be reminded of an unreviewed break-glass request; undefined once reviewed or reminded. */
export function reviewReminderAt(request: Pick<AccessRequest, 'breakGlass' | 'review' | 'messages'>): number | undefined {
  if (!request.breakGlass || !request.review || request.review.at !== undefined) return undefined;
  // The reminder follows the alert, never stands in for it.
  const shown = alertShown(request);
  return shown === 'alerted' || shown?.startsWith('reminder-partial:') ? request.review.dueAt : undefined;
}

/** Who may mark a break-glass request reviewed: an approver of one of its rules, not the requester. */
export function checkReviewer(rules: Array<Rule | undefined>, requester: Identity, person: Identity): void {
  if (samePerson(person, requester)) throw new TimeboxError('self_approval', 'You cannot review your own break-glass access; one of its approvers does.');
  const named = rules.filter((r): r is Rule => r !== undefined);
  if (named.some((r) => personMatches(r.approvers, person))) return;
  throw new TimeboxError('not_an_approver', `Only an approver for rule ${[...new Set(named.map((r) => `"${r.name}"`))].join(' or ') || 'of this request'} can mark it reviewed.`);
}

/** Records the review. A second one changes nothing and says who reviewed it first. */
export function review(request: AccessRequest, by: Person, now: number): { next: AccessRequest; events: EventDraft[] } {
  if (!request.breakGlass || !request.review) throw new TimeboxError('not_break_glass', `Request ${request.id} is not break-glass access, so there is nothing to review.`);
  const done = request.review;
  if (done.at !== undefined) {
    throw new TimeboxError('already_reviewed', `Request ${request.id} was already reviewed (by ${done.by?.name ?? done.by?.slackUserId ?? 'someone'}, ${new Date(done.at).toISOString()}).`);
  }
  return {
    next: { ...request, review: { ...done, by: asPerson(by), at: now } },
    events: [{ type: 'reviewed', actor: by.slackUserId, detail: `break-glass access reviewed${now > done.dueAt ? ' (after its review was due)' : ''}` }],
  };
}
