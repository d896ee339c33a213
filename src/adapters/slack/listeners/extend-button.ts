import type { AllMiddlewareArgs, App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import * as z from '../../../lib/zod';
import { extendableRequest } from '../../../app/extend-request';
import { isTimeboxError } from '../../../domain/errors';
import { REQUEST_ID } from '../../../domain/request-id';
import { extendModal } from '../views/extend-modal';
import { EXTEND_ACTION } from '../views/extend-text';
import { escapeMrkdwn } from '../views/mrkdwn';
import { formNotOpened, FormNotOpened, GENERIC_FAILURE, openView, WARNING, type SlackDoor } from './context';
import { registerExtendViews } from './extend-submission';

const requestIdValue = z.string().regex(REQUEST_ID);

/** "Extend" in the warning DM: opens the small extend form, for the requester of a window still active. */
export function extendButton(door: SlackDoor) {
  return async ({ ack, body, action, respond, client, logger }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const tell = (text: string) =>
      respond({ response_type: 'ephemeral', replace_original: false, text }).catch((err: unknown) =>
        logger.warn(`could not reply to ${body.user.id}: ${err instanceof Error ? err.message : String(err)}`),
      );
    const requestId = requestIdValue.safeParse(action.value);
    if (!requestId.success) {
      await tell(`${WARNING} That button is not a Timebox request button.`);
      return;
    }
    try {
      // One store read (who asked, is it still active) leaves views.open most of trigger_id's 3 seconds.
      const { original, grants } = await extendableRequest(door.deps, requestId.data, body.user.id);
      const channelId = body.container?.channel_id ?? body.channel?.id;
      await openView(client, body.trigger_id, extendModal(door.deps.policy, original, grants, { requestId: original.id, ...(channelId ? { channelId } : {}) })).catch((err: unknown) => {
        throw new FormNotOpened(err);
      });
    } catch (err) {
      if (err instanceof FormNotOpened) {
        logger.warn(`the extend form for ${requestId.data} did not open: ${String(err.cause)}`);
        await tell(formNotOpened(err.cause));
        return;
      }
      if (isTimeboxError(err)) {
        await tell(`${WARNING} ${escapeMrkdwn(err.message)} Nothing was changed.`);
        return;
      }
      logger.error(`opening the extend form for ${requestId.data} failed: ${err instanceof Error ? err.message : String(err)}`);
      await tell(GENERIC_FAILURE);
    }
  };
}

export function registerExtend(app: App, door: SlackDoor): void {
  app.action<BlockAction<ButtonAction>>(EXTEND_ACTION, extendButton(door));
  registerExtendViews(app, door);
}
