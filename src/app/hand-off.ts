import type { AccessRequest } from '../domain/access-request';
import type { WorkflowDeps } from './deps';

/**
 * Hands a request that is already stored to the worker. What is stored stands whether or not
 * this works, and the sweep hands out whatever is due, so a failed hand-off (Lambda throttling
 * the invoke, say) is logged, never thrown: the caller must not answer as if nothing happened.
 * Resolves to whether the worker has it now, so the door can say which.
 */
export async function handToWorker(deps: Pick<WorkflowDeps, 'queue' | 'logger'>, requestId: string, what: string, written?: AccessRequest): Promise<boolean> {
  try {
    await deps.queue.dispatch({ requestId }, written);
    return true;
  } catch (err) {
    deps.logger.warn({ requestId, err: String(err) }, `could not hand ${what} to the worker; the sweep will pick it up`);
    return false;
  }
}
