import type { AccessRequest } from '../domain/access-request';
import { SYSTEM_ACTOR } from '../domain/audit';
import { normaliseReason } from '../domain/command';
import { TimeboxError } from '../domain/errors';
import { checkEntitlement, resolveAccount, resolvePermissionSet } from '../domain/rules';
import { commitNew, type EventDraft } from './commit';
import type { WorkflowDeps } from './deps';
import { StoreConflictError } from './ports';

export interface SubmitInput {
  requesterSlackUserId: string;
  account: string;
  permissionSet: string;
  durationMs: number;
  reason: string;
  /** Identifies the Slack interaction (trigger_id, view id): the same one twice files one request. */
  idempotencyKey?: string;
}

/**
 * Files a request: checks it against the rules, stores it, and hands the rest (posting to the
 * approvals channel, or granting at once under an autoApprove rule) to the worker, so the
 * caller can answer Slack within its 3 seconds. Throws TimeboxError for anything not allowed.
 */
export async function submitRequest(deps: WorkflowDeps, input: SubmitInput): Promise<AccessRequest> {
  const { policy } = deps;
  const account = resolveAccount(policy, input.account);
  const permissionSet = resolvePermissionSet(policy, input.permissionSet);
  const reason = normaliseReason(input.reason);
  const requester = await deps.directory.lookup(input.requesterSlackUserId);
  if (!requester || requester.deleted || requester.isBot) {
    throw new TimeboxError('requester_unknown', 'Timebox could not look up your Slack profile.');
  }
  const { rule, durationMs } = checkEntitlement(policy, requester, account, permissionSet, input.durationMs);
  if (!requester.email) {
    throw new TimeboxError('requester_unknown', 'Your Slack profile has no email address, so Timebox cannot find your AWS identity.');
  }
  const now = deps.clock.now();
  const request: AccessRequest = {
    id: input.idempotencyKey ? deps.requestIdFor(input.idempotencyKey) : deps.newRequestId(),
    version: 1,
    status: rule.autoApprove ? 'APPROVED' : 'PENDING',
    requester: { slackUserId: requester.slackUserId, email: requester.email, ...(requester.name ? { name: requester.name } : {}) },
    accountId: account.id,
    accountName: account.name,
    permissionSetName: permissionSet.name,
    permissionSetArn: permissionSet.arn,
    durationMs,
    reason,
    ruleName: rule.name,
    autoApproved: rule.autoApprove,
    approvalsRequired: rule.autoApprove ? 0 : rule.approvalsRequired,
    approvals: [],
    createdAt: now,
    expiresAt: now + policy.durations.pendingExpiryMs,
    updatedAt: now,
    ...(rule.autoApprove ? { decidedAt: now } : {}),
  };
  const drafts: EventDraft[] = [{ type: 'requested', actor: requester.slackUserId, detail: `rule ${rule.name}: ${reason}` }];
  if (rule.autoApprove) drafts.push({ type: 'auto_approved', actor: SYSTEM_ACTOR, detail: `rule ${rule.name}` });
  let stored: AccessRequest;
  try {
    stored = await commitNew(deps, request, drafts);
  } catch (err) {
    if (!(err instanceof StoreConflictError)) throw err;
    // The same interaction again (a replayed or retried request): answer as before, change nothing.
    const existing = await deps.store.getRequest(request.id);
    if (existing && existing.requester.slackUserId === requester.slackUserId) return existing;
    throw err;
  }
  deps.logger.info({ requestId: stored.id, status: stored.status, rule: rule.name }, 'request filed');
  await deps.queue.dispatch({ requestId: stored.id });
  if (!rule.autoApprove) await deps.scheduler.scheduleAt({ requestId: stored.id }, stored.expiresAt);
  return stored;
}
