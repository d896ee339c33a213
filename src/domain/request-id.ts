/**
 * The request id's format, owned here and nowhere else: "R-" and 10 Crockford base32
 * characters (50 bits). Crockford's alphabet has no I, L, O or U, so an id read aloud and typed
 * back survives; it is short enough to say and safe as an EventBridge schedule name. Where the
 * characters come from (random, or a hash of a Slack interaction) is the adapter's business
 * (src/adapters/request-id.ts); what an id looks like is this module's.
 */
export const REQUEST_ID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

const BODY = '[0-9A-HJKMNP-TV-Z]{10}';

/** A request id, whole and exactly as Timebox writes it (upper case). */
export const REQUEST_ID = new RegExp(`^R-${BODY}$`);

/** A request id inside a longer text, not part of a longer word. */
const IN_TEXT = new RegExp(`(?<![0-9A-Za-z-])R-${BODY}(?![0-9A-Za-z])`);

/** The id for 10 bytes (random, or a digest): each byte picks one of the 32 characters. */
export function requestIdFromBytes(bytes: Uint8Array): string {
  if (bytes.length < 10) throw new RangeError(`a request id needs 10 bytes, got ${bytes.length}`);
  let body = '';
  for (const byte of bytes.subarray(0, 10)) body += REQUEST_ID_ALPHABET[byte % 32];
  return `R-${body}`;
}

export function isRequestId(text: string): boolean {
  return REQUEST_ID.test(text);
}

/** An id as a person typed it (any case, spaces around it): the id as Timebox writes it, or undefined if it is not one. */
export function parseRequestId(typed: string | undefined): string | undefined {
  const id = typed?.trim().toUpperCase();
  return id !== undefined && isRequestId(id) ? id : undefined;
}

/** The first request id in a text Timebox wrote (a reply, a message, its blocks as JSON), if there is one. */
export function findRequestId(text: string | undefined): string | undefined {
  return IN_TEXT.exec(text ?? '')?.[0];
}
