import { parseDuration } from './duration';
import { TimeboxError } from './errors';
import { parseRequestId } from './request-id';
import type { TargetSpec } from './rules';

export const MAX_REASON_LENGTH = 500;
export const USAGE =
  'Usage: `/aws-access <accounts> <permission-sets> <duration> <reason…>`, e.g. `/aws-access staging ReadOnly 2h investigating INC-123`; ' +
  'accounts and permission sets may be comma-separated lists without spaces (`/aws-access staging,sandbox ReadOnly,Admin 2h incident 123`), one grant per pair. ' +
  '`/aws-access group <groups> <duration> <reason…>` asks for temporary group membership. ' +
  '`/aws-access breakglass <accounts> <permission-sets> <duration> <reason…>` grants break-glass access at once, where a rule allows you, and alerts its approvers, who review it after. ' +
  'Durations look like 45s, 30m, 2h, 1h30m. `/aws-access` alone opens a form (`/aws-access group` one for groups). ' +
  '`/aws-access list` shows your active and pending requests; `/aws-access status <request id>` shows one request (yours, or one you approve for); ' +
  '`/aws-access cancel <request id>` withdraws your request while it waits for approval; `/aws-access end <request id>` ends access early ' +
  '(your own, or, as an approver, access granted under your rule); ' +
  '`/aws-access extend <request id> <duration> <reason…>` asks for more time on your active access (decided like a request); ' +
  '`/aws-access whocan <account> <permission-set>` (or `whocan group <group>`) shows who may request it, `/aws-access why <account> <permission-set>` (or `why group <group>`) which rule decides yours, `/aws-access available` what you may request; ' +
  '`/aws-access help` shows this. The Timebox app\'s Home tab shows your requests, with buttons.';

/** The subcommands that name one request. */
const ABOUT_ONE_REQUEST = { end: 'end', status: 'see', cancel: 'cancel' } as const;
type AboutOneRequest = keyof typeof ABOUT_ONE_REQUEST;

export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'modal'; targets: 'account' | 'group' }
  | { kind: 'end'; requestId: string }
  | { kind: 'status'; requestId: string }
  | { kind: 'cancel'; requestId: string }
  | { kind: 'list' }
  | { kind: 'whocan' | 'why'; spec: TargetSpec }
  | { kind: 'available' }
  | { kind: 'extend'; requestId: string; durationMs: number; reason: string }
  | { kind: 'request'; spec: TargetSpec; durationMs: number; reason: string; breakGlass?: true };

/** `a,b,c` → ['a', 'b', 'c']; empty items (a trailing comma) are an error that names the list. */
function list(word: string, what: string): string[] {
  const items = word.split(',');
  if (items.some((i) => i.trim() === '')) throw new TimeboxError('invalid_command', `"${word.slice(0, 64)}" has an empty ${what} in it; separate ${what}s with commas and no spaces.`);
  return items;
}

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

const EXTEND_USAGE = 'Say which request, how much longer and why, e.g. `/aws-access extend R-0123456789 30m still debugging INC-123` (the id is in your DM).';

/** `extend <id> <duration> <reason…>`; undefined when the words are a request after all (an account named "extend"). */
function parseExtend(rest: string[]): ParsedCommand | undefined {
  const [id, duration, ...reasonWords] = rest;
  const requestId = parseRequestId(id);
  if (requestId === undefined) {
    // "extend ReadOnly 2h …" reads as a request for an account named extend; anything shorter is a bad extend.
    if (rest.length >= 3 && id !== undefined && !/^r-/i.test(id)) return undefined;
    throw new TimeboxError('invalid_command', id === undefined ? EXTEND_USAGE : `"${id.slice(0, 40)}" is not a request id. ${EXTEND_USAGE}`);
  }
  if (duration === undefined) throw new TimeboxError('invalid_command', `Say how much longer. ${EXTEND_USAGE}`);
  return { kind: 'extend', requestId, durationMs: parseDuration(duration), reason: normaliseReason(reasonWords.join(' ')) };
}

/** Parses the text after `/aws-access`. Never throws anything but a TimeboxError. */
export function parseCommand(text: string): ParsedCommand {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'modal', targets: 'account' };
  const words = trimmed.split(/\s+/);
  if (words.length === 1 && words[0]!.toLowerCase() === 'group') return { kind: 'modal', targets: 'group' };
  if (words.length === 1 && ['help', '-h', '--help', '?'].includes(words[0]!.toLowerCase())) return { kind: 'help' };
  // A request needs four words or more, so `end <id>` cannot be mistaken for one (even for an account named "end").
  const first = words[0]!.toLowerCase();
  if (words.length === 1 && first === 'list') return { kind: 'list' };
  if (words.length <= 2 && Object.hasOwn(ABOUT_ONE_REQUEST, first)) {
    const kind = first as AboutOneRequest;
    const requestId = parseRequestId(words[1]);
    if (requestId === undefined) {
      const notAnId = words[1] === undefined ? '' : `"${words[1].slice(0, 40)}" is not a request id; `;
      throw new TimeboxError('invalid_command', `Say which request to ${ABOUT_ONE_REQUEST[kind]}, e.g. \`/aws-access ${kind} R-0123456789\` (${notAnId}the id is in your DM, and \`/aws-access list\` shows your requests).`);
    }
    return { kind, requestId };
  }
  if (first === 'breakglass') return parseBreakGlass(words.slice(1));
  const explained = parseExplain(words);
  if (explained) return explained;
  // ---- extend <id> <duration> <reason…> (an id never looks like an account list, so a request cannot be mistaken for it).
  if (words[0]!.toLowerCase() === 'extend') {
    const extension = parseExtend(words.slice(1));
    if (extension) return extension;
  }
  // "group" is a keyword: an account that happens to be named so is requested by its id.
  if (words[0]!.toLowerCase() === 'group') {
    const [, groups, duration, ...reasonWords] = words;
    if (groups === undefined || duration === undefined) throw new TimeboxError('invalid_command', `Not enough arguments. ${USAGE}`);
    return { kind: 'request', spec: { kind: 'group', groups: list(groups, 'group') }, durationMs: parseDuration(duration), reason: normaliseReason(reasonWords.join(' ')) };
  }
  const [accounts, permissionSets, duration, ...reasonWords] = words;
  if (accounts === undefined || permissionSets === undefined || duration === undefined) {
    throw new TimeboxError('invalid_command', `Not enough arguments. ${USAGE}`);
  }
  // The lists first: "staging, sandbox …" is a list typed with a space, not a bad duration.
  const spec: TargetSpec = { kind: 'account', accounts: list(accounts, 'account'), permissionSets: list(permissionSets, 'permission set') };
  return { kind: 'request', spec, durationMs: parseDuration(duration), reason: normaliseReason(reasonWords.join(' ')) };
}

/**
 * `whocan`/`why` <account> <permission-set> (or `group <group>`), and `available`. Like "group",
 * these words are keywords: an account so named is requested by its id, and extra words are an
 * error rather than a request.
 */
function parseExplain(words: string[]): ParsedCommand | undefined {
  const verb = words[0]!.toLowerCase();
  if (verb === 'available') {
    if (words.length > 1) throw new TimeboxError('invalid_command', '`/aws-access available` takes nothing after it.');
    return { kind: 'available' };
  }
  if (verb !== 'whocan' && verb !== 'why') return undefined;
  const [, first, second] = words;
  const example = `e.g. \`/aws-access ${verb} staging ReadOnly\` or \`/aws-access ${verb} group oncall\``;
  if (first === undefined || second === undefined || words.length > 3) {
    throw new TimeboxError('invalid_command', `Say which account and permission set, or which group, and nothing more, ${example}.`);
  }
  if (first.includes(',') || second.includes(',')) throw new TimeboxError('invalid_command', `Name one account and one permission set, or one group (no lists), ${example}.`);
  const spec: TargetSpec = first.toLowerCase() === 'group' ? { kind: 'group', groups: [second] } : { kind: 'account', accounts: [first], permissionSets: [second] };
  return { kind: verb, spec };
}

export const BREAK_GLASS_USAGE = '`/aws-access breakglass <accounts> <permission-sets> <duration> <reason…>` (or `breakglass group <groups> <duration> <reason…>`)';

/** `breakglass` then an ordinary request: the explicit word is the only way to ask for break-glass access. */
function parseBreakGlass(rest: string[]): ParsedCommand {
  const parsed = rest.length >= 3 ? parseCommand(rest.join(' ')) : undefined;
  if (parsed?.kind !== 'request') throw new TimeboxError('invalid_command', `Break-glass access is asked for with ${BREAK_GLASS_USAGE}.`);
  return { ...parsed, breakGlass: true };
}
