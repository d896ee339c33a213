/**
 * Every error Timebox raises on purpose, in one place (bolt-js `errors.ts` style): each class
 * carries a stable string `code`, so callers switch on codes, never on message text.
 *
 * - TimeboxError: something a person caused (bad input, a refused click). Its message is
 *   written for them and shown as is.
 * - The others are for the code: a lost race, work that cannot go on now, AWS still busy,
 *   a Slack message gone for good.
 */
export type TimeboxErrorCode =
  | 'invalid_command'
  | 'invalid_duration'
  | 'unknown_account'
  | 'ambiguous_account'
  | 'unknown_permission_set'
  | 'unknown_group'
  | 'too_many_grants'
  | 'too_many_pending'
  | 'missing_reason'
  | 'reason_too_long'
  | 'no_matching_rule'
  | 'duration_too_short'
  | 'duration_too_long'
  | 'not_found'
  | 'not_an_approver'
  | 'not_a_member'
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
  | 'not_your_request'
  | 'too_many_extensions'
  | 'not_allowed_to_view'
  | 'not_allowed_to_cancel'
  | 'conflict'
  | 'group_unresolved'
  | 'reason_too_short'
  | 'ticket_missing'
  | 'not_break_glass'
  | 'not_break_glass_eligible'
  | 'already_reviewed'
  | 'catalogue_not_ready';

export const ErrorCode = {
  StoreConflict: 'store_conflict',
  RetryLater: 'retry_later',
  StillInProgress: 'still_in_progress',
  MessageGone: 'message_gone',
  StoredItemInvalid: 'stored_item_invalid',
  RevokeFailed: 'revoke_failed',
} as const;

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

/** A write lost a race: someone else changed the item first. Re-read and decide again. */
export class StoreConflictError extends Error {
  readonly code = ErrorCode.StoreConflict;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreConflictError';
  }
}

/** The work cannot go on now but may later (a busy lease, AWS refusing for now). */
export class RetryLaterError extends Error {
  readonly code = ErrorCode.RetryLater;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryLaterError';
  }
}

/** AWS could not remove a target at a window's end: the attempt is recorded and retried, never dropped. */
export class RevokeFailedError extends Error {
  readonly code = ErrorCode.RevokeFailed;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RevokeFailedError';
  }
}

/** AWS still says IN_PROGRESS after the adapter's poll budget: not an error, just not done yet. */
export class AssignmentStillInProgressError extends Error {
  readonly code = ErrorCode.StillInProgress;
  constructor(readonly operationId: string) {
    super(`assignment operation ${operationId} still IN_PROGRESS after the poll budget`);
    this.name = 'AssignmentStillInProgressError';
  }
}

/**
 * Slack will never take this message: the approvals message was deleted (`message`), the channel
 * is archived or the bot is not in it (`channel`), or the requester cannot be DMed: deactivated,
 * unknown, a bot (`recipient`). Retrying cannot help; the notifier's caller decides what to do
 * instead. `slackError` is Slack's own error code, for the audit log and the operator.
 */
export type GoneWhat = 'message' | 'channel' | 'recipient';

export class MessageGoneError extends Error {
  readonly code = ErrorCode.MessageGone;
  constructor(
    message: string,
    options?: { cause?: unknown; what?: GoneWhat; slackError?: string },
  ) {
    super(message, options);
    this.name = 'MessageGoneError';
    this.what = options?.what ?? 'message';
    this.slackError = options?.slackError ?? message;
  }
  readonly what: GoneWhat;
  readonly slackError: string;
}

/** A stored item that no schema version of this code can read (corrupt, or written by a newer Timebox). */
export class StoredItemInvalidError extends Error {
  readonly code = ErrorCode.StoredItemInvalid;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoredItemInvalidError';
  }
}
