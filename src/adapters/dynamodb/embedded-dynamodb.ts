import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DUE_INDEX, TABLE_KEYS } from './table-layout';

export interface EmbeddedDynamoDb {
  client: DynamoDBClient;
  tableName: string;
  endpoint: string;
  close(): Promise<void>;
}

const EMBEDDED_TABLE_NAME = 'timebox';

/**
 * The engine's own thread: dynalite parses, validates and stores every request (leveldb) on a
 * thread of its own, so the process's main thread, which answers Slack, never waits behind it.
 * Plain JavaScript, run with `eval`, so it needs no build step (tests run the TypeScript).
 */
const ENGINE_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require(workerData.dynalite);
const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.once('error', (err) => parentPort.postMessage({ error: String(err && err.message || err) }));
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => { if (m === 'close') server.close(() => parentPort.postMessage({ closed: true })); });
`;

/**
 * Starts dynalite (a DynamoDB engine) on loopback, on a thread of its own, with its data under
 * `dataDir`, so the local process runs the very store adapter the AWS deployment uses.
 * `dataDir` undefined keeps it in memory.
 */
export async function startEmbeddedDynamoDb(dataDir: string | undefined): Promise<EmbeddedDynamoDb> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const engine = new Worker(ENGINE_THREAD, { eval: true, workerData: { dynalite: require.resolve('dynalite'), path: dataDir } });
  const port = await new Promise<number>((resolve, reject) => {
    engine.once('error', reject);
    engine.once('exit', (code) => reject(new Error(`the embedded DynamoDB engine stopped (exit ${code})`)));
    engine.once('message', (m: { port?: number; error?: string }) => (m.port ? resolve(m.port) : reject(new Error(`the embedded DynamoDB engine did not start: ${m.error ?? 'no port'}`))));
  });
  engine.removeAllListeners('exit');
  engine.removeAllListeners('error');
  // From here a failing engine fails every store call with a connection error, which callers report.
  engine.on('error', (err) => process.emitWarning(`embedded DynamoDB engine failed: ${err.message}`));
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
      client.destroy();
      const closed = new Promise<void>((resolve) => engine.once('message', () => resolve()));
      engine.postMessage('close');
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
      await engine.terminate();
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
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: tableName });
}
