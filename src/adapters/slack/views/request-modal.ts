import type { KnownBlock, ModalView, MultiExternalSelect, MultiStaticSelect, PlainTextOption } from '@slack/types';
import { MAX_REASON_LENGTH } from '../../../domain/command';
import { formatDuration } from '../../../domain/duration';
import type { Policy } from '../../../domain/policy';
import { truncate } from './mrkdwn';

export const REQUEST_MODAL_CALLBACK = 'timebox_request';
export const GROUP_MODAL_CALLBACK = 'timebox_request_group';
export const MODAL_BLOCKS = { account: 'account', permissionSet: 'permission_set', group: 'group', duration: 'duration', reason: 'reason', breakGlass: 'break_glass' } as const;
/** The value of the form's "break glass" checkbox. */
export const BREAK_GLASS_CHOICE = 'break_glass';
/** Slack's cap on a static menu; longer lists become external selects served by the options handler. */
export const STATIC_MENU_LIMIT = 100;

export const accountOption = (a: { name: string; id: string }): PlainTextOption => ({
  text: { type: 'plain_text', text: truncate(`${a.name} (${a.id})`, 75) },
  value: a.id,
});

export const permissionSetOption = (p: { name: string }): PlainTextOption => ({
  text: { type: 'plain_text', text: truncate(p.name, 75) },
  value: p.name,
});

export const groupOption = (g: { name: string }): PlainTextOption => ({
  text: { type: 'plain_text', text: truncate(g.name, 75) },
  value: g.name,
});

/** Options matching what someone typed, at most 100, for external selects. */
export function matchingOptions<T>(items: T[], typed: string, label: (item: T) => string, toOption: (item: T) => PlainTextOption): PlainTextOption[] {
  const needle = typed.trim().toLowerCase();
  const out: PlainTextOption[] = [];
  for (const item of items) {
    if (label(item).toLowerCase().includes(needle)) out.push(toOption(item));
    if (out.length === STATIC_MENU_LIMIT) break;
  }
  return out;
}

/** A multi-select: static up to 100 options, type-ahead (served by the options handler) past that. */
function multiSelect(actionId: string, placeholder: string, options: PlainTextOption[], maxSelected: number): MultiStaticSelect | MultiExternalSelect {
  const common = { action_id: actionId, placeholder: { type: 'plain_text' as const, text: placeholder }, max_selected_items: maxSelected };
  return options.length <= STATIC_MENU_LIMIT
    ? { ...common, type: 'multi_static_select', options }
    : { ...common, type: 'multi_external_select', min_query_length: 0 };
}

export interface ModalMetadata {
  channelId?: string;
}

/** The "break glass" choice, in the form only for someone a break-glass rule names. */
function breakGlassChoice(): KnownBlock {
  return {
    type: 'input',
    block_id: MODAL_BLOCKS.breakGlass,
    optional: true,
    label: { type: 'plain_text', text: 'Break glass' },
    hint: { type: 'plain_text', text: 'Only in an emergency: granted at once without approval, its approvers are alerted and review it after.' },
    element: {
      type: 'checkboxes',
      action_id: MODAL_BLOCKS.breakGlass,
      options: [{ text: { type: 'plain_text', text: 'Break glass: grant it now, without approval' }, value: BREAK_GLASS_CHOICE }],
    },
  };
}

/** The duration and reason fields every form asks for (the request forms and the extend form). */
export function durationAndReason(policy: Policy): KnownBlock[] {
  return [
    {
      type: 'input',
      block_id: MODAL_BLOCKS.duration,
      label: { type: 'plain_text', text: 'Duration' },
      hint: { type: 'plain_text', text: 'Like 30m, 2h or 1h30m.' },
      element: { type: 'plain_text_input', action_id: MODAL_BLOCKS.duration, initial_value: formatDuration(policy.durations.defaultMs), max_length: 20 },
    },
    {
      type: 'input',
      block_id: MODAL_BLOCKS.reason,
      label: { type: 'plain_text', text: 'Reason' },
      element: {
        type: 'plain_text_input',
        action_id: MODAL_BLOCKS.reason,
        multiline: true,
        max_length: MAX_REASON_LENGTH,
        placeholder: { type: 'plain_text', text: 'What you will do, e.g. a ticket number' },
      },
    },
  ];
}

function modal(callbackId: string, title: string, metadata: ModalMetadata, blocks: KnownBlock[]): ModalView {
  return {
    type: 'modal',
    callback_id: callbackId,
    title: { type: 'plain_text', text: title },
    submit: { type: 'plain_text', text: 'Request' },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: JSON.stringify(metadata),
    blocks,
  };
}

/** The /aws-access form: several accounts and several permission sets (one grant per pair). `private_metadata` remembers the channel to confirm in. */
export function requestModal(policy: Policy, metadata: ModalMetadata, offerBreakGlass = false): ModalView {
  const max = Math.min(policy.limits.maxGrantsPerRequest, STATIC_MENU_LIMIT);
  return modal(REQUEST_MODAL_CALLBACK, 'Request AWS access', metadata, [
    {
      type: 'input',
      block_id: MODAL_BLOCKS.account,
      label: { type: 'plain_text', text: 'Accounts' },
      element: multiSelect(MODAL_BLOCKS.account, 'Choose accounts', policy.accounts.map(accountOption), max),
    },
    {
      type: 'input',
      block_id: MODAL_BLOCKS.permissionSet,
      label: { type: 'plain_text', text: 'Permission sets' },
      hint: { type: 'plain_text', text: `One grant for each account and permission set; at most ${policy.limits.maxGrantsPerRequest} in all.` },
      element: multiSelect(MODAL_BLOCKS.permissionSet, 'Choose permission sets', policy.permissionSets.map(permissionSetOption), max),
    },
    ...durationAndReason(policy),
    ...(offerBreakGlass ? [breakGlassChoice()] : []),
  ]);
}

/** The /aws-access group form: temporary membership of one or more Identity Center groups. Undefined when no groups are configured. */
export function groupModal(policy: Policy, metadata: ModalMetadata): ModalView | undefined {
  if (policy.groups.length === 0) return undefined;
  return modal(GROUP_MODAL_CALLBACK, 'Request group access', metadata, [
    {
      type: 'input',
      block_id: MODAL_BLOCKS.group,
      label: { type: 'plain_text', text: 'Groups' },
      element: multiSelect(MODAL_BLOCKS.group, 'Choose groups', policy.groups.map(groupOption), Math.min(policy.limits.maxGrantsPerRequest, STATIC_MENU_LIMIT)),
    },
    ...durationAndReason(policy),
  ]);
}
