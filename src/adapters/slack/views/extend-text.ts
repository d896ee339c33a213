import type { KnownBlock } from '@slack/types';
import type { AccessRequest, Grant } from '../../../domain/access-request';
import { formatDuration } from '../../../domain/duration';
import { escapeMrkdwn, mention, slackDate, truncate } from './mrkdwn';
import { grantsSubject, targetText } from './target-text';

/** The Extend button in the warning DM; its value is the request whose window it extends. */
export const EXTEND_ACTION = 'timebox_extend';

/** Where an extension's grant stands, for the approvals-channel message. */
export function appliedLine(grant: Grant): string {
  return `:hourglass_flowing_sand: Extended: the window now ends ${slackDate(grant.endsAt ?? 0)}.`;
}

/** The line on an extension's channel message that shows what it extends. */
export function extendsLine(extension: AccessRequest): string {
  const of = extension.extends;
  if (!of) return '';
  return `Extends request \`${of.id}\` (${grantsSubject(extension.grants, targetText)}) by ${formatDuration(extension.durationMs)}; its window ends ${slackDate(of.endsAt)} unless this is approved before then.`;
}

/** The requester's DM about their extension, once it is applied, refused, expired or failed. */
export function extensionRequesterMessage(extension: AccessRequest): string {
  const of = extension.extends?.id ?? '?';
  const more = formatDuration(extension.durationMs);
  const tag = `(${of}, extension ${extension.id})`;
  const line = (g: Grant): string => {
    const what = targetText(g.target);
    switch (g.status) {
      case 'APPLIED':
        return `:hourglass_flowing_sand: Your access to ${what} is extended by ${more}, until ${slackDate(g.endsAt ?? 0)}.`;
      case 'DENIED':
        if (g.refusedBecause) return `:no_entry: Your extension of ${what} is no longer allowed by the rules now running (${escapeMrkdwn(truncate(g.refusedBecause, 300))}); the access ends as planned.`;
        return `:no_entry: Your extension of ${what} was denied by ${g.decidedBy ? mention(g.decidedBy.slackUserId) : 'an approver'}; the access ends as planned.`;
      case 'EXPIRED':
        return `:zzz: Your extension of ${what} was not approved before the window ended, so it expired; the access ended as planned.`;
      case 'FAILED':
        return `:x: Your access to ${what} could not be extended: ${escapeMrkdwn(truncate(g.failure ?? 'unknown error', 300))}.`;
      default:
        return `Your extension of ${what} is ${g.status.toLowerCase()}.`;
    }
  };
  return truncate(`${extension.grants.map(line).join('\n')} ${tag}`, 2900);
}

/** The warning DM: which windows end soon, and a way to ask for more time. */
export function extendWarningMessage(request: AccessRequest, ending: Grant[], now: number): { text: string; blocks: KnownBlock[] } {
  const endsAt = Math.min(...ending.map((g) => g.endsAt ?? now));
  const text = `:alarm_clock: Your access to ${grantsSubject(ending, targetText)} ends ${slackDate(endsAt)} (in about ${formatDuration(Math.max(0, endsAt - now))}). Need more time? (${request.id})`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncate(text, 2900) } },
      {
        type: 'actions',
        block_id: 'extend',
        elements: [{ type: 'button', action_id: EXTEND_ACTION, style: 'primary', text: { type: 'plain_text', text: 'Extend' }, value: request.id }],
      },
    ],
  };
}

/** Plain words for the extend form's header: what it extends and until when. */
export function extendFormIntro(request: AccessRequest, ending: Grant[]): string {
  const endsAt = Math.min(...ending.map((g) => g.endsAt ?? 0));
  return truncate(`Extend request \`${request.id}\`: ${grantsSubject(ending, targetText)}, now ending ${slackDate(endsAt)}. How much longer do you need, and why?`, 2900);
}
