import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';

/** An answer: plain text, or text with blocks (the text is then the fallback). */
export type Answer = string | { text: string; blocks?: KnownBlock[] };

/** Where a person who typed or clicked can be answered. */
export interface AnswerTo {
  userId: string;
  /** The channel they were in, if known. */
  channelId?: string;
  /** Posts on the interaction's response_url, if it has one. */
  respond?: (message: { text: string; blocks?: KnownBlock[] }) => Promise<unknown>;
}

/**
 * Tells a person something only they see, by the first way that works: the response_url (it may
 * have expired, be used up, or Slack may fail it), an ephemeral message in their channel (the bot
 * may not be in it), then a DM. Throws only when every way failed.
 */
export async function tellPerson(client: WebClient, to: AnswerTo, answer: Answer): Promise<void> {
  const message = typeof answer === 'string' ? { text: answer } : answer;
  if (to.respond) {
    try {
      await to.respond(message);
      return;
    } catch {
      // fall back to the channel
    }
  }
  if (to.channelId) {
    try {
      await client.chat.postEphemeral({ channel: to.channelId, user: to.userId, ...message });
      return;
    } catch {
      // e.g. the bot is not in that channel: fall back to a DM
    }
  }
  await client.chat.postMessage({ channel: to.userId, ...message });
}

/** A click on a view (App Home) rather than on a message. */
export function isHomeClick(body: { container?: { type?: string }; view?: { type?: string } }): boolean {
  return body.container?.type === 'view' && body.view?.type === 'home';
}

/**
 * Answers a button click only the clicker sees: on its response_url (a message's buttons), else
 * (App Home has none) by DM.
 */
export async function answerClick(
  client: WebClient,
  body: { user: { id: string }; response_url?: string },
  respond: ((message: { response_type: 'ephemeral'; replace_original: false; text: string }) => Promise<unknown>) | undefined,
  text: string,
): Promise<void> {
  if (body.response_url && respond) {
    await respond({ response_type: 'ephemeral', replace_original: false, text });
    return;
  }
  await tellPerson(client, { userId: body.user.id }, text);
}
