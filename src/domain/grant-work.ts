import { grantTransitions, withGrant, type AccessRequest, type Grant, type GrantStep } from './access-request';
import { SYSTEM_ACTOR, type EventDraft } from './audit';

/**
 * The worker's policy, as pure functions: which grants it takes now (planWork), and what an
 * attempt that AWS refused means for the grant (recordAttempt). The worker in src/app runs the
 * I/O around them; each decision is made on the version of the request its write is conditional on.
 */

/** One write that takes every grant with work due now, and the grants the worker then holds. */
export interface WorkPlan {
  next: AccessRequest;
  events: EventDraft[];
  /** The grants this worker now holds, to grant or revoke. */
  claimed: string[];
}

/**
 * Pending grants past the expiry expire, approved ones start granting, ended windows start
 * revoking, and grants whose worker's claim ran out (a crash, a retry's time) are taken back,
 * each held until `now + claimMs`. Undefined when nothing is due now.
 */
export function planWork(request: AccessRequest, now: number, claimMs: number): WorkPlan | undefined {
  const until = now + claimMs;
  const claimed: string[] = [];
  const steps = request.grants.map((g): GrantStep | undefined => {
    switch (g.status) {
      case 'PENDING':
        return now < request.expiresAt ? undefined : grantTransitions.expire(g, request.id);
      case 'APPROVED':
        claimed.push(g.id);
        return grantTransitions.startGranting(g, until, request.id);
      case 'ACTIVE':
        if ((g.endsAt ?? 0) > now) return undefined;
        claimed.push(g.id);
        return grantTransitions.startRevoking(g, until, request.id);
      case 'GRANTING':
      case 'REVOKING':
        if ((g.claimUntil ?? 0) > now) return undefined; // another worker holds it
        claimed.push(g.id);
        return grantTransitions.claim(g, until);
      default:
        return undefined;
    }
  });
  const taken = steps.filter((s): s is GrantStep => s !== undefined);
  if (taken.length === 0) return undefined;
  return { next: taken.reduce((r, s) => withGrant(r, s.grant), request), events: taken.flatMap((s) => s.events), claimed };
}

/** How many refusals a grant may meet, and how a revoke's retries back off and when it is raised as stuck. */
export interface AttemptPolicy {
  /** A grant refused this many times (AWS refusing, not just slow) is FAILED. */
  maxGrantAttempts: number;
  /** First delay before a failed revoke is tried again; doubles each time, up to maxRevokeRetryMs. */
  revokeRetryMs: number;
  maxRevokeRetryMs: number;
  /** Past this many attempts, or this long past the window's end, a failing revoke is stuck (alarm). */
  revokeStuckAttempts: number;
  revokeStuckMs: number;
}

/** A revoke past the stuck thresholds: how far, and whether this attempt crossed them. */
export interface Stuck {
  attempts: number;
  overdueMs: number;
  first: boolean;
}

export interface Attempt extends GrantStep {
  /** retry: the grant stays where it is and is taken up again once its claim runs out; fail: it is FAILED. */
  outcome: 'retry' | 'fail';
  /** For a revoke past the thresholds: raise the stuck-revoke alarm. */
  stuck?: Stuck;
}

/**
 * One attempt at a GRANTING or REVOKING grant failed with `reason`. A grant is retried until
 * its attempts reach the limit, then FAILED; a revoke is never given up (access must end): it
 * is retried with backoff, and past the stuck thresholds every failure raises the alarm, the
 * first one audited as revoke_stuck.
 */
export function recordAttempt(grant: Grant, reason: string, now: number, requestId: string, policy: AttemptPolicy): Attempt {
  if (grant.status === 'GRANTING') {
    const attempts = (grant.grantAttempts ?? 0) + 1;
    if (attempts >= policy.maxGrantAttempts) return { ...grantTransitions.fail({ ...grant, grantAttempts: attempts }, `AWS kept refusing: ${reason}`, requestId), outcome: 'fail' };
    return {
      grant: { ...grant, grantAttempts: attempts, lastError: reason },
      events: [{ type: 'grant_stalled', actor: SYSTEM_ACTOR, grantId: grant.id, detail: `attempt ${attempts}: ${reason}` }],
      outcome: 'retry',
    };
  }
  const attempts = (grant.revokeAttempts ?? 0) + 1;
  const delay = Math.min(policy.revokeRetryMs * 2 ** (attempts - 1), policy.maxRevokeRetryMs);
  const overdueMs = now - (grant.endsAt ?? now);
  const isStuck = attempts >= policy.revokeStuckAttempts || overdueMs >= policy.revokeStuckMs;
  const first = isStuck && grant.stuckSince === undefined;
  return {
    grant: { ...grant, revokeAttempts: attempts, lastError: reason, claimUntil: now + delay, ...(first ? { stuckSince: now } : {}) },
    events: [
      { type: 'revoke_failed', actor: SYSTEM_ACTOR, grantId: grant.id, detail: `attempt ${attempts}: ${reason}` },
      ...(first ? [{ type: 'revoke_stuck' as const, actor: SYSTEM_ACTOR, grantId: grant.id, detail: `${attempts} attempts, ${Math.round(overdueMs / 1000)} s past the window's end: ${reason}` }] : []),
    ],
    outcome: 'retry',
    ...(isStuck ? { stuck: { attempts, overdueMs, first } } : {}),
  };
}
