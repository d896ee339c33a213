import type { HomeView, KnownBlock } from '@slack/types';
import type { AccessRequest } from '../../../domain/access-request';
import { formatDuration } from '../../../domain/duration';
import type { HomeContent } from '../../../app/ports';
import { escapeMrkdwn, mention, slackDate, truncate } from './mrkdwn';
import { requestListLine } from './request-list';
import { APPROVE_ACTION, DENY_ACTION, endButton, grantStatusLine } from './request-message';
import { requestSubject, targetText } from './target-text';
import { ticketText } from './break-glass-alert';

export const HOME_REQUEST_ACTION = 'timebox_home_request';
export const CANCEL_ACTION = 'timebox_cancel';

/** Slack refuses a Home view of more than 100 blocks. */
export const HOME_MAX_BLOCKS = 100;
/** Per section, so every section shows however long another is: 3 + 26 + 22 + 22 + 12 + 4 dividers = 89 blocks at most. */
const SHOWN = { toDecide: 12, active: 10, pending: 10, finished: 10 } as const;

const section = (text: string, blockId?: string): KnownBlock => ({ type: 'section', ...(blockId ? { block_id: blockId } : {}), text: { type: 'mrkdwn', text: truncate(text, 2900) } });
const header = (text: string): KnownBlock => ({ type: 'header', text: { type: 'plain_text', text } });
const note = (text: string): KnownBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });
/** "…and 3 more pending requests." past a section's cap; `what` is [one, many]. */
const more = (count: number, what: [string, string], where: string): KnownBlock[] => (count > 0 ? [note(`…and ${count} more ${count === 1 ? what[0] : what[1]}. ${where}`)] : []);

/** Requests waiting for the viewer's decision: Approve / Deny, the same buttons as the channel message. */
function toDecideBlocks(requests: AccessRequest[]): KnownBlock[] {
  return requests.slice(0, SHOWN.toDecide).flatMap((r): KnownBlock[] => [
    section(
      `${mention(r.requester.slackUserId)} asks for ${requestSubject(r)} for ${formatDuration(r.durationMs)} (\`${r.id}\`)\n>${escapeMrkdwn(truncate(r.reason, 300))}\n` +
        (r.ticket ? `*Ticket* ${ticketText(r)}\n` : '') +
        r.grants.filter((g) => g.status === 'PENDING').map((g) => `${targetText(g.target)}: ${grantStatusLine(r, g)}`).join('\n'),
      `decide_${r.id}`,
    ),
    {
      type: 'actions',
      block_id: `decision_${r.id}`,
      elements: [
        { type: 'button', action_id: APPROVE_ACTION, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: r.id },
        { type: 'button', action_id: DENY_ACTION, style: 'danger', text: { type: 'plain_text', text: 'Deny' }, value: r.id },
      ],
    },
  ]);
}

function activeBlocks(requests: AccessRequest[], now: number): KnownBlock[] {
  return requests.slice(0, SHOWN.active).flatMap((r): KnownBlock[] => {
    const endable = r.grants.some((g) => g.status === 'ACTIVE' && !g.endedEarlyBy && (g.endsAt ?? 0) > now);
    return [section(requestListLine(r, now), `active_${r.id}`), ...(endable ? [{ ...endButton(r), block_id: `end_${r.id}` }] : [])];
  });
}

function pendingBlocks(requests: AccessRequest[], now: number): KnownBlock[] {
  return requests.slice(0, SHOWN.pending).flatMap((r): KnownBlock[] => [
    section(requestListLine(r, now), `pending_${r.id}`),
    {
      type: 'actions',
      block_id: `cancel_${r.id}`,
      elements: [
        {
          type: 'button',
          action_id: CANCEL_ACTION,
          text: { type: 'plain_text', text: 'Cancel' },
          value: r.id,
          confirm: {
            title: { type: 'plain_text', text: 'Cancel this request?' },
            text: { type: 'plain_text', text: 'What is still waiting for approval is withdrawn and can no longer be approved.' },
            confirm: { type: 'plain_text', text: 'Cancel it' },
            deny: { type: 'plain_text', text: 'Keep it' },
          },
        },
      ],
    },
  ]);
}

/** The Home tab: a Request access button, the viewer's decisions to make, their access, what they wait for, and what finished. Never past 100 blocks. */
export function homeView(content: HomeContent): HomeView {
  const { now } = content;
  const blocks: KnownBlock[] = [
    header('Timebox: time-boxed AWS access'),
    { type: 'actions', block_id: 'home_request', elements: [{ type: 'button', action_id: HOME_REQUEST_ACTION, style: 'primary', text: { type: 'plain_text', text: 'Request access' }, value: 'account' }] },
    note(`Updated ${slackDate(now)}. Also: \`/aws-access list\`, \`/aws-access help\`.`),
  ];
  if (content.toDecide.length > 0) {
    blocks.push({ type: 'divider' }, header(`Waiting for your approval (${content.toDecide.length})`), ...toDecideBlocks(content.toDecide));
    blocks.push(...more(content.toDecide.length - SHOWN.toDecide, ['request waits for you', 'requests wait for you'], 'They are in the approvals channel.'));
  }
  blocks.push({ type: 'divider' }, header('Your active access'));
  blocks.push(...(content.active.length > 0 ? activeBlocks(content.active, now) : [note('None right now.')]));
  blocks.push(...more(content.active.length - SHOWN.active, ['request with access', 'requests with access'], 'See `/aws-access list`.'));
  blocks.push({ type: 'divider' }, header('Your pending requests'));
  blocks.push(...(content.pending.length > 0 ? pendingBlocks(content.pending, now) : [note('None waiting for approval.')]));
  blocks.push(...more(content.pending.length - SHOWN.pending, ['pending request', 'pending requests'], 'See `/aws-access list`.'));
  blocks.push({ type: 'divider' }, header('Recently finished'));
  blocks.push(...(content.finished.length > 0 ? content.finished.slice(0, SHOWN.finished).map((r) => section(requestListLine(r, now), `finished_${r.id}`)) : [note('Nothing yet.')]));
  // The sections' own caps keep this far below the limit; this only guards a future section.
  if (blocks.length > HOME_MAX_BLOCKS) blocks.splice(HOME_MAX_BLOCKS - 1, blocks.length, note(`…and more: see \`/aws-access list\`.`));
  return { type: 'home', blocks };
}
