import type { ExternalSelect, KnownBlock, ModalView, PlainTextOption, StaticSelect } from '@slack/types';
import { MAX_REASON_LENGTH } from '../../../domain/command';
import { formatDuration } from '../../../domain/duration';
import type { Policy } from '../../../domain/policy';
import { truncate } from './mrkdwn';

export const REQUEST_MODAL_CALLBACK = 'timebox_request';
export const MODAL_BLOCKS = { account: 'account', permissionSet: 'permission_set', duration: 'duration', reason: 'reason' } as const;
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

/** Options matching what someone typed, at most 100, for external selects. */
export function matchingOptions<T>(items: T[], typed: string, label: (item: T) => string, toOption: (item: T) => PlainTextOption): PlainTextOption[] {
  const needle = typed.trim().toLowerCase();
  return items.filter((item) => label(item).toLowerCase().includes(needle)).slice(0, STATIC_MENU_LIMIT).map(toOption);
}

function select(actionId: string, placeholder: string, options: PlainTextOption[]): StaticSelect | ExternalSelect {
  const common = { action_id: actionId, placeholder: { type: 'plain_text' as const, text: placeholder } };
  return options.length <= STATIC_MENU_LIMIT
    ? { ...common, type: 'static_select', options }
    : { ...common, type: 'external_select', min_query_length: 0 };
}

export interface ModalMetadata {
  channelId?: string;
}

/** The /aws-access form. `private_metadata` remembers the channel to confirm in. */
export function requestModal(policy: Policy, metadata: ModalMetadata): ModalView {
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: MODAL_BLOCKS.account,
      label: { type: 'plain_text', text: 'Account' },
      element: select(MODAL_BLOCKS.account, 'Choose an account', policy.accounts.map(accountOption)),
    },
    {
      type: 'input',
      block_id: MODAL_BLOCKS.permissionSet,
      label: { type: 'plain_text', text: 'Permission set' },
      element: select(MODAL_BLOCKS.permissionSet, 'Choose a permission set', policy.permissionSets.map(permissionSetOption)),
    },
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
  return {
    type: 'modal',
    callback_id: REQUEST_MODAL_CALLBACK,
    title: { type: 'plain_text', text: 'Request AWS access' },
    submit: { type: 'plain_text', text: 'Request' },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: JSON.stringify(metadata),
    blocks,
  };
}
