import type { AllMiddlewareArgs, App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import * as z from '../../../lib/zod';
import { REQUEST_ID } from '../../../domain/request-id';
import { decideRequest } from '../../../app/decide-request';
import { isTimeboxError } from '../../../domain/errors';
import { escapeMrkdwn } from '../views/mrkdwn';
import { APPROVE_ACTION, DENY_ACTION } from '../views/request-message';
import { targetText } from '../views/target-text';
import { GENERIC_FAILURE, PICKED_UP_SHORTLY, WARNING, type SlackDoor } from './context';
import { answerClick, isHomeClick } from './tell-person';

// The value only says which request the button is about; who may decide is read from the store.
const requestIdValue = z.string().regex(REQUEST_ID);

/** Approve / Deny on the approvals-channel message, and on an approver's App Home. */
export function decisionButton(door: SlackDoor) {
  return async ({ ack, body, action, respond, client, logger }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const tell = async (text: string) => {
      // The response_url may be gone (expired, or Slack trouble); the decision stands either way.
      // A click on App Home has none: the answer goes by DM.
      await answerClick(client, body, respond, text).catch((err: unknown) =>
        logger.warn(`could not reply to ${body.user.id}: ${err instanceof Error ? err.message : String(err)}`),
      );
    };
    const requestId = requestIdValue.safeParse(action.value);
    if (!requestId.success) {
      await tell(`${WARNING} That button is not a Timebox request button.`);
      return;
    }
    const channel = body.container?.channel_id ?? body.channel?.id;
    const ts = body.container?.message_ts ?? body.message?.ts;
    // On App Home the buttons sit on the viewer's own Home, not on a message: authorised the same way.
    const onHome = isHomeClick(body);
    if (!onHome && (!channel || !ts)) {
      // Approve/Deny only ever sit on the approvals message; the decision is checked against it.
      await tell(`${WARNING} That button is not on a Timebox approval message.`);
      return;
    }
    try {
      const result = await decideRequest(door.deps, {
        requestId: requestId.data,
        decision: action.action_id === APPROVE_ACTION ? 'approve' : 'deny',
        clickerSlackUserId: body.user.id,
        ...(onHome || !channel || !ts ? {} : { message: { channel, ts } }),
        ...(body.team?.id ? { workspace: body.team.id } : {}),
      });
      if (result.refused.length > 0) {
        await tell(
          `${WARNING} ${result.refused.length === 1 ? 'A grant' : `${result.refused.length} grants`} of \`${result.request.id}\` ${result.refused.length === 1 ? 'is' : 'are'} no longer allowed by the rules now running, so Timebox refused ${result.refused.length === 1 ? 'it' : 'them'} and granted nothing for ${result.refused.length === 1 ? 'it' : 'them'}: ` +
            result.refused.map((g) => `${targetText(g.target)}: ${escapeMrkdwn(g.refusedBecause ?? '')}`).join('; ') + '. The requester is told.',
        );
      }
      // Grants under rules the clicker does not approve for stay as they were: say so, naming them.
      if (result.leftAlone.length > 0 && result.decided.length > 0) {
        const verb = action.action_id === APPROVE_ACTION ? 'approved' : 'denied';
        const rules = [...new Set(result.leftAlone.map((g) => `\`${escapeMrkdwn(g.ruleName)}\``))].join(', ');
        await tell(
          `You ${verb} ${result.decided.length} of ${result.decided.length + result.leftAlone.length} pending grants of \`${result.request.id}\`. ` +
            `Left for their own approvers (rule ${rules}): ${result.leftAlone.map((g) => targetText(g.target)).join(', ')}.`,
        );
      }
      // Stored but not yet with the worker: say so, rather than nothing (or "nothing was changed").
      if (!result.handedOff) {
        await tell(`Your ${action.action_id === APPROVE_ACTION ? 'approval' : 'denial'} of \`${result.request.id}\` is recorded. ${PICKED_UP_SHORTLY}`);
      }
    } catch (err) {
      if (isTimeboxError(err)) {
        await tell(`${WARNING} ${escapeMrkdwn(err.message)} Nothing was changed.`);
        return;
      }
      logger.error(`decision on ${requestId.data} failed: ${err instanceof Error ? err.message : String(err)}`);
      await tell(GENERIC_FAILURE);
    }
  };
}

export function registerActions(app: App, door: SlackDoor): void {
  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, decisionButton(door));
  app.action<BlockAction<ButtonAction>>(DENY_ACTION, decisionButton(door));
}
