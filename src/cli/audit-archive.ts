import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { AuditRange } from '../app/ports';
import type { AuditRow } from '../adapters/audit/audit-rows';

/** Every file under `dir`, depth first, in name order (an archive's keys sort by time). */
function* filesUnder(dir: string): Iterable<string> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* filesUnder(path);
    else yield path;
  }
}

/** Where an archive is: a bucket and key prefix, from `s3://BUCKET/PREFIX`. */
function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) throw new Error(`${url.slice(0, 80)} is not an S3 location (s3://BUCKET or s3://BUCKET/PREFIX)`);
  return { bucket: match[1]!, prefix: match[2] ?? '' };
}

/** One object of the archive: its name (for messages) and its lines, read as a stream. */
interface ArchiveObject {
  name: string;
  open(): Promise<Readable>;
}

/** The files of a local copy of the archive, in name order. */
function* localObjects(dir: string): Iterable<ArchiveObject> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`no archive copy at ${dir} (a directory, e.g. from \`aws s3 sync s3://BUCKET/PREFIX ${dir}\`)`);
  for (const file of filesUnder(dir)) yield { name: file, open: async () => createReadStream(file) };
}

/**
 * The objects under an S3 prefix, page by page (ListObjectsV2 and its continuation tokens), in
 * key order (an archive's keys sort by day, request and version). Each is read when its turn
 * comes, as a stream: memory holds one listing page and one object's current line.
 */
async function* s3Objects(client: S3Client, url: string): AsyncIterable<ArchiveObject> {
  const { bucket, prefix } = parseS3Url(url);
  // S3's own messages do not say what they are about ("The specified bucket does not exist").
  const naming = (what: string) => (err: unknown) => {
    throw new Error(`cannot read ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  };
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) })).catch(naming(url));
    for (const { Key } of page.Contents ?? []) {
      if (!Key) continue;
      yield {
        name: `s3://${bucket}/${Key}`,
        open: async () => {
          const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key })).catch(naming(`s3://${bucket}/${Key}`));
          return object.Body as Readable;
        },
      };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Where the CLI reaches S3: the SDK's usual settings; with an endpoint of the operator's, path-style. */
export interface S3Settings {
  endpoint?: string;
}

/**
 * The rows of an audit archive (objects of OCSF lines, as the archiver writes them), in range,
 * each event once (a stream record delivered twice is written twice). Reads the bucket itself
 * (`s3://BUCKET/PREFIX`, with the SDK's usual region and credentials) or a directory holding a
 * copy of it (`aws s3 sync s3://BUCKET/PREFIX DIR`), object by object, line by line.
 */
export async function* archiveRows(where: string, range: AuditRange, parse: (line: string) => AuditRow, s3: S3Settings = {}): AsyncIterable<AuditRow> {
  const client = where.startsWith('s3://') ? new S3Client({ ...(s3.endpoint ? { endpoint: s3.endpoint, forcePathStyle: true } : {}) }) : undefined;
  try {
    const seen = new Set<string>();
    for await (const object of client ? s3Objects(client, where) : localObjects(where)) {
      const lines = createInterface({ input: await object.open(), crlfDelay: Infinity });
      let n = 0;
      for await (const line of lines) {
        n += 1;
        if (line.trim() === '') continue;
        let row: AuditRow;
        try {
          row = parse(line);
        } catch (err) {
          throw new Error(`${object.name} line ${n}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
        const at = Date.parse(row.time);
        const key = `${row.request_id}/${row.seq}`;
        if (at < range.from || at > range.to || seen.has(key)) continue;
        seen.add(key);
        yield row;
      }
    }
  } finally {
    client?.destroy();
  }
}
