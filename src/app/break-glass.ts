import { withMessage, type AccessRequest, type Grant } from '../domain/access-request';
import { ALERT_KIND, alertNeedsSending, checkReviewer, mayBreakGlass, partlySent, reachedSoFar, review, reviewReminderAt, type AlertPhase } from '../domain/break-glass';
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

const placeOf = (to: AlertDestination): string => (to.kind === 'dm' ? to.slackUserId : to.kind);
const where = (place: string): string => (place === 'approvals' ? 'approvals channel' : place === 'alerts' ? 'alert channel' : `approver <@${place}>`);

/** Slack failed part way through: what was reached (and refused for good) until then. */
class PartlySent extends Error {
  constructor(
    readonly reached: string[],
    readonly events: EventDraft[],
    readonly failure: unknown,
  ) {
    super(`break-glass message sent to ${reached.length} places, then: ${String(failure)}`);
  }
}

/**
 * Posts the alert (or reminder) to every place it has not reached yet. A place Slack refuses for
 * good is audited and counted as done; any other failure throws PartlySent, so the places reached
 * are recorded and the next pass (or the sweep) posts only to the rest.
 */
async function sendEverywhere(deps: WorkflowDeps, request: AccessRequest, kind: AlertPhase): Promise<{ events: EventDraft[]; told: string[] }> {
  const audience = await audienceOf(deps, request);
  const events: EventDraft[] = [];
  const reached = reachedSoFar(request, kind);
  // Where it went (for the audit): the places of earlier passes, and those of this one Slack took (no alert channel set: none).
  const told = [...reached];
  for (const to of destinations(request, audience).filter((d) => !reached.includes(placeOf(d)))) {
    try {
      if (await deps.notifier.postBreakGlassAlert(to, { request, audience, kind })) told.push(placeOf(to));
    } catch (err) {
      if (!(err instanceof MessageGoneError)) throw new PartlySent(reached, events, err);
      events.push({ type: 'news_undeliverable', actor: SYSTEM_ACTOR, detail: `break-glass ${kind}, ${where(placeOf(to))}: ${err.message}` });
    }
    reached.push(placeOf(to));
  }
  return { events, told };
}

/** Records how far a half-sent alert or reminder got (when it got anywhere new). */
async function recordPartial(deps: WorkflowDeps, request: AccessRequest, kind: AlertPhase, partly: PartlySent): Promise<void> {
  if (partly.reached.length === reachedSoFar(request, kind).length && partly.events.length === 0) return;
  const stillSending = (fresh: AccessRequest) => (kind === 'alert' ? alertNeedsSending(fresh) : reviewReminderAt(fresh) !== undefined);
  await updateRequest(deps, request.id, (fresh) => (stillSending(fresh) ? { next: withMessage(fresh, ALERT_KIND, { shown: partlySent(kind, partly.reached) }), events: partly.events } : undefined));
}

/**
 * The loud part of break-glass, run with the request's notifications: the alert once, and the
 * reminder once the review is due and nobody has reviewed it. Best effort: a failure is logged
 * and the request stays due, so the next pass (or the sweep) tries again where it did not reach.
 */
export async function tellBreakGlass(deps: WorkflowDeps, request: AccessRequest): Promise<AccessRequest> {
  if (!request.breakGlass) return request;
  const phase: AlertPhase | undefined = alertNeedsSending(request) ? 'alert' : (reviewReminderAt(request) ?? Infinity) <= deps.clock.now() ? 'reminder' : undefined;
  if (!phase) return request;
  try {
    const sent = await sendEverywhere(deps, request, phase);
    const events: EventDraft[] =
      phase === 'reminder' ? [{ type: 'review_reminded', actor: SYSTEM_ACTOR, detail: `not reviewed in time; reminded: ${sent.told.map(where).join(', ') || 'nobody could be reached'}` }, ...sent.events] : sent.events;
    const saved = await updateRequest(deps, request.id, (fresh) =>
      (phase === 'alert' ? alertNeedsSending(fresh) : reviewReminderAt(fresh) !== undefined) ? { next: withMessage(fresh, ALERT_KIND, { shown: phase === 'alert' ? 'alerted' : 'reminded' }), events } : undefined,
    );
    // After the alert the reminder is due (it may come before the window's end); after the
    // reminder, the timer that fired for it (the request's one timer) is armed for what is left.
    if (saved) await armNextTimer(deps, saved);
    return saved ?? request;
  } catch (err) {
    deps.logger.warn({ requestId: request.id, err: String(err instanceof PartlySent ? err.failure : err) }, 'could not alert about break-glass access; will retry');
    if (err instanceof PartlySent) await recordPartial(deps, request, phase, err).catch(() => undefined);
    // A reminder Slack would not take stays due (the sweep retries it), and a due time already
    // past arms no timer: the request's other work (its window's end) gets the timer meanwhile.
    if (phase === 'reminder') await armNextTimer(deps, { ...request, breakGlass: false });
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
export async function offersBreakGlass(deps: WorkflowDeps, member: SlackPerson, resolved?: Identity): Promise<boolean> {
  const rules = deps.policy.rules.filter((r) => r.breakGlass === true);
  if (rules.length === 0) return false;
  try {
    // `resolved`: already looked up against every rule's groups (the form's menus need them too).
    return mayBreakGlass(deps.policy, resolved ?? (await resolveIdentity(deps, member, rules.map((r) => r.requesters))));
  } catch (err) {
    deps.logger.warn({ err: String(err) }, 'could not tell whether the form should offer break glass; not offered');
    return false;
  }
}
