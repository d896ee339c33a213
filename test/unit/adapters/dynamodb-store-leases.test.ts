/**
 * The lease's generation as DynamoDB (dynalite) enforces it: a write or delete planned from a read
 * of one lifetime of a target's lease never lands on another lifetime at the same version, and a
 * lease written before generations (schema version 2, no generation attribute) is matched only by
 * LEGACY_GENERATION.
 */
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { StoreConflictError } from '../../../src/app/ports';
import { startEmbeddedDynamoDb, ensureTable, type EmbeddedDynamoDb } from '../../../src/adapters/dynamodb/embedded-dynamodb';
import { DynamoDbStore } from '../../../src/adapters/dynamodb/dynamodb-store';
import { DUE_INDEX, leaseItemKey } from '../../../src/adapters/dynamodb/table-layout';
import { LEGACY_GENERATION, newLease, type Lease } from '../../../src/domain/lease';

const TABLE = 'timebox-leases';
const TARGET = { kind: 'group' as const, principalId: 'user-1', groupId: 'group-1' };

describe("reliability-3: a lease's generation in the DynamoDB store", () => {
  let db: EmbeddedDynamoDb;
  let store: DynamoDbStore;
  beforeEach(async () => {
    db = await startEmbeddedDynamoDb(undefined);
    await ensureTable(db.client, TABLE);
    store = new DynamoDbStore(db.client, TABLE);
  });
  afterEach(async () => {
    await db.close();
  });

  test('a write or delete at the same version of another lifetime of the lease is refused; at its own, it lands', async () => {
    const first = newLease(TARGET, 'R-AAAAAAAAAA/1', false, 1, 'gen-first');
    await store.putLease(first, undefined);
    await store.putLease({ ...first, membershipId: 'm-1', version: 2 }, 1);
    await store.deleteLease({ ...first, version: 2 });
    // The target granted again: a new lifetime walks the same version path.
    const second = newLease(TARGET, 'R-BBBBBBBBBB/1', false, 2, 'gen-second');
    await store.putLease(second, undefined);
    await store.putLease({ ...second, membershipId: 'm-2', version: 2 }, 1);

    // What a pass that read the first lifetime at version 2 would write or delete.
    await expect(store.putLease({ ...first, holders: [], version: 3 }, 2)).rejects.toBeInstanceOf(StoreConflictError);
    await expect(store.deleteLease({ ...first, version: 2 })).rejects.toBeInstanceOf(StoreConflictError);
    expect(await store.getLease(first.key)).toMatchObject({ generation: 'gen-second', holders: ['R-BBBBBBBBBB/1'], membershipId: 'm-2', version: 2 });

    await store.putLease({ ...second, holders: [], membershipId: 'm-2', version: 3 }, 2);
    await store.deleteLease({ ...second, version: 3 });
    expect(await store.getLease(first.key)).toBeUndefined();
  });

  test('a lease written by the previous release (no generation) is matched by LEGACY_GENERATION only, and keeps it once written again', async () => {
    const { generation: _none, ...v2 } = newLease(TARGET, 'R-AAAAAAAAAA/1', false, 1, 'unused');
    const doc = DynamoDBDocumentClient.from(db.client);
    await doc.send(new PutCommand({ TableName: TABLE, Item: { ...leaseItemKey(v2.key), kind: 'lease', schemaVersion: 2, version: 1, lease: v2, dueKey: DUE_INDEX.leases, dueAt: 1 } }));
    const legacy = (await store.getLease(v2.key)) as Lease;
    expect(legacy.generation).toBe(LEGACY_GENERATION);

    // A lease of a new lifetime never matches an item without a generation.
    await expect(store.putLease({ ...legacy, generation: 'gen-new', version: 2 }, 1)).rejects.toBeInstanceOf(StoreConflictError);
    await expect(store.deleteLease({ ...legacy, generation: 'gen-new' })).rejects.toBeInstanceOf(StoreConflictError);

    await store.putLease({ ...legacy, membershipId: 'm-1', version: 2 }, 1);
    expect(await store.getLease(v2.key)).toMatchObject({ generation: LEGACY_GENERATION, membershipId: 'm-1', version: 2 });
    // Written again, it carries the legacy generation as an attribute: still matched by it, and only by it.
    await expect(store.deleteLease({ ...legacy, generation: 'gen-new', version: 2 })).rejects.toBeInstanceOf(StoreConflictError);
    await store.deleteLease({ ...legacy, version: 2 });
    expect(await store.getLease(v2.key)).toBeUndefined();
  });

  test('a lease of a new lifetime is never matched by LEGACY_GENERATION', async () => {
    const lease = newLease(TARGET, 'R-AAAAAAAAAA/1', false, 1, 'gen-1');
    await store.putLease(lease, undefined);
    await expect(store.putLease({ ...lease, generation: LEGACY_GENERATION, version: 2 }, 1)).rejects.toBeInstanceOf(StoreConflictError);
    await expect(store.deleteLease({ ...lease, generation: LEGACY_GENERATION })).rejects.toBeInstanceOf(StoreConflictError);
  });
});
