import { MessageGoneError, type GoneWhat } from '../../domain/errors';

/**
 * Slack's platform errors that mean "this message can never be delivered": the one place that
 * knows them, used for channel posts, updates and DMs alike. Anything else (rate limits, 5xx,
 * a network failure, an error not listed) is treated as passing, and retried with backoff.
 *
 * Codes from Slack's method pages (chat.postMessage, chat.update, conversations.open).
 */
const PERMANENT: Readonly<Record<string, GoneWhat>> = {
  message_not_found: 'message',
  cant_update_message: 'message',
  edit_window_closed: 'message',
  channel_not_found: 'channel',
  is_archived: 'channel',
  is_inactive: 'channel',
  not_in_channel: 'channel',
  restricted_action: 'channel',
  restricted_action_read_only_channel: 'channel',
  restricted_action_thread_only_channel: 'channel',
  restricted_action_non_threadable_channel: 'channel',
  team_access_not_granted: 'channel',
  user_disabled: 'recipient',
  user_not_found: 'recipient',
  user_not_visible: 'recipient',
  cannot_dm_bot: 'recipient',
  not_allowed_token_type: 'recipient',
};

/** Slack's error code when `err` is an answer from Slack (`ok: false`), else undefined. */
export function slackPlatformError(err: unknown): string | undefined {
  const e = err as { code?: string; data?: { error?: unknown } } | undefined;
  return e?.code === 'slack_webapi_platform_error' && typeof e.data?.error === 'string' ? e.data.error : undefined;
}

/**
 * Runs one Web API call; a permanent error becomes a MessageGoneError. On a DM, a channel that
 * cannot be found or posted to is the recipient's (their DM), so `dm` marks it so.
 */
export async function delivering<T>(method: string, call: () => Promise<T>, where: { dm?: boolean; channel?: string } = {}): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const code = slackPlatformError(err);
    const what = code === undefined ? undefined : PERMANENT[code];
    if (code === undefined || what === undefined) throw err;
    throw new MessageGoneError(`${method}${where.channel ? ` to ${where.channel}` : ''}: ${code}`, { cause: err, what: where.dm ? 'recipient' : what, slackError: code });
  }
}
