import { grantTransitions, withGrant, type AccessRequest, type Grant, type GrantStep } from '../domain/access-request';
import { provisionTarget, type ProvisionTarget } from '../domain/grant-target';
import { holderRef } from '../domain/lease';
import { updateRequest } from './commit';
import type { WorkflowDeps } from './deps';
import { provisionUnderLease } from './leases';

export function targetOf(request: AccessRequest, grant: Grant): ProvisionTarget | undefined {
  return request.principalId ? provisionTarget(grant.target, request.principalId) : undefined;
}

/**
 * Moves one grant on, provided `change` still finds it where it expects (another worker may have
 * finished it). `known`, the request as the step last saw it, saves a read (a stale one costs a retry).
 */
export async function updateGrant(
  deps: WorkflowDeps,
  requestId: string,
  grantId: string,
  change: (grant: Grant, request: AccessRequest) => GrantStep | undefined,
  known?: AccessRequest,
): Promise<AccessRequest | undefined> {
  return updateRequest(deps, requestId, (fresh) => {
    const grant = fresh.grants.find((g) => g.id === grantId);
    if (!grant) return undefined;
    const planned = change(grant, fresh);
    if (!planned) return undefined;
    return { next: withGrant(fresh, planned.grant), events: planned.events };
  }, known);
}

/** Fails a GRANTING grant with `reason` (told to the requester). */
function failGrant(deps: WorkflowDeps, requestId: string, grantId: string, reason: string): Promise<AccessRequest | undefined> {
  deps.logger.warn({ requestId, grantId, reason }, 'grant failed');
  return updateGrant(deps, requestId, grantId, (grant) => (grant.status !== 'GRANTING' ? undefined : grantTransitions.fail(grant, reason, requestId)));
}

/**
 * One GRANTING grant → ACTIVE or FAILED. Safe to run again after a crash at any point: the lease
 * re-checks AWS, creation is skipped when the target is there, and the window only starts once
 * AWS says SUCCEEDED (or the membership exists). Throws what AWS throws; the caller records it.
 */
export async function grantOne(deps: WorkflowDeps, granting: AccessRequest, grant: Grant): Promise<AccessRequest | undefined> {
  const grantId = grant.id;
  let request = granting;
  if (!request.principalId) {
    const email = request.requester.email ?? '';
    const principalId = await deps.provisioner.findUserIdByEmail(email);
    if (!principalId) return failGrant(deps, request.id, grantId, `no Identity Center user has the email ${email}`);
    const saved = await updateRequest(deps, request.id, (fresh) => (fresh.principalId ? undefined : { next: { ...fresh, principalId }, events: [] }), request);
    if (!saved) return undefined;
    request = saved;
  }
  const target = targetOf(request, grant) as ProvisionTarget;
  const provisioned = await provisionUnderLease(deps, target, holderRef(request.id, grantId));
  if (!provisioned.ok) return failGrant(deps, request.id, grantId, provisioned.reason);
  const now = deps.clock.now();
  const active = await updateGrant(deps, request.id, grantId, (g, fresh) => (g.status !== 'GRANTING' ? undefined : grantTransitions.activate(g, now, fresh.durationMs, fresh.id, provisioned.held)), request);
  deps.logger.info({ requestId: request.id, grantId, endsAt: now + request.durationMs }, 'access granted');
  return active;
}
