/**
 * One Identity Center assignment (user × account × permission set) can be needed by several
 * Timebox grants at once, and may have existed before Timebox touched it. The lease records who
 * holds it, so a revoke removes the assignment only when the last Timebox holder lets go and
 * Timebox created it in the first place.
 */
export interface AssignmentTarget {
  accountId: string;
  permissionSetArn: string;
  principalId: string;
}

export interface AssignmentLease {
  key: string;
  target: AssignmentTarget;
  /** Request ids of the Timebox grants that need this assignment. */
  holders: string[];
  /** The assignment was there before any Timebox grant: Timebox never deletes it. */
  preExisting: boolean;
  /** The last holder has let go and the assignment is being deleted: new grants wait. */
  deleting: boolean;
  version: number;
  updatedAt: number;
}

export function leaseKey(target: AssignmentTarget): string {
  return `${target.principalId}|${target.accountId}|${target.permissionSetArn}`;
}

export type ReleasePlan =
  | { action: 'keep'; reason: string; lease: AssignmentLease }
  | { action: 'forget'; reason: string }
  | { action: 'delete'; lease: AssignmentLease };

/** What letting go of `lease` on behalf of `requestId` means. */
export function planRelease(lease: AssignmentLease, requestId: string, now: number): ReleasePlan {
  const holders = lease.holders.filter((h) => h !== requestId);
  const next = { ...lease, holders, updatedAt: now };
  if (holders.length > 0) {
    return { action: 'keep', reason: `still needed by ${holders.join(', ')}`, lease: next };
  }
  if (lease.preExisting) {
    return { action: 'forget', reason: 'the assignment existed before Timebox granted it' };
  }
  return { action: 'delete', lease: { ...next, deleting: true } };
}
