import type { AllMiddlewareArgs, App, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import * as z from '../../../lib/zod';
import { submitRequest } from '../../../app/submit-request';
import { parseDuration } from '../../../domain/duration';
import { isTimeboxError, type TimeboxErrorCode } from '../../../domain/errors';
import { BREAK_GLASS_CHOICE, GROUP_MODAL_CALLBACK, MODAL_BLOCKS, REQUEST_MODAL_CALLBACK } from '../views/request-modal';
import type { TargetSpec } from '../../../domain/rules';
import { filedMessage } from './aws-access-command';
import { GENERIC_FAILURE, type SlackDoor } from './context';
import { tellPerson } from './tell-person';

type ViewValues = ViewSubmitAction['view']['state']['values'];

const metadataSchema = z.object({ channelId: z.string().optional() }).catch({});

/** Which form field an error belongs to, so Slack shows it under that field. */
const FIELD_FOR: Partial<Record<TimeboxErrorCode, string>> = {
  unknown_account: MODAL_BLOCKS.account,
  ambiguous_account: MODAL_BLOCKS.account,
  no_matching_rule: MODAL_BLOCKS.permissionSet,
  unknown_permission_set: MODAL_BLOCKS.permissionSet,
  too_many_grants: MODAL_BLOCKS.permissionSet,
  invalid_duration: MODAL_BLOCKS.duration,
  duration_too_short: MODAL_BLOCKS.duration,
  duration_too_long: MODAL_BLOCKS.duration,
  missing_reason: MODAL_BLOCKS.reason,
  reason_too_long: MODAL_BLOCKS.reason,
  reason_too_short: MODAL_BLOCKS.reason,
  ticket_missing: MODAL_BLOCKS.reason,
  not_break_glass_eligible: MODAL_BLOCKS.breakGlass,
};

function field(values: ViewValues, block: string): string {
  const element = values[block]?.[block];
  return element?.selected_option?.value ?? element?.value ?? '';
}

/** A multi-select's chosen values (a single select's one value also reads as a list). */
function chosen(values: ViewValues, block: string): string[] {
  const element = values[block]?.[block];
  const many = element?.selected_options?.map((o) => o.value).filter((v): v is string => typeof v === 'string');
  if (many && many.length > 0) return many;
  const one = field(values, block);
  return one ? [one] : [];
}

function specFrom(values: ViewValues, callbackId: string): TargetSpec {
  return callbackId === GROUP_MODAL_CALLBACK
    ? { kind: 'group', groups: chosen(values, MODAL_BLOCKS.group) }
    : { kind: 'account', accounts: chosen(values, MODAL_BLOCKS.account), permissionSets: chosen(values, MODAL_BLOCKS.permissionSet) };
}

/** The /aws-access form was submitted: file the request, or show the errors in the form. */
export function requestModalSubmission(door: SlackDoor) {
  return async ({ ack, body, view, client, logger }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const values: ViewValues = view.state?.values ?? {};
    let durationMs: number;
    try {
      durationMs = parseDuration(field(values, MODAL_BLOCKS.duration));
    } catch (err) {
      await ack({ response_action: 'errors', errors: { [MODAL_BLOCKS.duration]: isTimeboxError(err) ? err.message : 'Not a duration' } });
      return;
    }
    try {
      const filed = await submitRequest(door.deps, {
        requesterSlackUserId: body.user.id,
        spec: specFrom(values, view.callback_id),
        durationMs,
        reason: field(values, MODAL_BLOCKS.reason),
        idempotencyKey: `view:${view.id}`,
        ...(body.team?.id ? { workspace: body.team.id } : {}),
        // Eligibility is checked again on filing: the choice only picks the break-glass rules.
        ...(chosen(values, MODAL_BLOCKS.breakGlass).includes(BREAK_GLASS_CHOICE) ? { breakGlass: true } : {}),
      });
      await ack();
      // In the channel they opened the form from, or by DM if that fails.
      const { channelId } = metadataSchema.parse(safeJson(view.private_metadata));
      await tellPerson(client, { userId: body.user.id, ...(channelId ? { channelId } : {}) }, filedMessage(filed, door.approvalChannel, door.deps.policy)).catch((err: unknown) =>
        logger.warn(`request ${filed.request.id} filed, but the confirmation could not be posted: ${err instanceof Error ? err.message : String(err)}`),
      );
    } catch (err) {
      if (isTimeboxError(err)) {
        const fallback = view.callback_id === GROUP_MODAL_CALLBACK ? MODAL_BLOCKS.group : MODAL_BLOCKS.account;
        const groupField = view.callback_id === GROUP_MODAL_CALLBACK && ['unknown_group', 'no_matching_rule', 'too_many_grants', 'invalid_command'].includes(err.code);
        const fieldFor = groupField ? MODAL_BLOCKS.group : FIELD_FOR[err.code];
        await ack({ response_action: 'errors', errors: { [fieldFor ?? fallback]: err.message.slice(0, 150) } });
        return;
      }
      logger.error(`modal submission failed: ${err instanceof Error ? err.message : String(err)}`);
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

export function registerViews(app: App, door: SlackDoor): void {
  app.view<ViewSubmitAction>(REQUEST_MODAL_CALLBACK, requestModalSubmission(door));
  app.view<ViewSubmitAction>(GROUP_MODAL_CALLBACK, requestModalSubmission(door));
}
