import * as z from '../../lib/zod';
import type { AccessRequest } from '../../domain/access-request';
import type { AssignmentLease } from '../../domain/assignment-lease';
import type { AuditEvent } from '../../domain/audit';

// Items are validated on the way out of the table: a hand-edited or corrupt item is an error
// with a name, not an undefined deep in a grant.
const status = z.enum(['PENDING', 'APPROVED', 'DENIED', 'EXPIRED', 'GRANTING', 'ACTIVE', 'FAILED', 'REVOKING', 'ENDED']);
const person = z.object({ slackUserId: z.string(), email: z.string().optional(), name: z.string().optional() });

export const auditEventSchema = z.object({
  requestId: z.string(),
  at: z.number(),
  seq: z.string(),
  type: z.enum([
    'requested', 'approval_recorded', 'approved', 'auto_approved', 'denied', 'expired', 'grant_started', 'granted',
    'ended_early', 'end_refused', 'grant_failed', 'revoke_started', 'revoked', 'assignment_kept', 'revoke_failed', 'decision_refused', 'reconciled', 'grant_stalled',
  ]),
  actor: z.string(),
  from: status.optional(),
  to: status.optional(),
  detail: z.string().optional(),
}) satisfies z.ZodType<AuditEvent>;

export const accessRequestSchema = z.object({
  id: z.string(),
  version: z.number().int(),
  status,
  requester: person,
  accountId: z.string(),
  accountName: z.string(),
  permissionSetName: z.string(),
  permissionSetArn: z.string(),
  durationMs: z.number(),
  reason: z.string(),
  ruleName: z.string(),
  autoApproved: z.boolean(),
  approvalsRequired: z.number(),
  approvals: z.array(z.object({ slackUserId: z.string(), email: z.string().optional(), at: z.number() })),
  createdAt: z.number(),
  expiresAt: z.number(),
  decidedBy: person.optional(),
  decidedAt: z.number().optional(),
  principalId: z.string().optional(),
  activeAt: z.number().optional(),
  endsAt: z.number().optional(),
  endedEarlyBy: person.optional(),
  endedAt: z.number().optional(),
  keptBecause: z.string().optional(),
  failure: z.string().optional(),
  claimUntil: z.number().optional(),
  revokeAttempts: z.number().optional(),
  grantAttempts: z.number().optional(),
  lastError: z.string().optional(),
  approvalMessage: z.object({ channel: z.string(), ts: z.string() }).optional(),
  activeDm: z.object({ channel: z.string(), ts: z.string() }).optional(),
  notified: z.string().optional(),
  toldRequester: status.optional(),
  updatedAt: z.number(),
  lastEvents: z.array(auditEventSchema).optional(),
}) satisfies z.ZodType<AccessRequest>;

export const leaseSchema = z.object({
  key: z.string(),
  target: z.object({ accountId: z.string(), permissionSetArn: z.string(), principalId: z.string() }),
  holders: z.array(z.string()),
  preExisting: z.boolean(),
  deleting: z.boolean(),
  version: z.number().int(),
  updatedAt: z.number(),
}) satisfies z.ZodType<AssignmentLease>;
