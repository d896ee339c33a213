import { readRequest } from '../dynamodb/stored-records';
import { toAuditRow, toOcsfLine } from './audit-rows';

/** One object of the audit archive: the events one write of a request appended, as OCSF lines. */
export interface ArchiveObject {
  key: string;
  body: string;
}

/**
 * What the archiver writes for one stored item, as the table's stream gives it (its new image,
 * unmarshalled): the events that write appended (`lastEvents`), as the very OCSF lines
 * `timebox audit export --format ocsf` writes. Undefined for anything else (leases, a write that
 * appended nothing). Keyed by day, request and version, so a record delivered twice lands on the
 * same key (a new version under the lock; the reader keeps each event once).
 */
export function archiveObjectOf(newImage: Record<string, unknown>, prefix = 'audit/'): ArchiveObject | undefined {
  if (newImage.kind !== 'request') return undefined;
  const request = readRequest(newImage);
  const events = request.lastEvents ?? [];
  if (events.length === 0) return undefined;
  const day = new Date(events[0]!.at).toISOString().slice(0, 10).replace(/-/g, '/');
  return {
    key: `${prefix}${day}/${request.id}/${String(request.version).padStart(8, '0')}.ocsf.jsonl`,
    body: events.map((event) => toOcsfLine(toAuditRow(request, event))).join(''),
  };
}
