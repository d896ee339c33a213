import { requestStatus, STATUS_TABLE, type AccessRequest, type GrantStatus } from '../../src/domain/access-request';
import type { AuditEvent } from '../../src/domain/audit';

/**
 * Checks that a request's audit log tells its whole story: for every grant, the status changes,
 * in order, form a path the state machine allows from creation to where the grant is now, and
 * every event has an actor. Returns the problems (empty when complete).
 */
export function auditProblems(request: AccessRequest, events: AuditEvent[]): string[] {
  const problems: string[] = [];
  for (const e of events) if (!e.actor) problems.push(`${e.type} at ${e.at} has no actor`);
  const changes = events.filter((e) => e.type !== 'decision_refused' && e.type !== 'end_refused' && e.type !== 'reconciled');
  const first = changes[0];
  if (!first || first.type !== 'requested') return [...problems, `does not start with "requested" (${first?.type ?? 'no events'})`];
  for (const grant of request.grants) {
    const mine = changes.filter((e) => e.grantId === grant.id);
    const born = mine[0];
    if (!born || (born.type !== 'requested' && born.type !== 'auto_approved')) {
      problems.push(`grant ${grant.id}: does not start with "requested" or "auto_approved" (${born?.type ?? 'no events'})`);
      continue;
    }
    let status: GrantStatus = born.to ?? 'PENDING';
    for (const e of mine.slice(1)) {
      if (!e.to || e.to === status) continue;
      if (!STATUS_TABLE[status].next.includes(e.to)) problems.push(`grant ${grant.id} ${e.type}: ${status} → ${e.to} is not a transition the state machine allows`);
      if (e.from !== undefined && e.from !== status) problems.push(`grant ${grant.id} ${e.type}: says it left ${e.from}, but the log had reached ${status}`);
      status = e.to;
    }
    if (status !== grant.status) problems.push(`grant ${grant.id}: the log ends at ${status}, the grant is ${grant.status}`);
  }
  if (first.to !== undefined && request.grants.length === 1 && requestStatus(request) === undefined) problems.push('no status');
  return problems;
}
