import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { CSV_HEADER, OCSF_VERSION, rowFromOcsf, toAuditRow, toCsvLine, toJsonLine, toOcsfLine, type AuditRow } from '../../adapters/audit/audit-rows';
import type * as AuditArchiveModule from '../audit-archive';
import { RANGE_HELP, RANGE_OPTIONS, rangeOf } from '../audit-range';
import { auditRecords, openAuditLog } from '../audit-store';
import { UsageError, type CliIo, type Subcommand } from '../subcommand';

const FORMATS = { jsonl: toJsonLine, csv: toCsvLine, ocsf: toOcsfLine } as const;
type Format = keyof typeof FORMATS;
/** A progress line on stderr every this many events. */
export const PROGRESS_EVERY = 10_000;

/** Where the lines go: a file or stdout, waiting whenever the stream's buffer is full (memory stays flat). */
function sinkOf(out: string | undefined, io: CliIo): { write(text: string): Promise<void>; end(): Promise<void> } {
  const stream = out !== undefined ? createWriteStream(out) : io.stdout;
  if (!stream) {
    // In-process callers without a stream (tests of the module): line by line through io.out.
    return { write: async (text) => io.out(text.replace(/\r?\n$/, '')), end: async () => undefined };
  }
  const failed = out !== undefined ? once(stream, 'error').then(([err]) => Promise.reject(err as Error)) : new Promise<never>(() => undefined);
  failed.catch(() => undefined);
  return {
    write: async (text) => {
      if (!stream.write(text)) await Promise.race([once(stream, 'drain'), failed]);
    },
    end: async () => {
      if (out === undefined) return;
      await Promise.race([new Promise<void>((resolve) => stream.end(resolve)), failed]);
    },
  };
}

/** `timebox audit export`: the audit log, streamed, as JSON lines, CSV or OCSF. */
export const auditExport: Subcommand = {
  path: ['audit', 'export'],
  summary: 'stream the audit log (JSON lines, CSV or OCSF) from the store or the archive',
  help: [
    'Usage: timebox audit export [--since 7d | --from ISO [--to ISO]] [--format jsonl|csv|ocsf] [--out FILE]',
    '                            [--from-archive s3://BUCKET/PREFIX | DIR]',
    '',
    'Writes every audit event in the range, one per line, each once: from the configured store',
    '(TIMEBOX_DATA_DIR, the embedded data dir of a stopped Timebox, default ./.timebox; or',
    'TIMEBOX_TABLE, a DynamoDB table, with the SDK\'s usual region and credentials settings), or',
    'with --from-archive from the audit archive. Events come grouped by request, in order within it.',
    'Columns: time, request_id, grant, event, actor_slack_id, actor_email, account_id, account_name,',
    'permission_set, group, duration, reason, rule, detail, requester_slack_id, requester_email,',
    'status_from, status_to, seq, hash.',
    '',
    RANGE_HELP,
    `  --format FORMAT     jsonl (default), csv (RFC 4180, with a header) or ocsf (OCSF ${OCSF_VERSION}, class 3005)`,
    '  --out FILE          write to FILE instead of stdout',
    '  --from-archive URL  read the archive: s3://BUCKET/PREFIX (the SDK\'s usual region and credentials;',
    '                      AWS_ENDPOINT_URL_S3 for another endpoint), or a directory holding a copy of it',
    '',
    `A progress line goes to stderr every ${PROGRESS_EVERY.toLocaleString('en')} events, and a summary at the end.`,
  ].join('\n'),
  options: { ...RANGE_OPTIONS, format: { type: 'string', short: 'f' }, out: { type: 'string', short: 'o' }, 'from-archive': { type: 'string' } },
  async run(values, io) {
    const format = (values.format ?? 'jsonl') as string;
    if (!(format in FORMATS)) throw new UsageError(`--format must be jsonl, csv or ocsf, not "${format.slice(0, 32)}"`);
    const range = rangeOf(values, Date.now());
    const out = typeof values.out === 'string' ? values.out : undefined;
    const archive = typeof values['from-archive'] === 'string' ? values['from-archive'] : undefined;
    const line = FORMATS[format as Format];

    const rows: AsyncIterable<AuditRow> = archive !== undefined ? archiveRowsOf(archive, range, io) : storeRows(io, range);
    const sink = sinkOf(out, io);
    let events = 0;
    if (format === 'csv') await sink.write(CSV_HEADER);
    for await (const row of rows) {
      await sink.write(line(row));
      events += 1;
      if (events % PROGRESS_EVERY === 0) io.err(`audit export: ${events.toLocaleString('en')} events so far…`);
    }
    await sink.end();
    io.err(`audit export: ${events.toLocaleString('en')} event${events === 1 ? '' : 's'} written${out ? ` to ${out}` : ''}`);
    return 0;
  },
};

/**
 * The rows of every event in range, from the archive. Its reader (and the S3 client) is loaded only
 * here: an export from the store does not hold it in memory.
 */
function archiveRowsOf(archive: string, range: { from: number; to: number }, io: CliIo): AsyncIterable<AuditRow> {
  const { archiveRows } = createRequire(__filename)('../audit-archive') as typeof AuditArchiveModule;
  return archiveRows(archive, range, rowFromOcsf, { ...(io.env.AWS_ENDPOINT_URL_S3 ? { endpoint: io.env.AWS_ENDPOINT_URL_S3 } : {}) });
}

/** The rows of every event in range, from the configured store. */
async function* storeRows(io: CliIo, range: { from: number; to: number }): AsyncIterable<AuditRow> {
  const opened = await openAuditLog(io.env);
  try {
    for await (const { request, events } of auditRecords(opened.log, range)) {
      for (const event of events) if (event.at >= range.from && event.at <= range.to) yield toAuditRow(request, event);
    }
  } finally {
    await opened.close();
  }
}
