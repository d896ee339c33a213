/**
 * One table holds everything (see docs/ARCHITECTURE.md, "Store"):
 *   request      pk=REQ#<id>        sk=REQUEST
 *   audit event  pk=REQ#<id>        sk=AUDIT#<seq>      (append-only: put if absent, never updated)
 *   lease        pk=LEASE#<key>     sk=LEASE
 *   lock         pk=LOCK#<name>     sk=LOCK             (short-lived: one holder until it lets go or `until` passes)
 *   catalogue    pk=CATALOGUE       sk=HEAD | CHUNK#<generation>#<n>  (the last good discovery, gzipped, see dynamodb-catalogue-cache.ts)
 * The sparse index `due` holds only what may need work: requests that need attention at some
 * time (dueKey=DUE, dueAt=<epoch ms>) and every lease (dueKey=LEASE, dueAt=<updatedAt>), so the
 * sweep and the reconciler cost what is open, not what ever was. The index `requester` holds every
 * request under its requester (see REQUESTER_INDEX).
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
export const leaseItemKey = (key: string) => ({ pk: `LEASE#${key}`, sk: 'LEASE' });
export const lockItemKey = (name: string) => ({ pk: `LOCK#${name}`, sk: 'LOCK' });
export const CATALOGUE_HEAD_KEY = { pk: 'CATALOGUE', sk: 'HEAD' } as const;
export const catalogueChunkKey = (generation: string, n: number) => ({ pk: 'CATALOGUE', sk: `CHUNK#${generation}#${n}` });
