import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
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

/**
 * The rows of an audit archive (objects of OCSF lines, as the archiver writes them), in range,
 * each event once (a stream record delivered twice is written twice). Reads a directory holding a
 * copy of the archive (`aws s3 sync s3://BUCKET/PREFIX DIR`), file by file, line by line.
 */
export async function* archiveRows(where: string, range: AuditRange, parse: (line: string) => AuditRow): AsyncIterable<AuditRow> {
  if (where.startsWith('s3://')) {
    // Reading S3 itself needs an S3 client, which is not a dependency yet (see the README).
    throw new Error(`reading ${where} directly is not supported yet: copy it with \`aws s3 sync ${where} DIR\` and pass --from-archive DIR`);
  }
  if (!existsSync(where) || !statSync(where).isDirectory()) throw new Error(`no archive copy at ${where} (a directory, e.g. from \`aws s3 sync s3://BUCKET/PREFIX ${where}\`)`);
  const seen = new Set<string>();
  for (const file of filesUnder(where)) {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    let n = 0;
    for await (const line of lines) {
      n += 1;
      if (line.trim() === '') continue;
      let row: AuditRow;
      try {
        row = parse(line);
      } catch (err) {
        throw new Error(`${file} line ${n}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      const at = Date.parse(row.time);
      const key = `${row.request_id}/${row.seq}`;
      if (at < range.from || at > range.to || seen.has(key)) continue;
      seen.add(key);
      yield row;
    }
  }
}
