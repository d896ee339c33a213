import type { WebClient } from '@slack/web-api';
import type { AccessRequest } from '../../domain/access-request';
import { MessageGoneError, type MessageRef, type Notifier } from '../../app/ports';
import { closedActiveDm, requesterBlocks, requesterMessage, requestMessage } from './views/request-message';

/** Slack errors that mean the message or its channel is gone for good: retrying cannot help. */
const GONE = new Set(['message_not_found', 'channel_not_found', 'is_archived', 'not_in_channel', 'cant_update_message']);

/** Posts and updates the approvals-channel message and DMs the requester. */
export class SlackNotifier implements Notifier {
  constructor(
    private readonly client: WebClient,
    private readonly approvalChannel: string,
  ) {}

  async postToApprovers(request: AccessRequest): Promise<MessageRef> {
    const out = await this.client.chat.postMessage({ channel: this.approvalChannel, ...requestMessage(request), unfurl_links: false });
    if (!out.channel || !out.ts) throw new Error('chat.postMessage returned no channel or ts');
    return { channel: out.channel, ts: out.ts };
  }

  async updateApproverMessage(ref: MessageRef, request: AccessRequest): Promise<void> {
    try {
      await this.client.chat.update({ channel: ref.channel, ts: ref.ts, ...requestMessage(request) });
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      if (code && GONE.has(code)) throw new MessageGoneError(`chat.update: ${code}`, { cause: err });
      throw err;
    }
  }

  async tellRequester(request: AccessRequest): Promise<MessageRef> {
    const opened = await this.client.conversations.open({ users: request.requester.slackUserId });
    const channel = opened.channel?.id;
    if (!channel) throw new Error('conversations.open returned no channel');
    const out = await this.client.chat.postMessage({ channel, text: requesterMessage(request), blocks: requesterBlocks(request), unfurl_links: false });
    return { channel: out.channel ?? channel, ts: out.ts ?? '' };
  }

  async closeActiveDm(ref: MessageRef, request: AccessRequest): Promise<void> {
    const text = closedActiveDm(request);
    await this.client.chat.update({ channel: ref.channel, ts: ref.ts, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
  }
}
