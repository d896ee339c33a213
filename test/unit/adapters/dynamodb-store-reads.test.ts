import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../../src/adapters/dynamodb/embedded-dynamodb';
import { DynamoDbStore } from '../../../src/adapters/dynamodb/dynamodb-store';
import type { AccessRequest, Grant } from '../../../src/domain/access-request';

const HOUR = 3_600_000;
const NOW = 1_900_000_000_000;

function request(id: string, who: string, createdAt: number, statuses: Grant['status'][]): AccessRequest {
  return {
    id,
    version: 1,
    requester: { slackUserId: who },
    durationMs: HOUR,
    reason: 'reads',
    createdAt,
    expiresAt: createdAt + 24 * HOUR,
    updatedAt: createdAt,
    messages: [],
    grants: statuses.map((status, i) => ({
      id: String(i + 1),
      target: { kind: 'group', groupId: `group-${i}`, groupName: `group-${i}` },
      ruleName: 'r',
      autoApproved: status !== 'PENDING',
      approvalsRequired: 1,
      approvals: [],
      status,
      ...(status === 'DENIED' ? { decidedAt: createdAt } : {}),
      ...(status === 'ACTIVE' ? { activeAt: createdAt, endsAt: createdAt + HOUR } : {}),
    })),
  };
}

describe('daily-use: App Home reads (DynamoDbStore.listByRequester, listAwaitingApproval)', () => {
  let db: EmbeddedDynamoDb;
  let store: DynamoDbStore;
  beforeAll(async () => {
    db = await startEmbeddedDynamoDb(undefined);
    store = new DynamoDbStore(db.client, db.tableName);
    for (let i = 0; i < 7; i++) await store.createRequest(request(`R-CAROL0000${i}`, 'U0CAROL000', NOW - i * HOUR, [i % 2 === 0 ? 'PENDING' : 'DENIED']));
    await store.createRequest(request('R-DAVE000001', 'U0DAVE0000', NOW, ['PENDING', 'ACTIVE']));
    await store.createRequest(request('R-DAVE000002', 'U0DAVE0000', NOW, ['ACTIVE']));
  });
  afterAll(async () => {
    await db.close();
  });

  test('a person\'s requests come newest first, only theirs, cut at the limit', async () => {
    expect((await store.listByRequester('U0CAROL000', 5)).map((r) => r.id)).toEqual(['R-CAROL00000', 'R-CAROL00001', 'R-CAROL00002', 'R-CAROL00003', 'R-CAROL00004']);
    expect((await store.listByRequester('U0DAVE0000', 50)).map((r) => r.id).sort()).toEqual(['R-DAVE000001', 'R-DAVE000002']);
    expect(await store.listByRequester('U0NOBODY00', 50)).toEqual([]);
  });

  test('the requests with a grant waiting for approval, from the open requests only, cut at the limit', async () => {
    const waiting = (await store.listAwaitingApproval(100)).map((r) => r.id).sort();
    expect(waiting).toEqual(['R-CAROL00000', 'R-CAROL00002', 'R-CAROL00004', 'R-CAROL00006', 'R-DAVE000001']);
    expect(await store.listAwaitingApproval(2)).toHaveLength(2);
  });
});
