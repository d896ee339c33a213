import { reconcileAssignments } from '../../app/reconcile-assignments';
import { sweepDueRequests } from '../../app/sweep';
import { lambdaRuntime } from './lambda-runtime';

/**
 * Every 5 minutes: hand every overdue request to the worker (the safety net under Scheduler),
 * then compare Timebox's leases with Identity Center and remove orphans Timebox created.
 */
export async function handler(): Promise<{ dispatched: number; orphansRevoked: number }> {
  const runtime = await lambdaRuntime();
  const result = await sweepDueRequests(runtime.deps, 0);
  const report = await reconcileAssignments(runtime.deps);
  return { dispatched: result.dispatched.length, orphansRevoked: report.orphansRevoked.length };
}
