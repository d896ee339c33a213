import type { AccessRequest } from '../domain/access-request';
import { TimeboxError } from '../domain/errors';
import type { WorkflowDeps } from './deps';
import { longestPendingExpiry } from '../domain/policy';

/** One person's filings that need approval, one after another in this process (see fileWithinPendingLimit). */
const filingsOf = new Map<string, Promise<unknown>>();

/**
 * Files `request` (by calling `file`) unless its requester already has
 * `limits.maxPendingPerRequester` requests waiting for approval: then it is refused, naming the
 * limit, before anything is stored. Only a request that itself needs approval is counted and
 * checked; an auto-approved one is never held up by it.
 *
 * In one process a person's filings are checked and stored one after another, so the limit is
 * exact locally, and a flood by one person takes one place at a time in the store's queue. Across
 * processes (Lambda) filings by the same person at the same moment can each see the count before
 * the others are stored: the limit can be overshot by as many filings as run at once.
 */
export async function fileWithinPendingLimit(deps: WorkflowDeps, request: AccessRequest, file: () => Promise<AccessRequest>): Promise<AccessRequest> {
  if (!request.grants.some((g) => g.status === 'PENDING')) return file();
  const who = request.requester.slackUserId;
  const before = filingsOf.get(who) ?? Promise.resolve();
  const mine = before.catch(() => undefined).then(async () => {
    const max = deps.policy.limits.maxPendingPerRequester;
    // A request older than the pending expiry cannot still be waiting, so only the newer ones are read.
    const waiting = await deps.store.countAwaitingApproval(who, request.createdAt - longestPendingExpiry(deps.policy));
    if (waiting >= max) {
      // The same interaction again (a retried filing that was stored) is not a new request: filing
      // it again finds it stored, and the caller answers as it did the first time.
      if (await deps.store.getRequest(request.id)) return file();
      throw new TimeboxError(
        'too_many_pending',
        `You already have ${waiting} requests waiting for approval; at most ${max} may wait at once (limits.maxPendingPerRequester). Ask again once some are decided or expire.`,
      );
    }
    return file();
  });
  filingsOf.set(who, mine);
  try {
    return await mine;
  } finally {
    if (filingsOf.get(who) === mine) filingsOf.delete(who);
  }
}
