import type { AuditRange } from '../app/ports';
import { parseDuration } from '../domain/duration';
import { UsageError, type OptionValues } from './subcommand';

export const RANGE_OPTIONS = { since: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } } as const;
export const RANGE_HELP = [
  '  --since DURATION    events of the last DURATION (7d, 12h, 90m)',
  '  --from ISO          events at or after this time (2026-12-01 or 2026-12-01T09:00:00Z)',
  '  --to ISO            events at or before this time (default: now; only with --from)',
  '                      (neither: every event)',
].join('\n');

function time(name: string, text: string): number {
  // A date alone is the start of that day in UTC, as Date.parse reads it.
  const at = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim()) ? Date.parse(text.trim()) : NaN;
  if (Number.isNaN(at)) throw new UsageError(`--${name} must be an ISO 8601 date or time (2026-12-01, 2026-12-01T09:00:00Z), not "${text.slice(0, 40)}"`);
  return at;
}

/** The time range the options name; bad or conflicting options are a UsageError naming them. */
export function rangeOf(values: OptionValues, now: number): AuditRange {
  const { since, from, to } = values;
  if (since !== undefined && (from !== undefined || to !== undefined)) throw new UsageError('give --since or --from/--to, not both');
  if (typeof since === 'string') {
    let ms: number;
    try {
      ms = parseDuration(since);
    } catch {
      throw new UsageError(`--since must be a duration such as 7d, 12h or 90m, not "${since.slice(0, 40)}"`);
    }
    return { from: now - ms, to: now };
  }
  if (to !== undefined && from === undefined) throw new UsageError('--to needs --from');
  const range = { from: typeof from === 'string' ? time('from', from) : 0, to: typeof to === 'string' ? time('to', to) : now };
  if (range.from > range.to) throw new UsageError(typeof to === 'string' ? '--from is after --to' : '--from is in the future');
  return range;
}
