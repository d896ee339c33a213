import { findGrant, type AccessRequest } from '../domain/access-request';
import { addSessionDeny, denyTime, sessionDenySid } from '../domain/session-deny';
import { sessionEndOf, sessionEndTransitions, sessionEndsDue, type SessionEnd } from '../domain/session-end';
import { updateRequest } from './commit';
import type { WorkflowDeps } from './deps';

/** The longest pause between two tries at ending a grant's sessions. */
const MAX_SESSION_END_RETRY_MS = 300_000;

/** Ending the sessions could not be done, and a retry cannot help until someone changes the policy. */
class NoRoomError extends Error {}

/**
 * Ends the sessions already issued for every grant of the request whose step is due: the
 * follow-up of a revoke under an endSessions rule. Each step is claimed first (a crash leaves it
 * due again once the claim runs out), then the deny is written and provisioned, then recorded as
 * sessions_ended; a failure is recorded and retried with backoff. Safe to run twice: the deny is
 * the same statement, put again, and provisioning again is harmless.
 */
export async function endSessionsDue(deps: WorkflowDeps, request: AccessRequest): Promise<AccessRequest> {
  let latest = request;
  for (const due of sessionEndsDue(request, deps.clock.now())) {
    let claimed: AccessRequest | undefined;
    const saved = await updateRequest(
      deps,
      request.id,
      (fresh) => {
        const current = sessionEndOf(fresh, due.grantId);
        if (!current || current.doneAt !== undefined || current.dueAt > deps.clock.now()) return undefined;
        claimed = sessionEndTransitions.claim(fresh, due.grantId, deps.clock.now() + deps.options.claimMs);
        return { next: claimed, events: [] };
      },
      latest,
    );
    if (saved) latest = saved;
    if (!claimed || !saved) continue; // another worker has it, or it is done
    latest = (await endOne(deps, saved, due)) ?? latest;
  }
  return latest;
}

async function endOne(deps: WorkflowDeps, request: AccessRequest, step: SessionEnd): Promise<AccessRequest | undefined> {
  const { target } = findGrant(request, step.grantId);
  const userId = request.principalId;
  const where = target.kind === 'account' ? `*${target.permissionSetName}* on *${target.accountName}* for <@${request.requester.slackUserId}> (\`${request.id}\`)` : request.id;
  try {
    // Never planned so (only account grants of a known user get the step), but never left due for ever either: it fails, and is given up in time.
    if (target.kind !== 'account' || !userId) throw new Error('only an account grant of a known Identity Center user has sessions to end');
    const deny = { userId, accountId: target.accountId, before: step.before };
    const detail = await oneEditAtATime(deps, target.permissionSetArn, async () => {
      const [current, sessionDurationMs] = await Promise.all([deps.permissionSets.getInlinePolicy(target.permissionSetArn), deps.permissionSets.sessionDurationMs(target.permissionSetArn)]);
      const edit = addSessionDeny(current, deny, deps.clock.now(), sessionDurationMs);
      if (!edit.fits) {
        throw new NoRoomError(`the inline policy of ${target.permissionSetName} has no room for the deny (the 32,768-character limit, with only its own statements left)`);
      }
      if (edit.text !== current) await deps.permissionSets.putInlinePolicy(target.permissionSetArn, edit.text);
      // Provisioned even when the text was already there: a crash between the write and the provisioning leaves exactly that.
      const provisioned = await deps.permissionSets.provision(target.permissionSetArn);
      if (!provisioned.ok) throw new Error(`provisioning ${target.permissionSetName} FAILED: ${provisioned.reason}`);
      if (edit.dropped.length > 0) {
        await alert(deps, `:warning: Timebox ended the open AWS sessions of ${where}, but the inline policy of *${target.permissionSetName}* reached AWS's 32,768-character limit: the ${edit.dropped.length} oldest Timebox statements still in force were dropped (${edit.dropped.join(', ')}), so sessions they cut off may work again until they expire. Nothing of yours in the policy was touched.`);
      }
      const extra = [edit.pruned.length > 0 ? `${edit.pruned.length} expired statement(s) pruned` : '', edit.dropped.length > 0 ? `${edit.dropped.length} dropped for the size limit` : ''].filter(Boolean);
      return `${sessionDenySid(deny)}: sessions issued before ${denyTime(step.before)} denied in ${target.permissionSetName}${extra.length > 0 ? `; ${extra.join(', ')}` : ''}`;
    });
    return await updateRequest(deps, request.id, (fresh) => {
      const current = sessionEndOf(fresh, step.grantId);
      if (!current || current.doneAt !== undefined) return undefined;
      return sessionEndTransitions.ended(fresh, step.grantId, deps.clock.now(), detail);
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    deps.logger.warn({ requestId: request.id, grantId: step.grantId, reason }, 'could not end the sessions; will retry');
    if (err instanceof NoRoomError && step.attempts === 0) {
      await alert(deps, `:rotating_light: Timebox could not end the open AWS sessions of ${where}: ${reason}. Make room in the permission set's inline policy; Timebox keeps trying.`);
    }
    return updateRequest(deps, request.id, (fresh) => {
      const current = sessionEndOf(fresh, step.grantId);
      if (!current || current.doneAt !== undefined) return undefined;
      return sessionEndTransitions.failed(fresh, step.grantId, reason, deps.clock.now(), deps.options.revokeRetryMs, MAX_SESSION_END_RETRY_MS);
    });
  }
}

/**
 * One read-modify-write of a permission set's policy at a time: in this process by the adapter's
 * queue, and across processes (Lambda containers) by a lock record in the store, held until the
 * claim time at most, so a holder that crashed blocks the next one only that long. Waits up to
 * leaseWaitMs for a holder to finish; past that the attempt fails and is retried with backoff.
 */
async function oneEditAtATime<T>(deps: WorkflowDeps, permissionSetArn: string, work: () => Promise<T>): Promise<T> {
  return deps.permissionSets.exclusive(permissionSetArn, async () => {
    const name = `permission-set-policy|${permissionSetArn}`;
    const owner = deps.newGeneration();
    const waitUntil = deps.clock.now() + deps.options.leaseWaitMs;
    while (!(await deps.store.tryLock(name, owner, deps.clock.now() + deps.options.claimMs, deps.clock.now()))) {
      if (deps.clock.now() >= waitUntil) throw new Error(`another change to the inline policy of ${permissionSetArn} is in progress`);
      await deps.sleep(deps.options.leasePollMs);
    }
    try {
      return await work();
    } finally {
      await deps.store.unlock(name, owner).catch((err: unknown) => deps.logger.warn({ permissionSetArn, err: String(err) }, 'could not let go of the policy lock; it runs out by itself'));
    }
  });
}

async function alert(deps: WorkflowDeps, text: string): Promise<void> {
  await deps.notifier.alertApprovers(text).catch((err: unknown) => deps.logger.error({ err: String(err) }, 'could not post the session-ending alert'));
}
