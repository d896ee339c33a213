import {
  channelKey,
  channelNeedsUpdate,
  isRequestOver,
  messageOf,
  needsNotification,
  requesterKey,
  requesterNeedsTelling,
  withMessage,
  copiesOf,
  remindersSent,
  reminderDueAt,
  STATUS_TABLE,
  withCopy,
  type AccessRequest,
  type MessageChange,
} from '../domain/access-request';
import { SYSTEM_ACTOR } from '../domain/audit';
import { extendWarningDue } from '../domain/extension';
import { commit, updateRequest, type EventDraft } from './commit';
import { nextReminderAt, whereAsked, type Deciders } from '../domain/approvers';
import type { WorkflowDeps } from './deps';
import { dmRecipients, nameDeciders } from './name-approvers';
import { MessageGoneError, StoreConflictError, type MessageRef } from './ports';

/** The longest pause between two tries at telling people while Slack keeps failing. */
const MAX_NEWS_RETRY_MS = 15 * 60_000;

/** What one pass at telling people did: what to record, what to audit, and what failed. */
interface Pass {
  /** Who can decide each grant still waiting, as the messages name them. */
  deciders: Deciders;
  /** The approvers asked by DM (rules with notify dm or both). */
  dmTo: string[];
  /** What the approvals message and the requester's DM now are and show. */
  channel: MessageChange;
  dm: MessageChange;
  /** The warning that a window ends soon (its key: the latest window end it covered). */
  warning: MessageChange;
  /** The copies of the approval message (other channels, approvers' DMs) posted or brought up to date, by whom they went to. */
  copies: Map<string, MessageChange>;
  /** How many reminders are sent, and when the next is due, when that changes. */
  reminders?: MessageChange;
  /** A reminder Slack failed to take: it is tried again with the rest of the news. */
  remindAgain?: boolean;
  /** The news retry count and time, when they change. */
  news: Partial<Pick<AccessRequest, 'newsAttempts' | 'newsRetryAt'>>;
  events: EventDraft[];
  /** Why this pass could not tell someone (Slack failing, not refusing for good). */
  failed?: string;
}

/**
 * Brings the approvals-channel message and the requester's DM up to date with the request, each
 * on its own: a failure of one never holds the other back. At least once: a crash after Slack
 * got a message and before it was recorded sends it again. Notifying never blocks granting or
 * revoking, and never keeps a request due for ever:
 * - Slack refusing for good (the requester deactivated, the bot not in the channel, the channel
 *   archived: see MessageGoneError) gives that news up at once, audited as news_undeliverable;
 * - Slack failing for now is retried with backoff (`newsRetryAt`), and once the request is over
 *   its news is given up after `options.newsAttempts` passes, audited as news_given_up.
 */
export async function notifyPeople(deps: WorkflowDeps, request: AccessRequest): Promise<AccessRequest> {
  const now = deps.clock.now();
  const ending = extendWarningDue(request, now);
  const remindNow = (reminderDueAt(request) ?? Infinity) <= now;
  if (!needsNotification(request) && !remindNow && ending.length === 0) return request;
  const deciders = await nameDeciders(deps, request);
  const pass: Pass = { deciders, dmTo: await dmRecipients(deps, request, deciders), channel: {}, dm: {}, warning: {}, copies: new Map(), news: {}, events: [] };
  if (channelNeedsUpdate(request)) await tellChannel(deps, request, pass);
  await tellCopies(deps, request, pass);
  if (requesterNeedsTelling(request)) await tellRequester(deps, request, pass);
  if (ending.length > 0) await warnBeforeEnd(deps, request, ending, pass);
  if (remindNow) await remind(deps, request, pass);
  else if (!messageOf(request, 'reminders') && request.grants.some((g) => g.status === 'PENDING')) {
    // The first pass over a waiting request sets its first reminder.
    const first = nextReminderAt(deps.policy.reminders, request, 0);
    if (first !== undefined) pass.reminders = { shown: '0', dueAt: first };
  }
  const activeDm = messageOf(request, 'requester-dm')?.ref;
  if (activeDm && !('ref' in pass.dm) && isRequestOver(request) && (pass.dm.shown ?? messageOf(request, 'requester-dm')?.shown) === requesterKey(request)) {
    // Once the end is told, the old "active" DM loses its End button. Best effort, once: a
    // button left behind only gets a clear "there is no access to end".
    await deps.notifier.closeActiveDm(activeDm, request).catch((err: unknown) =>
      deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not close the active DM'),
    );
    pass.dm.ref = undefined;
  }
  countAttempt(deps, request, pass);
  // A reminder Slack failed to take is tried again with the rest of the news.
  if (pass.remindAgain) pass.reminders = { dueAt: pass.news.newsRetryAt ?? deps.clock.now() + deps.options.newsRetryMs };
  if ([pass.channel, pass.dm, pass.warning, pass.news, pass.reminders ?? {}].every((change) => Object.keys(change).length === 0) && pass.copies.size === 0) return request;
  try {
    return await commit(deps, request, recorded(request, pass, pass.channel), pass.events);
  } catch (err) {
    if (!(err instanceof StoreConflictError)) throw err;
    // Someone (an approver's click, a worker) wrote the request meanwhile. What was sent must
    // still be recorded, or the next pass would post a second channel message, or DM again and
    // leave this DM's End button behind; what the channel shows is simply brought up to date next pass.
    return recordSent(deps, request, pass);
  }
}

async function tellChannel(deps: WorkflowDeps, request: AccessRequest, pass: Pass): Promise<void> {
  const key = channelKey(request);
  // The main message goes to the approvals channel, or to the first rule's own channel; a request
  // whose rules all ask by DM only has none (its copies are the DMs), unless there is nobody to DM
  // ("*", or only the requester): then the approvals channel, or nobody could ever decide it.
  const { channels } = whereAsked(deps.policy, request);
  const channel = channels[0];
  const nobodyToDm = pass.dmTo.length === 0 && copiesOf(request).length === 0 && request.grants.some((g) => g.status === 'PENDING');
  if (channels.length === 0 && !nobodyToDm && !messageOf(request, 'channel')?.ref) {
    pass.channel.shown = key;
    return;
  }
  try {
    pass.channel.ref = await showInChannel(deps, request, pass.deciders, channel);
    pass.channel.shown = key;
    return;
  } catch (err) {
    if (!(err instanceof MessageGoneError)) return failedFor(deps, request, pass, 'the approvals channel', err);
    const onlyTheMessage = messageOf(request, 'channel')?.ref !== undefined && err.what === 'message';
    if (!onlyTheMessage) {
      // The channel itself refuses (or the first post did): a fresh post would be refused too.
      pass.channel.shown = key;
      return undeliverable(deps, request, pass, 'approvals channel', err);
    }
    deps.logger.warn({ requestId: request.id, err: err.message }, 'approval message is gone');
    if (!request.grants.some((g) => g.status === 'PENDING')) {
      // Nothing anybody could still act on is lost: the news is over for this message.
      pass.channel.shown = key;
      return;
    }
  }
  // A pending request's message is gone: approvers need its buttons, so it gets a fresh one.
  try {
    pass.channel.ref = await deps.notifier.postToApprovers(request, pass.deciders, channel);
    pass.channel.shown = key;
  } catch (err) {
    if (!(err instanceof MessageGoneError)) return failedFor(deps, request, pass, 'the approvals channel', err);
    pass.channel.shown = key;
    undeliverable(deps, request, pass, 'approvals channel', err);
  }
}

async function tellRequester(deps: WorkflowDeps, request: AccessRequest, pass: Pass): Promise<void> {
  try {
    const dm = await deps.notifier.tellRequester(request, pass.deciders);
    pass.dm.shown = requesterKey(request);
    const earlier = messageOf(request, 'requester-dm')?.ref;
    if (earlier) {
      // The newest DM says where every grant stands; the older one loses its End button.
      await deps.notifier.closeActiveDm(earlier, request).catch((err: unknown) =>
        deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not close the earlier active DM'),
      );
      pass.dm.ref = undefined;
    }
    if (request.grants.some((g) => g.status === 'ACTIVE')) pass.dm.ref = dm;
  } catch (err) {
    if (!(err instanceof MessageGoneError)) return failedFor(deps, request, pass, 'the requester', err);
    pass.dm.shown = requesterKey(request);
    undeliverable(deps, request, pass, `requester <@${request.requester.slackUserId}>`, err);
  }
}

/** The request with what this pass showed on each message. */
/** The requester's warning that a window ends soon, with a way to extend it: once per window end. */
async function warnBeforeEnd(deps: WorkflowDeps, request: AccessRequest, ending: AccessRequest['grants'], pass: Pass): Promise<void> {
  const until = String(Math.max(...ending.map((g) => g.endsAt ?? 0)));
  try {
    pass.warning = { ref: await deps.notifier.warnBeforeEnd(request, ending), shown: until };
  } catch (err) {
    if (!(err instanceof MessageGoneError)) return failedFor(deps, request, pass, 'the requester (extend warning)', err);
    pass.warning = { shown: until };
    undeliverable(deps, request, pass, `requester <@${request.requester.slackUserId}>`, err);
  }
}

function failedFor(deps: WorkflowDeps, request: AccessRequest, pass: Pass, whom: string, err: unknown): void {
  const why = `${whom}: ${err instanceof Error ? err.message : String(err)}`;
  pass.failed = pass.failed ? `${pass.failed}; ${why}` : why;
  deps.logger.warn({ requestId: request.id, err: String(err) }, `could not tell ${whom}; will retry`);
}

/** Slack will never take this news: it is given up now, and the operator can see why. */
function undeliverable(deps: WorkflowDeps, request: AccessRequest, pass: Pass, whom: string, err: MessageGoneError): void {
  pass.events.push({ type: 'news_undeliverable', actor: SYSTEM_ACTOR, detail: `${whom}: ${err.message}` });
  const fix = err.what === 'channel' ? 'invite the bot to the approvals channel (or set slack.approvalChannel to one it is in)' : 'nothing Timebox can do: Slack will not deliver to this person';
  deps.logger.error({ requestId: request.id, whom, slackError: err.slackError, fix }, 'Slack refused this news for good; given up');
}

/** Backs off after a failed pass; once the request is over, gives its news up after the last attempt. */
function countAttempt(deps: WorkflowDeps, request: AccessRequest, pass: Pass): void {
  const { news } = pass;
  if (!pass.failed) {
    if (request.newsAttempts !== undefined || request.newsRetryAt !== undefined) Object.assign(news, { newsAttempts: undefined, newsRetryAt: undefined });
    return;
  }
  const attempts = (request.newsAttempts ?? 0) + 1;
  if (isRequestOver(request) && attempts >= deps.options.newsAttempts) {
    if (channelNeedsUpdate(request) && pass.channel.shown === undefined) pass.channel.shown = channelKey(request);
    if (requesterNeedsTelling(request) && pass.dm.shown === undefined) pass.dm.shown = requesterKey(request);
    Object.assign(news, { newsAttempts: undefined, newsRetryAt: undefined });
    pass.events.push({ type: 'news_given_up', actor: SYSTEM_ACTOR, detail: `after ${attempts} attempts: ${pass.failed}` });
    deps.logger.error({ requestId: request.id, attempts, why: pass.failed }, 'gave up telling people about a request that is over');
    return;
  }
  news.newsAttempts = attempts;
  news.newsRetryAt = deps.clock.now() + Math.min(deps.options.newsRetryMs * 2 ** (attempts - 1), MAX_NEWS_RETRY_MS);
}

/** Records on the latest version of the request what this pass sent, gave up and counted (see notifyPeople). */
async function recordSent(deps: WorkflowDeps, request: AccessRequest, pass: Pass): Promise<AccessRequest> {
  const saved = await updateRequest(deps, request.id, (fresh) => {
    const channel: MessageChange = {};
    // A message this pass posted (the first, or a replacement for one that is gone) is recorded
    // unless another pass recorded a message of its own meanwhile; left unrecorded, its buttons
    // would be refused as not this request's.
    const before = messageOf(request, 'channel')?.ref;
    if (pass.channel.ref && !sameRef(pass.channel.ref, before) && sameRef(messageOf(fresh, 'channel')?.ref, before)) channel.ref = pass.channel.ref;
    if (pass.channel.shown !== undefined && pass.channel.shown === channelKey(fresh)) channel.shown = pass.channel.shown;
    if ([channel, pass.dm, pass.warning, pass.news, pass.reminders ?? {}].every((change) => Object.keys(change).length === 0) && pass.copies.size === 0 && pass.events.length === 0) return undefined;
    return { next: recorded(fresh, pass, channel), events: pass.events };
  });
  return saved ?? request;
}

const sameRef = (a: MessageRef | undefined, b: MessageRef | undefined): boolean => a?.channel === b?.channel && a?.ts === b?.ts;

/** `request` with what the pass sent recorded on it (the first channel's message as `channel` says). */
function recorded(request: AccessRequest, pass: Pass, channel: MessageChange): AccessRequest {
  let next = withMessage(withMessage(withMessage(request, 'channel', channel), 'requester-dm', pass.dm), 'extend-warning', pass.warning);
  for (const [to, change] of pass.copies) next = withCopy(next, to, change);
  if (pass.reminders) next = withMessage(next, 'reminders', pass.reminders);
  return { ...next, ...pass.news };
}

const isChannel = (to: string): boolean => /^[CG]/.test(to);

/**
 * Posts the copies of the approval message the rules ask for while a grant waits (in the channel
 * of every rule beyond the first, and in the DM of every approver of a rule with notify dm or
 * both), and brings every copy posted up to date, each on its own. A copy is recorded before its
 * post goes through, so a post Slack fails to take is tried again with the news; one Slack refuses
 * for good is given up.
 */
async function tellCopies(deps: WorkflowDeps, request: AccessRequest, pass: Pass): Promise<void> {
  if (request.grants.every((g) => !STATUS_TABLE[g.status].shownInChannel)) return;
  const key = channelKey(request);
  const wanted = request.grants.some((g) => g.status === 'PENDING')
    ? [...whereAsked(deps.policy, request).channels.slice(1).filter((c): c is string => c !== undefined), ...pass.dmTo]
    : [];
  const copies = copiesOf(request);
  for (const to of new Set([...wanted, ...copies.flatMap((c) => (c.to ? [c.to] : []))])) {
    const copy = copies.find((c) => c.to === to);
    if (copy && (copy.ref ? copy.shown === key : copy.shown !== undefined)) continue;
    const whom = isChannel(to) ? `channel ${to}` : `approver <@${to}>`;
    try {
      if (copy?.ref) await deps.notifier.updateApproverMessage(copy.ref, request, pass.deciders);
      const ref = copy?.ref ?? (isChannel(to) ? await deps.notifier.postToApprovers(request, pass.deciders, to) : await deps.notifier.postToApproverDm(to, request, pass.deciders));
      pass.copies.set(to, { ref, shown: key });
    } catch (err) {
      if (!(err instanceof MessageGoneError)) {
        if (!copy) pass.copies.set(to, {});
        failedFor(deps, request, pass, whom, err);
        continue;
      }
      // Gone for good (the channel archived, the approver deactivated, the copy deleted): no more tries.
      pass.copies.set(to, { ref: undefined, shown: key });
      if (copy?.ref && err.what === 'message') deps.logger.warn({ requestId: request.id, to, err: err.message }, 'an approval copy is gone');
      else undeliverable(deps, request, pass, whom, err);
    }
  }
}

/**
 * Mentions who can still decide in the thread of every approval message in a channel (when the
 * rules ask only by DM, of every DM copy), then sets when the next reminder is due. A reminder
 * Slack fails to take is tried again at the news retry's time; a thread gone for good is skipped.
 */
async function remind(deps: WorkflowDeps, request: AccessRequest, pass: Pass): Promise<void> {
  const posted = [messageOf(request, 'channel'), ...copiesOf(request)].flatMap((m) => (m?.ref ? [m.ref] : []));
  const inChannels = posted.filter((ref) => isChannel(ref.channel));
  let failed = false;
  for (const ref of inChannels.length > 0 ? inChannels : posted) {
    try {
      await deps.notifier.remindApprovers(ref, request, pass.deciders);
    } catch (err) {
      if (err instanceof MessageGoneError) continue;
      failed = true;
      failedFor(deps, request, pass, `the reminder in ${ref.channel}`, err);
    }
  }
  if (failed) {
    pass.remindAgain = true;
    return;
  }
  const sent = remindersSent(request) + 1;
  pass.reminders = { shown: String(sent), dueAt: nextReminderAt(deps.policy.reminders, request, sent) };
}

async function showInChannel(deps: WorkflowDeps, request: AccessRequest, deciders: Deciders, channel: string | undefined): Promise<MessageRef> {
  const posted = messageOf(request, 'channel')?.ref;
  if (posted) {
    await deps.notifier.updateApproverMessage(posted, request, deciders);
    return posted;
  }
  return deps.notifier.postToApprovers(request, deciders, channel);
}
