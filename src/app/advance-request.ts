import { grantTransitions, holdsAccess, workDueAt, type AccessRequest, type Grant } from '../domain/access-request';
import { SYSTEM_ACTOR } from '../domain/audit';
import { AssignmentStillInProgressError, RetryLaterError, StoreConflictError } from '../domain/errors';
import { provisionTarget } from '../domain/grant-target';
import { holderRef } from '../domain/lease';
import { updateRequest, type EventDraft } from './commit';
import type { WorkflowDeps } from './deps';
import { failGrant, grantOne, targetOf, updateGrant } from './grant-access';
import { dropFromLease, releaseLease } from './leases';
import { advanceExtension } from './extend-request';
import { extendWarningAt } from '../domain/extension';
import { notifyPeople } from './notify-people';
import type { AdvanceJob, HeldTarget } from './ports';
import { retryRevokeLater, revokeFromReceipt, revokeOne } from './revoke-access';

const MAX_STEPS = 10;
/**
 * Grants of one request worked on at once. They all finish with a write to the same item, and
 * more of them at once would lose races to each other faster than retries can settle them.
 */
const STEPS_AT_ONCE = 4;

/** Runs `work` on every item, at most `size` at a time, and settles them all. */
async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<PromiseSettledResult<void>[]> {
  const results: PromiseSettledResult<void>[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.allSettled(items.slice(i, i + size).map(work))));
  return results;
}
/** A grant that errors this many times (AWS refusing, not just slow) is failed and the requester told. */
const MAX_GRANT_ATTEMPTS = 5;

/**
 * The worker: moves one request's grants as far as their states and the clock allow (expire,
 * grant, revoke), then tells people. Every door that wants work done (a click, a timer,
 * EventBridge Scheduler, the sweep) calls this, and calling it twice is harmless.
 */
export async function advanceRequest(deps: WorkflowDeps, job: AdvanceJob | string): Promise<AccessRequest | undefined> {
  const worked = await advanceWork(deps, job);
  if (!worked) return undefined;
  return notifyRequest(deps, worked.id);
}

/**
 * The state work alone. Slack is never on this path, so a slow or failing Slack can neither
 * delay a grant nor hold access open past its window.
 */
export async function advanceWork(deps: WorkflowDeps, jobOrId: AdvanceJob | string): Promise<AccessRequest | undefined> {
  const job: AdvanceJob = typeof jobOrId === 'string' ? { requestId: jobOrId } : jobOrId;
  let last: AccessRequest | undefined;
  for (let step = 0; step < MAX_STEPS; step++) {
    const request = await deps.store.getRequest(job.requestId);
    if (!request) {
      if (job.created?.length) await revokeFromReceipt(deps, job);
      return undefined;
    }
    // An extension is never granted: approved, it moves the original window's end.
    if (request.extends) return advanceExtension(deps, request, (r) => armNextTimer(deps, r));
    if (step === 0 && job.created?.length) {
      // A store restored from a backup older than the grant has the request, but not the grant's
      // window: the receipt's targets that the store never saw granted are removed all the same.
      const unknownToStore = job.created.filter((held) => {
        const grant = request.grants.find((g) => g.id === held.grantId);
        return !grant || (grant.activeAt === undefined && !holdsAccess(grant.status));
      });
      if (unknownToStore.length > 0) await revokeFromReceipt(deps, { requestId: job.requestId, created: unknownToStore });
    }
    last = request;
    const claimed = await claimDueWork(deps, request);
    if (!claimed) break;
    // Side by side; one grant's error must not stop the others, nor the request's next timer.
    // It is thrown once the timer is armed, so the door retries (Lambda) or logs it (locally).
    const steps = await inBatches(claimed.grants, STEPS_AT_ONCE, (grantId) => runStep(deps, claimed.request, grantId));
    const failed = steps.find((step): step is PromiseRejectedResult => step.status === 'rejected');
    if (failed) {
      const latest = await deps.store.getRequest(job.requestId).catch(() => undefined);
      if (latest) await armNextTimer(deps, latest);
      throw failed.reason;
    }
  }
  const latest = (await deps.store.getRequest(job.requestId)) ?? last;
  if (latest) await armNextTimer(deps, latest);
  return latest;
}

/** Tells people about the request's latest state (channel message, requester's DM). */
export async function notifyRequest(deps: WorkflowDeps, requestId: string): Promise<AccessRequest | undefined> {
  let request = await deps.store.getRequest(requestId);
  for (let step = 0; request && step < 3; step++) {
    const notified = await notifyPeople(deps, request);
    // Done, or Slack failed this pass: the retry waits for its backoff (newsRetryAt), not this loop.
    if (notified === request || (notified.newsRetryAt ?? 0) > deps.clock.now()) break;
    request = await deps.store.getRequest(requestId);
  }
  return request;
}

/**
 * One write that takes every grant with work due now: pending ones past the expiry expire,
 * approved ones start granting, ended windows start revoking, and grants whose worker died are
 * taken back. Returns the grants this worker now holds (to grant or revoke), or undefined when
 * there is nothing to do now.
 */
async function claimDueWork(deps: WorkflowDeps, request: AccessRequest): Promise<{ request: AccessRequest; grants: string[] } | undefined> {
  let claimedIds: string[] = [];
  let wrote = false;
  const saved = await updateRequest(deps, request.id, (fresh) => {
    const now = deps.clock.now();
    const until = now + deps.options.claimMs;
    const events: EventDraft[] = [];
    claimedIds = [];
    const grants = fresh.grants.map((g): Grant => {
      const id = g.id;
      switch (g.status) {
        case 'PENDING':
          if (now < fresh.expiresAt) return g;
          events.push({ type: 'expired', actor: SYSTEM_ACTOR, grantId: id, detail: 'nobody decided in time' });
          return grantTransitions.expire(g, fresh.id);
        case 'APPROVED':
          claimedIds.push(id);
          events.push({ type: 'grant_started', actor: SYSTEM_ACTOR, grantId: id });
          return grantTransitions.startGranting(g, until, fresh.id);
        case 'ACTIVE':
          if ((g.endsAt ?? 0) > now) return g;
          claimedIds.push(id);
          events.push({ type: 'revoke_started', actor: SYSTEM_ACTOR, grantId: id });
          return grantTransitions.startRevoking(g, until, fresh.id);
        case 'GRANTING':
        case 'REVOKING':
          if ((g.claimUntil ?? 0) > now) return g; // another worker holds it
          claimedIds.push(id);
          events.push({ type: g.status === 'GRANTING' ? 'grant_started' : 'revoke_started', actor: SYSTEM_ACTOR, grantId: id, detail: g.status === 'GRANTING' ? 'resumed' : 'retry' });
          return grantTransitions.claim(g, until);
        default:
          return g;
      }
    });
    wrote = events.length > 0;
    return wrote ? { next: { ...fresh, grants }, events } : undefined;
  }, request);
  if (!saved || !wrote) return undefined;
  return { request: saved, grants: claimedIds };
}

async function runStep(deps: WorkflowDeps, request: AccessRequest, grantId: string): Promise<void> {
  const grant = request.grants.find((g) => g.id === grantId);
  try {
    if (grant?.status === 'GRANTING') await grantSafely(deps, request, grantId);
    else if (grant?.status === 'REVOKING') await revokeSafely(deps, request, grantId);
  } catch (err) {
    if (err instanceof RetryLaterError) {
      deps.logger.warn({ requestId: request.id, grantId, reason: err.message }, 'will retry later');
      return;
    }
    throw err;
  }
}

/**
 * A grant that throws (AWS refusing, or unreachable past the SDK's retries) is recorded on the
 * grant and in the audit log, and resumed by the sweep once the claim runs out; after
 * MAX_GRANT_ATTEMPTS it is FAILED, anything an attempt created is removed, and the requester told.
 */
async function grantSafely(deps: WorkflowDeps, granting: AccessRequest, grantId: string): Promise<void> {
  try {
    await grantOne(deps, granting, grantId);
  } catch (err) {
    if (err instanceof StoreConflictError || err instanceof RetryLaterError) throw err;
    // Slow provisioning is not a refusal: the sweep resumes it when the claim runs out.
    if (err instanceof AssignmentStillInProgressError) throw new RetryLaterError(err.message, { cause: err });
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const fresh = await deps.store.getRequest(granting.id);
    const grant = fresh?.grants.find((g) => g.id === grantId);
    if (!fresh || grant?.status !== 'GRANTING') throw err;
    const attempts = (grant.grantAttempts ?? 0) + 1;
    deps.logger.error({ requestId: fresh.id, grantId, attempts, reason }, 'grant attempt failed');
    if (attempts < MAX_GRANT_ATTEMPTS) {
      await updateGrant(deps, fresh.id, grantId, (g) =>
        g.status !== 'GRANTING'
          ? undefined
          : { grant: { ...g, grantAttempts: attempts, lastError: reason }, events: [{ type: 'grant_stalled', actor: SYSTEM_ACTOR, grantId, detail: `attempt ${attempts}: ${reason}` }] },
      );
      throw new RetryLaterError(`grant of ${fresh.id}/${grantId} failed`, { cause: err });
    }
    const target = targetOf(fresh, grant);
    if (target) {
      // If AWS shows it now, remove it. If not, let go of the lease: one with an operation of an
      // earlier attempt still outstanding stays (with its id) for the reconciler to see finish.
      const holder = holderRef(fresh.id, grantId);
      const { present } = await deps.provisioner.lookup(target).catch(() => ({ present: true }));
      await (present ? releaseLease(deps, target, holder) : dropFromLease(deps, target, holder)).catch((err: unknown) =>
        deps.logger.warn({ requestId: fresh.id, grantId, err: String(err) }, 'could not let go of the lease of a failed grant; the reconciler will'),
      );
    }
    await failGrant(deps, fresh.id, grantId, `AWS kept refusing: ${reason}`, { grantAttempts: attempts });
  }
}

/** A revoke that throws (AWS down, throttled past the SDK's retries) is recorded and retried, never dropped. */
async function revokeSafely(deps: WorkflowDeps, revoking: AccessRequest, grantId: string): Promise<void> {
  try {
    await revokeOne(deps, revoking, grantId);
  } catch (err) {
    if (err instanceof StoreConflictError) throw err;
    await retryRevokeLater(deps, revoking.id, grantId, err instanceof Error ? err.message : String(err));
    throw new RetryLaterError(`revoke of ${revoking.id}/${grantId} failed`, { cause: err });
  }
}

/** What a window's end must remove even if the store loses the request: the targets Timebox created for it. */
export function createdTargets(request: AccessRequest): HeldTarget[] {
  if (!request.principalId) return [];
  const principalId = request.principalId;
  return request.grants
    .filter((g) => (g.status === 'ACTIVE' || g.status === 'REVOKING') && g.timeboxOwned)
    .map((g) => ({ grantId: g.id, target: provisionTarget(g.target, principalId), ...(g.membershipId ? { membershipId: g.membershipId } : {}) }));
}

/** Arms the request's timer or schedule for its next piece of work (an expiry, a window's end, a retry) or the warning before a window's end. */
export async function armNextTimer(deps: WorkflowDeps, request: AccessRequest): Promise<void> {
  const work = workDueAt(request);
  const now = deps.clock.now();
  if (work !== undefined && work <= now) return;
  const warning = extendWarningAt(request);
  const at = warning !== undefined && warning > now && (work === undefined || warning < work) ? warning : work;
  if (at === undefined) return;
  const created = createdTargets(request);
  await deps.scheduler
    .scheduleAt({ requestId: request.id, ...(created.length > 0 ? { created } : {}) }, at)
    .catch((err: unknown) => deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not arm the timer; the sweep covers it'));
}
