import type { AllMiddlewareArgs, App, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import * as z from '../../../lib/zod';
import { extendRequest } from '../../../app/extend-request';
import type { FiledRequest } from '../../../app/submit-request';
import { formatDuration, parseDuration } from '../../../domain/duration';
import { isTimeboxError, type TimeboxErrorCode } from '../../../domain/errors';
import { REQUEST_ID } from '../../../domain/request-id';
import { EXTEND_MODAL_CALLBACK } from '../views/extend-modal';
import { escapeMrkdwn, slackDate } from '../views/mrkdwn';
import { MODAL_BLOCKS } from '../views/request-modal';
import { requestSubject } from '../views/target-text';
import { GENERIC_FAILURE, PICKED_UP_SHORTLY, WARNING, type SlackDoor } from './context';
import { tellPerson } from './tell-person';

/** What the requester is told once an extension is filed (ephemeral). */
export function extensionFiledMessage({ request, handedOff }: FiledRequest, approvalChannel: string): string {
  const of = request.extends?.id ?? '?';
  const what = `${requestSubject(request, true)} for ${formatDuration(request.durationMs)} more`;
  const later = handedOff ? '' : ` ${PICKED_UP_SHORTLY}`;
  if (request.grants.every((g) => g.autoApproved)) return `:hourglass_flowing_sand: Extension \`${request.id}\` of \`${of}\`: ${what} was approved automatically. I'll DM you the new end.${later}`;
  const ends = request.extends ? ` If nobody approves it before the window ends (${slackDate(request.extends.endsAt)}), the access ends then as planned.` : '';
  return `:inbox_tray: Extension \`${request.id}\` of \`${of}\`: ${what} is waiting for approval in <#${approvalChannel}>.${ends} I'll DM you when it is decided.${later}`;
}

/** Files an extension for `who`; returns what to tell them. Never throws. */
export async function extendAndDescribe(
  door: SlackDoor,
  input: { requestId: string; durationMs: number; reason: string },
  who: { slackUserId: string; workspace: string | undefined; key: string },
  log: (message: string) => void = () => undefined,
): Promise<string> {
  try {
    const filed = await extendRequest(door.deps, {
      requestId: input.requestId,
      requesterSlackUserId: who.slackUserId,
      durationMs: input.durationMs,
      reason: input.reason,
      idempotencyKey: who.key,
      ...(who.workspace ? { workspace: who.workspace } : {}),
    });
    return extensionFiledMessage(filed, door.approvalChannel);
  } catch (err) {
    if (isTimeboxError(err)) return `${WARNING} ${escapeMrkdwn(err.message)} Nothing was changed.`;
    log(`extending ${input.requestId} failed: ${err instanceof Error ? err.message : String(err)}`);
    return GENERIC_FAILURE;
  }
}

const metadataSchema = z.object({ requestId: z.string().regex(REQUEST_ID), channelId: z.string().optional() });

/** Which form field an error belongs to; the rest are shown under the duration. */
const FIELD_FOR: Partial<Record<TimeboxErrorCode, string>> = { missing_reason: MODAL_BLOCKS.reason, reason_too_long: MODAL_BLOCKS.reason };

type ViewValues = ViewSubmitAction['view']['state']['values'];
const field = (values: ViewValues, block: string): string => values[block]?.[block]?.value ?? '';

/** The extend form was submitted: file the extension, or show what is wrong in the form. */
export function extendModalSubmission(door: SlackDoor) {
  return async ({ ack, body, view, client, logger }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const values: ViewValues = view.state?.values ?? {};
    const metadata = metadataSchema.safeParse(safeJson(view.private_metadata));
    if (!metadata.success) {
      await ack({ response_action: 'errors', errors: { [MODAL_BLOCKS.duration]: 'This form does not say which request to extend; use the Extend button again.' } });
      return;
    }
    try {
      const durationMs = parseDuration(field(values, MODAL_BLOCKS.duration));
      const filed = await extendRequest(door.deps, {
        requestId: metadata.data.requestId,
        requesterSlackUserId: body.user.id,
        durationMs,
        reason: field(values, MODAL_BLOCKS.reason),
        idempotencyKey: `view:${view.id}`,
        ...(body.team?.id ? { workspace: body.team.id } : {}),
      });
      await ack();
      const { channelId } = metadata.data;
      await tellPerson(client, { userId: body.user.id, ...(channelId ? { channelId } : {}) }, extensionFiledMessage(filed, door.approvalChannel)).catch((err: unknown) =>
        logger.warn(`extension ${filed.request.id} filed, but the confirmation could not be posted: ${err instanceof Error ? err.message : String(err)}`),
      );
    } catch (err) {
      if (isTimeboxError(err)) {
        await ack({ response_action: 'errors', errors: { [FIELD_FOR[err.code] ?? MODAL_BLOCKS.duration]: err.message.slice(0, 150) } });
        return;
      }
      logger.error(`extend form failed: ${err instanceof Error ? err.message : String(err)}`);
      await ack({ response_action: 'errors', errors: { [MODAL_BLOCKS.reason]: GENERIC_FAILURE.slice(0, 150) } });
    }
  };
}

function safeJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '{}');
  } catch {
    return {};
  }
}

export function registerExtendViews(app: App, door: SlackDoor): void {
  app.view<ViewSubmitAction>(EXTEND_MODAL_CALLBACK, extendModalSubmission(door));
}
