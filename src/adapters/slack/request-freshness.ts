/** Slack allows five minutes of clock skew; Bolt enforces it only for timestamps in the past. */
export const MAX_SKEW_SECONDS = 300;

/**
 * True when a request claims to come from more than five minutes in the future. Bolt would
 * accept it, and a captured request stamped far ahead would stay replayable for that long.
 */
export function isFromTheFuture(timestampHeader: string | string[] | undefined, nowMs: number): boolean {
  const value = Array.isArray(timestampHeader) ? timestampHeader[0] : timestampHeader;
  if (value === undefined || !/^\d+$/.test(value)) return false; // missing or malformed: Bolt rejects it
  return Number(value) > Math.floor(nowMs / 1000) + MAX_SKEW_SECONDS;
}
