/**
 * The last good discovery kept in the store's table, on dynalite (the embedded DynamoDB the local
 * process runs, which enforces DynamoDB's 400 KB item limit): 1,000 accounts with five tags each
 * and 100 permission sets make the round trip whole.
 */
import { createHash } from 'node:crypto';
import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbCatalogueCache } from '../../src/adapters/dynamodb/dynamodb-catalogue-cache';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import { buildOrganization } from '../support/organization-fixture';

describe('large-orgs: the discovery cache in DynamoDB', () => {
  let db: EmbeddedDynamoDb;
  const fixture = buildOrganization();
  const discovery = (readAt: number, accounts = fixture.expected.accounts) => ({ accounts, permissionSets: fixture.expected.permissionSets, readAt });
  const catalogueItems = async () => {
    const out = await db.client.send(new ScanCommand({ TableName: db.tableName, FilterExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'CATALOGUE' } } }));
    return out.Items ?? [];
  };

  beforeEach(async () => {
    db = await startEmbeddedDynamoDb(undefined);
  });
  afterEach(async () => {
    await db.close();
  });

  test('the 969 active accounts of a 1,000-account organisation, five tags each, and 100 permission sets round-trip whole, gzipped into one item', async () => {
    const json = JSON.stringify(discovery(1));
    const cache = new DynamoDbCatalogueCache(db.client, db.tableName);
    expect(await cache.readCatalogue()).toBeUndefined();
    await cache.writeCatalogue(discovery(1_700_000_000_000));
    expect(await cache.readCatalogue()).toEqual(discovery(1_700_000_000_000));
    const items = await catalogueItems();
    const stored = Number(items.find((i) => i.sk?.S === 'HEAD')?.bytes?.N);
    console.log(`large-orgs cache: ${fixture.expected.accounts.length} accounts + 100 permission sets = ${json.length} bytes of JSON, ${stored} bytes stored gzipped in ${items.length - 1} chunk item(s)`);
    expect(items).toHaveLength(2);
    // A fresh cache object (a restart, a cold Lambda) reads the same.
    expect(await new DynamoDbCatalogueCache(db.client, db.tableName).readCatalogue()).toEqual(discovery(1_700_000_000_000));
  });

  test('969 accounts whose five tags hold 256-character values (the most AWS allows): refused by DynamoDB as one item, split into chunks by the cache and read back whole', async () => {
    // Values that do not compress well, as real ones (ARNs, ids, hashes) often do not.
    const noisy = (seed: string) => createHash('sha512').update(seed).digest('hex').repeat(2).slice(0, 256);
    const accounts = fixture.expected.accounts.map((a) => ({ ...a, tags: Object.fromEntries(Object.keys(a.tags).map((k) => [k, noisy(`${a.id}/${k}`)])) }));
    const json = JSON.stringify(discovery(1, accounts));
    // As one plain item, DynamoDB (and dynalite) refuse it: items hold at most 400 KB.
    await expect(db.client.send(new PutItemCommand({ TableName: db.tableName, Item: { pk: { S: 'CATALOGUE' }, sk: { S: 'PLAIN' }, data: { S: json } } }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    const cache = new DynamoDbCatalogueCache(db.client, db.tableName);
    await cache.writeCatalogue(discovery(1, accounts));
    expect(await cache.readCatalogue()).toEqual(discovery(1, accounts));
    const items = await catalogueItems();
    const stored = Number(items.find((i) => i.sk?.S === 'HEAD')?.bytes?.N);
    console.log(`large-orgs cache: ${accounts.length} accounts with 256-char tag values = ${json.length} bytes of JSON, ${stored} bytes gzipped in ${items.length - 1} chunk item(s)`);
    expect(items.length - 1).toBeGreaterThan(1);
  });

  test('a new discovery replaces the old one: it is read back whole and the replaced chunks are deleted', async () => {
    const cache = new DynamoDbCatalogueCache(db.client, db.tableName, undefined, 4_096);
    await cache.writeCatalogue(discovery(1));
    const first = (await catalogueItems()).length - 1;
    expect(first).toBeGreaterThan(3);
    expect(await cache.readCatalogue()).toEqual(discovery(1));
    await cache.writeCatalogue(discovery(2, fixture.expected.accounts.slice(0, 10)));
    expect(await cache.readCatalogue()).toEqual(discovery(2, fixture.expected.accounts.slice(0, 10)));
    // Only the head and the new generation's chunks are left.
    const chunks = (await catalogueItems()).filter((i) => i.sk?.S?.startsWith('CHUNK#'));
    expect(chunks.length).toBeLessThan(first);
    expect(new Set(chunks.map((c) => c.sk?.S?.split('#')[1]))).toEqual(new Set([expect.stringMatching(/^2-/)]));
  });

  test('two refreshes racing: an older discovery written last does not replace a newer one, and leaves no chunks behind', async () => {
    const cache = new DynamoDbCatalogueCache(db.client, db.tableName);
    await cache.writeCatalogue(discovery(2_000, fixture.expected.accounts.slice(0, 5)));
    await cache.writeCatalogue(discovery(1_000, fixture.expected.accounts.slice(0, 7)));
    expect((await cache.readCatalogue())?.accounts).toHaveLength(5);
    expect((await catalogueItems()).map((i) => i.sk?.S).sort()).toEqual([expect.stringMatching(/^CHUNK#2000-/), 'HEAD']);
  });

  test('a cache this version cannot read (from a newer Timebox, or corrupt) counts as no cache and is reported, not a crash', async () => {
    const unreadable: unknown[] = [];
    const cache = new DynamoDbCatalogueCache(db.client, db.tableName, (err) => unreadable.push(err));
    await cache.writeCatalogue(discovery(1));
    await db.client.send(new PutItemCommand({ TableName: db.tableName, Item: { pk: { S: 'CATALOGUE' }, sk: { S: 'HEAD' }, schemaVersion: { N: '99' }, generation: { S: 'x' }, chunks: { N: '1' }, readAt: { N: '5' } } }));
    expect(await cache.readCatalogue()).toBeUndefined();
    await db.client.send(new PutItemCommand({ TableName: db.tableName, Item: { pk: { S: 'CATALOGUE' }, sk: { S: 'HEAD' }, schemaVersion: { N: '1' }, generation: { S: 'x' }, chunks: { N: '1' }, readAt: { N: '5' } } }));
    await db.client.send(new PutItemCommand({ TableName: db.tableName, Item: { pk: { S: 'CATALOGUE' }, sk: { S: 'CHUNK#x#0' }, data: { B: Buffer.from('not gzip') } } }));
    expect(await cache.readCatalogue()).toBeUndefined();
    expect(unreadable).toHaveLength(2);
    expect(String(unreadable[0])).toContain('schemaVersion 99');
  });
});
