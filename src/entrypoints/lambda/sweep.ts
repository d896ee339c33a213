import { sweepDueRequests } from '../../app/sweep';
import { lambdaRuntime } from './lambda-runtime';

/** Every 5 minutes: hand every overdue request to the worker (the safety net under Scheduler). */
export async function handler(): Promise<{ dispatched: number }> {
  const runtime = await lambdaRuntime();
  const result = await sweepDueRequests(runtime.deps, 0);
  return { dispatched: result.dispatched.length };
}
