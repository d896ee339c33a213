import type { AllMiddlewareArgs, App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import * as z from '../../../lib/zod';
import { lookUpMember } from '../../../app/members';
import { isTimeboxError } from '../../../domain/errors';
import { REQUEST_ID } from '../../../domain/request-id';
import { CANCEL_ACTION, HOME_REQUEST_ACTION } from '../views/home-view';
import { escapeMrkdwn } from '../views/mrkdwn';
import { requestModal } from '../views/request-modal';
import { formNotOpened, FormNotOpened, GENERIC_FAILURE, openView, WARNING, type SlackDoor } from './context';
import { cancelAndDescribe } from './subcommands';
import { answerClick } from './tell-person';

const requestIdValue = z.string().regex(REQUEST_ID);

/** Home's "Request access": the same form as `/aws-access` alone, for members only. */
export function homeRequestButton(door: SlackDoor) {
  return async ({ ack, body, respond, client, logger }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    try {
      await lookUpMember(door.deps, body.user.id, body.team?.id, 'request');
      // trigger_id dies about 3 s after the click: the form opens before anything else. With no
      // channel to answer in, the filed confirmation goes by DM.
      await openView(client, body.trigger_id, requestModal(door.deps.policy, {})).catch((err: unknown) => {
        throw new FormNotOpened(err);
      });
    } catch (err) {
      if (err instanceof FormNotOpened) {
        logger.warn(`the Home request form did not open: ${String(err.cause)}`);
        await answerClick(client, body, respond, formNotOpened(err.cause)).catch(() => undefined);
        return;
      }
      const text = isTimeboxError(err) ? `${WARNING} ${escapeMrkdwn(err.message)}` : GENERIC_FAILURE;
      if (!isTimeboxError(err)) logger.error(`the Home request form failed: ${err instanceof Error ? err.message : String(err)}`);
      await answerClick(client, body, respond, text).catch(() => undefined);
    }
  };
}

/** Home's "Cancel" on a pending request: `/aws-access cancel <id>`. */
export function cancelButton(door: SlackDoor) {
  return async ({ ack, body, action, respond, client, logger }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const requestId = requestIdValue.safeParse(action.value);
    const text = requestId.success
      ? await cancelAndDescribe(door, requestId.data, { slackUserId: body.user.id, workspace: body.team?.id }, (m) => logger.error(m))
      : `${WARNING} That button is not a Timebox request button.`;
    await answerClick(client, body, respond, text).catch((err: unknown) =>
      logger.warn(`could not reply to ${body.user.id}: ${err instanceof Error ? err.message : String(err)}`),
    );
  };
}

export function registerHomeActions(app: App, door: SlackDoor): void {
  app.action<BlockAction<ButtonAction>>(HOME_REQUEST_ACTION, homeRequestButton(door));
  app.action<BlockAction<ButtonAction>>(CANCEL_ACTION, cancelButton(door));
}
