import { requestStatus, type AccessRequest, type Grant } from '../../../domain/access-request';
import { formatDuration } from '../../../domain/duration';
import { escapeMrkdwn, mention, slackDate, truncate } from './mrkdwn';
import { grantStatusLine, statusLine } from './request-message';
import { requestSubject, targetText } from './target-text';
import { breakGlassMark, reviewLine, ticketText } from './break-glass-alert';

/** "1h20m left", rounded down to the minute past the first (a Home is not a stopwatch). */
function timeLeft(endsAt: number, now: number): string {
  const left = Math.max(0, endsAt - now);
  return `${formatDuration(left >= 60_000 ? Math.floor(left / 60_000) * 60_000 : left)} left`;
}

/** Where one grant stands for its requester: what, until when and how long is left while it is active. */
export function ownGrantLine(request: AccessRequest, grant: Grant, now: number): string {
  if (grant.status === 'ACTIVE' && !grant.endedEarlyBy && grant.endsAt !== undefined) {
    return `${targetText(grant.target)}: active until ${slackDate(grant.endsAt)} (${timeLeft(grant.endsAt, now)})`;
  }
  return `${targetText(grant.target)}: ${grantStatusLine(request, grant)}`;
}

/** One request in a list: its id, what, status and the time that matters. */
export function requestListLine(request: AccessRequest, now: number): string {
  const ticket = ticketText(request);
  const head = `\`${request.id}\`${breakGlassMark(request)} ${requestSubject(request)} for ${formatDuration(request.durationMs)}, filed ${slackDate(request.createdAt)}${ticket ? ` · ticket ${ticket}` : ''}`;
  const grants = request.grants.length === 1 ? [ownGrantLine(request, request.grants[0]!, now).replace(/^[^:]*: /, '')] : request.grants.map((g) => `  ${g.id}. ${ownGrantLine(request, g, now)}`);
  return truncate(`• ${head}\n${request.grants.length === 1 ? `  ${grants[0]}` : grants.join('\n')}`, 1400);
}

/** `/aws-access list`: the person's requests that are not over yet. */
export function openRequestsText(requests: AccessRequest[], now: number): string {
  if (requests.length === 0) return 'You have no active or pending requests. `/aws-access help` says how to ask for access.';
  const shown = requests.slice(0, 20);
  const more = requests.length - shown.length;
  return truncate(
    [`Your active and pending requests (newest first):`, ...shown.map((r) => requestListLine(r, now)), more > 0 ? `…and ${more} more.` : '', 'Details: `/aws-access status <request id>`.']
      .filter(Boolean)
      .join('\n'),
    3900,
  );
}

/** `/aws-access status <id>`: the whole request, each grant's state. */
export function requestStatusText(request: AccessRequest): string {
  const only = request.grants.length === 1;
  const grants = request.grants.map((g) => `${only ? '' : `*${g.id}.* `}${targetText(g.target)} · rule \`${escapeMrkdwn(truncate(g.ruleName, 64))}\`\n${grantStatusLine(request, g)}`);
  return truncate(
    [
      `*Request \`${request.id}\`*: ${requestStatus(request).toLowerCase()}${only ? '' : ` (${statusLine(request)})`}`,
      `Requested by ${mention(request.requester.slackUserId)} ${slackDate(request.createdAt)} for ${formatDuration(request.durationMs)}. Reason: ${escapeMrkdwn(truncate(request.reason, 500))}`,
      ...(request.ticket ? [`Ticket: ${ticketText(request)}`] : []),
      ...(request.breakGlass ? [`:rotating_light: Break glass: granted without approval. ${reviewLine(request) ?? ''}`] : []),
      ...grants,
    ].join('\n'),
    3900,
  );
}
