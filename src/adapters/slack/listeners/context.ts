import type { View } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { WorkflowDeps } from '../../../app/deps';
import { slackPlatformError } from '../slack-errors';

/** What the Slack listeners need: the workflow and where approvals go. */
export interface SlackDoor {
  deps: WorkflowDeps;
  approvalChannel: string;
  /**
   * Ack before any I/O and answer on the response_url (one process, where Bolt sends the ack at
   * once). Off on Lambda, whose receiver replies only when the listener returns.
   */
  ackFirst?: boolean;
}

export const WARNING = ':warning:';
/** Said when something is stored but the worker could not be handed it: the sweep picks it up. */
export const PICKED_UP_SHORTLY = 'Timebox could not pass it on at once, so it will be picked up shortly (within a few minutes); there is no need to ask again.';
export const GENERIC_FAILURE = `${WARNING} Timebox could not handle that right now, and nothing was changed. Please try again in a minute; if it keeps happening, tell your Timebox admins.`;

/**
 * What a person is told when Slack would not open a form (views.open failed): Slack's own error
 * code when it gave one (expired_trigger_id, say), else that Slack failed or did not answer in time.
 */
export function formNotOpened(err: unknown): string {
  const code = slackPlatformError(err);
  const why = code ? `Slack refused to open it (\`${code}\`)` : 'Slack failed to open it or did not answer in time';
  return `${WARNING} The form did not open: ${why}. Nothing was changed; please try again.`;
}

/** A views.open that failed, told apart from the look-ups before it (see formNotOpened). */
export class FormNotOpened extends Error {
  constructor(cause: unknown) {
    super('views.open failed', { cause });
  }
}

/**
 * views.open with the view serialised once, here. Given an object, the Web API client copies all
 * of it (a form's menus hold up to 100 options each) into a redacted debug line on every call,
 * whatever the log level, then serialises it again: a third of the work of opening the form. Slack
 * takes `view` as a JSON-encoded string, which is what the client sends either way.
 */
export function openView(client: WebClient, triggerId: string, view: View): ReturnType<WebClient['views']['open']> {
  // The client's type says View; on the wire both are the same JSON-encoded string.
  return client.views.open({ trigger_id: triggerId, view: JSON.stringify(view) as unknown as View });
}
