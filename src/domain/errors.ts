/**
 * Every failure a person can cause (bad input, a refused click) is a TimeboxError with a
 * stable `code`, so doors can switch on codes and render their own words, never on message text.
 */
export type TimeboxErrorCode =
  | 'invalid_command'
  | 'invalid_duration'
  | 'unknown_account'
  | 'unknown_permission_set'
  | 'missing_reason'
  | 'reason_too_long'
  | 'no_matching_rule'
  | 'duration_too_short'
  | 'duration_too_long'
  | 'not_found'
  | 'not_an_approver'
  | 'self_approval'
  | 'already_decided'
  | 'already_approved_by_you'
  | 'stale_button'
  | 'invalid_transition'
  | 'requester_unknown'
  | 'not_allowed_to_end'
  | 'not_active_yet'
  | 'already_ending'
  | 'already_over'
  | 'conflict';

export class TimeboxError extends Error {
  constructor(
    readonly code: TimeboxErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TimeboxError';
  }
}

export function isTimeboxError(err: unknown, code?: TimeboxErrorCode): err is TimeboxError {
  return err instanceof TimeboxError && (code === undefined || err.code === code);
}
