import type { AllMiddlewareArgs, App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import * as z from '../../../lib/zod';
import { REQUEST_ID } from '../../../domain/request-id';
import { markReviewed } from '../../../app/break-glass';
import { isTimeboxError } from '../../../domain/errors';
import { escapeMrkdwn, mention } from '../views/mrkdwn';
import { REVIEW_ACTION } from '../views/break-glass-alert';
import { GENERIC_FAILURE, WARNING, type SlackDoor } from './context';
import { answerClick } from './tell-person';

const requestIdValue = z.string().regex(REQUEST_ID);

/** "Mark reviewed" on a break-glass alert or the channel message: the approver's review is recorded (nothing else changes). */
export function reviewButton(door: SlackDoor) {
  return async ({ ack, body, action, respond, client, logger }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const requestId = requestIdValue.safeParse(action.value);
    let text: string;
    if (!requestId.success) text = `${WARNING} That button is not a Timebox request button.`;
    else {
      try {
        const reviewed = await markReviewed(door.deps, { requestId: requestId.data, bySlackUserId: body.user.id, ...(body.team?.id ? { workspace: body.team.id } : {}) });
        text = `:white_check_mark: You marked ${mention(reviewed.requester.slackUserId)}'s break-glass access \`${reviewed.id}\` reviewed. The access itself is unchanged; End access now ends it.`;
      } catch (err) {
        if (isTimeboxError(err)) text = `${WARNING} ${escapeMrkdwn(err.message)} Nothing was changed.`;
        else {
          logger.error(`review of ${requestId.data} failed: ${err instanceof Error ? err.message : String(err)}`);
          text = GENERIC_FAILURE;
        }
      }
    }
    await answerClick(client, body, respond, text).catch((err: unknown) => logger.warn(`could not reply to ${body.user.id}: ${err instanceof Error ? err.message : String(err)}`));
  };
}

export function registerReviewButton(app: App, door: SlackDoor): void {
  app.action<BlockAction<ButtonAction>>(REVIEW_ACTION, reviewButton(door));
}
