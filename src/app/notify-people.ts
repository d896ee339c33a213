import { isRequesterNews, needsNotification, notificationKey, type AccessRequest } from '../domain/access-request';
import { commit } from './commit';
import type { WorkflowDeps } from './deps';
import { StoreConflictError, type MessageRef } from './ports';

/**
 * Brings the approvals-channel message and the requester's DMs up to date with the request.
 * At least once: a crash after Slack got the message and before it was recorded sends it again.
 * A Slack failure is logged and left due, so the sweep tries again; it never blocks the work.
 */
export async function notifyPeople(deps: WorkflowDeps, request: AccessRequest): Promise<AccessRequest> {
  if (!needsNotification(request)) return request;
  const previousStatus = request.notified?.split(':')[0];
  let ref: MessageRef | undefined = request.approvalMessage;
  try {
    if (ref) {
      await deps.notifier.updateApproverMessage(ref, request);
    } else {
      ref = await deps.notifier.postToApprovers(request);
    }
    if (previousStatus !== request.status && isRequesterNews(request.status)) {
      await deps.notifier.tellRequester(request);
    }
  } catch (err) {
    deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not notify Slack; will retry');
    // Keep a message we did post, so the retry updates it instead of posting a second one.
    return ref && !request.approvalMessage ? recordMessage(deps, request, ref) : request;
  }
  if (!request.approvalMessage) {
    // A new message: its ts must be recorded even if someone (an approver's click) wrote the
    // request meanwhile, or the next pass would post a second message.
    try {
      return await commit(deps, request, { ...request, approvalMessage: ref, notified: notificationKey(request) }, []);
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
      return recordMessage(deps, request, ref);
    }
  }
  return commit(deps, request, { ...request, notified: notificationKey(request) }, []);
}

/** Saves the posted message's ts on the latest version of the request (what it shows is brought up to date next pass). */
async function recordMessage(deps: WorkflowDeps, request: AccessRequest, ref: MessageRef): Promise<AccessRequest> {
  for (;;) {
    const fresh = await deps.store.getRequest(request.id);
    if (!fresh || fresh.approvalMessage) return fresh ?? request;
    try {
      return await commit(deps, fresh, { ...fresh, approvalMessage: ref }, []);
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
    }
  }
}
