import { channelKey, channelNeedsUpdate, isRequestOver, needsNotification, requesterKey, requesterNeedsTelling, type AccessRequest } from '../domain/access-request';
import { SYSTEM_ACTOR } from '../domain/audit';
import { commit, updateRequest, type EventDraft } from './commit';
import type { Deciders } from '../domain/approvers';
import type { WorkflowDeps } from './deps';
import { nameDeciders } from './name-approvers';
import { MessageGoneError, StoreConflictError, type MessageRef } from './ports';

/** The longest pause between two tries at telling people while Slack keeps failing. */
const MAX_NEWS_RETRY_MS = 15 * 60_000;

/** What one pass at telling people did: what to record, what to audit, and what failed. */
interface Pass {
  /** Who can decide each grant still waiting, as the messages name them. */
  deciders: Deciders;
  patch: Partial<AccessRequest>;
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
  if (!needsNotification(request)) return request;
  const pass: Pass = { deciders: await nameDeciders(deps, request), patch: {}, events: [] };
  if (channelNeedsUpdate(request)) await tellChannel(deps, request, pass);
  if (requesterNeedsTelling(request)) await tellRequester(deps, request, pass);
  const { patch } = pass;
  if (request.activeDm && !('activeDm' in patch) && isRequestOver(request) && (patch.toldRequester ?? request.toldRequester) === requesterKey(request)) {
    // Once the end is told, the old "active" DM loses its End button. Best effort, once: a
    // button left behind only gets a clear "there is no access to end".
    await deps.notifier.closeActiveDm(request.activeDm, request).catch((err: unknown) =>
      deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not close the active DM'),
    );
    patch.activeDm = undefined;
  }
  countAttempt(deps, request, pass);
  if (Object.keys(patch).length === 0) return request;
  try {
    return await commit(deps, request, { ...request, ...patch }, pass.events);
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
  try {
    pass.patch.approvalMessage = await showInChannel(deps, request, pass.deciders);
    pass.patch.notified = key;
    return;
  } catch (err) {
    if (!(err instanceof MessageGoneError)) return failedFor(deps, request, pass, 'the approvals channel', err);
    const onlyTheMessage = request.approvalMessage !== undefined && err.what === 'message';
    if (!onlyTheMessage) {
      // The channel itself refuses (or the first post did): a fresh post would be refused too.
      pass.patch.notified = key;
      return undeliverable(deps, request, pass, 'approvals channel', err);
    }
    deps.logger.warn({ requestId: request.id, err: err.message }, 'approval message is gone');
    if (!request.grants.some((g) => g.status === 'PENDING')) {
      // Nothing anybody could still act on is lost: the news is over for this message.
      pass.patch.notified = key;
      return;
    }
  }
  // A pending request's message is gone: approvers need its buttons, so it gets a fresh one.
  try {
    pass.patch.approvalMessage = await deps.notifier.postToApprovers(request, pass.deciders);
    pass.patch.notified = key;
  } catch (err) {
    if (!(err instanceof MessageGoneError)) return failedFor(deps, request, pass, 'the approvals channel', err);
    pass.patch.notified = key;
    undeliverable(deps, request, pass, 'approvals channel', err);
  }
}

async function tellRequester(deps: WorkflowDeps, request: AccessRequest, pass: Pass): Promise<void> {
  try {
    const dm = await deps.notifier.tellRequester(request, pass.deciders);
    pass.patch.toldRequester = requesterKey(request);
    if (request.activeDm) {
      // The newest DM says where every grant stands; the older one loses its End button.
      await deps.notifier.closeActiveDm(request.activeDm, request).catch((err: unknown) =>
        deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not close the earlier active DM'),
      );
      pass.patch.activeDm = undefined;
    }
    if (request.grants.some((g) => g.status === 'ACTIVE')) pass.patch.activeDm = dm;
  } catch (err) {
    if (!(err instanceof MessageGoneError)) return failedFor(deps, request, pass, 'the requester', err);
    pass.patch.toldRequester = requesterKey(request);
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
  const { patch } = pass;
  if (!pass.failed) {
    if (request.newsAttempts !== undefined || request.newsRetryAt !== undefined) Object.assign(patch, { newsAttempts: undefined, newsRetryAt: undefined });
    return;
  }
  const attempts = (request.newsAttempts ?? 0) + 1;
  if (isRequestOver(request) && attempts >= deps.options.newsAttempts) {
    if (channelNeedsUpdate(request) && patch.notified === undefined) patch.notified = channelKey(request);
    if (requesterNeedsTelling(request) && patch.toldRequester === undefined) patch.toldRequester = requesterKey(request);
    Object.assign(patch, { newsAttempts: undefined, newsRetryAt: undefined });
    pass.events.push({ type: 'news_given_up', actor: SYSTEM_ACTOR, detail: `after ${attempts} attempts: ${pass.failed}` });
    deps.logger.error({ requestId: request.id, attempts, why: pass.failed }, 'gave up telling people about a request that is over');
    return;
  }
  patch.newsAttempts = attempts;
  patch.newsRetryAt = deps.clock.now() + Math.min(deps.options.newsRetryMs * 2 ** (attempts - 1), MAX_NEWS_RETRY_MS);
}

/** Records on the latest version of the request what this pass sent, gave up and counted (see notifyPeople). */
async function recordSent(deps: WorkflowDeps, request: AccessRequest, pass: Pass): Promise<AccessRequest> {
  const { patch } = pass;
  const saved = await updateRequest(deps, request.id, (fresh) => {
    const sent: Partial<AccessRequest> = {};
    // A message this pass posted (the first, or a replacement for one that is gone) is recorded
    // unless another pass recorded a message of its own meanwhile; left unrecorded, its buttons
    // would be refused as not this request's.
    if (patch.approvalMessage && !sameRef(patch.approvalMessage, request.approvalMessage) && sameRef(fresh.approvalMessage, request.approvalMessage)) {
      sent.approvalMessage = patch.approvalMessage;
    }
    if (patch.notified !== undefined && patch.notified === channelKey(fresh)) sent.notified = patch.notified;
    for (const field of ['toldRequester', 'activeDm', 'newsAttempts', 'newsRetryAt'] as const) if (field in patch) Object.assign(sent, { [field]: patch[field] });
    return Object.keys(sent).length === 0 && pass.events.length === 0 ? undefined : { next: { ...fresh, ...sent }, events: pass.events };
  });
  return saved ?? request;
}

const sameRef = (a: MessageRef | undefined, b: MessageRef | undefined): boolean => a?.channel === b?.channel && a?.ts === b?.ts;

async function showInChannel(deps: WorkflowDeps, request: AccessRequest, deciders: Deciders): Promise<MessageRef> {
  if (request.approvalMessage) {
    await deps.notifier.updateApproverMessage(request.approvalMessage, request, deciders);
    return request.approvalMessage;
  }
  return deps.notifier.postToApprovers(request, deciders);
}
