import { TimeboxError } from './errors';

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
type Unit = keyof typeof UNIT_MS;
// Units must appear largest first, each at most once: "1h30m", "90m", "45s", "1d".
const DURATION_PATTERN = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
/** Longest window anyone may ask for, whatever a rule says: a year. Keeps arithmetic far from overflow. */
export const MAX_DURATION_MS = 366 * UNIT_MS.d;

/** Parses "90m", "2h", "1h30m", "45s", "1d" (case-insensitive) into milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase();
  const match = DURATION_PATTERN.exec(trimmed);
  if (trimmed === '' || !match || match.slice(1).every((part) => part === undefined)) {
    throw new TimeboxError(
      'invalid_duration',
      `"${text.slice(0, 40)}" is not a duration (use 90m, 2h, 1h30m)`,
    );
  }
  const units: Unit[] = ['d', 'h', 'm', 's'];
  const ms = units.reduce((sum, unit, i) => sum + Number(match[i + 1] ?? 0) * UNIT_MS[unit], 0);
  if (ms <= 0 || ms > MAX_DURATION_MS) {
    throw new TimeboxError('invalid_duration', `"${text.slice(0, 40)}" is not a duration between 1s and 366d`);
  }
  return ms;
}

/** Renders milliseconds the way people write them: 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms / 1000)) * 1000;
  if (rest === 0) return '0s';
  let out = '';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const count = Math.floor(rest / UNIT_MS[unit]);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * UNIT_MS[unit];
    }
  }
  return out;
}
