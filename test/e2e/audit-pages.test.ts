import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { startEmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import { readAuditLog, toStoredAuditPage } from '../../src/adapters/dynamodb/stored-records';
import { eventually } from '../support/eventually';
import { runTimeboxCli } from '../support/timebox-cli';
import { PEOPLE, TimeboxHarness } from '../support/timebox-harness';

/** DynamoDB's limit on one item (names and values), which dynalite does not enforce. */
const ITEM_LIMIT_BYTES = 400 * 1024;
const REPLAYS = 1_000;

/** An item's size as DynamoDB counts it, near enough (its JSON is a little larger, so this errs high). */
const sizeOf = (item: unknown) => Buffer.byteLength(JSON.stringify(item), 'utf8');

describe('explain-audit: a request takes every note, however many (audit pages)', () => {
  let h: TimeboxHarness;
  let id = '';
  let itemBytes = 0;
  const env = () => ({ TIMEBOX_DATA_DIR: h.dataDir });

  beforeAll(async () => {
    h = await TimeboxHarness.start();
    id = await h.file('carol', 'production Admin 30m clicked a thousand times');
    const message = await h.approvalMessage(id);
    // dave is not an approver of prod-admin: he clicks Approve on the same message, 1,000 times, 20 at a time.
    for (let sent = 0; sent < REPLAYS; sent += 20) {
      const replies = await Promise.all(Array.from({ length: 20 }, () => h.click('dave', 'approve', id, message)));
      expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200));
    }
    await eventually(async () => (await h.runtime.deps.store.listAudit(id)).filter((e) => e.type === 'decision_refused').length >= REPLAYS || undefined, 60_000, `${REPLAYS} refusals on record`);
    await h.settled();
    const raw = await h.runtime.dynamo.send(new GetItemCommand({ TableName: 'timebox', Key: { pk: { S: `REQ#${id}` }, sk: { S: 'REQUEST' } }, ConsistentRead: true }));
    itemBytes = sizeOf(raw.Item);
    // The embedded store is one process's at a time: the CLI reads it once Timebox has stopped.
    await h.runtime.stop();
  }, 120_000);
  afterAll(async () => {
    await h.stop();
  });

  test('an attacker replaying a refused click 1,000 times: every refusal is in the export exactly once', async () => {
    const r = await runTimeboxCli(['audit', 'export', '--format', 'jsonl'], { env: env() });
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>).filter((row) => row.request_id === id);
    const refusals = rows.filter((row) => row.event === 'decision_refused');
    expect(refusals).toHaveLength(REPLAYS);
    expect(new Set(refusals.map((row) => row.seq)).size).toBe(REPLAYS);
    expect(refusals.every((row) => row.actor_slack_id === PEOPLE.dave.id)).toBe(true);
    expect(rows[0]!.event).toBe('requested');
  });

  test('audit verify checks the whole chain, across the pages and the request item, and it holds', async () => {
    const r = await runTimeboxCli(['audit', 'verify'], { env: env() });
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(new RegExp(`^checked (\\d+) events in 1 requests: every chain holds$`));
    expect(Number(/checked (\d+)/.exec(r.stdout)![1])).toBeGreaterThan(REPLAYS);
    expect(r.code).toBe(0);
  });

  test("the request's item stays well under DynamoDB's 400 KB item limit", () => {
    expect(itemBytes).toBeGreaterThan(0);
    expect(itemBytes).toBeLessThan(ITEM_LIMIT_BYTES / 2);
  });

  test('a crash between putting a page and dropping its events from the item leaves them twice in the store: export and verify still see each once', async () => {
    // What the write that would move the item's oldest 100 events leaves if it stops after its page.
    const db = await startEmbeddedDynamoDb(h.dataDir);
    try {
      const Key = { pk: { S: `REQ#${id}` }, sk: { S: 'REQUEST' } };
      const item = await db.client.send(new GetItemCommand({ TableName: db.tableName, Key }));
      const onItem = readAuditLog(unmarshall(item.Item!));
      await db.client.send(new PutItemCommand({ TableName: db.tableName, Item: marshall(toStoredAuditPage(id, onItem.slice(0, 100)), { removeUndefinedValues: true }) }));
    } finally {
      await db.close();
    }
    const exported = await runTimeboxCli(['audit', 'export', '--format', 'jsonl'], { env: env() });
    const refusals = exported.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>).filter((row) => row.request_id === id && row.event === 'decision_refused');
    expect(refusals).toHaveLength(REPLAYS);
    const verified = await runTimeboxCli(['audit', 'verify'], { env: env() });
    expect(verified.stdout.trim().split('\n').at(-1)).toMatch(/every chain holds$/);
    expect(verified.code).toBe(0);
  });
});
