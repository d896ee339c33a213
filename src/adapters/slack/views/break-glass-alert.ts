import type { KnownBlock } from '@slack/types';
import type { AccessRequest } from '../../../domain/access-request';
import { formatDuration } from '../../../domain/duration';
import type { AlertAudience, BreakGlassAlert } from '../../../app/ports';
import { escapeMrkdwn, mention, slackDate, truncate } from './mrkdwn';
import { endButton } from './request-message';
import { grantsSubject, targetText } from './target-text';

export const REVIEW_ACTION = 'timebox_review';

/** "<@U…>, <!subteam^S…>, ops@example.com": the approvers as Slack mentions where Slack knows them. */
export function audienceText(audience: AlertAudience): string {
  const all = [...audience.users.map(mention), ...audience.userGroups.map((id) => `<!subteam^${id}>`), ...audience.named.map(escapeMrkdwn)];
  return all.length > 0 ? truncate(all.join(', '), 1500) : 'the approvers';
}

/** The ticket, linked when slack.ticketUrl is set. */
export function ticketText(request: Pick<AccessRequest, 'ticket'>): string | undefined {
  const t = request.ticket;
  if (!t) return undefined;
  const id = escapeMrkdwn(truncate(t.id, 100));
  return t.url ? `<${t.url.replace(/[<>|]/g, encodeURIComponent)}|${id}>` : id;
}

/** " :rotating_light: *break glass*" after a request's id in every listing (App Home, list); empty for others. */
export function breakGlassMark(request: Pick<AccessRequest, 'breakGlass'>): string {
  return request.breakGlass ? ' :rotating_light: *break glass*' : '';
}

/** Where the review stands, in one line. */
export function reviewLine(request: AccessRequest): string | undefined {
  const r = request.review;
  if (!request.breakGlass || !r) return undefined;
  if (r.at !== undefined) return `:white_check_mark: Reviewed by ${mention(r.by?.slackUserId ?? '?')} ${slackDate(r.at)}.`;
  return `:eyes: Not reviewed yet; review due ${slackDate(r.dueAt)}.`;
}

/** Mark reviewed, while nobody has. */
export function reviewButton(request: AccessRequest): KnownBlock | undefined {
  if (!request.breakGlass || request.review?.at !== undefined) return undefined;
  return {
    type: 'actions',
    block_id: 'review',
    elements: [{ type: 'button', action_id: REVIEW_ACTION, style: 'primary', text: { type: 'plain_text', text: 'Mark reviewed' }, value: request.id }],
  };
}

/** The alert (or the reminder) about break-glass access: loud, mentioning its approvers, with Mark reviewed and End access now. */
export function breakGlassAlertMessage({ request, audience, kind }: BreakGlassAlert): { text: string; blocks: KnownBlock[] } {
  const what = grantsSubject(request.grants, (t) => targetText(t, true), 'grants');
  const who = mention(request.requester.slackUserId);
  const lead =
    kind === 'alert'
      ? `:rotating_light: *Break-glass access*: ${who} granted themselves ${what} for ${formatDuration(request.durationMs)}, without approval. ${audienceText(audience)}: please review it.`
      : `:alarm_clock: *Break-glass access not reviewed yet*: ${who}'s ${what} (\`${request.id}\`) was due for review ${slackDate(request.review?.dueAt ?? 0)}. ${audienceText(audience)}: please review it.`;
  const ticket = ticketText(request);
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: truncate(lead, 2900) } },
    { type: 'section', text: { type: 'mrkdwn', text: `*Reason*\n${escapeMrkdwn(truncate(request.reason, 2000))}${ticket ? `\n*Ticket* ${ticket}` : ''}` } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Request \`${request.id}\` · rule ${[...new Set(request.grants.map((g) => `\`${escapeMrkdwn(truncate(g.ruleName, 64))}\``))].join(', ')}` }] },
  ];
  const review = reviewButton(request);
  // End access now sits beside Mark reviewed; the same End button as everywhere (authorised the same way).
  const end = endButton(request);
  const actions = [...(review?.type === 'actions' ? review.elements : []), ...(end.type === 'actions' ? end.elements : [])];
  blocks.push({ type: 'actions', block_id: 'break_glass', elements: actions });
  const text = kind === 'alert' ? `Break-glass access: ${request.requester.name ?? request.requester.slackUserId} granted themselves access without approval (${request.id})` : `Break-glass access not reviewed yet (${request.id})`;
  return { text, blocks };
}


/** What the requester is told once break-glass access is filed (ephemeral): it is granted now, and it is being reviewed. */
export function breakGlassFiledMessage(request: AccessRequest, approvalChannel: string, later: string): string {
  const ticket = ticketText(request);
  return (
    `:rotating_light: Break-glass request \`${request.id}\`: ${grantsSubject(request.grants, (t) => targetText(t, true))} for ${formatDuration(request.durationMs)} is being granted now, without approval. ` +
    `This is loud: its approvers were alerted in <#${approvalChannel}> and it is being reviewed.${ticket ? ` Ticket: ${ticket}.` : ''} I'll DM you when it is active.${later}`
  );
}
