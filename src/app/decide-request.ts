import { lookUpMember } from './members';
import { decideGrant, grantTransitions, approvalRefs, type AccessRequest, type Decision, type Grant, type GrantStep } from '../domain/access-request';
import { isTimeboxError, StoreConflictError, TimeboxError } from '../domain/errors';
import type { Identity } from '../domain/identity';
import type { Person, Rule } from '../domain/policy';
import { checkApprover, matchesAny, namedOrNot, recheckGrant } from '../domain/rules';
import { resolveIdentity } from './resolve-identity';
import { commit, noteOnRequest, retryOnConflict } from './commit';
import type { WorkflowDeps } from './deps';
import { handToWorker } from './hand-off';
import type { MessageRef } from './ports';

export interface DecideInput {
  requestId: string;
  decision: Decision;
  clickerSlackUserId: string;
  /** Only this grant (a per-grant button); otherwise every pending grant the clicker may decide. */
  grantId?: string;
  /** The message the button sat on; must be the request's own approval message. */
  message?: MessageRef;
  /** The Slack workspace the click came from (the one Timebox is installed in). */
  workspace?: string;
}

export interface DecideResult {
  request: AccessRequest;
  /** The grants this click decided (or added an approval to). */
  decided: Grant[];
  /** Pending grants the config now running no longer allows: refused (DENIED) with the reason. */
  refused: Grant[];
  /** Pending grants the clicker may not decide, left as they were. */
  leftAlone: Grant[];
  /** False when the worker could not be handed the decision: it stands all the same, and the sweep picks it up. */
  handedOff: boolean;
}

/**
 * Records one approver's click on every pending grant of the request they may decide (an
 * approver of that grant's rule, not the requester unless the rule allows it); the rest are left
 * as they are. Who may decide comes from the stored request and the rules, never from the button.
 * Concurrent clicks are settled by conditional writes. Refusals are audited and thrown as TimeboxError.
 * A decision once stored stands: a failed hand-off is logged and reported (`handedOff: false`), not thrown.
 */
export async function decideRequest(deps: WorkflowDeps, input: DecideInput): Promise<DecideResult> {
  const member = await lookUpMember(deps, input.clickerSlackUserId, input.workspace, 'decide on', async (why) => {
    // Audited on the request the button is about, if there is one (an id alone creates no audit trail).
    if (await deps.store.getRequest(input.requestId)) await noteOnRequest(deps, input.requestId, 'decision_refused', input.clickerSlackUserId, `${input.decision}: ${why}`);
  });
  let lastRead: AccessRequest | undefined;
  let who: { person: Identity; requester: Identity } | undefined;
  try {
    const result = await retryOnConflict(async () => {
      const request = await deps.store.getRequest(input.requestId);
      if (!request) throw new TimeboxError('not_found', `There is no request ${input.requestId.slice(0, 40)}.`);
      lastRead = request;
      // Who the clicker and the requester are, resolved once for this click (a retried write reuses it).
      who ??= await identitiesAtClick(deps, request, member);
      const planned = authoriseAndDecide(deps, request, input, who.person, who.requester);
      const saved = await commit(deps, request, planned.next, planned.events);
      return { request: saved, decided: planned.decided, refused: planned.refused, leftAlone: planned.leftAlone };
    });
    deps.logger.info({ requestId: result.request.id, grants: result.decided.map((g) => `${g.id}:${g.status}`), by: member.slackUserId }, 'decision recorded');
    // The worker grants what is approved, and updates the channel message (a partial approval shows who approved so far).
    return { ...result, handedOff: await handToWorker(deps, result.request.id, 'the decision', result.request) };
  } catch (err) {
    if (isTimeboxError(err) && lastRead) {
      await noteOnRequest(deps, lastRead.id, 'decision_refused', member.slackUserId, `${input.decision}: ${err.code}`);
    }
    if (err instanceof StoreConflictError) throw new TimeboxError('conflict', 'Several people clicked at once; please try again.', { cause: err });
    throw err;
  }
}

/**
 * Membership checked again at the click: the clicker against the approvers, and the requester
 * against the requesters, of the rules the pending grants fall under (every rule's approvers when
 * one of those rules is gone, since then any approver may refuse the grant).
 */
async function identitiesAtClick(deps: WorkflowDeps, request: AccessRequest, clicker: Person): Promise<{ person: Identity; requester: Identity }> {
  const pending = request.grants.filter((g) => g.status === 'PENDING');
  const rules = pending.map((g) => deps.policy.rules.find((r) => r.name === g.ruleName));
  const approverRules = rules.some((r) => r === undefined) ? deps.policy.rules : rules.filter((r): r is Rule => r !== undefined);
  const [person, requester] = await Promise.all([
    resolveIdentity(deps, clicker, approverRules.map((r) => r.approvers)),
    resolveIdentity(deps, request.requester, rules.flatMap((r) => (r ? [r.requesters] : [])), request.principalId),
  ]);
  return { person, requester };
}

function authoriseAndDecide(deps: WorkflowDeps, request: AccessRequest, input: DecideInput, person: Identity, requester: Identity) {
  // A button must sit on one of this request's own approval messages: in a channel, or a copy in
  // an approver's DM. (Until a message's ts is recorded, a click can only come from the message
  // just posted, so there is nothing to compare yet.)
  const refs = approvalRefs(request);
  const clicked = input.message;
  if (clicked && refs.length > 0 && !refs.some((ref) => ref.channel === clicked.channel && ref.ts === clicked.ts)) {
    throw new TimeboxError('stale_button', 'That button does not belong to this request.');
  }
  const now = deps.clock.now();
  const pending = request.grants.filter((g) => g.status === 'PENDING' && (input.grantId === undefined || g.id === input.grantId));
  if (pending.length === 0) {
    const grant = input.grantId ? request.grants.find((g) => g.id === input.grantId) : undefined;
    if (input.grantId && !grant) throw new TimeboxError('not_found', `Request ${request.id} has no grant ${input.grantId.slice(0, 10)}.`);
    // Say how the grants the clicker approves for ended (one withdrawn, say), not another rule's.
    const theirs = request.grants.find((g) => namedOrNot(deps.policy.rules.find((r) => r.name === g.ruleName)?.approvers ?? [], person));
    const status = grant?.status ?? theirs?.status ?? request.grants[0]?.status ?? 'ENDED';
    throw new TimeboxError('already_decided', `Request ${request.id} is already ${status.toLowerCase()}.`);
  }
  const refusals: TimeboxError[] = [];
  const decided: GrantStep[] = [];
  const refused: GrantStep[] = [];
  const leftAlone: Grant[] = [];
  for (const grant of pending) {
    // The config running now decides, not the one the request was filed under.
    try {
      const check = recheckGrant(deps.policy, requester, grant, request.durationMs);
      if (!check.ok) {
        // Refused by Timebox: its rule is gone (then nobody could ever approve it), or the
        // clicker is an approver of the rule, which no longer allows it.
        if (check.rule) checkApprover(check.rule, requester, person);
        else if (!matchesAny(deps.policy.rules.map((r) => r.approvers), person)) {
          throw new TimeboxError('not_an_approver', `The rule "${grant.ruleName}" this request was filed under no longer exists, and you are not an approver.`);
        }
        refused.push(grantTransitions.refuse(grant, check.reason, now, request.id, person.slackUserId));
        continue;
      }
      checkApprover(check.rule, requester, person);
      decided.push(decideGrant(request, { ...grant, approvalsRequired: check.approvalsRequired }, input.decision, person, now));
    } catch (err) {
      if (!isTimeboxError(err)) throw err;
      refusals.push(err);
      leftAlone.push(grant);
    }
  }
  if (decided.length === 0 && refused.length === 0) {
    // The clearest reason: your own request, then already approved by you, then not an approver.
    const order = ['group_unresolved', 'self_approval', 'already_decided', 'already_approved_by_you', 'not_an_approver'];
    refusals.sort((a, b) => order.indexOf(a.code) - order.indexOf(b.code));
    const rules = [...new Set(leftAlone.map((g) => g.ruleName))];
    const first = refusals[0] as TimeboxError;
    if (first.code === 'not_an_approver' && rules.length > 1) {
      throw new TimeboxError('not_an_approver', `You are not an approver for any of the rules of this request (${rules.map((r) => `"${r}"`).join(', ')}).`);
    }
    throw first;
  }
  const byId = new Map([...decided, ...refused].map((s) => [s.grant.id, s.grant]));
  const events = [...decided, ...refused].flatMap((s) => s.events);
  return {
    next: { ...request, grants: request.grants.map((g) => byId.get(g.id) ?? g) },
    events,
    decided: decided.map((s) => s.grant),
    refused: refused.map((s) => s.grant),
    leftAlone,
  };
}
