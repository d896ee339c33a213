/**
 * The policy lock as DynamoDB (dynalite) enforces it: one holder at a time across processes, a
 * holder's lock runs out by itself (a crashed Lambda blocks the next only that long), and nobody
 * lets go of a lock that is no longer theirs.
 */
import { startEmbeddedDynamoDb, ensureTable, type EmbeddedDynamoDb } from '../../../src/adapters/dynamodb/embedded-dynamodb';
import { DynamoDbStore } from '../../../src/adapters/dynamodb/dynamodb-store';

const TABLE = 'timebox-locks';
const NAME = 'permission-set-policy|arn:aws:sso:::permissionSet/ssoins-1/ps-1';

describe('sessions-breakglass: the permission-set policy lock in the DynamoDB store', () => {
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

  test('a second process is refused while the first holds it, takes it once it is let go of or has run out, and a late unlock does not free it', async () => {
    expect(await store.tryLock(NAME, 'a', 2_000, 1_000)).toBe(true);
    expect(await store.tryLock(NAME, 'b', 2_500, 1_500)).toBe(false);
    await store.unlock(NAME, 'a');
    expect(await store.tryLock(NAME, 'b', 3_000, 1_600)).toBe(true);
    // b crashed: its lock runs out at 3000, and then c may take it.
    expect(await store.tryLock(NAME, 'c', 4_000, 2_999)).toBe(false);
    expect(await store.tryLock(NAME, 'c', 5_000, 3_001)).toBe(true);
    // b wakes up late and lets go: c's lock stays.
    await store.unlock(NAME, 'b');
    expect(await store.tryLock(NAME, 'd', 6_000, 3_500)).toBe(false);
    // Locks are not requests or leases: the sweep and the reconciler never see them.
    expect(await store.listDue(Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect((await store.listLeases()).leases).toEqual([]);
  });
});
