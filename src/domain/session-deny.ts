/**
 * Ending sessions already issued: the deny statements Timebox keeps in a permission set's inline
 * policy, edited as text so that every statement that is not Timebox's stays exactly as it was,
 * byte for byte. Pure: the caller reads the policy, calls addSessionDeny, and writes the result.
 */

/** Every statement Timebox writes has a Sid with this prefix; nothing else's is ever touched. */
export const SESSION_DENY_SID_PREFIX = 'TimeboxEndSessions';
/** The longest inline policy AWS accepts on a permission set (PutInlinePolicyToPermissionSet). */
export const INLINE_POLICY_MAX_CHARS = 32_768;

/** One user's sessions in one account, issued before `before`, are denied. */
export interface SessionDeny {
  userId: string;
  accountId: string;
  /** Epoch ms: sessions issued before this moment (the assignment's removal) are cut off. */
  before: number;
}

/** What an edit did, for the caller to write, audit and alert about. */
export interface PolicyEdit {
  /** The document to write; `fits` false: nothing may be written (the admin's statements leave no room). */
  text: string;
  fits: boolean;
  /** Timebox statements removed because sessions issued before them have expired anyway. */
  pruned: string[];
  /** Timebox statements still in force that had to go to stay under the size limit, oldest first. */
  dropped: string[];
}

/** Sids allow only letters and digits: one per user × account (the permission set is the policy's own). */
export function sessionDenySid(deny: Pick<SessionDeny, 'userId' | 'accountId'>): string {
  return `${SESSION_DENY_SID_PREFIX}${deny.accountId}${deny.userId.replace(/[^A-Za-z0-9]/g, '')}`;
}

/** IAM date conditions take ISO 8601 in whole seconds; rounding up never lets a session from before the end through. */
export function denyTime(before: number): string {
  return new Date(Math.ceil(before / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function denyStatement(deny: SessionDeny): Record<string, unknown> {
  return {
    Sid: sessionDenySid(deny),
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: {
      StringEquals: { 'identitystore:UserId': deny.userId, 'aws:PrincipalAccount': deny.accountId },
      DateLessThan: { 'aws:TokenIssueTime': denyTime(deny.before) },
    },
  };
}

interface Element {
  raw: string;
  sid?: string;
  /** For a Timebox statement: its cut-off time (epoch ms), NaN when unreadable. */
  before?: number;
}

/**
 * Adds (or moves later) the deny for `deny` to `current` (the inline policy as AWS returned it,
 * '' or undefined when there is none), prunes Timebox statements whose sessions have expired
 * (`sessionDurationMs` after their cut-off), and keeps the document under `maxChars` by dropping
 * the oldest Timebox statements first. Statements that are not Timebox's, and everything around
 * the Statement list, are kept byte for byte.
 */
export function addSessionDeny(current: string | undefined, deny: SessionDeny, now: number, sessionDurationMs: number, maxChars = INLINE_POLICY_MAX_CHARS): PolicyEdit {
  const doc = current?.trim() ? splitPolicy(current) : undefined;
  const elements = doc?.elements ?? [];
  const sid = sessionDenySid(deny);
  const ours = (e: Element) => e.sid?.startsWith(SESSION_DENY_SID_PREFIX) === true;
  const admins = elements.filter((e) => !ours(e));
  const earlier = elements.find((e) => e.sid === sid);
  // A retry of an older end never moves a later cut-off back.
  const before = Math.max(deny.before, earlier?.before !== undefined && !Number.isNaN(earlier.before) ? earlier.before : 0);
  const pruned: string[] = [];
  let timebox: Element[] = [];
  for (const e of elements.filter((x) => ours(x) && x.sid !== sid)) {
    if (e.before !== undefined && !Number.isNaN(e.before) && e.before + sessionDurationMs <= now) pruned.push(e.sid ?? '');
    else timebox.push(e);
  }
  const added: Element = { raw: JSON.stringify(denyStatement({ ...deny, before })), sid, before };
  const render = (kept: Element[]) => {
    const list = `[${[...admins, ...kept, added].map((e) => e.raw).join(',')}]`;
    return doc ? `${doc.head}${list}${doc.tail}` : `{"Version":"2012-10-17","Statement":${list}}`;
  };
  // Oldest first: the statement whose sessions expire soonest is the one that matters least.
  timebox = [...timebox].sort((a, b) => (a.before ?? 0) - (b.before ?? 0));
  const dropped: string[] = [];
  let text = render(timebox);
  while (text.length > maxChars && timebox.length > 0) {
    dropped.push(timebox.shift()?.sid ?? '');
    text = render(timebox);
  }
  return { text, fits: text.length <= maxChars, pruned, dropped };
}

/** The Sids of Timebox's statements in a policy and their cut-off times (for tests and operators). */
export function timeboxStatements(current: string | undefined): Array<{ sid: string; before: number }> {
  if (!current?.trim()) return [];
  return splitPolicy(current)
    .elements.filter((e) => e.sid?.startsWith(SESSION_DENY_SID_PREFIX))
    .map((e) => ({ sid: e.sid ?? '', before: e.before ?? NaN }));
}

// ---- A small JSON scanner: where the Statement list is in the text, and each element's own bytes.

interface SplitPolicy {
  /** The text up to the Statement value, and after it. */
  head: string;
  tail: string;
  elements: Element[];
}

function splitPolicy(text: string): SplitPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error('the permission set\'s inline policy is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('the permission set\'s inline policy is not a JSON object');
  let i = skipSpace(text, 0) + 1; // past "{"
  for (;;) {
    i = skipSpace(text, i);
    if (text[i] === '}') break;
    const keyEnd = skipValue(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, keyEnd) + 1; // past ":"
    const valueStart = skipSpace(text, i);
    const valueEnd = skipValue(text, valueStart);
    if (key === 'Statement') {
      const elements = text[valueStart] === '[' ? arrayElements(text, valueStart) : [text.slice(valueStart, valueEnd)];
      return { head: text.slice(0, valueStart), tail: text.slice(valueEnd), elements: elements.map(describe) };
    }
    i = skipSpace(text, valueEnd);
    if (text[i] === ',') i++;
  }
  throw new Error('the permission set\'s inline policy has no Statement');
}

function describe(raw: string): Element {
  const parsed = JSON.parse(raw) as { Sid?: unknown; Condition?: { DateLessThan?: Record<string, unknown> } };
  const sid = typeof parsed?.Sid === 'string' ? parsed.Sid : undefined;
  if (!sid?.startsWith(SESSION_DENY_SID_PREFIX)) return { raw, ...(sid ? { sid } : {}) };
  const at = parsed.Condition?.DateLessThan?.['aws:TokenIssueTime'];
  return { raw, sid, before: typeof at === 'string' ? Date.parse(at) : NaN };
}

function arrayElements(text: string, start: number): string[] {
  const out: string[] = [];
  let i = skipSpace(text, start + 1);
  while (text[i] !== ']') {
    const end = skipValue(text, i);
    out.push(text.slice(i, end));
    i = skipSpace(text, end);
    if (text[i] === ',') i = skipSpace(text, i + 1);
  }
  return out;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++;
  return i;
}

/** The index just past the JSON value starting at `i` (the text is known to be valid JSON). */
function skipValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') {
    for (let j = i + 1; j < text.length; j++) {
      if (text[j] === '\\') j++;
      else if (text[j] === '"') return j + 1;
    }
    return text.length;
  }
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text[j];
      if (d === '"') j = skipValue(text, j) - 1;
      else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  let j = i;
  while (j < text.length && !',}] \t\n\r'.includes(text[j] ?? '')) j++;
  return j;
}
