import type { AllMiddlewareArgs, App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import * as z from '../../../lib/zod';
import { REQUEST_ID } from '../../../domain/request-id';
import { endAccess, whatKeepsAccess } from '../../../app/end-access';
import type { AccessRequest } from '../../../domain/access-request';
import { isTimeboxError } from '../../../domain/errors';
import { escapeMrkdwn, mention } from '../views/mrkdwn';
import { END_ACTION } from '../views/request-message';
import { grantsSubject, targetName } from '../views/target-text';
import { GENERIC_FAILURE, WARNING, type SlackDoor } from './context';
import { answerClick } from './tell-person';

// The value only says which request; who may end it is read from the store.
const requestIdValue = z.string().regex(REQUEST_ID);

/** What `by`, who just ended windows of the request, is told (ephemeral), including what ending cannot do. */
function endingMessage(request: AccessRequest, by: string, keptBecause: string[]): string {
  const own = request.requester.slackUserId === by;
  const whose = own ? 'your' : `${mention(request.requester.slackUserId)}'s`;
  if (endingBy(request, by).length === 0) return `:heavy_multiplication_x: Nothing of request \`${request.id}\` was active to end. ${withdrawnNote(request, by)}`;
  return [
    `:lock: Ending ${whose} access to ${activeSubject(request, by)} now (\`${request.id}\`).`,
    withdrawnNote(request, by),
    own ? "You'll get a DM once it is removed." : 'They get a DM once it is removed.',
    keptBecause.length > 0 ? `${keptBecause.length === 1 ? 'The assignment itself stays' : 'Some of it stays'}: ${escapeMrkdwn([...new Set(keptBecause)].join('; '))}.` : '',
    'AWS sessions already open last until they expire.',
  ]
    .filter(Boolean)
    .join(' ');
}

/** The grants this end withdrew, as they were still waiting for approval (the requester's end only). */
function withdrawnNote(request: AccessRequest, by: string): string {
  const withdrawn = request.grants.filter((g) => g.status === 'CANCELLED' && g.decidedBy?.slackUserId === by);
  if (withdrawn.length === 0) return '';
  return `Withdrawn, as ${withdrawn.length === 1 ? 'it was' : 'they were'} still waiting for approval: ${withdrawn.map((g) => targetName(g.target)).join(', ')}.`;
}

/** The grants this end took: active (or still being granted) and ended by the same person just now. */
const endingBy = (request: AccessRequest, by: string) => request.grants.filter((g) => ['ACTIVE', 'APPROVED', 'GRANTING'].includes(g.status) && g.endedEarlyBy?.slackUserId === by);

function activeSubject(request: AccessRequest, by: string): string {
  return grantsSubject(endingBy(request, by), targetName);
}

/** Ends a window on behalf of `slackUserId`; returns what to tell them. Never throws. */
export async function endAndDescribe(door: SlackDoor, requestId: string, who: { slackUserId: string; workspace: string | undefined }, log: (message: string) => void): Promise<string> {
  try {
    const ended = await endAccess(door.deps, { requestId, bySlackUserId: who.slackUserId, ...(who.workspace ? { workspace: who.workspace } : {}) });
    return endingMessage(ended, who.slackUserId, await whatKeepsAccess(door.deps, ended));
  } catch (err) {
    if (isTimeboxError(err)) return `${WARNING} ${escapeMrkdwn(err.message)} Nothing was changed.`;
    log(`ending ${requestId} failed: ${err instanceof Error ? err.message : String(err)}`);
    return GENERIC_FAILURE;
  }
}

/** "End access now", in the requester's DM, on the approvals-channel message while active, and on App Home. */
export function endButton(door: SlackDoor) {
  return async ({ ack, body, action, respond, client, logger }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const requestId = requestIdValue.safeParse(action.value);
    const text = requestId.success
      ? await endAndDescribe(door, requestId.data, { slackUserId: body.user.id, workspace: body.team?.id }, (m) => logger.error(m))
      : `${WARNING} That button is not a Timebox request button.`;
    // The response_url may be gone; the outcome stands either way (and the requester is DMed).
    await answerClick(client, body, respond, text).catch((err: unknown) =>
      logger.warn(`could not reply to ${body.user.id}: ${err instanceof Error ? err.message : String(err)}`),
    );
  };
}

export function registerEndButton(app: App, door: SlackDoor): void {
  app.action<BlockAction<ButtonAction>>(END_ACTION, endButton(door));
}
