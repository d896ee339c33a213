import { gunzipSync, gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../../lib/zod';
import type { DiscoveredOrganization } from '../../domain/catalogue';
import type { CatalogueCache } from '../../app/ports';
import { exactly, type Equals } from './stored-records';
import { catalogueChunkKey, CATALOGUE_HEAD_KEY } from './table-layout';

/** The cache's stored shape, version 1 (a mapping of DiscoveredOrganization + readAt, checked below). */
export const CATALOGUE_SCHEMA_VERSION = 1;
/**
 * DynamoDB items hold at most 400 KB (names and values together). The discovery is gzipped (969
 * accounts with five short tags and 100 permission sets: 295 KB of JSON, 18 KB gzipped) and split
 * into chunks under the limit when it still does not fit (the same accounts with 256-character tag
 * values: 1.49 MB of JSON, 390 KB gzipped, two chunks).
 */
export const CATALOGUE_CHUNK_BYTES = 350_000;

const orgUnit = z.strictObject({ id: z.string(), name: z.string() });
const account = z.strictObject({ id: z.string(), name: z.string(), ouPath: z.array(orgUnit), tags: z.record(z.string(), z.string()) });
const permissionSet = z.strictObject({ name: z.string(), arn: z.string(), description: z.string().optional(), sessionDurationMs: z.number().optional() });
const storedCatalogue = z.strictObject({ accounts: z.array(account), permissionSets: z.array(permissionSet), readAt: z.number() });
type Cached = DiscoveredOrganization & { readAt: number };
exactly<Equals<z.infer<typeof storedCatalogue>, { accounts: Cached['accounts']; permissionSets: Cached['permissionSets']; readAt: number }>>(true);

const head = z.object({ schemaVersion: z.number(), generation: z.string(), chunks: z.number().int().min(1), readAt: z.number() });

/**
 * The last good discovery, in the store's table: a head item (pk CATALOGUE, sk HEAD) naming a
 * generation and how many chunks it has, and the chunks (sk CHUNK#<generation>#<n>) holding the
 * gzipped JSON. Chunks are written first and the head last, so a reader sees either the old
 * discovery or the new one, never half of each (dynalite has no transactions, and none are needed).
 * An older discovery never replaces a newer one; the replaced generation's chunks are deleted.
 */
export class DynamoDbCatalogueCache implements CatalogueCache {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    /** Told when the stored cache cannot be read (corrupt, or from a newer Timebox): it then counts as no cache. */
    private readonly onUnreadable?: (err: unknown) => void,
    private readonly chunkBytes = CATALOGUE_CHUNK_BYTES,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async readCatalogue(): Promise<Cached | undefined> {
    // A writer may delete the chunks of the head just read (it replaced it meanwhile): read the new head once more.
    for (let attempt = 0; ; attempt++) {
      const found = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: CATALOGUE_HEAD_KEY, ConsistentRead: true }));
      if (!found.Item) return undefined;
      const parsed = head.safeParse(found.Item);
      if (!parsed.success || parsed.data.schemaVersion > CATALOGUE_SCHEMA_VERSION) {
        this.onUnreadable?.(new Error(`the cached catalogue head is not readable by this version (schemaVersion ${String(found.Item.schemaVersion)})`));
        return undefined;
      }
      const parts = await Promise.all(
        Array.from({ length: parsed.data.chunks }, (_, n) =>
          this.doc.send(new GetCommand({ TableName: this.tableName, Key: catalogueChunkKey(parsed.data.generation, n), ConsistentRead: true })).then((o) => o.Item?.data as Uint8Array | undefined),
        ),
      );
      if (parts.some((p) => p === undefined)) {
        if (attempt === 0) continue;
        this.onUnreadable?.(new Error(`the cached catalogue ${parsed.data.generation} is missing chunks`));
        return undefined;
      }
      try {
        const json: unknown = JSON.parse(gunzipSync(Buffer.concat(parts as Uint8Array[])).toString('utf8'));
        return storedCatalogue.parse(json);
      } catch (err) {
        this.onUnreadable?.(err);
        return undefined;
      }
    }
  }

  async writeCatalogue(found: Cached): Promise<void> {
    const body = gzipSync(Buffer.from(JSON.stringify({ accounts: found.accounts, permissionSets: found.permissionSets, readAt: found.readAt })));
    const generation = `${found.readAt}-${randomUUID().slice(0, 8)}`;
    const chunks = Math.max(1, Math.ceil(body.length / this.chunkBytes));
    for (let n = 0; n < chunks; n++) {
      const data = body.subarray(n * this.chunkBytes, (n + 1) * this.chunkBytes);
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...catalogueChunkKey(generation, n), schemaVersion: CATALOGUE_SCHEMA_VERSION, data } }));
    }
    let replaced: string | undefined;
    let replacedChunks = 0;
    try {
      const out = await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...CATALOGUE_HEAD_KEY, schemaVersion: CATALOGUE_SCHEMA_VERSION, generation, chunks, readAt: found.readAt, bytes: body.length },
          // Two refreshes at once (two sweeps): the one that read AWS later wins, whoever writes last.
          ConditionExpression: 'attribute_not_exists(pk) OR readAt <= :readAt',
          ExpressionAttributeValues: { ':readAt': found.readAt },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const old = head.safeParse(out.Attributes);
      if (old.success) [replaced, replacedChunks] = [old.data.generation, old.data.chunks];
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      // A newer discovery is already there: this one's chunks are not needed.
      [replaced, replacedChunks] = [generation, chunks];
    }
    if (replaced === undefined) return;
    for (let n = 0; n < replacedChunks; n++) {
      await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: catalogueChunkKey(replaced, n) }));
    }
  }
}
