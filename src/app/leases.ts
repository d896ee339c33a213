import type { Granted } from '../domain/access-request';
import { joinLease, newLease, planRelease, PRE_EXISTING, withOperation, withoutOperation, type Lease, type LeaseOperation } from '../domain/lease';
import { RetryLaterError, StoreConflictError } from '../domain/errors';
import { targetKey, type ProvisionTarget } from '../domain/grant-target';
import { retryOnConflict } from './commit';
import type { WorkflowDeps } from './deps';

export interface Acquired {
  lease: Lease;
  /** The target was there when this grant looked (then it is not created again). */
  present: boolean;
  /** For a group that is there: its membership id. */
  membershipId?: string;
  /** The holder was on the lease already: an earlier attempt of this grant got this far (and may have started creating it). */
  resumed: boolean;
}

/**
 * Adds `holder` to the target's lease, re-checking AWS every time: the first holder of a target
 * that is absent, or any holder that finds a pre-existing target gone, makes it Timebox's.
 * Waits while a previous holder's revoke is still removing the target. The join is conditional
 * on the lease read before the (slow) AWS look-up, generation and version: a lease re-created
 * meanwhile is read again, never written over with the old one's facts.
 */
export async function acquireLease(deps: WorkflowDeps, target: ProvisionTarget, holder: string): Promise<Acquired> {
  const key = targetKey(target);
  const deadline = deps.clock.now() + deps.options.leaseWaitMs;
  for (;;) {
    const lease = await deps.store.getLease(key);
    if (!lease || !lease.deleting) {
      const { present, membershipId } = await deps.provisioner.lookup(target);
      const now = deps.clock.now();
      try {
        if (!lease) {
          const created = newLease(target, holder, present, now, deps.newGeneration());
          await deps.store.putLease(created, undefined);
          return { lease: created, present, resumed: false, ...(membershipId ? { membershipId } : {}) };
        }
        const joined = { ...joinLease(lease, holder, present, now), version: lease.version + 1 };
        await deps.store.putLease(joined, lease.version);
        return { lease: joined, present, resumed: lease.holders.includes(holder), ...(membershipId ? { membershipId } : {}) };
      } catch (err) {
        if (!(err instanceof StoreConflictError)) throw err;
        continue;
      }
    }
    if (deps.clock.now() >= deadline) throw new RetryLaterError(`${key} is still being revoked`);
    await deps.sleep(deps.options.leasePollMs);
  }
}

export type Provisioned = { ok: true; held: Granted } | { ok: false; reason: string };

/**
 * Holds `target` for `holder` under its lease and makes sure it is there: created (its operation
 * recorded on the lease while outstanding) when AWS does not show it, joined as it is when it
 * does. What the grant then holds says whether the target is Timebox's. When AWS refuses to
 * create it, the holder lets go again (removing what an earlier attempt may have created).
 * Throws what AWS throws; the worker records the attempt.
 */
export async function provisionUnderLease(deps: WorkflowDeps, target: ProvisionTarget, holder: string): Promise<Provisioned> {
  const { lease, present, membershipId: found, resumed } = await acquireLease(deps, target, holder);
  const setMembership = (membershipId: string) =>
    updateLease(deps, lease.key, (l) => ({ ...l, membershipId: l.membershipId ?? membershipId, updatedAt: deps.clock.now() }), lease.generation);
  if (present) {
    const owned = lease.createdByTimebox;
    // An earlier attempt created the membership and stopped before recording its id: it is Timebox's.
    const membershipId = lease.membershipId ?? (owned && target.kind === 'group' ? found : undefined);
    if (membershipId && !lease.membershipId) await setMembership(membershipId);
    return { ok: true, held: { timeboxOwned: owned, wasThere: true, ...(membershipId ? { membershipId } : {}) } };
  }
  const recorder = operationRecorder(deps, lease, 'create');
  // Absent is not "never asked for": an earlier attempt (this grant's, killed after AWS accepted
  // its creation, recorded or not; or another holder's) may have a creation still running, which
  // is waited for rather than started a second time.
  const mayBeInFlight = resumed || lease.operations.some((op) => op.kind === 'create');
  const outcome = await deps.provisioner.create(target, recorder.hooks, { mayBeInFlight });
  await recorder.finished();
  if (!outcome.ok) {
    // An earlier attempt of this grant (before a crash, or past its poll budget) may have
    // created it after all: then it is Timebox's to remove, like any revoke.
    await letGo(deps, target, holder, (await deps.provisioner.lookup(target)).present);
    return { ok: false, reason: `AWS could not create it: ${outcome.reason}` };
  }
  if (outcome.membershipId) await updateLease(deps, lease.key, (l) => ({ ...l, membershipId: outcome.membershipId, updatedAt: deps.clock.now() }), lease.generation, recorder.latest());
  const membershipId = outcome.membershipId ?? lease.membershipId;
  return { ok: true, held: { timeboxOwned: true, wasThere: false, ...(membershipId ? { membershipId } : {}) } };
}

/** A jittered wait between rounds of a lost lease race (see retryOnConflict). */
const pause = (deps: WorkflowDeps) => (ms: number) => deps.sleep(ms);

/**
 * Applies `change` to the stored lease (re-read on every lost race); nothing if there is no
 * lease, or (given `generation`) if the lease there now is another lifetime of the target's.
 * `known`, the lease as this caller last wrote it, saves the first read: the write is
 * conditional on its version, so a stale one only costs a retry.
 */
export async function updateLease(deps: WorkflowDeps, key: string, change: (lease: Lease) => Lease, generation?: string, known?: Lease): Promise<Lease | undefined> {
  return retryOnConflict(async (round) => {
    const lease = round === 0 && known?.key === key ? known : await deps.store.getLease(key);
    if (!lease || (generation !== undefined && lease.generation !== generation)) return undefined;
    const next = { ...change(lease), version: lease.version + 1 };
    await deps.store.putLease(next, lease.version);
    return next;
  }, pause(deps));
}

/**
 * Hooks that keep the lease's list of outstanding AWS operations: recorded when AWS accepts one.
 * `lease` is the lease as the caller just wrote it; each write starts from the one before (see
 * updateLease's `known`), and `latest` is the last one written, for the caller's next write.
 */
export function operationRecorder(deps: WorkflowDeps, lease: Lease, kind: LeaseOperation['kind']) {
  const { key, generation } = lease;
  const started: string[] = [];
  let latest: Lease | undefined = lease;
  const write = async (change: (l: Lease) => Lease) => {
    latest = await updateLease(deps, key, change, generation, latest);
  };
  return {
    started,
    latest: () => latest,
    hooks: {
      onStarted: async (id: string) => {
        started.push(id);
        await write((l) => withOperation(l, { kind, id, startedAt: deps.clock.now() }, deps.clock.now()));
      },
    },
    /** The operation finished (either way): it is no longer outstanding. */
    finished: async () => {
      for (const id of started) await write((l) => withoutOperation(l, id, deps.clock.now()));
    },
  };
}

/** Takes `holder` off the lease after a failed grant; removes nothing in AWS. */
export async function dropFromLease(deps: WorkflowDeps, target: ProvisionTarget, holder: string): Promise<void> {
  await retryOnConflict(async () => {
    const lease = await deps.store.getLease(targetKey(target));
    if (!lease || !lease.holders.includes(holder)) return;
    const plan = planRelease(lease, holder, deps.clock.now());
    // The caller saw the target absent. A lease with an operation still outstanding stays, so
    // the reconciler sees that operation finish (and removes what it made, if it made anything).
    if (plan.action === 'keep' || lease.operations.length > 0) {
      await deps.store.putLease({ ...lease, holders: lease.holders.filter((h) => h !== holder), version: lease.version + 1, updatedAt: deps.clock.now() }, lease.version);
    } else {
      await deps.store.deleteLease(lease);
    }
  }, pause(deps));
}

/**
 * Lets go of a grant that will not go live: if the target is there (`present`), it may be
 * Timebox's (an earlier attempt created it), so it is released like any revoke; if not, the
 * holder is only dropped from the lease.
 */
export async function letGo(deps: WorkflowDeps, target: ProvisionTarget, holder: string, present: boolean): Promise<void> {
  if (present) await releaseLease(deps, target, holder);
  else await dropFromLease(deps, target, holder);
}

/**
 * A grant that is FAILED lets go of its target, best effort: if AWS shows it now (or cannot say),
 * it is released like any revoke; if not, the holder is dropped, and a lease with an operation of
 * an earlier attempt still outstanding stays (with its id) for the reconciler to see finish.
 */
export async function letGoOfFailed(deps: WorkflowDeps, target: ProvisionTarget, holder: string): Promise<void> {
  const { present } = await deps.provisioner.lookup(target).catch(() => ({ present: true }));
  await letGo(deps, target, holder, present).catch((err: unknown) =>
    deps.logger.warn({ holder, err: String(err) }, 'could not let go of the lease of a failed grant; the reconciler will'),
  );
}

export type ReleaseOutcome = { kind: 'removed' } | { kind: 'kept'; reason: string } | { kind: 'failed'; reason: string };

/** Lets go of the lease for `holder`, removing the target from AWS if nothing else needs it and Timebox put it there. */
export async function releaseLease(deps: WorkflowDeps, target: ProvisionTarget, holder: string): Promise<ReleaseOutcome> {
  const key = targetKey(target);
  return retryOnConflict(async () => {
    const lease = await deps.store.getLease(key);
    if (!lease) {
      // An earlier run of this revoke finished with the lease and crashed before recording it:
      // AWS tells which way it went (removed, or kept because it was there before Timebox).
      return (await deps.provisioner.lookup(target)).present ? { kind: 'kept', reason: PRE_EXISTING } : { kind: 'removed' };
    }
    const plan = planRelease(lease, holder, deps.clock.now());
    if (plan.action === 'keep') {
      if (plan.lease !== lease) await deps.store.putLease({ ...plan.lease, version: lease.version + 1 }, lease.version);
      return { kind: 'kept', reason: plan.reason };
    }
    if (plan.action === 'forget') {
      await deps.store.deleteLease(lease);
      return { kind: 'kept', reason: plan.reason };
    }
    return removeTarget(deps, lease, plan.lease);
  });
}

/**
 * The last holder is gone and Timebox put the target there: mark the lease deleting, remove the
 * target (recording the deletion's operation id), then forget the lease. Marking it is always a
 * write conditional on the lease as read (its generation and version), also when it is deleting
 * already: so a remover acting on an old read of this target's lease, or on a lease created again
 * since, loses the race instead of removing another window's access. The write also renews the
 * remover's claim (updatedAt), which the reconciler honours.
 */
export async function removeTarget(deps: WorkflowDeps, stored: Lease, next: Lease = stored): Promise<ReleaseOutcome> {
  let membershipId = stored.membershipId;
  if (stored.target.kind === 'group' && !membershipId) {
    // Timebox created the membership but never learned its id (a lost reply, a crash before it
    // was recorded). The membership there now is that one, unless someone re-added it by hand
    // during the window, which Timebox cannot tell apart (see the README).
    const look = await deps.provisioner.lookup(stored.target);
    if (!look.present || !look.membershipId) {
      // Nothing there to remove: forget the lease (conditional on the lease planned from).
      await deps.store.deleteLease(stored);
      return { kind: 'removed' };
    }
    membershipId = look.membershipId;
    deps.logger.warn({ lease: stored.key, membershipId }, 'removing the membership Timebox created, found by looking it up (its id was never recorded)');
  }
  const deleting = { ...next, deleting: true, version: stored.version + 1, updatedAt: deps.clock.now() };
  await deps.store.putLease(deleting, stored.version);
  const recorder = operationRecorder(deps, deleting, 'delete');
  const outcome = await deps.provisioner.remove(stored.target, membershipId, recorder.hooks);
  if (!outcome.ok) return { kind: 'failed', reason: `AWS could not remove it: ${outcome.reason}` };
  // Forgotten as last written here (a delete conditional on its generation and version), read
  // again only when someone wrote it since.
  await retryOnConflict(async (round) => {
    const current = round === 0 ? recorder.latest() : await deps.store.getLease(stored.key);
    if (current?.generation === stored.generation) await deps.store.deleteLease(current);
  }, pause(deps));
  return { kind: 'removed' };
}
