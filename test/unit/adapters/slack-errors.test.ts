/** The one mapping of Slack's platform errors to "this will never be delivered". */
import { ErrorCode } from '@slack/web-api';
import { delivering } from '../../../src/adapters/slack/slack-errors';
import { MessageGoneError } from '../../../src/domain/errors';

/** What @slack/web-api throws when Slack answers ok: false. */
const platformError = (error: string) => Object.assign(new Error(`An API error occurred: ${error}`), { code: ErrorCode.PlatformError, data: { ok: false, error } });

describe('delivering', () => {
  it.each([
    ['not_in_channel', 'channel'],
    ['is_archived', 'channel'],
    ['channel_not_found', 'channel'],
    ['message_not_found', 'message'],
    ['user_disabled', 'recipient'],
  ])('%s is gone for good (%s), named with the method and channel', async (code, what) => {
    const err = await delivering('chat.postMessage', () => Promise.reject(platformError(code)), { channel: 'C0APPROVALS' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MessageGoneError);
    expect(err).toMatchObject({ what, slackError: code, message: `chat.postMessage to C0APPROVALS: ${code}` });
  });

  it('a channel Slack cannot find on a DM is the recipient that is gone', async () => {
    const err = await delivering('conversations.open', () => Promise.reject(platformError('channel_not_found')), { dm: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ what: 'recipient' });
  });

  it.each(['ratelimited', 'internal_error', 'fatal_error'])('%s passes: it is thrown as it was, to be retried', async (code) => {
    const original = platformError(code);
    await expect(delivering('chat.update', () => Promise.reject(original))).rejects.toBe(original);
  });

  it('a network failure passes too', async () => {
    const original = Object.assign(new Error('socket hang up'), { code: ErrorCode.RequestError });
    await expect(delivering('chat.update', () => Promise.reject(original))).rejects.toBe(original);
  });
});
