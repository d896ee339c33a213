import { randomBytes } from 'node:crypto';

// Crockford base32: no I, L, O, U, so ids read aloud and typed back survive.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** "R-" and 10 random base32 characters (50 bits): short enough to say, safe as a schedule name. */
export function newRequestId(): string {
  const bytes = randomBytes(10);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % 32];
  return `R-${id}`;
}
