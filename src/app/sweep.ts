import { dueAt, timerDueAt, workDueAt, type AccessRequest } from '../domain/access-request';
import { armNextTimer } from './advance-request';
import type { WorkflowDeps } from './deps';

export interface SweepResult {
  /** Requests handed to the worker now. */
  dispatched: string[];
  /** Requests due within the lookahead, armed on the scheduler. */
  scheduled: string[];
}

/**
 * The safety net: hands every request whose due time has passed (an access window that ended,
 * a pending request past its expiry, a grant or revoke whose worker died, a notification
 * Slack refused) to the worker, and arms the scheduler for those due within `lookaheadMs`.
 * Reads only the index of open requests, so its cost grows with open requests, not history.
 */
function isWorkDue(request: AccessRequest, now: number): boolean {
  const at = workDueAt(request);
  return at !== undefined && at <= now;
}

export async function sweepDueRequests(deps: WorkflowDeps, lookaheadMs = 0): Promise<SweepResult> {
  const now = deps.clock.now();
  const result: SweepResult = { dispatched: [], scheduled: [] };
  const due = await deps.store.listDue(now + lookaheadMs);
  // Work first (windows ending, expiries, revoke retries), then news: however many requests wait
  // only to tell someone, none of them delays a revoke.
  const workFirst = [...due].sort((a, b) => Number(!isWorkDue(a, now)) - Number(!isWorkDue(b, now)));
  for (const request of workFirst) {
    const at = dueAt(request);
    if (at === undefined) continue;
    if (at <= now) {
      await deps.queue.dispatch({ requestId: request.id });
      result.dispatched.push(request.id);
    }
    // The work's own time is armed even when an overdue notification made the request due now:
    // after a restart, an active window whose "active" news was never recorded must still end
    // on time, not at the first sweep after the worker has told people.
    // So are the reminders and the warning before a window's end (an extend warning), times of their own.
    const next = timerDueAt(request, now);
    if (next !== undefined && next <= now + lookaheadMs) {
      await armNextTimer(deps, request);
      result.scheduled.push(request.id);
    }
  }
  if (result.dispatched.length > 0) deps.logger.info({ dispatched: result.dispatched.length }, 'sweep found due requests');
  return result;
}
