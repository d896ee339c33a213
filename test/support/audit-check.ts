import { transition, type AccessRequest, type RequestStatus } from '../../src/domain/access-request';
import type { AuditEvent } from '../../src/domain/audit';

/**
 * Checks that a request's audit log tells its whole story: the status changes, in order, form a
 * path the state machine allows from creation to where the request is now, and every event has
 * an actor. Returns the problems (empty when complete).
 */
export function auditProblems(request: AccessRequest, events: AuditEvent[]): string[] {
  const problems: string[] = [];
  for (const e of events) if (!e.actor) problems.push(`${e.type} at ${e.at} has no actor`);
  const changes = events.filter((e) => e.type !== 'decision_refused' && e.type !== 'end_refused' && e.type !== 'reconciled');
  const first = changes[0];
  if (!first || first.type !== 'requested') return [...problems, `does not start with "requested" (${first?.type ?? 'no events'})`];
  let status: RequestStatus = first.to ?? 'PENDING';
  for (const e of changes.slice(1)) {
    if (!e.to || e.to === status) continue;
    try {
      transition({ ...request, status }, e.to);
    } catch {
      problems.push(`${e.type}: ${status} → ${e.to} is not a transition the state machine allows`);
    }
    if (e.from !== undefined && e.from !== status) problems.push(`${e.type}: says it left ${e.from}, but the log had reached ${status}`);
    status = e.to;
  }
  if (status !== request.status) problems.push(`the log ends at ${status}, the request is ${request.status}`);
  return problems;
}
