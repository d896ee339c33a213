import type { KnownBlock } from '@slack/types';
import { requestStatus, type AccessRequest, type Grant, type GrantStatus } from '../../../domain/access-request';
import type { Deciders } from '../../../domain/approvers';
import { formatDuration } from '../../../domain/duration';
import { approverNames, fromApprovers } from './approver-names';
import { sessionEndOf } from '../../../domain/session-end';
import { escapeMrkdwn, mention, slackDate, slackTime, truncate } from './mrkdwn';
import { grantsSubject, plainTarget, targetFields, targetText } from './target-text';
import { appliedLine, extendsLine, extensionRequesterMessage } from './extend-text';
import { reviewButton, reviewLine, ticketText } from './break-glass-alert';

export const APPROVE_ACTION = 'timebox_approve';
export const DENY_ACTION = 'timebox_deny';
export const END_ACTION = 'timebox_end';

/** "End access now", with a confirmation: on the channel message while active, and in the requester's DM. */
export function endButton(request: AccessRequest): KnownBlock {
  const active = request.grants.filter((g) => g.status === 'ACTIVE' && !g.endedEarlyBy);
  const what = grantsSubject(active, plainTarget, 'active grants');
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
            text: `${what} is removed now, unless another Timebox window or access Timebox did not grant still covers it. AWS sessions already open last until they expire.`,
          },
          confirm: { type: 'plain_text', text: 'End it now' },
          deny: { type: 'plain_text', text: 'Keep it' },
        },
      },
    ],
  };
}

/** This grant's window was ended before its time: by whom, for the messages (each grant of a request ends on its own). */
function endedEarlyNote(grant: Grant): string {
  return grant.endedEarlyBy ? ` early by ${mention(grant.endedEarlyBy.slackUserId)}` : '';
}

/** The same, for the requester's DM: "you" when they ended it themselves. */
function endedEarlyByForRequester(request: AccessRequest, grant: Grant): string {
  if (!grant.endedEarlyBy) return '';
  return ` early by ${grant.endedEarlyBy.slackUserId === request.requester.slackUserId ? 'you' : mention(grant.endedEarlyBy.slackUserId)}`;
}

const kept = (grant: Grant) => (grant.keptBecause ? ` Kept: ${escapeMrkdwn(grant.keptBecause)}.` : ' Access removed.');

/** What became of the sessions already open, for a grant whose rule ends them (endSessions); undefined otherwise. */
function sessionsNote(request: AccessRequest, grant: Grant): string | undefined {
  const step = sessionEndOf(request, grant.id);
  if (!step) return undefined;
  return step.doneAt !== undefined ? `Open AWS sessions were ended at ${slackTime(step.doneAt)}.` : 'Open AWS sessions are being ended.';
}

/** The requester's note about open sessions: ended (or being ended) by Timebox, or lasting until their own expiry. */
function openSessionsNote(request: AccessRequest): string {
  const ended = request.grants.filter((g) => g.status === 'ENDED');
  const notes = ended.map((g) => sessionsNote(request, g));
  if (notes.length > 0 && notes.every((n) => n !== undefined)) return notes.find((n) => n.includes('being')) ?? notes[0] ?? '';
  return 'Sessions already open last until their own expiry.';
}

/** Where one grant stands, for the channel message: while it waits, who can decide it (`deciders`). */
export function grantStatusLine(request: AccessRequest, grant: Grant, deciders?: Deciders): string {
  const by = grant.decidedBy ? mention(grant.decidedBy.slackUserId) : 'someone';
  switch (grant.status) {
    case 'PENDING': {
      const approvers = grant.approvals.map((a) => mention(a.slackUserId)).join(', ');
      const count = `${grant.approvals.length}/${grant.approvalsRequired} approvals`;
      return `:hourglass_flowing_sand: Waiting for approval${fromApprovers(deciders, grant.id)} (${count}${approvers ? `: ${approvers}` : ''}). Expires ${slackDate(request.expiresAt)}.`;
    }
    case 'APPROVED':
    case 'GRANTING': {
      if (request.breakGlass) return ':rotating_light: Break glass: granted without approval; granting access…';
      const doing = request.extends ? 'extending the window…' : 'granting access…';
      return grant.autoApproved ? `:gear: Approved automatically by rule; ${doing}` : `:gear: Approved by ${by}; ${doing}`;
    }
    case 'ACTIVE':
      if (grant.endedEarlyBy) return `:gear: Ended${endedEarlyNote(grant)}; removing access…`;
      return `:white_check_mark: ${request.breakGlass ? 'Break glass (no approval)' : grant.autoApproved ? 'Auto-approved' : `Approved by ${by}`}. Active until ${slackDate(grant.endsAt ?? 0)}.`;
    case 'REVOKING':
      return grant.endedEarlyBy ? `:gear: Ended${endedEarlyNote(grant)}; removing access…` : ':gear: Window over; removing access…';
    case 'DENIED':
      if (grant.refusedBecause) return `:no_entry: Refused by Timebox: no longer allowed by the rules now running (${escapeMrkdwn(truncate(grant.refusedBecause, 300))}).`;
      return `:no_entry: Denied by ${by}.`;
    case 'EXPIRED':
      return ':zzz: Expired: nobody decided in time.';
    case 'CANCELLED':
      // Withdrawn by `end` (beside access that ran) or by `cancel` (while the request only waited).
      if (request.grants.some((g) => g.activeAt !== undefined)) return `:heavy_multiplication_x: Withdrawn: cancelled by ${by} when they ended the request, so it can no longer be approved.`;
      return `:heavy_multiplication_x: Withdrawn: cancelled by ${by} before anyone approved it, so it can no longer be approved.`;
    case 'FAILED':
      return `:x: Failed: ${escapeMrkdwn(truncate(grant.failure ?? 'unknown error', 300))}`;
    case 'ENDED':
      return `:lock: Ended${endedEarlyNote(grant)} ${slackDate(grant.endedAt ?? 0)}.${kept(grant)}${sessionsNote(request, grant) ? ` ${sessionsNote(request, grant)}` : ''}`;
    case 'APPLIED':
      return appliedLine(grant);
  }
}

const WORDS: Record<GrantStatus, string> = {
  PENDING: 'waiting for approval',
  APPROVED: 'being granted',
  GRANTING: 'being granted',
  ACTIVE: 'active',
  REVOKING: 'being removed',
  DENIED: 'denied',
  EXPIRED: 'expired',
  CANCELLED: 'withdrawn',
  FAILED: 'failed',
  ENDED: 'ended',
  APPLIED: 'extended',
};

/** The order grantsSummary names statuses in; every status has its place (checked below). */
const SUMMARY_ORDER = ['ACTIVE', 'PENDING', 'GRANTING', 'APPROVED', 'REVOKING', 'FAILED', 'DENIED', 'EXPIRED', 'CANCELLED', 'ENDED', 'APPLIED'] as const;
const everyStatusSummarised: Exclude<GrantStatus, (typeof SUMMARY_ORDER)[number]> extends never ? true : false = true;
void everyStatusSummarised;

/** "2 of 3 active until 14:05; 1 failed: AWS could not create it". */
export function grantsSummary(request: AccessRequest): string {
  const total = request.grants.length;
  const parts: string[] = [];
  for (const status of SUMMARY_ORDER) {
    const these = request.grants.filter((g) => g.status === status);
    if (these.length === 0 || (status === 'APPROVED' && parts.some((p) => p.includes('being granted')))) continue;
    const count = status === 'GRANTING' ? request.grants.filter((g) => g.status === 'GRANTING' || g.status === 'APPROVED').length : these.length;
    let text = `${count} of ${total} ${WORDS[status]}`;
    if (status === 'ACTIVE') text += ` until ${slackDate(Math.min(...these.map((g) => g.endsAt ?? 0)))}`;
    if (status === 'FAILED') text += `: ${escapeMrkdwn(truncate(these[0]?.failure ?? 'unknown error', 200))}`;
    parts.push(text);
  }
  return parts.join('; ');
}

/** One line saying where the request stands, for the channel message. */
export function statusLine(request: AccessRequest, deciders?: Deciders): string {
  const only = request.grants.length === 1 ? request.grants[0] : undefined;
  return only ? grantStatusLine(request, only, deciders) : grantsSummary(request);
}

/** Fallback text for notifications and screen readers. */
export function summary(request: AccessRequest): string {
  const what = grantsSubject(request.grants, plainTarget);
  return `${request.requester.name ?? request.requester.slackUserId} requests ${what} for ${formatDuration(request.durationMs)} (${request.id})`;
}

/** Slack allows 50 blocks a message: past this many grants, they are listed in fewer blocks. */
const GRANT_BLOCKS = 20;

function grantBlocks(request: AccessRequest, deciders?: Deciders): KnownBlock[] {
  const lines = request.grants.map(
    (g) => `*${g.id}.* ${targetText(g.target)} · rule \`${escapeMrkdwn(truncate(g.ruleName, 64))}\`\n${grantStatusLine(request, g, deciders)}`,
  );
  if (lines.length <= GRANT_BLOCKS) return lines.map((text, i) => ({ type: 'section', block_id: `grant_${request.grants[i]?.id}`, text: { type: 'mrkdwn', text: truncate(text, 2900) } }));
  return [{ type: 'section', block_id: 'grants', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), 2900) } }];
}

/**
 * The approval message (in a channel, or a copy in an approver's DM), at every stage of the
 * request: who can decide and Approve / Deny while a grant is pending, End while one is active.
 */
export function requestMessage(request: AccessRequest, deciders?: Deciders): { text: string; blocks: KnownBlock[] } {
  const only = request.grants.length === 1 ? request.grants[0] : undefined;
  const allAuto = request.grants.every((g) => g.autoApproved);
  const fields = (only ? targetFields(only.target) : [`*Grants*\n${request.grants.length}`]).map((text) => ({ type: 'mrkdwn' as const, text }));
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: request.extends ? (allAuto ? 'AWS access extension (auto-approved)' : 'AWS access extension') : request.breakGlass ? 'Break-glass AWS access (no approval)' : allAuto ? 'AWS access (auto-approved)' : 'AWS access request' } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Requester*\n${mention(request.requester.slackUserId)}` },
        ...fields,
        { type: 'mrkdwn', text: `*Duration*\n${formatDuration(request.durationMs)}` },
        ...(request.ticket ? [{ type: 'mrkdwn' as const, text: `*Ticket*\n${ticketText(request)}` }] : []),
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: `*Reason*\n${escapeMrkdwn(truncate(request.reason, 2000))}` } },
    ...(request.extends ? [{ type: 'section' as const, block_id: 'extends', text: { type: 'mrkdwn' as const, text: truncate(extendsLine(request), 2900) } }] : []),
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `Request \`${request.id}\`${only ? ` · rule \`${escapeMrkdwn(only.ruleName)}\`` : ''}` }],
    },
    ...(only ? [] : grantBlocks(request, deciders)),
    { type: 'section', block_id: 'status', text: { type: 'mrkdwn', text: statusLine(request, deciders) } },
  ];
  const reviewed = reviewLine(request);
  if (reviewed) blocks.push({ type: 'section', block_id: 'review_status', text: { type: 'mrkdwn', text: reviewed } });
  const review = reviewButton(request);
  if (review) blocks.push(review);
  if (request.grants.some((g) => g.status === 'PENDING')) {
    blocks.push({
      type: 'actions',
      block_id: 'decision',
      elements: [
        { type: 'button', action_id: APPROVE_ACTION, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: request.id },
        { type: 'button', action_id: DENY_ACTION, style: 'danger', text: { type: 'plain_text', text: 'Deny' }, value: request.id },
      ],
    });
  }
  if (hasEndableAccess(request)) blocks.push(endButton(request));
  return { text: summary(request), blocks };
}

function hasEndableAccess(request: AccessRequest): boolean {
  return request.grants.some((g) => g.status === 'ACTIVE' && !g.endedEarlyBy);
}

/** The direct message the requester gets when their request is filed, at each decision and at each change of state. */
export function requesterMessage(request: AccessRequest, portalUrl?: string, deciders?: Deciders): string {
  if (request.extends) return extensionRequesterMessage(request);
  const portal = portalUrl ? `<${portalUrl}|AWS access portal>` : 'AWS access portal';
  const only = request.grants.length === 1 ? request.grants[0] : undefined;
  if (!only) {
    const lines = request.grants.map((g) => `• ${targetText(g.target)}: ${WORDS[g.status]}${g.status === 'PENDING' ? `${fromApprovers(deciders, g.id)} (${g.approvals.length}/${g.approvalsRequired} approvals)` : ''}${g.status === 'ACTIVE' ? ` until ${slackDate(g.endsAt ?? 0)}` : ''}${g.status === 'ENDED' ? `${endedEarlyByForRequester(request, g)} ${slackDate(g.endedAt ?? 0)}` : ''}${g.status === 'FAILED' ? ` (${escapeMrkdwn(truncate(g.failure ?? 'unknown error', 200))})` : ''}${g.refusedBecause ? ` (no longer allowed: ${escapeMrkdwn(truncate(g.refusedBecause, 200))})` : ''}${g.status === 'CANCELLED' ? ` (cancelled ${request.grants.some((o) => o.activeAt !== undefined) ? 'when you ended the request, ' : ''}before anyone approved it)` : ''}`);
    const icon = request.grants.some((g) => g.status === 'ACTIVE') ? ':white_check_mark:' : request.grants.every((g) => g.status === 'ENDED') ? ':lock:' : ':information_source:';
    const signIn = request.grants.some((g) => g.status === 'ACTIVE') ? ` Sign in through your ${portal}.` : '';
    const endNote = request.grants.some((g) => g.status === 'ENDED') ? ` ${openSessionsNote(request)}` : '';
    return truncate(`${icon} Your request ${request.id}: ${grantsSummary(request)}.${signIn}${endNote}\n${lines.join('\n')}`, 2900);
  }
  const what = targetText(only.target);
  const thing = only.target.kind === 'group' ? 'membership' : 'assignment';
  const keptNote = only.keptBecause ? ` (the ${thing} stays because another grant or a permanent ${thing} covers it)` : '';
  switch (only.status) {
    case 'PENDING': {
      const so = only.approvals.length > 0 ? `; ${only.approvals.length}/${only.approvalsRequired} approvals so far (${only.approvals.map((a) => mention(a.slackUserId)).join(', ')})` : '';
      return `:hourglass_flowing_sand: Your request for ${what} is filed as ${request.id} and waiting for approval${fromApprovers(deciders, only.id)}${so}. It expires ${slackDate(request.expiresAt)} if nobody decides.`;
    }
    case 'APPROVED':
    case 'GRANTING':
      return `:gear: Your request for ${what} was ${only.autoApproved ? 'approved automatically by rule' : `approved by ${only.decidedBy ? mention(only.decidedBy.slackUserId) : 'an approver'}`}; access is being granted. (${request.id})`;
    case 'ACTIVE':
      // Ended before this DM went out: say so rather than "active until" a moment already past.
      if (only.endedEarlyBy) return `:lock: Your access to ${what} was granted and is being ended early${only.endedEarlyBy.slackUserId === request.requester.slackUserId ? '' : ` by ${mention(only.endedEarlyBy.slackUserId)}`}. (${request.id})`;
      return `:white_check_mark: Your access to ${what} is active until ${slackDate(only.endsAt ?? 0)}. Sign in through your ${portal}. (${request.id})`;
    case 'DENIED':
      if (only.refusedBecause) return `:no_entry: Your request for ${what} is no longer allowed by the rules now running, so it was refused: ${escapeMrkdwn(truncate(only.refusedBecause, 500))}. (${request.id})`;
      return `:no_entry: Your request for ${what} was denied by ${only.decidedBy ? mention(only.decidedBy.slackUserId) : 'an approver'}. (${request.id})`;
    case 'EXPIRED':
      return `:zzz: Your request for ${what} expired before anyone decided. (${request.id})`;
    case 'CANCELLED':
      return `:heavy_multiplication_x: Your request for ${what} was withdrawn before anyone approved it; it can no longer be approved. (${request.id})`;
    case 'FAILED':
      return `:x: Your access to ${what} could not be granted: ${escapeMrkdwn(truncate(only.failure ?? 'unknown error', 500))}. (${request.id})`;
    case 'ENDED':
      if (only.endedEarlyBy) return `:lock: Your access to ${what} was ended${endedEarlyByForRequester(request, only)}${keptNote}. ${openSessionsNote(request)} (${request.id})`;
      return `:lock: Your access to ${what} has ended${keptNote}. ${openSessionsNote(request)} (${request.id})`;
    default:
      return `Your request ${request.id} is ${only.status.toLowerCase()}.`;
  }
}

/** The requester's DM as blocks: the text, and while access is active, a way to end it. */
export function requesterBlocks(request: AccessRequest, portalUrl?: string, deciders?: Deciders): KnownBlock[] {
  const text: KnownBlock = { type: 'section', text: { type: 'mrkdwn', text: requesterMessage(request, portalUrl, deciders) } };
  return hasEndableAccess(request) ? [text, endButton(request)] : [text];
}

/** What an earlier "access is active" DM becomes once it is out of date: the record, without the End button. */
export function closedActiveDm(request: AccessRequest): string {
  const ran = request.grants.filter((g) => g.activeAt !== undefined);
  const first = ran[0];
  if (request.grants.length === 1 && first) {
    const from = first.activeAt ? ` from ${slackDate(first.activeAt)}` : '';
    const until = first.endedAt ?? first.endsAt ?? 0;
    return `:white_check_mark: Your access to ${targetText(first.target)} was active${from} until ${slackDate(until)}${endedEarlyNote(first)}. (${request.id})`;
  }
  if (requestStatus(request) === 'ACTIVE' || request.grants.some((g) => g.status === 'ACTIVE' || g.status === 'PENDING' || g.status === 'GRANTING')) {
    return `:information_source: Request ${request.id}: see the newer message below for where each grant stands.`;
  }
  const lines = ran.map((g) => `• ${targetText(g.target)}: active from ${slackDate(g.activeAt ?? 0)} until ${slackDate(g.endedAt ?? g.endsAt ?? 0)}${endedEarlyNote(g)}`);
  return truncate(`:white_check_mark: Your request ${request.id} was active:\n${lines.join('\n')}`, 2900);
}

/** A reminder in the approval message's thread: who can still decide the grants that wait, and until when. */
export function reminderText(request: AccessRequest, deciders: Deciders): string {
  const waiting = request.grants.filter((g) => g.status === 'PENDING');
  const names = waiting.flatMap((g) => deciders.get(g.id) ?? []);
  const what = grantsSubject(waiting, targetText);
  return truncate(`:bell: Reminder: ${what} for ${mention(request.requester.slackUserId)} (${request.id}) is still waiting for approval from ${approverNames(names)}. It expires ${slackDate(request.expiresAt)}.`, 2900);
}
