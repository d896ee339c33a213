import { parseDuration } from './duration';
import { TimeboxError } from './errors';

export const MAX_REASON_LENGTH = 500;
export const USAGE =
  'Usage: `/aws-access <account> <permission-set> <duration> <reason…>`, e.g. `/aws-access staging ReadOnly 2h investigating INC-123`. ' +
  'Durations look like 45s, 30m, 2h, 1h30m. `/aws-access` alone opens a form; `/aws-access end <request id>` ends access early ' +
  "(your own, or, as an approver, access granted under your rule); " +
  '`/aws-access help` shows this.';

const REQUEST_ID = /^R-[0-9A-Z]{10}$/;

export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'modal' }
  | { kind: 'end'; requestId: string }
  | { kind: 'request'; account: string; permissionSet: string; durationMs: number; reason: string };

/** Cleans a free-text reason: control characters out, white space folded, length bounded. */
export function normaliseReason(text: string): string {
  // Control and invisible format characters (zero-width, bidi overrides and isolates) could hide
  // or reorder what an approver reads; line and paragraph separators become spaces.
  const cleaned = text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, ' ').replace(/\s+/g, ' ').trim();
  if (cleaned === '') throw new TimeboxError('missing_reason', 'Please give a reason for the access.');
  if (cleaned.length > MAX_REASON_LENGTH) {
    throw new TimeboxError('reason_too_long', `The reason is ${cleaned.length} characters; keep it under ${MAX_REASON_LENGTH}.`);
  }
  return cleaned;
}

/** Parses the text after `/aws-access`. Never throws anything but a TimeboxError. */
export function parseCommand(text: string): ParsedCommand {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'modal' };
  const words = trimmed.split(/\s+/);
  if (words.length === 1 && ['help', '-h', '--help', '?'].includes(words[0]!.toLowerCase())) return { kind: 'help' };
  // A request needs four words or more, so `end <id>` cannot be mistaken for one (even for an account named "end").
  if (words.length <= 2 && words[0]!.toLowerCase() === 'end') {
    const requestId = words[1]?.toUpperCase();
    if (requestId === undefined || !REQUEST_ID.test(requestId)) {
      throw new TimeboxError('invalid_command', 'Say which request to end, e.g. `/aws-access end R-0123456789` (the id is in your DM).');
    }
    return { kind: 'end', requestId };
  }
  const [account, permissionSet, duration, ...reasonWords] = words;
  if (account === undefined || permissionSet === undefined || duration === undefined) {
    throw new TimeboxError('invalid_command', `Not enough arguments. ${USAGE}`);
  }
  const durationMs = parseDuration(duration);
  const reason = normaliseReason(reasonWords.join(' '));
  return { kind: 'request', account, permissionSet, durationMs, reason };
}
