import type { AccessRequest, Grant } from './access-request';
import { SYSTEM_ACTOR, type EventDraft } from './audit';
import type { Policy } from './policy';

/**
 * Ending the sessions a grant's user still has open, after Timebox removed the assignment: a
 * follow-up step of its own (own due time, retries and audit), never part of the revoke, so the
 * revoke is never held up by it. One per grant, kept on the request beside its grants (not on
 * the grant: the grant is ENDED and its own record is done; not on the lease: the lease is gone
 * once the assignment is, and the deny is per user × account × permission set, not per holder).
 */
export interface SessionEnd {
  grantId: string;
  /** Sessions issued before this moment (the assignment's removal) are denied. */
  before: number;
  /** When it is next due: at once, when a worker's claim runs out, or after a failure's backoff. */
  dueAt: number;
  attempts: number;
  lastError?: string;
  /** When the deny was in force in the accounts (provisioning SUCCEEDED): the step is done. */
  doneAt?: number;
}

/** Past this long after the cut-off every session issued before it has expired (AWS's longest SessionDuration), so retrying is pointless. */
export const SESSION_END_GIVE_UP_MS = 12 * 3_600_000;

/** Whether ending `grant`'s window also ends the sessions already issued: an account grant under a rule with endSessions. */
export function endsSessions(policy: Pick<Policy, 'rules'>, grant: Grant): boolean {
  return grant.target.kind === 'account' && policy.rules.find((r) => r.name === grant.ruleName)?.endSessions === true;
}

/** The request with a session end due at once for `grantId`, whose assignment Timebox removed at `before`. */
export function withSessionEnd(request: AccessRequest, grantId: string, before: number): AccessRequest {
  const others = (request.sessionEnds ?? []).filter((s) => s.grantId !== grantId);
  return { ...request, sessionEnds: [...others, { grantId, before, dueAt: before, attempts: 0 }] };
}

export function sessionEndOf(request: Pick<AccessRequest, 'sessionEnds'>, grantId: string): SessionEnd | undefined {
  return request.sessionEnds?.find((s) => s.grantId === grantId);
}

/** The session ends not done yet whose time has come. */
export function sessionEndsDue(request: AccessRequest, now: number): SessionEnd[] {
  return (request.sessionEnds ?? []).filter((s) => s.doneAt === undefined && s.dueAt <= now);
}

function changed(request: AccessRequest, grantId: string, change: (s: SessionEnd) => SessionEnd | undefined): AccessRequest {
  const sessionEnds = (request.sessionEnds ?? []).flatMap((s) => (s.grantId !== grantId ? [s] : (change(s) ?? [])));
  return { ...request, sessionEnds };
}

export const sessionEndTransitions = {
  /** A worker takes the step until `until`; after a crash it is due again then. */
  claim: (request: AccessRequest, grantId: string, until: number): AccessRequest => changed(request, grantId, (s) => ({ ...s, dueAt: until })),
  /** The deny is in force: done, audited as sessions_ended. */
  ended: (request: AccessRequest, grantId: string, now: number, detail: string): { next: AccessRequest; events: EventDraft[] } => ({
    next: changed(request, grantId, (s) => {
      const { lastError: _lastError, ...rest } = s;
      void _lastError;
      return { ...rest, doneAt: now };
    }),
    events: [{ type: 'sessions_ended', actor: SYSTEM_ACTOR, grantId, detail }],
  }),
  /**
   * An attempt failed: retried with a doubling backoff, or given up (and dropped) once every
   * session it would end has expired by itself.
   */
  failed: (request: AccessRequest, grantId: string, reason: string, now: number, retryMs: number, maxRetryMs: number): { next: AccessRequest; events: EventDraft[] } => {
    const current = sessionEndOf(request, grantId);
    const attempts = (current?.attempts ?? 0) + 1;
    if (current && now - current.before >= SESSION_END_GIVE_UP_MS) {
      return {
        next: changed(request, grantId, () => undefined),
        events: [{ type: 'sessions_end_failed', actor: SYSTEM_ACTOR, grantId, detail: `given up after ${attempts} attempts (the sessions have expired by themselves): ${reason}` }],
      };
    }
    return {
      next: changed(request, grantId, (s) => ({ ...s, attempts, lastError: reason, dueAt: now + Math.min(retryMs * 2 ** (attempts - 1), maxRetryMs) })),
      events: [{ type: 'sessions_end_failed', actor: SYSTEM_ACTOR, grantId, detail: `attempt ${attempts}: ${reason}` }],
    };
  },
};
