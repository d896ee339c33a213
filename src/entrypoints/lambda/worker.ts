import * as z from '../../lib/zod';
import { advanceRequest } from '../../app/advance-request';
import { requestStatus } from '../../domain/access-request';
import { lambdaRuntime } from './lambda-runtime';

const target = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('account'), principalId: z.string(), accountId: z.string(), permissionSetArn: z.string() }),
  z.strictObject({ kind: z.literal('group'), principalId: z.string(), groupId: z.string() }),
]);
const workerEvent = z.object({
  requestId: z.string().regex(/^R-[0-9A-Z]{10}$/),
  // A window's end carries what Timebox created for it (see revokeFromReceipt).
  created: z.array(z.strictObject({ grantId: z.string(), target, membershipId: z.string().optional() })).max(50).optional(),
  // A schedule fired ahead of the window's end (see fireTime): wait until then.
  notBefore: z.number().int().optional(),
});

/** The longest a worker waits for a job's time: schedules fire at most 2 minutes ahead; the function's timeout is 5. */
const MAX_WAIT_MS = 150_000;

/**
 * Grants, revokes and expiries. Invoked asynchronously by the Slack handler and the sweeper,
 * and by EventBridge Scheduler at the end of each window, with `{"requestId": …}` (and, at a window's end, what Timebox created for it).
 * A throw makes Lambda retry (then the DLQ); the request's state in the table makes that safe.
 */
export async function handler(event: unknown): Promise<{ requestId: string; status: string | undefined }> {
  const runtime = await lambdaRuntime();
  const parsed = workerEvent.safeParse(event);
  if (!parsed.success) {
    // A malformed event can never succeed: log it and do not let Lambda retry it.
    runtime.deps.logger.error({ event: JSON.stringify(event).slice(0, 500) }, 'worker ignored a malformed event');
    return { requestId: '', status: undefined };
  }
  const wait = Math.min((parsed.data.notBefore ?? 0) - runtime.deps.clock.now(), MAX_WAIT_MS);
  if (wait > 0) await runtime.deps.sleep(wait);
  const request = await advanceRequest(runtime.deps, parsed.data);
  return { requestId: parsed.data.requestId, status: request ? requestStatus(request) : undefined };
}
