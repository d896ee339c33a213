import { channelNeedsUpdate, isTerminal, needsNotification, notificationKey, requesterNeedsTelling, type AccessRequest } from '../domain/access-request';
import { commit } from './commit';
import type { WorkflowDeps } from './deps';
import { MessageGoneError, StoreConflictError, type MessageRef } from './ports';

/**
 * Brings the approvals-channel message and the requester's DM up to date with the request, each
 * on its own: a failure of one never holds the other back. At least once: a crash after Slack
 * got a message and before it was recorded sends it again. A Slack failure is logged and left
 * due, so the sweep tries again; notifying never blocks granting or revoking.
 */
export async function notifyPeople(deps: WorkflowDeps, request: AccessRequest): Promise<AccessRequest> {
  if (!needsNotification(request)) return request;
  const patch: Partial<AccessRequest> = {};
  if (channelNeedsUpdate(request)) {
    try {
      patch.approvalMessage = await showInChannel(deps, request);
      patch.notified = notificationKey(request);
    } catch (err) {
      if (err instanceof MessageGoneError) {
        // Deleted or archived: nothing left to update. A pending request gets a fresh message
        // (approvers need its buttons); for any other state, giving up on the channel is right.
        deps.logger.warn({ requestId: request.id, err: err.message }, 'approval message is gone');
        if (request.status === 'PENDING') {
          patch.approvalMessage = await deps.notifier.postToApprovers(request).catch(() => undefined);
          if (patch.approvalMessage) patch.notified = notificationKey(request);
        } else {
          patch.notified = notificationKey(request);
        }
      } else {
        deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not update the approvals channel; will retry');
      }
    }
  }
  if (requesterNeedsTelling(request)) {
    try {
      const dm = await deps.notifier.tellRequester(request);
      patch.toldRequester = request.status;
      if (request.status === 'ACTIVE') patch.activeDm = dm;
    } catch (err) {
      deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not DM the requester; will retry');
    }
  }
  if (request.activeDm && isTerminal(request.status) && (patch.toldRequester ?? request.toldRequester) === request.status) {
    // Once the end is told, the old "active" DM loses its End button. Best effort, once: a
    // button left behind only gets a clear "there is no access to end".
    await deps.notifier.closeActiveDm(request.activeDm, request).catch((err: unknown) =>
      deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not close the active DM'),
    );
    patch.activeDm = undefined;
  }
  if (Object.keys(patch).length === 0) return request;
  try {
    return await commit(deps, request, { ...request, ...patch }, []);
  } catch (err) {
    if (!(err instanceof StoreConflictError)) throw err;
    // Someone (an approver's click) wrote the request meanwhile. A newly posted message must
    // still be recorded, or the next pass would post a second one; the rest is simply redone.
    const posted = patch.approvalMessage && !request.approvalMessage ? patch.approvalMessage : undefined;
    return posted ? recordMessage(deps, request, posted) : request;
  }
}

async function showInChannel(deps: WorkflowDeps, request: AccessRequest): Promise<MessageRef> {
  if (request.approvalMessage) {
    await deps.notifier.updateApproverMessage(request.approvalMessage, request);
    return request.approvalMessage;
  }
  return deps.notifier.postToApprovers(request);
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
