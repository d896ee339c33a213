import { isRequesterNews, needsNotification, notificationKey, type AccessRequest } from '../domain/access-request';
import { commit } from './commit';
import type { WorkflowDeps } from './deps';
import type { MessageRef } from './ports';

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
    if (ref && !request.approvalMessage) {
      // Keep the message we did post, so the retry updates it instead of posting a second one.
      return commit(deps, request, { ...request, approvalMessage: ref }, []);
    }
    return request;
  }
  return commit(deps, request, { ...request, approvalMessage: ref, notified: notificationKey(request) }, []);
}
