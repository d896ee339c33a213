import { jobEvent as workerEvent } from './job-event';
import { advanceRequest } from '../../app/advance-request';
import { requestStatus } from '../../domain/access-request';
import { CloudWatchAlarms } from '../../adapters/alarms/revoke-alarms';
import { lambdaRuntime } from './lambda-runtime';

/**
 * Grants, revokes and expiries. Invoked asynchronously by the Slack handler and the sweeper,
 * and by EventBridge Scheduler at the end of each window, with `{"requestId": …}` (and, at a window's end, what Timebox created for it).
 * A throw makes Lambda retry (then the DLQ); the request's state in the table makes that safe.
 */
export async function handler(event: unknown): Promise<{ requestId: string; status: string | undefined }> {
  const runtime = await lambdaRuntime('worker', { alarms: CloudWatchAlarms });
  // The worker grants and revokes what each request names (never reading the catalogue for it);
  // it keeps the cache's snapshot like the Slack function, for anything it renders.
  await runtime.catalogue?.load();
  const parsed = workerEvent.safeParse(event);
  if (!parsed.success) {
    // A malformed event can never succeed: log it and do not let Lambda retry it.
    runtime.deps.logger.error({ event: JSON.stringify(event).slice(0, 500) }, 'worker ignored a malformed event');
    return { requestId: '', status: undefined };
  }
  // A job that is early (its notBefore still ahead) finds nothing due yet and arms its timer again.
  const request = await advanceRequest(runtime.deps, parsed.data);
  return { requestId: parsed.data.requestId, status: request ? requestStatus(request) : undefined };
}
