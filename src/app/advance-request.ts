import { tellBreakGlass } from './break-glass';
import { holdsAccess, reminderDueAt, timerDueAt, withGrant, workDueAt, type AccessRequest } from '../domain/access-request';
import { AssignmentStillInProgressError, RetryLaterError, StoreConflictError } from '../domain/errors';
import { describeTarget, provisionTarget } from '../domain/grant-target';
import { planWork, recordAttempt, type AttemptPolicy, type WorkPlan } from '../domain/grant-work';
import { holderRef } from '../domain/lease';
import { sessionEndsDue } from '../domain/session-end';
import { commit, retryOnConflict, updateRequest } from './commit';
import type { WorkflowDeps } from './deps';
import { endSessionsDue } from './end-sessions';
import { grantOne, targetOf } from './grant-access';
import { letGoOfFailed } from './leases';
import { advanceExtension } from './extend-request';
import { notifyPeople } from './notify-people';
import { refreshHomes } from './home';
import type { AdvanceJob, HeldTarget } from './ports';
import { revokeFromReceipt, revokeOne } from './revoke-access';

const MAX_STEPS = 10;
/**
 * Grants of one request worked on at once. They all finish with a write to the same item, and
 * more of them at once would lose races to each other faster than retries can settle them.
 */
const STEPS_AT_ONCE = 4;

/** Runs `work` on every item, at most `size` at a time, and settles them all. */
async function inBatches<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.allSettled(items.slice(i, i + size).map(work))));
  return results;
}
/** A grant that errors this many times (AWS refusing, not just slow) is failed and the requester told. */
const MAX_GRANT_ATTEMPTS = 5;
/** The longest pause between two tries at a failing revoke. */
const MAX_REVOKE_RETRY_MS = 300_000;

/**
 * The worker: moves one request's grants as far as their states and the clock allow (expire,
 * grant, revoke), then tells people. Every door that wants work done (a click, a timer,
 * EventBridge Scheduler, the sweep) calls this, and calling it twice is harmless.
 */
export async function advanceRequest(deps: WorkflowDeps, job: AdvanceJob | string): Promise<AccessRequest | undefined> {
  const worked = await advanceWork(deps, job);
  if (!worked) return undefined;
  return notifyRequest(deps, worked.id, worked);
}

/**
 * The state work alone. Slack is never on this path, so a slow or failing Slack can neither
 * delay a grant nor hold access open past its window. `written`, the request as the door that
 * handed it over has just written it, saves the first read; never for a job with a receipt
 * (`created`), which must be checked against what the store holds now.
 */
export async function advanceWork(deps: WorkflowDeps, jobOrId: AdvanceJob | string, written?: AccessRequest): Promise<AccessRequest | undefined> {
  const job: AdvanceJob = typeof jobOrId === 'string' ? { requestId: jobOrId } : jobOrId;
  let last: AccessRequest | undefined;
  let worked = false;
  let known: AccessRequest | undefined = written?.id === job.requestId && !job.created?.length ? written : undefined;
  for (let step = 0; step < MAX_STEPS; step++) {
    const request = known ?? (await deps.store.getRequest(job.requestId));
    known = undefined;
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
    if ('idle' in claimed) {
      // Nothing to do now: what the claim read is the latest (no need to read it again for the timer).
      let latest = claimed.idle ?? last;
      if (sessionEndsDue(latest, deps.clock.now()).length > 0) latest = await followUpSessionEnds(deps, latest, worked);
      await armNextTimer(deps, latest);
      return latest;
    }
    worked = true;
    // Side by side; one grant's error must not stop the others, nor the request's next timer.
    // It is thrown once the timer is armed, so the door retries (Lambda) or logs it (locally).
    const steps = await inBatches(claimed.grants, STEPS_AT_ONCE, (grantId) => runStep(deps, claimed.request, grantId));
    const failed = steps.find((step): step is PromiseRejectedResult => step.status === 'rejected');
    if (failed) {
      const latest = await deps.store.getRequest(job.requestId).catch(() => undefined);
      if (latest) await armNextTimer(deps, latest);
      throw failed.reason;
    }
    // When every step says what it wrote, the next round starts from the newest of those (no
    // read): it holds every step's write, as each was conditional on the one before. A write by
    // someone else since (a click, the news) hands out work of its own.
    const written = steps.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value] : []));
    if (written.length === steps.length) known = newest(written);
  }
  let latest = (await deps.store.getRequest(job.requestId)) ?? last;
  if (latest && sessionEndsDue(latest, deps.clock.now()).length > 0) latest = await followUpSessionEnds(deps, latest, worked);
  if (latest) await armNextTimer(deps, latest);
  return latest;
}

/**
 * Ending sessions after a revoke never holds the revoke's news up: when this run revoked
 * something, the step goes to a job of its own (the news of this run goes out meanwhile);
 * otherwise it runs here. A lost hand-off leaves it due, for the sweep.
 */
async function followUpSessionEnds(deps: WorkflowDeps, request: AccessRequest, workedThisRun: boolean): Promise<AccessRequest> {
  if (workedThisRun) {
    await deps.queue.dispatch({ requestId: request.id }).catch((err: unknown) => deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not hand over ending the sessions; the sweep covers it'));
    return request;
  }
  return endSessionsDue(deps, request);
}

/**
 * Tells people about the request's latest state (channel message, requester's DM). `known`, the
 * request as the work before this pass left it, saves the read (a write since costs the pass's
 * record a retry).
 */
export async function notifyRequest(deps: WorkflowDeps, requestId: string, known?: AccessRequest): Promise<AccessRequest | undefined> {
  let request = known?.id === requestId ? known : await deps.store.getRequest(requestId);
  const reminderBefore = request && reminderDueAt(request);
  for (let step = 0; request && step < 3; step++) {
    const notified = await notifyPeople(deps, request);
    // Done, or Slack failed this pass: the retry waits for its backoff (newsRetryAt), not this loop.
    // Otherwise the next pass starts from the request as this one wrote it (no read): a change
    // someone else writes meanwhile is told by the pass its writer hands out.
    const done = notified === request || (notified.newsRetryAt ?? 0) > deps.clock.now();
    request = notified;
    if (done) break;
  }
  if (request) request = await tellBreakGlass(deps, request); // break-glass alert and reminder: best effort, never throws
  // Telling people set the next reminder (the first, or the one after the one just sent): its timer or schedule.
  if (request && reminderDueAt(request) !== reminderBefore) await armNextTimer(deps, request);
  await refreshHomes(deps, request); // App Home, after the news: best effort, never throws
  return request;
}

/**
 * One write that takes every grant with work due now (planWork decides which, on the version
 * the write is conditional on). Returns the grants this worker now holds, or, when there is
 * nothing to do now, the request as last read (`idle`; undefined when it is gone).
 */
async function claimDueWork(deps: WorkflowDeps, request: AccessRequest): Promise<{ request: AccessRequest; grants: string[] } | { idle: AccessRequest | undefined }> {
  let plan: WorkPlan | undefined;
  const saved = await updateRequest(deps, request.id, (fresh) => (plan = planWork(fresh, deps.clock.now(), deps.options.claimMs)), request);
  return saved && plan ? { request: saved, grants: plan.claimed } : { idle: saved };
}

/**
 * Grants or revokes one claimed grant. What AWS throws is recorded on the grant (recordAttempt)
 * and resumed by the sweep once the claim runs out: a grant refused too often is FAILED (and
 * anything an attempt created removed), a revoke is retried with backoff and never dropped.
 */
async function runStep(deps: WorkflowDeps, request: AccessRequest, grantId: string): Promise<AccessRequest | undefined> {
  const grant = request.grants.find((g) => g.id === grantId);
  const status = grant?.status;
  if (!grant || (status !== 'GRANTING' && status !== 'REVOKING')) return undefined;
  try {
    return await (status === 'GRANTING' ? grantOne(deps, request, grant) : revokeOne(deps, request, grant));
  } catch (err) {
    if (err instanceof StoreConflictError) throw err;
    // Slow provisioning or a busy lease is not a refusal: the sweep resumes it when the claim runs out.
    const slow = err instanceof RetryLaterError || err instanceof AssignmentStillInProgressError;
    if (status === 'GRANTING' && slow) return void deps.logger.warn({ requestId: request.id, grantId, reason: err.message }, 'will retry later');
    const reason = err instanceof Error ? (status === 'GRANTING' ? `${err.name}: ${err.message}` : err.message) : String(err);
    const recorded = await recordFailure(deps, request.id, grantId, status, reason);
    // A grant another worker moved on meanwhile: the error is the door's to retry or log.
    if (!recorded && status === 'GRANTING') throw err;
    deps.logger.warn({ requestId: request.id, grantId, reason }, 'will retry later');
    return undefined;
  }
}

/** The newest of some versions of one request (the one written last). */
function newest(versions: AccessRequest[]): AccessRequest | undefined {
  return versions.reduce<AccessRequest | undefined>((a, b) => (!a || b.version > a.version ? b : a), undefined);
}

const attemptPolicy = (deps: WorkflowDeps): AttemptPolicy => ({
  maxGrantAttempts: MAX_GRANT_ATTEMPTS,
  revokeRetryMs: deps.options.revokeRetryMs,
  maxRevokeRetryMs: MAX_REVOKE_RETRY_MS,
  revokeStuckAttempts: deps.options.revokeStuckAttempts,
  revokeStuckMs: deps.options.revokeStuckMs,
});

/**
 * Records a failed attempt (recordAttempt decides, on the version the write is conditional on).
 * A grant that is failed lets go of its target first; a revoke past the stuck thresholds raises
 * the alarm once its attempt is recorded. False when the grant is no longer `status`.
 */
async function recordFailure(deps: WorkflowDeps, requestId: string, grantId: string, status: 'GRANTING' | 'REVOKING', reason: string): Promise<boolean> {
  return retryOnConflict(
    async () => {
      const fresh = await deps.store.getRequest(requestId);
      const grant = fresh?.grants.find((g) => g.id === grantId);
      if (!fresh || grant?.status !== status) return false;
      const attempt = recordAttempt(grant, reason, deps.clock.now(), fresh.id, attemptPolicy(deps));
      deps.logger.error({ requestId, grantId, attempts: attempt.grant.grantAttempts ?? attempt.grant.revokeAttempts, outcome: attempt.outcome, reason }, `${status === 'GRANTING' ? 'grant' : 'revoke'} attempt failed`);
      const target = attempt.outcome === 'fail' ? targetOf(fresh, grant) : undefined;
      if (target) await letGoOfFailed(deps, target, holderRef(fresh.id, grantId));
      await commit(deps, fresh, withGrant(fresh, attempt.grant), attempt.events);
      if (attempt.stuck) {
        const stuck = { requestId, grantId, target: `${describeTarget(grant.target)} for ${fresh.requester.email ?? fresh.requester.slackUserId}`, reason, ...attempt.stuck };
        await deps.alarms.revokeStuck(stuck).catch((err: unknown) => deps.logger.error({ requestId, grantId, err: String(err) }, 'could not raise the stuck-revoke alarm'));
      }
      return true;
    },
    (ms) => deps.sleep(ms),
  );
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
  const now = deps.clock.now();
  const work = workDueAt(request);
  if (work !== undefined && work <= now) return;
  const at = timerDueAt(request, now);
  if (at === undefined) return;
  const created = createdTargets(request);
  await deps.scheduler
    .scheduleAt({ requestId: request.id, ...(created.length > 0 ? { created } : {}) }, at)
    .catch((err: unknown) => deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not arm the timer; the sweep covers it'));
}
