import { lookUpMember } from './members';
import type { AccessRequest, Grant } from '../domain/access-request';
import { SYSTEM_ACTOR } from '../domain/audit';
import { normaliseReason } from '../domain/command';
import { StoreConflictError, TimeboxError } from '../domain/errors';
import { describeTarget } from '../domain/grant-target';
import { maxExtensionsOf } from '../domain/extension';
import { pendingExpiryOf } from '../domain/policy';
import { checkEntitlements, resolveTargets, ruleCovers, type TargetSpec } from '../domain/rules';
import { checkBreakGlassReason, reviewDueAt, rulesFor } from '../domain/break-glass';
import { requireTicket } from '../domain/ticket';
import { breakGlassEligibility } from './break-glass';
import { resolveIdentity } from './resolve-identity';
import { commitNew, type EventDraft } from './commit';
import { fileWithinPendingLimit } from './pending-limit';
import type { WorkflowDeps } from './deps';
import { handToWorker } from './hand-off';

export interface SubmitInput {
  requesterSlackUserId: string;
  spec: TargetSpec;
  durationMs: number;
  reason: string;
  /** Identifies the Slack interaction (trigger_id, view id): the same one twice files one request. */
  idempotencyKey?: string;
  /** The Slack workspace the command came from (the one Timebox is installed in). */
  workspace?: string;
  /** `/aws-access breakglass …`: only break-glass rules apply, and what they cover is granted at once. */
  breakGlass?: boolean;
}

export interface FiledRequest {
  request: AccessRequest;
  /** False when the worker could not be handed the new request: it is filed all the same, and the sweep picks it up. */
  handedOff: boolean;
}

/**
 * Files a request: every grant it asks for is matched to its own rule (one grant not allowed
 * refuses the whole request, naming it), it is stored, and the rest (posting to the approvals
 * channel, granting what an autoApprove rule covers) is handed to the worker, so the caller can
 * answer Slack within its 3 seconds. Once stored it is filed: a failed hand-off is logged and
 * reported (`handedOff: false`), not thrown, so nobody is told to ask again for what is already
 * filed. Throws TimeboxError for anything not allowed.
 */
export async function submitRequest(deps: WorkflowDeps, input: SubmitInput): Promise<FiledRequest> {
  // Break-glass rules answer only the explicit word; ordinary requests never fall under them (evaluate).
  const breakGlass = input.breakGlass === true;
  const { policy } = deps;
  // Membership first: the answer to a typo lists the known accounts, permission sets or groups.
  const member = await lookUpMember(deps, input.requesterSlackUserId, input.workspace, 'request');
  // One snapshot for the whole filing: a refresh landing meanwhile cannot mix two catalogues.
  const snapshot = policy.catalogue.current();
  const targets = resolveTargets(policy, input.spec, snapshot);
  const reason = normaliseReason(input.reason);
  // Who they are, once: the groups named as requesters by the rules that cover these targets.
  const inPlay = rulesFor(policy, breakGlass).rules.filter((r) => targets.some((t) => ruleCovers(r, t, snapshot)));
  const requester = await resolveIdentity(deps, member, inPlay.map((r) => r.requesters));
  const entitlements = breakGlassEligibility(breakGlass, () => checkEntitlements(policy, requester, targets, input.durationMs, breakGlass, snapshot));
  const rules = entitlements.map((e) => e.rule);
  if (breakGlass) checkBreakGlassReason(rules, reason);
  const ticket = requireTicket(rules, reason, deps.policy.ticketUrl);
  if (!requester.email) {
    throw new TimeboxError('requester_unknown', 'Your Slack profile has no email address, so Timebox cannot find your AWS identity.');
  }
  const now = deps.clock.now();
  // Break-glass is granted at once, as an autoApprove rule's grant is, and reviewed after.
  const atOnce = (rule: (typeof rules)[number]) => rule.autoApprove || breakGlass;
  const grants: Grant[] = entitlements.map(({ target, rule, matchedBy, sessionDurationMs }, i) => ({
    id: String(i + 1),
    target,
    ruleName: rule.name,
    ...(matchedBy ? { matchedBy } : {}),
    ...(sessionDurationMs !== undefined ? { sessionDurationMs } : {}),
    autoApproved: atOnce(rule),
    approvalsRequired: atOnce(rule) ? 0 : rule.approvalsRequired,
    approvals: [],
    status: atOnce(rule) ? 'APPROVED' : 'PENDING',
    ...(atOnce(rule) ? { decidedAt: now } : {}),
  }));
  // A request has one expiry: the shortest of its waiting grants' rules (the stricter rule wins).
  const waiting = entitlements.filter(({ rule }) => !atOnce(rule));
  const pendingExpiryMs = waiting.length > 0 ? Math.min(...waiting.map(({ rule }) => pendingExpiryOf(policy, rule))) : policy.durations.pendingExpiryMs;
  const request: AccessRequest = {
    id: input.idempotencyKey ? deps.requestIdFor(input.idempotencyKey) : deps.newRequestId(),
    version: 1,
    requester: { slackUserId: requester.slackUserId, email: requester.email, ...(requester.name ? { name: requester.name } : {}) },
    durationMs: input.durationMs,
    reason,
    createdAt: now,
    expiresAt: now + pendingExpiryMs,
    grants,
    messages: [],
    updatedAt: now,
    // The warning before the window ends (with an Extend button), where a rule allows extending.
    ...(policy.durations.extendWarningMs && entitlements.some(({ rule }) => maxExtensionsOf(rule) > 0) ? { extendWarningMs: policy.durations.extendWarningMs } : {}),
    ...(breakGlass ? { breakGlass: true, review: { dueAt: reviewDueAt(rules, now) } } : {}),
    ...(ticket ? { ticket } : {}),
  };
  const drafts: EventDraft[] = grants.flatMap((g): EventDraft[] => [
    // The ticket is named in the requested event's detail, before the reason: "…, rule R, ticket INC-123: reason".
    { type: 'requested', actor: requester.slackUserId, grantId: g.id, detail: `${describeTarget(g.target)}, rule ${g.ruleName}${ticket ? `, ticket ${ticket.id}` : ''}: ${reason}` },
    ...(breakGlass
      ? [{ type: 'break_glass' as const, actor: requester.slackUserId, grantId: g.id, detail: `rule ${g.ruleName}: granted at once without approval; review due ${new Date(request.review?.dueAt ?? now).toISOString()}` }]
      : g.autoApproved
        ? [{ type: 'auto_approved' as const, actor: SYSTEM_ACTOR, grantId: g.id, detail: `rule ${g.ruleName}` }]
        : []),
  ]);
  let stored: AccessRequest;
  let handedOff = false;
  try {
    // The worker posts to the channel, grants what is auto-approved, and arms the expiry.
    stored = await fileWithinPendingLimit(deps, request, () =>
      commitNew(deps, request, drafts, async (saved) => {
        handedOff = await handToWorker(deps, saved.id, 'the new request', saved);
      }),
    );
  } catch (err) {
    if (!(err instanceof StoreConflictError)) throw err;
    // The same interaction again (a replayed or retried request): answer as before, change nothing.
    const existing = await deps.store.getRequest(request.id);
    // (The first call handed it over; if that failed, the sweep has it.)
    if (existing && existing.requester.slackUserId === requester.slackUserId) return { request: existing, handedOff: true };
    throw err;
  }
  deps.logger.info({ requestId: stored.id, grants: grants.length, rules: [...new Set(grants.map((g) => g.ruleName))] }, 'request filed');
  return { request: stored, handedOff };
}
