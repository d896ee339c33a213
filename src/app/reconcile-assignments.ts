import { grantWorkDueAt, holdsAccess, type AccessRequest } from '../domain/access-request';
import { SYSTEM_ACTOR } from '../domain/audit';
import { parseHolderRef, withoutOperation, type Lease } from '../domain/lease';
import { noteOnRequest } from './commit';
import type { WorkflowDeps } from './deps';
import { armNextTimer } from './advance-request';
import { updateGrant } from './grant-access';
import { handToWorker } from './hand-off';
import { removeTarget } from './leases';

export interface ReconcileReport {
  /** Leases compared with what Identity Center reports. */
  checked: number;
  /** Targets Timebox created that no live grant needed any more: removed. */
  orphansRevoked: string[];
  /** Holders whose grant had already ended (a crash between steps): taken off the lease. */
  staleHoldersRemoved: string[];
  /** Targets that were there before Timebox: never touched, only reported. */
  notCreatedByTimebox: string[];
  /** Grants Timebox believes active whose target AWS does not show (removed by someone else). */
  missingWhileActive: string[];
  /**
   * Active windows granted by an older release (upgraded from a v1 store), whose grant did not
   * record whether Timebox created its target: recorded now from the lease, and their timer armed
   * again with that receipt, so a store lost afterwards still ends them.
   */
  ownershipRecorded: string[];
  /**
   * Requests holding access whose work is overdue (a window past its end, a claim run out), handed
   * to the worker. The sweep finds these through the due index; this covers a request missing
   * from it (the embedded store killed between its index and item writes).
   */
  overdueHandedOver: string[];
  /** Leases kept because an AWS operation Timebox started on them has not finished yet. */
  waitingForAws: string[];
  /** Leases that could not be checked this time (an AWS or store error): tried again next time. */
  failed: string[];
  /**
   * Lease items no schema version of this release can read (written by a newer release, during
   * a rollback, or corrupt): skipped and named here, never acted on; every other lease is handled.
   */
  unreadable: string[];
  /**
   * Targets Timebox created that live windows hold, with the end of the last one. Each is removed
   * then, even if an admin made the same assignment or membership by hand during the window:
   * Identity Center shows the two as one, so Timebox cannot tell them apart. Listed so that an
   * operator can see what will go, and re-make standing access after the window if it was meant.
   */
  heldForWindows: string[];
}

const describe = (lease: Lease) =>
  lease.target.kind === 'account'
    ? `${lease.target.principalId} on ${lease.target.accountId} with ${lease.target.permissionSetArn}`
    : `${lease.target.principalId} in group ${lease.target.groupId}`;

/**
 * Part of the sweep: compares every target Timebox believes it holds (its leases) with what
 * Identity Center reports, and repairs what a crash left behind. It only ever removes a target
 * Timebox itself created and no live grant needs, and forgets a lease only once every AWS
 * operation Timebox started on it has finished. Each lease is handled on its own: one that
 * fails, or cannot be read, is reported and the rest are still checked. The listing only says
 * which leases there are: each is read again (consistently) just before it is handled, and every
 * write names the lease's generation, so a lease ended and created again during the pass is
 * never mistaken for the one listed.
 */
export async function reconcileAssignments(deps: WorkflowDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { checked: 0, orphansRevoked: [], staleHoldersRemoved: [], notCreatedByTimebox: [], missingWhileActive: [], ownershipRecorded: [], overdueHandedOver: [], waitingForAws: [], failed: [], unreadable: [], heldForWindows: [] };
  const listing = await deps.store.listLeases();
  // What the due index lists as due (the sweep hands those out), read once a pass, if ever needed.
  let dueIds: Promise<Set<string>> | undefined;
  const passStart = deps.clock.now();
  const listedAsDue = () => (dueIds ??= deps.store.listDue(passStart).then((due) => new Set(due.map((r) => r.id))));
  for (const { key, reason } of listing.unreadable) {
    report.unreadable.push(key);
    deps.logger.error({ lease: key, reason }, 'reconciler skipped a lease it cannot read (written by a newer release, or corrupt); the others are checked');
  }
  for (const listed of listing.leases) {
    report.checked++;
    try {
      const lease = await deps.store.getLease(listed.key);
      if (lease) await reconcileLease(deps, lease, report, listedAsDue);
    } catch (err) {
      // A lost race means a grant or revoke of this target moved meanwhile: it is in good hands.
      report.failed.push(describe(listed));
      deps.logger.warn({ lease: listed.key, err: err instanceof Error ? err.message : String(err) }, 'reconciler could not check a lease; will look again next time');
    }
  }
  const problems = report.orphansRevoked.length + report.staleHoldersRemoved.length + report.missingWhileActive.length + report.failed.length + report.unreadable.length;
  if (problems > 0 || report.notCreatedByTimebox.length > 0 || report.waitingForAws.length > 0) deps.logger.warn({ ...report }, 'reconciler report');
  else if (report.heldForWindows.length > 0) deps.logger.info({ heldForWindows: report.heldForWindows }, 'reconciler report: what Timebox will remove when windows end');
  return report;
}

/**
 * A window granted by a release before grants-v2 kept whether Timebox created its target only on
 * the lease. Its grant learns it from the lease, and its timer is armed again now (not when the
 * sweep's look-ahead reaches it) carrying that receipt.
 */
async function recordOwnership(deps: WorkflowDeps, requestId: string, grantId: string, lease: Lease): Promise<void> {
  const saved = await updateGrant(deps, requestId, grantId, (g) =>
    g.status !== 'ACTIVE' || g.timeboxOwned !== undefined
      ? undefined
      : {
          grant: { ...g, timeboxOwned: lease.createdByTimebox },
          events: [{ type: 'reconciled', actor: SYSTEM_ACTOR, grantId, detail: `granted by an older release: ${lease.createdByTimebox ? 'Timebox created' : 'Timebox did not create'} ${describe(lease)} (recorded from its lease)` }],
        },
  );
  if (saved) await armNextTimer(deps, saved);
}

async function reconcileLease(deps: WorkflowDeps, lease: Lease, report: ReconcileReport, listedAsDue: () => Promise<Set<string>>): Promise<void> {
  const now = deps.clock.now();
  const requests = new Map<string, AccessRequest | undefined>();
  const grantStatus = async (ref: string) => {
    const { requestId, grantId } = parseHolderRef(ref);
    if (!requests.has(requestId)) requests.set(requestId, await deps.store.getRequest(requestId));
    return requests.get(requestId)?.grants.find((g) => g.id === grantId)?.status;
  };
  const live: string[] = [];
  const stale: string[] = [];
  for (const ref of lease.holders) {
    const status = await grantStatus(ref);
    (status && holdsAccess(status) ? live : stale).push(ref);
  }
  const { present } = await deps.provisioner.lookup(lease.target);
  if (!lease.createdByTimebox && present) report.notCreatedByTimebox.push(describe(lease));
  if (lease.createdByTimebox && present && live.length > 0) {
    const ends = live.map((ref) => {
      const { requestId, grantId } = parseHolderRef(ref);
      return requests.get(requestId)?.grants.find((g) => g.id === grantId)?.endsAt ?? 0;
    });
    const until = Math.max(...ends);
    report.heldForWindows.push(`${describe(lease)}: removed ${until > 0 ? `at ${new Date(until).toISOString()}` : 'when its grant ends'} (${live.map((ref) => parseHolderRef(ref).requestId).join(', ')})`);
  }
  for (const ref of live) {
    if ((await grantStatus(ref)) === 'ACTIVE' && !present) report.missingWhileActive.push(`${ref}: ${describe(lease)}`);
    const { requestId, grantId } = parseHolderRef(ref);
    const grant = requests.get(requestId)?.grants.find((g) => g.id === grantId);
    if (grant?.status === 'ACTIVE' && grant.timeboxOwned === undefined) {
      await recordOwnership(deps, requestId, grantId, lease);
      report.ownershipRecorded.push(`${ref}: ${describe(lease)}`);
    }
    const request = requests.get(requestId);
    const due = request && grant ? grantWorkDueAt(request, grant) : undefined;
    if (due !== undefined && due <= now && !report.overdueHandedOver.includes(requestId) && !(await listedAsDue()).has(requestId)) {
      report.overdueHandedOver.push(requestId);
      await handToWorker(deps, requestId, 'a request with overdue work the due index does not list');
    }
  }
  // A revoke that is removing it right now owns the lease until its claim runs out.
  if (lease.deleting && now - lease.updatedAt < deps.options.claimMs) return;

  // Operations Timebox started: finished ones are crossed off; while one runs, nothing is decided.
  let current = lease;
  for (const op of lease.operations) {
    const status = lease.target.kind === 'account' ? await deps.provisioner.operationStatus(op.kind, op.id) : 'SUCCEEDED';
    if (status === 'IN_PROGRESS') {
      report.waitingForAws.push(`${describe(lease)} (${op.kind} ${op.id})`);
      continue;
    }
    current = withoutOperation(current, op.id, now);
  }
  if (stale.length > 0 || current !== lease) {
    const next = { ...current, holders: live, version: lease.version + 1, updatedAt: now };
    await deps.store.putLease(next, lease.version);
    current = next;
    report.staleHoldersRemoved.push(...stale.map((ref) => parseHolderRef(ref).requestId));
    for (const ref of stale) {
      const { requestId, grantId } = parseHolderRef(ref);
      if (requests.get(requestId)) {
        await noteOnRequest(deps, requestId, 'reconciled', SYSTEM_ACTOR, `grant ${(await grantStatus(ref))?.toLowerCase() ?? 'gone'} but still held ${describe(lease)}: released`, grantId);
      }
    }
  }
  if (live.length > 0 || current.operations.length > 0) return;
  // AWS may still be finishing: look again once it has.
  const { present: stillThere } = current === lease ? { present } : await deps.provisioner.lookup(current.target);
  if (!current.createdByTimebox || !stillThere) {
    // Nothing of Timebox's is left there: forget the lease (a pre-existing target stays).
    await deps.store.deleteLease(current);
    return;
  }
  // Created by Timebox, needed by nobody: an orphan. Remove it the way a revoke would.
  const outcome = await removeTarget(deps, current);
  if (outcome.kind === 'failed') {
    deps.logger.error({ lease: current.key, reason: outcome.reason }, 'reconciler could not remove an orphaned target; will retry');
    report.failed.push(describe(current));
    return;
  }
  report.orphansRevoked.push(describe(lease));
}
