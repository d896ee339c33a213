import { channelKey, channelNeedsUpdate, isRequestOver, needsNotification, requesterKey, requesterNeedsTelling, type AccessRequest } from '../domain/access-request';
import { commit, updateRequest } from './commit';
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
      patch.notified = channelKey(request);
    } catch (err) {
      if (err instanceof MessageGoneError) {
        // Deleted or archived: nothing left to update. A pending request gets a fresh message
        // (approvers need its buttons); for any other state, giving up on the channel is right.
        deps.logger.warn({ requestId: request.id, err: err.message }, 'approval message is gone');
        if (request.grants.some((g) => g.status === 'PENDING')) {
          patch.approvalMessage = await deps.notifier.postToApprovers(request).catch(() => undefined);
          if (patch.approvalMessage) patch.notified = channelKey(request);
        } else {
          patch.notified = channelKey(request);
        }
      } else {
        deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not update the approvals channel; will retry');
      }
    }
  }
  if (requesterNeedsTelling(request)) {
    try {
      const dm = await deps.notifier.tellRequester(request);
      patch.toldRequester = requesterKey(request);
      if (request.activeDm) {
        // The newest DM says where every grant stands; the older one loses its End button.
        await deps.notifier.closeActiveDm(request.activeDm, request).catch((err: unknown) =>
          deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not close the earlier active DM'),
        );
        patch.activeDm = undefined;
      }
      if (request.grants.some((g) => g.status === 'ACTIVE')) patch.activeDm = dm;
    } catch (err) {
      deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not DM the requester; will retry');
    }
  }
  if (request.activeDm && !('activeDm' in patch) && isRequestOver(request) && (patch.toldRequester ?? request.toldRequester) === requesterKey(request)) {
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
    // Someone (an approver's click, a worker) wrote the request meanwhile. What was sent must
    // still be recorded, or the next pass would post a second channel message, or DM again and
    // leave this DM's End button behind; what the channel shows is simply brought up to date next pass.
    return recordSent(deps, request, patch);
  }
}

/** Records on the latest version of the request the messages this pass sent (see notifyPeople). */
async function recordSent(deps: WorkflowDeps, request: AccessRequest, patch: Partial<AccessRequest>): Promise<AccessRequest> {
  const saved = await updateRequest(deps, request.id, (fresh) => {
    const sent: Partial<AccessRequest> = {};
    if (patch.approvalMessage && !fresh.approvalMessage) sent.approvalMessage = patch.approvalMessage;
    if (patch.notified !== undefined && patch.notified === channelKey(fresh)) sent.notified = patch.notified;
    if ('toldRequester' in patch) sent.toldRequester = patch.toldRequester;
    if ('activeDm' in patch) sent.activeDm = patch.activeDm;
    return Object.keys(sent).length === 0 ? undefined : { next: { ...fresh, ...sent }, events: [] };
  });
  return saved ?? request;
}

async function showInChannel(deps: WorkflowDeps, request: AccessRequest): Promise<MessageRef> {
  if (request.approvalMessage) {
    await deps.notifier.updateApproverMessage(request.approvalMessage, request);
    return request.approvalMessage;
  }
  return deps.notifier.postToApprovers(request);
}
