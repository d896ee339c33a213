import { createHash, randomBytes } from 'node:crypto';

// Crockford base32: no I, L, O, U, so ids read aloud and typed back survive.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** "R-" and 10 random base32 characters (50 bits): short enough to say, safe as a schedule name. */
export function newRequestId(): string {
  return toId(randomBytes(10));
}

/**
 * The id for a request filed by one Slack interaction (its trigger_id or view id): the same
 * interaction delivered twice (a replay, a retry) maps to the same request, so it files once.
 */
export function requestIdFor(idempotencyKey: string): string {
  return toId(createHash('sha256').update(idempotencyKey).digest().subarray(0, 10));
}

function toId(bytes: Uint8Array): string {
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % 32];
  return `R-${id}`;
}
