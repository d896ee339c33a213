/**
 * A grant's life (one account × permission set, or one group membership):
 *
 * PENDING ─approve×N─▶ APPROVED ─▶ GRANTING ─▶ ACTIVE ─▶ REVOKING ─▶ ENDED
 *    │                               │
 *    ├─deny─▶ DENIED                 └─▶ FAILED
 *    ├─timeout─▶ EXPIRED
 *    └─withdrawn by the requester─▶ CANCELLED
 * Auto-approved grants are born APPROVED. A grant of an extension (a request that extends another)
 * is never granted: approved, it is APPLIED (the original window's end moved) or FAILED.
 */
export const GRANT_STATUSES = ['PENDING', 'APPROVED', 'DENIED', 'EXPIRED', 'CANCELLED', 'GRANTING', 'ACTIVE', 'FAILED', 'REVOKING', 'ENDED', 'APPLIED'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

export interface StatusFacts {
  next: readonly GrantStatus[];
  terminal: boolean;
  /** The approvals-channel message is brought up to date when a grant reaches it. */
  shownInChannel: boolean;
  /** The requester gets a DM when a grant reaches it (filed and waiting, approved, active, and every outcome). */
  toldRequester: boolean;
  /** The grant may hold access in AWS (a lease holder). */
  holdsAccess: boolean;
}

/** The one table every grouping of statuses reads. */
export const STATUS_TABLE: Readonly<Record<GrantStatus, StatusFacts>> = {
  PENDING: { next: ['APPROVED', 'DENIED', 'EXPIRED', 'CANCELLED'], terminal: false, shownInChannel: true, toldRequester: true, holdsAccess: false },
  APPROVED: { next: ['GRANTING', 'APPLIED', 'FAILED'], terminal: false, shownInChannel: true, toldRequester: true, holdsAccess: false },
  GRANTING: { next: ['ACTIVE', 'FAILED'], terminal: false, shownInChannel: false, toldRequester: false, holdsAccess: true },
  ACTIVE: { next: ['REVOKING'], terminal: false, shownInChannel: true, toldRequester: true, holdsAccess: true },
  REVOKING: { next: ['ENDED'], terminal: false, shownInChannel: false, toldRequester: false, holdsAccess: true },
  DENIED: { next: [], terminal: true, shownInChannel: true, toldRequester: true, holdsAccess: false },
  EXPIRED: { next: [], terminal: true, shownInChannel: true, toldRequester: true, holdsAccess: false },
  /** Withdrawn before anyone decided it: never granted, and no longer approvable. */
  CANCELLED: { next: [], terminal: true, shownInChannel: true, toldRequester: true, holdsAccess: false },
  FAILED: { next: [], terminal: true, shownInChannel: true, toldRequester: true, holdsAccess: false },
  ENDED: { next: [], terminal: true, shownInChannel: true, toldRequester: true, holdsAccess: false },
  /** An extension's grant, done: the original window's end was moved by the extension's duration. */
  APPLIED: { next: [], terminal: true, shownInChannel: true, toldRequester: true, holdsAccess: false },
};
