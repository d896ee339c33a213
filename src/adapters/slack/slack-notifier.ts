import type { WebClient } from '@slack/web-api';
import type { AccessRequest } from '../../domain/access-request';
import type { MessageRef, Notifier } from '../../app/ports';
import { requesterMessage, requestMessage } from './views/request-message';

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
    await this.client.chat.update({ channel: ref.channel, ts: ref.ts, ...requestMessage(request) });
  }

  async tellRequester(request: AccessRequest): Promise<void> {
    const opened = await this.client.conversations.open({ users: request.requester.slackUserId });
    const channel = opened.channel?.id;
    if (!channel) throw new Error('conversations.open returned no channel');
    await this.client.chat.postMessage({ channel, text: requesterMessage(request), unfurl_links: false });
  }
}
