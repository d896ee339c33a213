/**
 * One table holds everything (see docs/ARCHITECTURE.md, "Store"):
 *   request      pk=REQ#<id>        sk=REQUEST          (its audit log, `auditLog`, a list appended to by the write it records)
 *   audit event  pk=REQ#<id>        sk=AUDIT#<seq>      (releases before the chain only: read, never written)
 *   audit page   pk=REQ#<id>        sk=AUDITPAGE#<seq>  (a request's oldest events, moved off its item: put once, never updated)
 *   lease        pk=LEASE#<key>     sk=LEASE
 *   lock         pk=LOCK#<name>     sk=LOCK             (short-lived: one holder until it lets go or `until` passes)
 *   catalogue    pk=CATALOGUE       sk=HEAD | CHUNK#<generation>#<n>  (the last good discovery, gzipped, see dynamodb-catalogue-cache.ts)
 * The sparse index `due` holds only what may need work: requests that need attention at some
 * time (dueKey=DUE, dueAt=<epoch ms>) and every lease (dueKey=LEASE, dueAt=<updatedAt>), so the
 * sweep and the reconciler cost what is open, not what ever was. The index `requester` holds every
 * request under its requester (see REQUESTER_INDEX); the index `audit` every request by the time
 * of its last audit event (see AUDIT_INDEX).
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;
export const DUE_INDEX = { name: 'due', partitionKey: 'dueKey', sortKey: 'dueAt', value: 'DUE', leases: 'LEASE' } as const;
/**
 * Every request by who filed it (requesterKey=<Slack user id>, filedAt=<epoch ms>), newest last:
 * a person's requests cost what that person filed, not the table. `awaitingApproval` is set
 * (to 1) only on requests with a grant still waiting for approval.
 */
export const REQUESTER_INDEX = { name: 'requester', partitionKey: 'requesterKey', sortKey: 'filedAt', awaitingApproval: 'awaitingApproval' } as const;

export const requestKey = (id: string) => ({ pk: `REQ#${id}`, sk: 'REQUEST' });
export const auditKey = (requestId: string, seq: string) => ({ pk: `REQ#${requestId}`, sk: `AUDIT#${seq}` });
/** A page of a request's audit log, named by its first event's seq: a retried put of the same page lands on the same key. */
export const auditPageKey = (requestId: string, firstSeq: string) => ({ pk: `REQ#${requestId}`, sk: `AUDITPAGE#${firstSeq}` });
/** The sort keys of a request's partition that hold audit events of their own (pages, and events from before the chain). */
export const AUDIT_ITEMS_PREFIX = 'AUDIT';
export const leaseItemKey = (key: string) => ({ pk: `LEASE#${key}`, sk: 'LEASE' });
/**
 * Every request by the time of its last audit event (auditKey=AUDIT, auditAt=<epoch ms>): the
 * requests with an event at or after a moment cost what they hold, not the table (the export).
 */
export const AUDIT_INDEX = { name: 'audit', partitionKey: 'auditKey', sortKey: 'auditAt', value: 'AUDIT' } as const;
/** The request item's attribute holding its audit log (a list, appended to and never rewritten). */
export const AUDIT_LOG_ATTRIBUTE = 'auditLog';
/** Set on a request created with its log on its item: it has no events from before the chain, and pages only when its head counts more than its item holds. */
export const AUDIT_FROM_START_ATTRIBUTE = 'auditFromStart';
export const lockItemKey = (name: string) => ({ pk: `LOCK#${name}`, sk: 'LOCK' });
export const CATALOGUE_HEAD_KEY = { pk: 'CATALOGUE', sk: 'HEAD' } as const;
export const catalogueChunkKey = (generation: string, n: number) => ({ pk: 'CATALOGUE', sk: `CHUNK#${generation}#${n}` });
