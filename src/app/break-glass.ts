import { withMessage, type AccessRequest, type Grant } from '../domain/access-request';
import { ALERT_KIND, alertNeedsSending, checkReviewer, mayBreakGlass, review, reviewReminderAt } from '../domain/break-glass';
import { isTimeboxError, MessageGoneError, TimeboxError } from '../domain/errors';
import type { Identity } from '../domain/identity';
import type { Rule } from '../domain/policy';
import { armNextTimer } from './advance-request';
import { commit, noteOnRequest, retryOnConflict, updateRequest, type EventDraft } from './commit';
import type { WorkflowDeps } from './deps';
import { handToWorker } from './hand-off';
import { lookUpMember } from './members';
import type { AlertAudience, AlertDestination, SlackPerson } from './ports';
import { resolveIdentity } from './resolve-identity';
import { SYSTEM_ACTOR } from '../domain/audit';

/**
 * A break-glass refusal for someone no break-glass rule names: said as such, not as the
 * ordinary "no rule allows you", so nobody mistakes it for a typo.
 */
export function breakGlassEligibility<T>(breakGlass: boolean, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (!breakGlass || !isTimeboxError(err, 'no_matching_rule')) throw err;
    throw new TimeboxError(
      'not_break_glass_eligible',
      `You are not eligible for break-glass access here: ${err.message.replace(/^No rule allows you to request/, 'no break-glass rule lets you grant yourself')} Ask for it with \`/aws-access <accounts> <permission-sets> <duration> <reason…>\` and an approver decides. Nothing was filed.`,
    );
  }
}

const rulesOf = (deps: WorkflowDeps, request: AccessRequest): Rule[] => {
  const names = new Set(request.grants.map((g: Grant) => g.ruleName));
  return deps.policy.rules.filter((r) => names.has(r.name));
};

/**
 * Who the alert names, from the request's rules' approvers: Slack users (an email through
 * users.lookupByEmail when the directory has it), Slack user groups, and the rest by name.
 */
export async function audienceOf(deps: WorkflowDeps, request: AccessRequest): Promise<AlertAudience> {
  const audience: AlertAudience = { users: [], userGroups: [], named: [] };
  const add = (list: string[], item: string) => {
    if (!list.includes(item)) list.push(item);
  };
  for (const entry of rulesOf(deps, request).flatMap((r) => r.approvers)) {
    if (entry === '*') continue;
    if (/^[UW][A-Z0-9]{2,}$/.test(entry)) add(audience.users, entry);
    else if (/^S[A-Z0-9]{2,}$/.test(entry)) add(audience.userGroups, entry);
    else if (entry.startsWith('group:')) add(audience.named, `Identity Center group "${entry.slice('group:'.length)}"`);
    else if (entry.startsWith('@')) {
      const id = await deps.directory.userGroupId?.(entry).catch(() => undefined);
      if (id) add(audience.userGroups, id);
      else add(audience.named, entry);
    } else {
      const id = await deps.home?.userIdForEmail(entry).catch(() => undefined);
      if (id) add(audience.users, id);
      else add(audience.named, entry);
    }
  }
  return audience;
}

/** Every place the alert goes: both channels, and each approver named as a Slack user (never the requester). */
function destinations(request: AccessRequest, audience: AlertAudience): AlertDestination[] {
  return [
    { kind: 'approvals' },
    { kind: 'alerts' },
    ...audience.users.filter((u) => u !== request.requester.slackUserId).map((slackUserId) => ({ kind: 'dm' as const, slackUserId })),
  ];
}

const where = (to: AlertDestination): string => (to.kind === 'dm' ? `approver <@${to.slackUserId}>` : to.kind === 'alerts' ? 'alert channel' : 'approvals channel');

/**
 * Posts the alert (or reminder) everywhere it goes. A place Slack refuses for good is audited
 * and skipped; any other failure is thrown, so the whole send is tried again by the next
 * notification pass (at least once: a retry may post again where it already went).
 */
async function sendEverywhere(deps: WorkflowDeps, request: AccessRequest, kind: 'alert' | 'reminder'): Promise<{ events: EventDraft[]; reached: string[] }> {
  const audience = await audienceOf(deps, request);
  const events: EventDraft[] = [];
  const reached: string[] = [];
  for (const to of destinations(request, audience)) {
    try {
      if (await deps.notifier.postBreakGlassAlert(to, { request, audience, kind })) reached.push(where(to));
    } catch (err) {
      if (!(err instanceof MessageGoneError)) throw err;
      events.push({ type: 'news_undeliverable', actor: SYSTEM_ACTOR, detail: `break-glass ${kind}, ${where(to)}: ${err.message}` });
    }
  }
  return { events, reached };
}

/**
 * The loud part of break-glass, run with the request's notifications: the alert once, and the
 * reminder once the review is due and nobody has reviewed it. Best effort: a failure is logged
 * and the request stays due, so the next pass (or the sweep) tries again.
 */
export async function tellBreakGlass(deps: WorkflowDeps, request: AccessRequest): Promise<AccessRequest> {
  if (!request.breakGlass) return request;
  try {
    if (alertNeedsSending(request)) {
      const sent = await sendEverywhere(deps, request, 'alert');
      const saved = await updateRequest(deps, request.id, (fresh) => (alertNeedsSending(fresh) ? { next: withMessage(fresh, ALERT_KIND, { shown: 'alerted' }), events: sent.events } : undefined));
      // The reminder is due from now on: the timer is armed for it (it may come before the window's end).
      if (saved) await armNextTimer(deps, saved);
      return saved ?? request;
    }
    const remindAt = reviewReminderAt(request);
    if (remindAt !== undefined && remindAt <= deps.clock.now()) {
      const sent = await sendEverywhere(deps, request, 'reminder');
      const events: EventDraft[] = [{ type: 'review_reminded', actor: SYSTEM_ACTOR, detail: `not reviewed in time; reminded: ${sent.reached.join(', ') || 'nobody could be reached'}` }, ...sent.events];
      const saved = await updateRequest(deps, request.id, (fresh) => (reviewReminderAt(fresh) !== undefined ? { next: withMessage(fresh, ALERT_KIND, { shown: 'reminded' }), events } : undefined));
      // The timer that fired for the reminder was the request's one timer: armed again for what is left (the window's end).
      if (saved) await armNextTimer(deps, saved);
      return saved ?? request;
    }
  } catch (err) {
    deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not alert about break-glass access; will retry');
    // A reminder Slack would not take stays due (the sweep retries it), and a due time already
    // past arms no timer: the request's other work (its window's end) gets the timer meanwhile.
    const remindAt = reviewReminderAt(request);
    if (remindAt !== undefined && remindAt <= deps.clock.now()) await armNextTimer(deps, { ...request, breakGlass: false });
  }
  return request;
}

export interface ReviewInput {
  requestId: string;
  bySlackUserId: string;
  workspace?: string;
}

/**
 * An approver of the request's rules marks break-glass access reviewed: who and when are
 * recorded on the request (a record, not a decision: the access stays as it is) and audited
 * (`reviewed`). A refusal changes nothing; one by someone not allowed is audited as
 * `decision_refused`.
 */
export async function markReviewed(deps: WorkflowDeps, input: ReviewInput): Promise<AccessRequest> {
  let person: Identity | undefined;
  const saved = await retryOnConflict(async () => {
    const request = await deps.store.getRequest(input.requestId);
    if (!request) throw new TimeboxError('not_found', `There is no request ${input.requestId.slice(0, 40)}.`);
    const rules = rulesOf(deps, request);
    person ??= await resolveIdentity(
      deps,
      await lookUpMember(deps, input.bySlackUserId, input.workspace, 'review', (why) => noteOnRequest(deps, request.id, 'decision_refused', input.bySlackUserId, `review: ${why}`)),
      rules.map((r) => r.approvers),
    );
    const by = person;
    try {
      checkReviewer(rules, request.requester, by);
    } catch (err) {
      if (isTimeboxError(err, 'not_an_approver') || isTimeboxError(err, 'self_approval')) await noteOnRequest(deps, request.id, 'decision_refused', by.slackUserId, `review: ${err.code}`);
      throw err;
    }
    const reviewed = review(request, by, deps.clock.now());
    return commit(deps, request, reviewed.next, reviewed.events);
  });
  deps.logger.info({ requestId: saved.id, by: input.bySlackUserId }, 'break-glass access reviewed');
  // The channel message now says who reviewed it.
  await handToWorker(deps, saved.id, 'the review');
  return saved;
}

/**
 * Whether the form offers this person the "break glass" choice: only when a break-glass rule
 * names them (a group that cannot be checked now: not offered; filing checks again anyway).
 */
export async function offersBreakGlass(deps: WorkflowDeps, member: SlackPerson): Promise<boolean> {
  const rules = deps.policy.rules.filter((r) => r.breakGlass === true);
  if (rules.length === 0) return false;
  try {
    return mayBreakGlass(deps.policy, await resolveIdentity(deps, member, rules.map((r) => r.requesters)));
  } catch (err) {
    deps.logger.warn({ err: String(err) }, 'could not tell whether the form should offer break glass; not offered');
    return false;
  }
}
