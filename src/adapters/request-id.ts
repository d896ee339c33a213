import { createHash, randomBytes } from 'node:crypto';
import { requestIdFromBytes } from '../domain/request-id';

/** A new request id (its format: src/domain/request-id.ts), from 10 random bytes. */
export function newRequestId(): string {
  return requestIdFromBytes(randomBytes(10));
}

/**
 * The id for a request filed by one Slack interaction (its trigger_id or view id): the same
 * interaction delivered twice (a replay, a retry) maps to the same request, so it files once.
 */
export function requestIdFor(idempotencyKey: string): string {
  return requestIdFromBytes(createHash('sha256').update(idempotencyKey).digest().subarray(0, 10));
}
