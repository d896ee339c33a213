import type { KnownBlock } from '@slack/types';
import type { AccessRequest } from '../../../domain/access-request';
import { formatDuration } from '../../../domain/duration';
import { escapeMrkdwn, mention, slackDate, truncate } from './mrkdwn';

export const APPROVE_ACTION = 'timebox_approve';
export const DENY_ACTION = 'timebox_deny';
export const END_ACTION = 'timebox_end';

/** "End access now", with a confirmation: on the channel message while active, and in the requester's DM. */
function endButton(request: AccessRequest): KnownBlock {
  return {
    type: 'actions',
    block_id: 'end',
    elements: [
      {
        type: 'button',
        action_id: END_ACTION,
        style: 'danger',
        text: { type: 'plain_text', text: 'End access now' },
        value: request.id,
        confirm: {
          title: { type: 'plain_text', text: 'End this access now?' },
          text: {
            type: 'plain_text',
            text: `${truncate(request.permissionSetName, 50)} on ${truncate(request.accountName, 50)} is removed now, unless another Timebox window or an assignment made outside Timebox still needs it. AWS sessions already open last until they expire.`,
          },
          confirm: { type: 'plain_text', text: 'End it now' },
          deny: { type: 'plain_text', text: 'Keep it' },
        },
      },
    ],
  };
}

/** The window was ended before its time: by whom, for the messages. */
function endedEarlyNote(request: AccessRequest): string {
  return request.endedEarlyBy ? ` early by ${mention(request.endedEarlyBy.slackUserId)}` : '';
}

/** One line saying where the request stands, for the channel message. */
export function statusLine(request: AccessRequest): string {
  const by = request.decidedBy ? mention(request.decidedBy.slackUserId) : 'someone';
  switch (request.status) {
    case 'PENDING': {
      const approvers = request.approvals.map((a) => mention(a.slackUserId)).join(', ');
      const count = `${request.approvals.length}/${request.approvalsRequired} approvals`;
      return `:hourglass_flowing_sand: Waiting for approval (${count}${approvers ? `: ${approvers}` : ''}). Expires ${slackDate(request.expiresAt)}.`;
    }
    case 'APPROVED':
    case 'GRANTING':
      return request.autoApproved
        ? ':gear: Approved automatically by rule; granting access…'
        : `:gear: Approved by ${by}; granting access…`;
    case 'ACTIVE':
      if (request.endedEarlyBy) return `:gear: Ended${endedEarlyNote(request)}; removing access…`;
      return `:white_check_mark: ${request.autoApproved ? 'Auto-approved' : `Approved by ${by}`}. Active until ${slackDate(request.endsAt ?? 0)}.`;
    case 'REVOKING':
      return request.endedEarlyBy ? `:gear: Ended${endedEarlyNote(request)}; removing access…` : ':gear: Window over; removing access…';
    case 'DENIED':
      return `:no_entry: Denied by ${by}.`;
    case 'EXPIRED':
      return ':zzz: Expired: nobody decided in time.';
    case 'FAILED':
      return `:x: Failed: ${escapeMrkdwn(truncate(request.failure ?? 'unknown error', 500))}`;
    case 'ENDED':
      return `:lock: Ended${endedEarlyNote(request)} ${slackDate(request.endedAt ?? 0)}.${request.keptBecause ? ` Assignment kept: ${escapeMrkdwn(request.keptBecause)}.` : ' Access removed.'}`;
  }
}

/** Fallback text for notifications and screen readers. */
export function summary(request: AccessRequest): string {
  return `${request.requester.name ?? request.requester.slackUserId} requests ${request.permissionSetName} on ${request.accountName} for ${formatDuration(request.durationMs)} (${request.id})`;
}

/** The approvals-channel message, at every stage of the request: Approve / Deny while pending, End while active. */
export function requestMessage(request: AccessRequest): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: request.autoApproved ? 'AWS access (auto-approved)' : 'AWS access request' } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Requester*\n${mention(request.requester.slackUserId)}` },
        { type: 'mrkdwn', text: `*Account*\n${escapeMrkdwn(request.accountName)} (\`${request.accountId}\`)` },
        { type: 'mrkdwn', text: `*Permission set*\n${escapeMrkdwn(request.permissionSetName)}` },
        { type: 'mrkdwn', text: `*Duration*\n${formatDuration(request.durationMs)}` },
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: `*Reason*\n${escapeMrkdwn(truncate(request.reason, 2000))}` } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Request \`${request.id}\` · rule \`${escapeMrkdwn(request.ruleName)}\`` }] },
    { type: 'section', block_id: 'status', text: { type: 'mrkdwn', text: statusLine(request) } },
  ];
  if (request.status === 'PENDING') {
    blocks.push({
      type: 'actions',
      block_id: 'decision',
      elements: [
        { type: 'button', action_id: APPROVE_ACTION, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: request.id },
        { type: 'button', action_id: DENY_ACTION, style: 'danger', text: { type: 'plain_text', text: 'Deny' }, value: request.id },
      ],
    });
  }
  if (request.status === 'ACTIVE' && !request.endedEarlyBy) blocks.push(endButton(request));
  return { text: summary(request), blocks };
}

/** The direct message the requester gets when their request reaches an outcome. */
export function requesterMessage(request: AccessRequest): string {
  const what = `${escapeMrkdwn(request.permissionSetName)} on ${escapeMrkdwn(request.accountName)} (\`${request.accountId}\`)`;
  switch (request.status) {
    case 'ACTIVE':
      // Ended before this DM went out: say so rather than "active until" a moment already past.
      if (request.endedEarlyBy) return `:lock: Your access to ${what} was granted and is being ended early${request.endedEarlyBy.slackUserId === request.requester.slackUserId ? '' : ` by ${mention(request.endedEarlyBy.slackUserId)}`}. (${request.id})`;
      return `:white_check_mark: Your access to ${what} is active until ${slackDate(request.endsAt ?? 0)}. Sign in through your AWS access portal. (${request.id})`;
    case 'DENIED':
      return `:no_entry: Your request for ${what} was denied by ${request.decidedBy ? mention(request.decidedBy.slackUserId) : 'an approver'}. (${request.id})`;
    case 'EXPIRED':
      return `:zzz: Your request for ${what} expired before anyone decided. (${request.id})`;
    case 'FAILED':
      return `:x: Your access to ${what} could not be granted: ${escapeMrkdwn(truncate(request.failure ?? 'unknown error', 500))}. (${request.id})`;
    case 'ENDED':
      if (request.endedEarlyBy) {
        const by = request.endedEarlyBy.slackUserId === request.requester.slackUserId ? 'you' : mention(request.endedEarlyBy.slackUserId);
        return `:lock: Your access to ${what} was ended early by ${by}${request.keptBecause ? ' (the assignment stays because another grant or a permanent assignment covers it)' : ''}. Sessions already open last until their own expiry. (${request.id})`;
      }
      return `:lock: Your access to ${what} has ended${request.keptBecause ? ' (the assignment stays because another grant or a permanent assignment covers it)' : ''}. Sessions already open last until their own expiry. (${request.id})`;
    default:
      return `Your request ${request.id} is ${request.status.toLowerCase()}.`;
  }
}

/** The requester's DM as blocks: the text, and while the access is active, a way to end it. */
export function requesterBlocks(request: AccessRequest): KnownBlock[] {
  const text: KnownBlock = { type: 'section', text: { type: 'mrkdwn', text: requesterMessage(request) } };
  return request.status === 'ACTIVE' && !request.endedEarlyBy ? [text, endButton(request)] : [text];
}

/** What the requester's "access is active" DM becomes once the window is over: the record, without the End button. */
export function closedActiveDm(request: AccessRequest): string {
  const what = `${escapeMrkdwn(request.permissionSetName)} on ${escapeMrkdwn(request.accountName)} (\`${request.accountId}\`)`;
  const from = request.activeAt ? ` from ${slackDate(request.activeAt)}` : '';
  return `:white_check_mark: Your access to ${what} was active${from} until ${slackDate(request.endedAt ?? request.endsAt ?? 0)}${endedEarlyNote(request)}. (${request.id})`;
}
