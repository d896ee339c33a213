/** Closing the embedded store while it is still serving requests: they finish, and dynalite never throws from inside itself. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { startEmbeddedDynamoDb } from '../../../src/adapters/dynamodb/embedded-dynamodb';

describe('reliability: a stop closes the embedded store after the requests it is serving', () => {
  test('queries sent just before close are answered (or refused cleanly), and no "Database is not open" escapes from dynalite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'timebox-close-'));
    const escaped: unknown[] = [];
    const onUncaught = (err: unknown) => escaped.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const db = await startEmbeddedDynamoDb(join(dir, 'data'));
      for (let i = 0; i < 50; i++) {
        await db.client.send(new PutItemCommand({ TableName: db.tableName, Item: { pk: { S: 'P' }, sk: { S: `S${String(i).padStart(3, '0')}` }, body: { S: 'x'.repeat(2000) } } }));
      }
      const queries = Array.from({ length: 20 }, () => db.client.send(new QueryCommand({ TableName: db.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'P' } } })).then((r) => r.Items?.length, (err: unknown) => String(err)));
      // Once the first is answered (the others are being served), the store closes, as a stop does.
      await Promise.race(queries);
      await db.close();
      const answers = await Promise.all(queries);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(escaped.map(String)).toEqual([]);
      // Served to the end, or (not yet connected when it closed) refused at the door: never half-served.
      for (const answer of answers) expect(answer === 50 || /ECONNREFUSED/.test(String(answer))).toBe(true);
      expect(answers.filter((a) => a === 50).length).toBeGreaterThan(1);
    } finally {
      process.off('uncaughtException', onUncaught);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
