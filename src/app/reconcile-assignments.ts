import type { AccessRequest } from '../domain/access-request';
import type { AssignmentLease } from '../domain/assignment-lease';
import { SYSTEM_ACTOR } from '../domain/audit';
import type { WorkflowDeps } from './deps';
import { noteOnRequest } from './commit';
import { StoreConflictError } from './ports';

/** Statuses in which a request may legitimately hold an assignment. */
const HOLDING = new Set(['GRANTING', 'ACTIVE', 'REVOKING']);

export interface ReconcileReport {
  /** Leases compared with what Identity Center reports. */
  checked: number;
  /** Assignments Timebox created that no live grant needed any more: removed. */
  orphansRevoked: string[];
  /** Holders whose request had already ended (a crash between steps): taken off the lease. */
  staleHoldersRemoved: string[];
  /** Assignments that were there before Timebox: never touched, only reported. */
  notCreatedByTimebox: string[];
  /** Grants Timebox believes active whose assignment AWS does not show (removed by someone else). */
  missingWhileActive: string[];
}

const describe = (lease: AssignmentLease) => `${lease.target.principalId} on ${lease.target.accountId} with ${lease.target.permissionSetArn}`;

/**
 * Part of the sweep: compares every assignment Timebox believes it holds (its leases) with what
 * Identity Center reports, and repairs what a crash left behind. It only ever deletes an
 * assignment Timebox itself created and no live grant needs; anything else is reported.
 */
export async function reconcileAssignments(deps: WorkflowDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { checked: 0, orphansRevoked: [], staleHoldersRemoved: [], notCreatedByTimebox: [], missingWhileActive: [] };
  for (const lease of await deps.store.listLeases()) {
    report.checked++;
    try {
      await reconcileLease(deps, lease, report);
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
      // A grant or revoke of this assignment moved meanwhile: it is in good hands; look next time.
    }
  }
  const problems = report.orphansRevoked.length + report.staleHoldersRemoved.length + report.missingWhileActive.length;
  if (problems > 0 || report.notCreatedByTimebox.length > 0) deps.logger.warn({ ...report }, 'reconciler report');
  return report;
}

async function reconcileLease(deps: WorkflowDeps, lease: AssignmentLease, report: ReconcileReport): Promise<void> {
  const now = deps.clock.now();
  const requests = new Map<string, AccessRequest | undefined>();
  for (const id of lease.holders) requests.set(id, await deps.store.getRequest(id));
  const live = lease.holders.filter((id) => HOLDING.has(requests.get(id)?.status ?? 'gone'));
  const stale = lease.holders.filter((id) => !live.includes(id));
  const present = await deps.identityCenter.hasAssignment(lease.target);

  if (lease.preExisting && present) report.notCreatedByTimebox.push(describe(lease));
  for (const id of live) {
    if (requests.get(id)?.status === 'ACTIVE' && !present) report.missingWhileActive.push(`${id}: ${describe(lease)}`);
  }
  // A revoke that is deleting right now owns the lease until its claim runs out.
  if (lease.deleting && now - lease.updatedAt < deps.options.claimMs) return;
  if (stale.length === 0 && live.length > 0) return;

  let current = lease;
  if (stale.length > 0) {
    current = { ...lease, holders: live, version: lease.version + 1, updatedAt: now };
    await deps.store.putLease(current, lease.version);
    report.staleHoldersRemoved.push(...stale);
    for (const id of stale) {
      if (requests.get(id)) {
        await noteOnRequest(deps, id, 'reconciled', SYSTEM_ACTOR, `request ${requests.get(id)?.status.toLowerCase()} but still held ${describe(lease)}: released`);
      }
    }
  }
  if (live.length > 0) return;
  if (current.preExisting || !present) {
    // Nothing of Timebox's is left there: forget the lease (a pre-existing assignment stays).
    await deps.store.deleteLease(current.key, current.version);
    return;
  }
  // Created by Timebox, needed by nobody: an orphan. Remove it the way a revoke would.
  const deleting = { ...current, deleting: true, version: current.version + 1, updatedAt: now };
  await deps.store.putLease(deleting, current.version);
  const outcome = await deps.identityCenter.deleteAssignment(lease.target);
  if (!outcome.ok) {
    deps.logger.error({ lease: lease.key, reason: outcome.reason }, 'reconciler could not remove an orphaned assignment; will retry');
    return;
  }
  await deps.store.deleteLease(deleting.key, deleting.version);
  report.orphansRevoked.push(describe(lease));
}
