import { CreateTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../../src/adapters/dynamodb/embedded-dynamodb';
import { DynamoDbStore } from '../../../src/adapters/dynamodb/dynamodb-store';
import { SCHEMA_VERSION } from '../../../src/adapters/dynamodb/stored-records';
import { DUE_INDEX, TABLE_KEYS, requestKey } from '../../../src/adapters/dynamodb/table-layout';
import { dueAt, requestStatus, type AccessRequest, type Grant } from '../../../src/domain/access-request';

const HOUR = 3_600_000;
const NOW = 1_900_000_000_000;

function request(id: string, who: string, createdAt: number, statuses: Grant['status'][]): AccessRequest {
  return {
    id,
    version: 1,
    requester: { slackUserId: who, email: `${who.toLowerCase()}@example.com` },
    durationMs: HOUR,
    reason: 'counting',
    createdAt,
    expiresAt: createdAt + 24 * HOUR,
    updatedAt: createdAt,
    messages: [],
    grants: statuses.map((status, i) => ({
      id: String(i + 1),
      target: { kind: 'group', groupId: `group-${i}`, groupName: `group-${i}` },
      ruleName: 'r',
      autoApproved: status !== 'PENDING',
      approvalsRequired: status === 'PENDING' ? 1 : 0,
      approvals: [],
      status,
      ...(status === 'DENIED' ? { decidedAt: createdAt } : {}),
    })),
  };
}

/** carol: two waiting (one of them beside an approved grant), one denied, one waiting but filed before `since`; dave: one waiting. */
async function seed(store: DynamoDbStore): Promise<void> {
  await store.createRequest(request('R-CAROL00001', 'U0CAROL000', NOW - HOUR, ['PENDING']));
  await store.createRequest(request('R-CAROL00002', 'U0CAROL000', NOW - HOUR, ['PENDING', 'APPROVED']));
  await store.createRequest(request('R-CAROL00003', 'U0CAROL000', NOW - HOUR, ['DENIED']));
  await store.createRequest(request('R-CAROL00004', 'U0CAROL000', NOW - 30 * HOUR, ['PENDING']));
  await store.createRequest(request('R-DAVE000001', 'U0DAVE0000', NOW - HOUR, ['PENDING']));
}

describe('reliability-3: counting a requester\'s requests waiting for approval (DynamoDbStore.countAwaitingApproval)', () => {
  let db: EmbeddedDynamoDb | undefined;
  afterEach(async () => {
    await db?.close();
    db = undefined;
  });

  test('on the requester index: only that person\'s requests with a grant waiting, filed since the given time', async () => {
    db = await startEmbeddedDynamoDb(undefined);
    const store = new DynamoDbStore(db.client, db.tableName);
    await seed(store);
    expect(await store.countAwaitingApproval('U0CAROL000', NOW - 24 * HOUR)).toBe(2);
    expect(await store.countAwaitingApproval('U0DAVE0000', NOW - 24 * HOUR)).toBe(1);
    expect(await store.countAwaitingApproval('U0NOBODY00', NOW - 24 * HOUR)).toBe(0);
  });

  test('on a table made before the requester index (dynalite cannot add one): the same count, read from the open requests', async () => {
    db = await startEmbeddedDynamoDb(undefined);
    const tableName = 'timebox-before-requester-index';
    await db.client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
          { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
          { AttributeName: DUE_INDEX.partitionKey, AttributeType: 'S' },
          { AttributeName: DUE_INDEX.sortKey, AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: DUE_INDEX.name,
            KeySchema: [
              { AttributeName: DUE_INDEX.partitionKey, KeyType: 'HASH' },
              { AttributeName: DUE_INDEX.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    await waitUntilTableExists({ client: db.client, maxWaitTime: 30, minDelay: 1 }, { TableName: tableName });
    const store = new DynamoDbStore(db.client, tableName);
    await seed(store);
    // And one written before the index existed: no requester key, no awaitingApproval mark.
    const old = request('R-CAROL00005', 'U0CAROL000', NOW - HOUR, ['PENDING']);
    await DynamoDBDocumentClient.from(db.client).send(
      new PutCommand({
        TableName: tableName,
        Item: { ...requestKey(old.id), kind: 'request', schemaVersion: SCHEMA_VERSION, version: 1, status: requestStatus(old), request: old, dueKey: DUE_INDEX.value, dueAt: dueAt(old) },
      }),
    );
    expect(await store.countAwaitingApproval('U0CAROL000', NOW - 24 * HOUR)).toBe(3);
    expect(await store.countAwaitingApproval('U0DAVE0000', NOW - 24 * HOUR)).toBe(1);
  });
});
