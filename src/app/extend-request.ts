import { lookUpMember } from './members';
import { grantTransitions, withGrant, type AccessRequest, type Grant } from '../domain/access-request';
import { SYSTEM_ACTOR } from '../domain/audit';
import { normaliseReason } from '../domain/command';
import { formatDuration } from '../domain/duration';
import { StoreConflictError, TimeboxError } from '../domain/errors';
import {
  applyTo,
  checkExtensionCap,
  countsAgainstCap,
  extendableGrants,
  notExtendable,
  originalGrantOf,
  wasApplied,
  whyNotMoved,
} from '../domain/extension';
import { describeTarget } from '../domain/grant-target';
import { pendingExpiryOf, type Rule } from '../domain/policy';
import { checkEntitlements, ruleCovers } from '../domain/rules';
import { resolveIdentity } from './resolve-identity';
import { commit, commitNew, retryOnConflict, updateRequest, type EventDraft } from './commit';
import type { WorkflowDeps } from './deps';
import { handToWorker } from './hand-off';
import { fileWithinPendingLimit } from './pending-limit';
import type { FiledRequest } from './submit-request';

export interface ExtendInput {
  /** The request whose window should last longer. */
  requestId: string;
  requesterSlackUserId: string;
  /** How much longer. */
  durationMs: number;
  reason: string;
  /** Identifies the Slack interaction: the same one twice files one extension. */
  idempotencyKey?: string;
  workspace?: string;
}

/**
 * What the requester may extend now: their own request (never someone else's), with a window
 * still active. Returns it with the grants an extension would move. Throws TimeboxError.
 */
export async function extendableRequest(deps: WorkflowDeps, requestId: string, requesterSlackUserId: string): Promise<{ original: AccessRequest; grants: Grant[] }> {
  const original = await deps.store.getRequest(requestId);
  if (!original) throw new TimeboxError('not_found', `There is no request ${requestId.slice(0, 40)}.`);
  if (original.extends) {
    throw new TimeboxError('invalid_command', `Request ${original.id} is itself an extension; extend the request it extends, ${original.extends.id}.`);
  }
  if (original.requester.slackUserId !== requesterSlackUserId) throw new TimeboxError('not_your_request', `Only the person who asked for request ${original.id} can extend it.`);
  const grants = extendableGrants(original, deps.clock.now());
  if (grants.length === 0) throw notExtendable(original);
  return { original, grants };
}

/**
 * Files an extension of an active request: a linked request (`extends`) for the same grants, for
 * `durationMs` more, under the rules now running (each grant's rule must allow the duration and
 * one more extension: rules[].maxExtensions). It is decided like any request: granted at once
 * where the rule auto-approves, otherwise posted for approval. It expires when the window ends,
 * if nobody approved it before. The original first records the extension (a conditional write,
 * so two filings at once cannot both pass the cap), then the extension is stored and handed to
 * the worker. Throws TimeboxError for anything not allowed; nothing is changed then.
 */
export async function extendRequest(deps: WorkflowDeps, input: ExtendInput): Promise<FiledRequest> {
  const { policy } = deps;
  const member = await lookUpMember(deps, input.requesterSlackUserId, input.workspace, 'request');
  const reason = normaliseReason(input.reason);
  const { original, grants: moving } = await extendableRequest(deps, input.requestId, member.slackUserId);
  // Who they are, once, as filing resolves it: the rules covering these targets decide the extension.
  const requester = await resolveIdentity(deps, member, policy.rules.filter((r) => moving.some((g) => ruleCovers(r, g.target))).map((r) => r.requesters));
  const entitlements = checkEntitlements(policy, requester, moving.map((g) => g.target), input.durationMs);
  const rules = entitlements.map((e) => e.rule);
  const now = deps.clock.now();
  const windowEndsAt = Math.min(...moving.map((g) => g.endsAt ?? now));
  const grants: Grant[] = entitlements.map(({ rule }, i) => ({
    id: moving[i]!.id,
    target: moving[i]!.target,
    ruleName: rule.name,
    autoApproved: rule.autoApprove,
    approvalsRequired: rule.autoApprove ? 0 : rule.approvalsRequired,
    approvals: [],
    status: rule.autoApprove ? 'APPROVED' : 'PENDING',
    ...(rule.autoApprove ? { decidedAt: now } : {}),
  }));
  const waiting = rules.filter((r) => !r.autoApprove);
  const usualExpiry = now + (waiting.length > 0 ? Math.min(...waiting.map((r) => pendingExpiryOf(policy, r))) : policy.durations.pendingExpiryMs);
  const extension: AccessRequest = {
    id: input.idempotencyKey ? deps.requestIdFor(input.idempotencyKey) : deps.newRequestId(),
    version: 1,
    requester: original.requester,
    ...(original.principalId ? { principalId: original.principalId } : {}),
    durationMs: input.durationMs,
    reason,
    createdAt: now,
    // Not approved by the time the window ends: access ends on time, and the extension expires.
    expiresAt: Math.min(usualExpiry, windowEndsAt),
    grants,
    messages: [],
    updatedAt: now,
    extends: { id: original.id, endsAt: windowEndsAt },
  };
  const existing = await deps.store.getRequest(extension.id);
  if (existing) return sameInteraction(existing, requester.slackUserId);
  await recordOnOriginal(deps, original, extension.id, rules);
  const drafts: EventDraft[] = grants.flatMap((g): EventDraft[] => [
    { type: 'requested', actor: requester.slackUserId, grantId: g.id, detail: `extension of ${original.id} by ${formatDuration(input.durationMs)}: ${describeTarget(g.target)}, rule ${g.ruleName}: ${reason}` },
    ...(g.autoApproved ? [{ type: 'auto_approved' as const, actor: SYSTEM_ACTOR, grantId: g.id, detail: `rule ${g.ruleName}` }] : []),
  ]);
  let handedOff = false;
  try {
    const stored = await fileWithinPendingLimit(deps, extension, () =>
      commitNew(deps, extension, drafts, async (saved) => {
        handedOff = await handToWorker(deps, saved.id, 'the new extension');
      }),
    );
    deps.logger.info({ requestId: stored.id, extends: original.id, grants: grants.length }, 'extension filed');
    return { request: stored, handedOff };
  } catch (err) {
    if (!(err instanceof StoreConflictError)) throw err;
    const again = await deps.store.getRequest(extension.id);
    if (again) return sameInteraction(again, requester.slackUserId);
    throw err;
  }
}

/** The same interaction again (a retried or replayed submission): answered as before, nothing filed twice. */
function sameInteraction(existing: AccessRequest, slackUserId: string): FiledRequest {
  if (existing.requester.slackUserId !== slackUserId) throw new TimeboxError('conflict', 'That was already submitted by someone else.');
  return { request: existing, handedOff: true };
}

/** Lists the extension on the original, unless the cap is reached (read and written in one conditional write). */
async function recordOnOriginal(deps: WorkflowDeps, read: AccessRequest, extensionId: string, rules: Rule[]): Promise<void> {
  await retryOnConflict(async (round) => {
    const fresh = round === 0 ? read : await deps.store.getRequest(read.id);
    if (!fresh) throw new TimeboxError('not_found', `There is no request ${read.id}.`);
    if (fresh.extensions?.some((e) => e.id === extensionId)) return;
    if (extendableGrants(fresh, deps.clock.now()).length === 0) throw notExtendable(fresh);
    const listed = await Promise.all((fresh.extensions ?? []).map(async (e) => countsAgainstCap(e, await deps.store.getRequest(e.id))));
    checkExtensionCap(fresh.id, rules, listed.filter(Boolean).length);
    await commit(deps, fresh, { ...fresh, extensions: [...(fresh.extensions ?? []), { id: extensionId, applied: [] }] }, []);
  });
}

/**
 * The worker's part for an extension: a pending one past its expiry expires; approved grants are
 * applied (see applyExtension). Returns the extension as it now stands.
 */
export async function advanceExtension(deps: WorkflowDeps, extension: AccessRequest, armTimer: (request: AccessRequest) => Promise<void>): Promise<AccessRequest | undefined> {
  const expired = await updateRequest(
    deps,
    extension.id,
    (fresh) => {
      const now = deps.clock.now();
      if (now < fresh.expiresAt) return undefined;
      const steps = fresh.grants.filter((g) => g.status === 'PENDING').map((g) => grantTransitions.expire(g, fresh.id));
      if (steps.length === 0) return undefined;
      return { next: steps.reduce((r, st) => withGrant(r, st.grant), fresh), events: steps.flatMap((st) => st.events) };
    },
    extension,
  );
  if (!expired) return undefined;
  const applied = expired.grants.some((g) => g.status === 'APPROVED') ? await applyExtension(deps, expired, armTimer) : expired;
  if (applied) await armTimer(applied);
  return applied;
}

/**
 * Moves the original window's end by the extension's duration for every approved grant of the
 * extension: one conditional write to the original (each grant's end moved once, however many
 * workers run this: the original records what each extension moved), then the extension's grants
 * become APPLIED, or FAILED where the window was no longer active. No assignment is touched: the
 * same window simply lasts longer, and its timer or schedule is armed again for the new end.
 */
async function applyExtension(deps: WorkflowDeps, extension: AccessRequest, armTimer: (request: AccessRequest) => Promise<void>): Promise<AccessRequest | undefined> {
  const of = extension.extends;
  if (!of) return extension;
  const approved = extension.grants.filter((g) => g.status === 'APPROVED').map((g) => g.id);
  const original = await updateRequest(deps, of.id, (fresh) => {
    const planned = applyTo(fresh, extension, approved);
    if (!planned) return undefined;
    return {
      next: planned.next,
      events: planned.moved.map((m) => ({
        type: 'extended' as const,
        actor: SYSTEM_ACTOR,
        grantId: m.grantId,
        detail: `by ${extension.id} (${formatDuration(extension.durationMs)} more): was to end ${new Date(m.from).toISOString()}, now ${new Date(m.to).toISOString()}`,
      })),
    };
  });
  const settled = await updateRequest(
    deps,
    extension.id,
    (fresh) => {
      const steps = fresh.grants
        .filter((g) => g.status === 'APPROVED')
        .map((g) => {
          const theirs = original ? originalGrantOf(original, g) : undefined;
          if (original && theirs && wasApplied(original, fresh.id, g.id)) return grantTransitions.apply(g, theirs.endsAt ?? 0, fresh.id, of.id);
          return grantTransitions.notApplied(g, `not extended: ${whyNotMoved(theirs)}`, fresh.id);
        });
      return steps.length === 0 ? undefined : { next: steps.reduce((r, st) => withGrant(r, st.grant), fresh), events: steps.flatMap((st) => st.events) };
    },
  );
  if (original) {
    // The window's timer or schedule moves to the new end; the original's channel message shows it.
    await armTimer(original);
    await handToWorker(deps, original.id, 'the extended request');
  }
  deps.logger.info({ requestId: extension.id, extends: of.id, grants: settled?.grants.map((g) => `${g.id}:${g.status}`) }, 'extension applied');
  return settled;
}
