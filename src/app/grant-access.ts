import { findGrant, grantTransitions, withGrant, type AccessRequest, type Grant } from '../domain/access-request';
import { SYSTEM_ACTOR } from '../domain/audit';
import { provisionTarget, type ProvisionTarget } from '../domain/grant-target';
import { holderRef } from '../domain/lease';
import { updateRequest, type EventDraft } from './commit';
import type { WorkflowDeps } from './deps';
import { acquireLease, dropFromLease, operationRecorder, releaseLease, updateLease } from './leases';

export function targetOf(request: AccessRequest, grant: Grant): ProvisionTarget | undefined {
  return request.principalId ? provisionTarget(grant.target, request.principalId) : undefined;
}

/** Moves one GRANTING grant on, provided it still is GRANTING (another worker may have finished it). */
export async function updateGrant(
  deps: WorkflowDeps,
  requestId: string,
  grantId: string,
  change: (grant: Grant, request: AccessRequest) => { grant: Grant; events: EventDraft[] } | undefined,
): Promise<AccessRequest | undefined> {
  return updateRequest(deps, requestId, (fresh) => {
    const grant = fresh.grants.find((g) => g.id === grantId);
    if (!grant) return undefined;
    const planned = change(grant, fresh);
    if (!planned) return undefined;
    return { next: withGrant(fresh, planned.grant), events: planned.events };
  });
}

/** Fails a GRANTING grant with `reason` (told to the requester). */
export function failGrant(deps: WorkflowDeps, requestId: string, grantId: string, reason: string, patch: Partial<Grant> = {}): Promise<AccessRequest | undefined> {
  deps.logger.warn({ requestId, grantId, reason }, 'grant failed');
  return updateGrant(deps, requestId, grantId, (grant) =>
    grant.status !== 'GRANTING'
      ? undefined
      : { grant: grantTransitions.fail({ ...grant, ...patch }, reason, requestId), events: [{ type: 'grant_failed', actor: SYSTEM_ACTOR, grantId, detail: reason }] },
  );
}

/**
 * One GRANTING grant → ACTIVE or FAILED. Safe to run again after a crash at any point: the lease
 * re-checks AWS, creation is skipped when the target is there, and the window only starts once
 * AWS says SUCCEEDED (or the membership exists). Throws what AWS throws; the caller records it.
 */
export async function grantOne(deps: WorkflowDeps, granting: AccessRequest, grantId: string): Promise<AccessRequest | undefined> {
  let request = granting;
  if (!request.principalId) {
    const email = request.requester.email ?? '';
    const principalId = await deps.provisioner.findUserIdByEmail(email);
    if (!principalId) return failGrant(deps, request.id, grantId, `no Identity Center user has the email ${email}`);
    const saved = await updateRequest(deps, request.id, (fresh) => (fresh.principalId ? undefined : { next: { ...fresh, principalId }, events: [] }));
    if (!saved) return undefined;
    request = saved;
  }
  const grant = findGrant(request, grantId);
  const target = targetOf(request, grant) as ProvisionTarget;
  const holder = holderRef(request.id, grantId);
  const { lease, present, membershipId: found } = await acquireLease(deps, target, holder);
  let owned = lease.createdByTimebox;
  let membershipId = lease.membershipId;
  if (present && owned && target.kind === 'group' && !membershipId && found) {
    // An earlier attempt created the membership and stopped before recording its id: it is Timebox's.
    membershipId = found;
    await updateLease(deps, lease.key, (l) => ({ ...l, membershipId: l.membershipId ?? found, updatedAt: deps.clock.now() }), lease.generation);
  }
  if (!present) {
    const recorder = operationRecorder(deps, lease, 'create');
    const outcome = await deps.provisioner.create(target, recorder.hooks);
    if (!outcome.ok) {
      await recorder.finished();
      // An earlier attempt of this grant (before a crash, or past its poll budget) may have
      // created it after all: then it is Timebox's to remove, like any revoke.
      if ((await deps.provisioner.lookup(target)).present) await releaseLease(deps, target, holder);
      else await dropFromLease(deps, target, holder);
      return failGrant(deps, request.id, grantId, `AWS could not create it: ${outcome.reason}`);
    }
    await recorder.finished();
    owned = true;
    if (outcome.membershipId) {
      membershipId = outcome.membershipId;
      await updateLease(deps, lease.key, (l) => ({ ...l, membershipId: outcome.membershipId, updatedAt: deps.clock.now() }), lease.generation);
    }
  }
  const now = deps.clock.now();
  const active = await updateGrant(deps, request.id, grantId, (g, fresh) =>
    g.status !== 'GRANTING'
      ? undefined
      : {
          grant: { ...grantTransitions.activate(g, now, fresh.durationMs, fresh.id), timeboxOwned: owned, ...(membershipId ? { membershipId } : {}) },
          events: [{ type: 'granted', actor: SYSTEM_ACTOR, grantId, detail: `until ${new Date(now + fresh.durationMs).toISOString()}${present ? ' (it was there already)' : ''}` }],
        },
  );
  deps.logger.info({ requestId: request.id, grantId, endsAt: now + request.durationMs }, 'access granted');
  return active;
}
