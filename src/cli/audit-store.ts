import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { sha256Hex } from '../adapters/audit/sha256';
import { DynamoDbStore } from '../adapters/dynamodb/dynamodb-store';
import { startEmbeddedDynamoDb } from '../adapters/dynamodb/embedded-dynamodb';
import type { AuditRange, AuditRecord, AuditLog } from '../app/ports';
import type { CliEnv } from '../config/cli-env';

export { sha256Hex };

export interface OpenedAuditLog {
  log: AuditLog;
  /** Where it is, in words, for messages. */
  where: string;
  close(): Promise<void>;
}

/**
 * The audit log of the configured store: TIMEBOX_TABLE (the SDK's usual settings) when set, else
 * the embedded data dir, which must exist (an export never creates a store) and must not be open
 * in a running Timebox (its files are locked while it runs).
 */
export async function openAuditLog(env: CliEnv): Promise<OpenedAuditLog> {
  if (env.TIMEBOX_TABLE) {
    const client = new DynamoDBClient({});
    return { log: new DynamoDbStore(client, env.TIMEBOX_TABLE), where: `table ${env.TIMEBOX_TABLE}`, close: async () => client.destroy() };
  }
  const dir = env.TIMEBOX_DATA_DIR;
  if (!existsSync(dir)) throw new Error(`no Timebox store at ${dir} (set TIMEBOX_DATA_DIR to the data dir, or TIMEBOX_TABLE to the table)`);
  let embedded;
  try {
    embedded = await startEmbeddedDynamoDb(dir);
  } catch (err) {
    throw new Error(`cannot open the store at ${dir}: ${err instanceof Error ? err.message : String(err)} (is a Timebox running on it? stop it first)`, { cause: err });
  }
  return { log: new DynamoDbStore(embedded.client, embedded.tableName), where: dir, close: () => embedded.close() };
}

/**
 * A full garbage collection, on demand. Reading a long log makes garbage fast (every page parsed,
 * every line formatted), and V8 lets its heap grow far past what is live before it collects; an
 * export collects after each page instead, so its memory stays what one page needs (measured: a
 * 100,000-event export peaks at about the process's size at start plus a few MB, not +100 MB).
 */
function garbageCollector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return typeof gc === 'function' ? gc : () => undefined;
}

/**
 * Every request with an event in `range`, once each, a page at a time: memory holds one page and
 * the ids met so far, never the log.
 */
export async function* auditRecords(log: AuditLog, range: AuditRange): AsyncIterable<AuditRecord> {
  const seen = new Set<string>();
  const collect = garbageCollector();
  let cursor: Record<string, unknown> | undefined;
  do {
    if (cursor) collect();
    const page = await log.readAuditPage(range, cursor);
    for (const record of page.records) {
      if (seen.has(record.request.id)) continue;
      seen.add(record.request.id);
      yield record;
    }
    cursor = page.next;
  } while (cursor);
}
