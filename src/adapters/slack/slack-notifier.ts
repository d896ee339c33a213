import type { WebClient } from '@slack/web-api';
import type { AccessRequest } from '../../domain/access-request';
import type { AlertDestination, BreakGlassAlert, MessageRef, Notifier } from '../../app/ports';
import { breakGlassAlertMessage } from './views/break-glass-alert';
import { delivering } from './slack-errors';
import { closedActiveDm, requesterBlocks, requesterMessage, requestMessage } from './views/request-message';

/**
 * Posts and updates the approvals-channel message and DMs the requester. Every call goes through
 * `delivering`, so Slack's permanent errors reach the use cases as one MessageGoneError.
 */
export class SlackNotifier implements Notifier {
  constructor(
    private readonly client: WebClient,
    private readonly approvalChannel: string,
    /** Where people sign in to AWS (identityCenter.portalUrl): linked from the "access is active" DM. */
    private readonly portalUrl?: string,
    /** slack.alertChannel: break-glass alerts go there too. */
    private readonly alertChannel?: string,
  ) {}

  async postBreakGlassAlert(to: AlertDestination, alert: BreakGlassAlert): Promise<MessageRef | undefined> {
    let channel: string;
    if (to.kind === 'dm') {
      const opened = await delivering('conversations.open', () => this.client.conversations.open({ users: to.slackUserId }), { dm: true });
      if (!opened.channel?.id) throw new Error('conversations.open returned no channel');
      channel = opened.channel.id;
    } else if (to.kind === 'alerts') {
      if (!this.alertChannel) return undefined;
      channel = this.alertChannel;
    } else {
      channel = this.approvalChannel;
    }
    const out = await delivering('chat.postMessage', () => this.client.chat.postMessage({ channel, ...breakGlassAlertMessage(alert), unfurl_links: false }), to.kind === 'dm' ? { dm: true } : { channel });
    return { channel: out.channel ?? channel, ts: out.ts ?? '' };
  }

  async postToApprovers(request: AccessRequest): Promise<MessageRef> {
    const out = await delivering('chat.postMessage', () =>
      this.client.chat.postMessage({ channel: this.approvalChannel, ...requestMessage(request), unfurl_links: false }),
      { channel: this.approvalChannel },
    );
    if (!out.channel || !out.ts) throw new Error('chat.postMessage returned no channel or ts');
    return { channel: out.channel, ts: out.ts };
  }

  async alertApprovers(text: string): Promise<void> {
    await delivering('chat.postMessage', () => this.client.chat.postMessage({ channel: this.approvalChannel, text, unfurl_links: false }), { channel: this.approvalChannel });
  }

  async updateApproverMessage(ref: MessageRef, request: AccessRequest): Promise<void> {
    await delivering('chat.update', () => this.client.chat.update({ channel: ref.channel, ts: ref.ts, ...requestMessage(request) }), { channel: ref.channel });
  }

  async tellRequester(request: AccessRequest): Promise<MessageRef> {
    const opened = await delivering('conversations.open', () => this.client.conversations.open({ users: request.requester.slackUserId }), { dm: true });
    const channel = opened.channel?.id;
    if (!channel) throw new Error('conversations.open returned no channel');
    const out = await delivering(
      'chat.postMessage',
      () => this.client.chat.postMessage({ channel, text: requesterMessage(request, this.portalUrl), blocks: requesterBlocks(request, this.portalUrl), unfurl_links: false }),
      { dm: true },
    );
    return { channel: out.channel ?? channel, ts: out.ts ?? '' };
  }

  async closeActiveDm(ref: MessageRef, request: AccessRequest): Promise<void> {
    const text = closedActiveDm(request);
    await delivering('chat.update', () => this.client.chat.update({ channel: ref.channel, ts: ref.ts, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] }), { dm: true });
  }
}
