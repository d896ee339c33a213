import { reconcileAssignments } from '../../app/reconcile-assignments';
import { sweepDueRequests } from '../../app/sweep';
import { MAX_WAIT_MS } from '../../adapters/scheduler/eventbridge-scheduler';
import { jobEvent } from './job-event';
import { lambdaRuntime } from './lambda-runtime';

/**
 * Every 5 minutes: hand every overdue request to the worker (the safety net under Scheduler),
 * then compare Timebox's leases with Identity Center and remove orphans Timebox created. Invoked
 * by a schedule with a job and its `notBefore`, it waits until then and hands the job over.
 */
export async function handler(event?: unknown): Promise<{ dispatched: number; orphansRevoked: number }> {
  const runtime = await lambdaRuntime();
  // Also the waiter: a schedule fired ahead of a window's end (see fireTime) waits here, where it
  // holds none of the worker's reserved slots, and hands the job over on time.
  const waiting = jobEvent.safeParse(event);
  if (waiting.success && waiting.data.notBefore !== undefined) {
    const { notBefore, ...job } = waiting.data;
    const wait = Math.min(notBefore - runtime.deps.clock.now(), MAX_WAIT_MS);
    if (wait > 0) await runtime.deps.sleep(wait);
    await runtime.deps.queue.dispatch(job);
    return { dispatched: 1, orphansRevoked: 0 };
  }
  const result = await sweepDueRequests(runtime.deps, 0);
  const report = await reconcileAssignments(runtime.deps);
  return { dispatched: result.dispatched.length, orphansRevoked: report.orphansRevoked.length };
}
