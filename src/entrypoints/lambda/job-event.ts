import * as z from '../../lib/zod';
import { REQUEST_ID } from '../../domain/request-id';

const target = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('account'), principalId: z.string(), accountId: z.string(), permissionSetArn: z.string() }),
  z.strictObject({ kind: z.literal('group'), principalId: z.string(), groupId: z.string() }),
]);

/** A job for the worker, as the Slack function, the sweep and Scheduler send it. */
export const jobEvent = z.object({
  requestId: z.string().regex(REQUEST_ID),
  // A window's end carries what Timebox created for it (see revokeFromReceipt).
  created: z.array(z.strictObject({ grantId: z.string(), target, membershipId: z.string().optional() })).max(50).optional(),
  // A schedule fired ahead of the window's end (see fireTime): wait until then.
  notBefore: z.number().int().optional(),
});
