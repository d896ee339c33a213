import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { AccessRequest, Grant } from '../../domain/access-request';
import type { AlertDestination, BreakGlassAlert, MessageRef, Notifier } from '../../app/ports';
import { breakGlassAlertMessage } from './views/break-glass-alert';
import { delivering } from './slack-errors';
import type { Deciders } from '../../domain/approvers';
import { extendWarningMessage } from './views/extend-text';
import { closedActiveDm, reminderText, requesterBlocks, requesterMessage, requestMessage } from './views/request-message';

/**
 * Posts and updates the approval messages (in channels, and copies in approvers' DMs), reminds
 * approvers in their threads, and DMs the requester. Every call goes through
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

  async postToApprovers(request: AccessRequest, deciders?: Deciders, channel = this.approvalChannel): Promise<MessageRef> {
    const out = await delivering('chat.postMessage', () => this.client.chat.postMessage({ channel, ...requestMessage(request, deciders), unfurl_links: false }), { channel });
    if (!out.channel || !out.ts) throw new Error('chat.postMessage returned no channel or ts');
    return { channel: out.channel, ts: out.ts };
  }

  async alertApprovers(text: string): Promise<void> {
    await delivering('chat.postMessage', () => this.client.chat.postMessage({ channel: this.approvalChannel, text, unfurl_links: false }), { channel: this.approvalChannel });
  }

  async updateApproverMessage(ref: MessageRef, request: AccessRequest, deciders?: Deciders): Promise<void> {
    await delivering('chat.update', () => this.client.chat.update({ channel: ref.channel, ts: ref.ts, ...requestMessage(request, deciders) }), { channel: ref.channel });
  }

  async postToApproverDm(slackUserId: string, request: AccessRequest, deciders: Deciders): Promise<MessageRef> {
    const channel = await this.openDm(slackUserId);
    const out = await delivering('chat.postMessage', () => this.client.chat.postMessage({ channel, ...requestMessage(request, deciders), unfurl_links: false }), { dm: true });
    return { channel: out.channel ?? channel, ts: out.ts ?? '' };
  }

  async remindApprovers(ref: MessageRef, request: AccessRequest, deciders: Deciders): Promise<MessageRef> {
    const text = reminderText(request, deciders);
    const where = ref.channel.startsWith('D') ? { dm: true } : { channel: ref.channel };
    const out = await delivering('chat.postMessage', () => this.client.chat.postMessage({ channel: ref.channel, thread_ts: ref.ts, text, unfurl_links: false }), where);
    return { channel: out.channel ?? ref.channel, ts: out.ts ?? '' };
  }

  async tellRequester(request: AccessRequest, deciders?: Deciders): Promise<MessageRef> {
    return this.dmRequester(request, { text: requesterMessage(request, this.portalUrl, deciders), blocks: requesterBlocks(request, this.portalUrl, deciders) });
  }

  async warnBeforeEnd(request: AccessRequest, ending: Grant[]): Promise<MessageRef> {
    return this.dmRequester(request, extendWarningMessage(request, ending, Date.now()));
  }

  private async dmRequester(request: AccessRequest, message: { text: string; blocks: KnownBlock[] }): Promise<MessageRef> {
    const channel = await this.openDm(request.requester.slackUserId);
    const out = await delivering(
      'chat.postMessage',
      () => this.client.chat.postMessage({ channel, ...message, unfurl_links: false }),
      { dm: true },
    );
    return { channel: out.channel ?? channel, ts: out.ts ?? '' };
  }

  private async openDm(slackUserId: string): Promise<string> {
    const opened = await delivering('conversations.open', () => this.client.conversations.open({ users: slackUserId }), { dm: true });
    const channel = opened.channel?.id;
    if (!channel) throw new Error('conversations.open returned no channel');
    return channel;
  }

  async closeActiveDm(ref: MessageRef, request: AccessRequest): Promise<void> {
    const text = closedActiveDm(request);
    await delivering('chat.update', () => this.client.chat.update({ channel: ref.channel, ts: ref.ts, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] }), { dm: true });
  }
}
