import type { ProvisionTarget } from './grant-target';
import { targetKey } from './grant-target';

/**
 * One target (an assignment, or a group membership, of one Identity Center user) can be needed
 * by several Timebox grants at once, and may have been there before Timebox touched it. The
 * lease records what Timebox knows for a fact: which grants hold it, whether Timebox put it
 * there, and which AWS operations Timebox started on it and has not seen finish. A revoke
 * removes the target only when the last holder lets go and Timebox put it there.
 */
export interface Lease {
  key: string;
  target: ProvisionTarget;
  /** Grants that need it, as "<request id>/<grant id>". */
  holders: string[];
  /**
   * Timebox created it: set when a grant finds it absent and creates it (also when it joins a
   * lease whose target was there before and has since gone). Only then may Timebox remove it.
   */
  createdByTimebox: boolean;
  /** For a group: the membership Timebox created; Timebox removes that one and no other. */
  membershipId?: string;
  /** Asynchronous AWS operations on the target Timebox started and has not seen finish. */
  operations: LeaseOperation[];
  /**
   * The last holder has let go and the target is being removed: new grants wait. The holder
   * removing it stays on the lease until it is gone, so a retry of that revoke knows it is its own.
   */
  deleting: boolean;
  /**
   * Which lifetime of the target's lease this is: fixed when the lease is created and never
   * repeated, so a write or delete planned from an older read can never land on a lease created
   * again since (whose version starts again at 1). Every conditional write names it.
   */
  generation: string;
  version: number;
  updatedAt: number;
}

export const OPERATION_KINDS = ['create', 'delete'] as const;
export interface LeaseOperation {
  kind: (typeof OPERATION_KINDS)[number];
  /** AWS's request id for the operation. */
  id: string;
  startedAt: number;
}

export const holderRef = (requestId: string, grantId: string): string => `${requestId}/${grantId}`;

export function parseHolderRef(ref: string): { requestId: string; grantId: string } {
  const slash = ref.lastIndexOf('/');
  // v1 leases held bare request ids: their one grant is "1".
  return slash < 0 ? { requestId: ref, grantId: '1' } : { requestId: ref.slice(0, slash), grantId: ref.slice(slash + 1) };
}

/** The generation of leases written before generations existed (schema versions 1 and 2). */
export const LEGACY_GENERATION = 'before-generations';

export function newLease(target: ProvisionTarget, holder: string, presentInAws: boolean, now: number, generation: string): Lease {
  return { key: targetKey(target), target, holders: [holder], createdByTimebox: !presentInAws, operations: [], deleting: false, generation, version: 1, updatedAt: now };
}

/**
 * A grant joins an existing lease. AWS is checked again: a target that was there before but is
 * gone now is created by this grant, so it becomes Timebox's to remove.
 */
export function joinLease(lease: Lease, holder: string, presentInAws: boolean, now: number): Lease {
  const holders = lease.holders.includes(holder) ? lease.holders : [...lease.holders, holder];
  return { ...lease, holders, createdByTimebox: lease.createdByTimebox || !presentInAws, updatedAt: now };
}

export const PRE_EXISTING = 'it existed before Timebox granted it';

export type ReleasePlan =
  | { action: 'keep'; reason: string; lease: Lease }
  | { action: 'forget'; reason: string }
  | { action: 'delete'; lease: Lease };

/**
 * What letting go of `lease` on behalf of `holder` means. A lease being deleted by this holder
 * (an earlier attempt marked it, then AWS failed) is deleted again; one being deleted by nobody
 * named (written before holders stayed on while deleting) may be finished by any revoke.
 */
export function planRelease(lease: Lease, holder: string, now: number): ReleasePlan {
  if (lease.deleting && (lease.holders.includes(holder) || lease.holders.length === 0)) return { action: 'delete', lease };
  if (!lease.holders.includes(holder)) return { action: 'keep', reason: 'another Timebox grant holds it now', lease };
  const holders = lease.holders.filter((h) => h !== holder);
  if (holders.length > 0) return { action: 'keep', reason: `still needed by ${[...new Set(holders.map((h) => parseHolderRef(h).requestId))].join(', ')}`, lease: { ...lease, holders, updatedAt: now } };
  if (!lease.createdByTimebox) return { action: 'forget', reason: PRE_EXISTING };
  return { action: 'delete', lease: { ...lease, holders: [holder], deleting: true, updatedAt: now } };
}

export function withOperation(lease: Lease, op: LeaseOperation, now: number): Lease {
  return { ...lease, operations: [...lease.operations.filter((o) => o.id !== op.id), op], updatedAt: now };
}

export function withoutOperation(lease: Lease, id: string, now: number): Lease {
  return { ...lease, operations: lease.operations.filter((o) => o.id !== id), updatedAt: now };
}
