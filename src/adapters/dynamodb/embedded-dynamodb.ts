import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { AUDIT_INDEX, DUE_INDEX, REQUESTER_INDEX, TABLE_KEYS } from './table-layout';

export interface EmbeddedDynamoDb {
  client: DynamoDBClient;
  tableName: string;
  endpoint: string;
  close(): Promise<void>;
}

const EMBEDDED_TABLE_NAME = 'timebox';
/** How long a close waits for the requests dynalite is still serving. */
const CLOSE_WAIT_MS = 5_000;

/**
 * Starts dynalite (a DynamoDB engine) on loopback with its data under `dataDir`, so the local
 * process runs the very store adapter the AWS deployment uses. `dataDir` undefined keeps it in memory.
 */
export async function startEmbeddedDynamoDb(dataDir: string | undefined): Promise<EmbeddedDynamoDb> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const server = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // Requests dynalite is serving: its database must not close under one (dynalite then throws
  // "Database is not open" from inside itself, uncaught, and the process dies).
  let serving = 0;
  let idle: (() => void) | undefined;
  server.on('request', (_req: unknown, res: { once(event: 'close', listener: () => void): void }) => {
    serving += 1;
    res.once('close', () => {
      serving -= 1;
      if (serving === 0) idle?.();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    // dynalite checks that requests are signed, not by whom.
    credentials: { accessKeyId: 'embedded', secretAccessKey: 'embedded' },
  });
  await ensureTable(client, EMBEDDED_TABLE_NAME);
  return {
    client,
    tableName: EMBEDDED_TABLE_NAME,
    endpoint,
    close: async () => {
      if (serving > 0) {
        let waited: NodeJS.Timeout | undefined;
        await Promise.race([new Promise<void>((resolve) => (idle = resolve)), new Promise<void>((resolve) => (waited = setTimeout(resolve, CLOSE_WAIT_MS)))]);
        clearTimeout(waited);
      }
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Creates the table with Timebox's layout if it is not there yet. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
        { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
        { AttributeName: DUE_INDEX.partitionKey, AttributeType: 'S' },
        { AttributeName: DUE_INDEX.sortKey, AttributeType: 'N' },
        { AttributeName: REQUESTER_INDEX.partitionKey, AttributeType: 'S' },
        { AttributeName: REQUESTER_INDEX.sortKey, AttributeType: 'N' },
        { AttributeName: AUDIT_INDEX.partitionKey, AttributeType: 'S' },
        { AttributeName: AUDIT_INDEX.sortKey, AttributeType: 'N' },
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
        {
          IndexName: REQUESTER_INDEX.name,
          KeySchema: [
            { AttributeName: REQUESTER_INDEX.partitionKey, KeyType: 'HASH' },
            { AttributeName: REQUESTER_INDEX.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: AUDIT_INDEX.name,
          KeySchema: [
            { AttributeName: AUDIT_INDEX.partitionKey, KeyType: 'HASH' },
            { AttributeName: AUDIT_INDEX.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: tableName });
}
