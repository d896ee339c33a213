import type { KnownBlock, ModalView, MultiExternalSelect, MultiStaticSelect, PlainTextOption } from '@slack/types';
import { MAX_REASON_LENGTH } from '../../../domain/command';
import { formatDuration } from '../../../domain/duration';
import { groupsNamed, type Identity, type Membership } from '../../../domain/identity';
import type { Policy } from '../../../domain/policy';
import { MENU_LIMIT, requestable } from '../../../domain/type-ahead';
import { truncate } from './mrkdwn';

export const REQUEST_MODAL_CALLBACK = 'timebox_request';
export const GROUP_MODAL_CALLBACK = 'timebox_request_group';
export const MODAL_BLOCKS = { account: 'account', permissionSet: 'permission_set', group: 'group', duration: 'duration', reason: 'reason', breakGlass: 'break_glass' } as const;
/** The value of the form's "break glass" checkbox. */
export const BREAK_GLASS_CHOICE = 'break_glass';
/** Slack's cap on a static menu; longer lists become external selects served by the options handler. */
export const STATIC_MENU_LIMIT = MENU_LIMIT;

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

/**
 * A multi-select: static up to 100 options (what the person may request first, when known),
 * type-ahead (served by the options handler) past that.
 */
function multiSelect<T>(actionId: string, placeholder: string, items: readonly T[], toOption: (item: T) => PlainTextOption, maxSelected: number, first?: (item: T) => boolean): MultiStaticSelect | MultiExternalSelect {
  const common = { action_id: actionId, placeholder: { type: 'plain_text' as const, text: placeholder }, max_selected_items: maxSelected };
  if (items.length > STATIC_MENU_LIMIT) return { ...common, type: 'multi_external_select', min_query_length: 0 };
  const ordered = first ? [...items.filter(first), ...items.filter((i) => !first(i))] : items;
  return { ...common, type: 'multi_static_select', options: ordered.map(toOption) };
}

export interface ModalMetadata {
  channelId?: string;
  /**
   * Who opened the form, as far as the rules care (their email, the rules' groups they are in
   * and those that could not be checked), resolved once when it opened: the type-ahead lists
   * what they may request first without looking anything up. It only orders the menus; filing
   * checks everything again.
   */
  asker?: AskerMetadata;
}

export interface AskerMetadata {
  email?: string;
  /** Group entries (as the rules spell them) they are in. */
  in?: string[];
  /** Group entries that could not be checked when the form opened. */
  unchecked?: string[];
}

/** Slack's cap on a view's private_metadata. */
const METADATA_LIMIT = 3_000;

/** What the form remembers of who opened it; groups are left out when they would not fit (the menus are then ordered without them). */
export function askerMetadata(person: Identity, channelId: string | undefined): ModalMetadata {
  const entries = (want: (m: Membership) => boolean) => [...(person.groups ?? [])].filter(([, m]) => want(m)).map(([entry]) => entry);
  const base: ModalMetadata = { ...(channelId ? { channelId } : {}), asker: person.email ? { email: person.email } : {} };
  const full: ModalMetadata = { ...base, asker: { ...base.asker, in: entries((m) => 'member' in m && m.member), unchecked: entries((m) => 'unresolved' in m) } };
  return JSON.stringify(full).length <= METADATA_LIMIT ? full : base;
}

/**
 * Who is typing in the form, from what it remembers: every group the rules name is one they are
 * in, could not be checked, or are not in (a form that could not remember groups counts them as
 * not checked, so nothing is listed first because of one).
 */
export function askerIdentity(policy: Policy, slackUserId: string, asker: AskerMetadata | undefined): Identity {
  const known = asker?.in !== undefined;
  const memberships = groupsNamed(policy.rules.map((r) => r.requesters)).map(({ entry }): [string, Membership] => [
    entry,
    asker?.in?.includes(entry) ? { member: true } : !known || asker?.unchecked?.includes(entry) ? { unresolved: 'not checked when the form opened' } : { member: false },
  ]);
  return { slackUserId, ...(asker?.email ? { email: asker.email } : {}), groups: new Map(memberships) };
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

/**
 * The /aws-access form: several accounts and several permission sets (one grant per pair).
 * `private_metadata` remembers the channel to confirm in and who opened it (for the type-ahead);
 * `person`, when known, puts what they may request first in the static menus.
 */
export function requestModal(policy: Policy, metadata: ModalMetadata, offerBreakGlass = false, person?: Identity): ModalView {
  const max = Math.min(policy.limits.maxGrantsPerRequest, STATIC_MENU_LIMIT);
  const snapshot = policy.catalogue.current();
  const may = person ? requestable(policy, person, snapshot) : undefined;
  return modal(REQUEST_MODAL_CALLBACK, 'Request AWS access', metadata, [
    {
      type: 'input',
      block_id: MODAL_BLOCKS.account,
      label: { type: 'plain_text', text: 'Accounts' },
      element: multiSelect(MODAL_BLOCKS.account, 'Choose accounts', snapshot.accounts, accountOption, max, may && ((a) => may.account(a))),
    },
    {
      type: 'input',
      block_id: MODAL_BLOCKS.permissionSet,
      label: { type: 'plain_text', text: 'Permission sets' },
      hint: { type: 'plain_text', text: `One grant for each account and permission set; at most ${policy.limits.maxGrantsPerRequest} in all.` },
      element: multiSelect(MODAL_BLOCKS.permissionSet, 'Choose permission sets', snapshot.permissionSets, permissionSetOption, max, may && ((p) => may.permissionSet(p))),
    },
    ...durationAndReason(policy),
    ...(offerBreakGlass ? [breakGlassChoice()] : []),
  ]);
}

/** The /aws-access group form: temporary membership of one or more Identity Center groups. Undefined when no groups are configured. */
export function groupModal(policy: Policy, metadata: ModalMetadata, person?: Identity): ModalView | undefined {
  const snapshot = policy.catalogue.current();
  if (snapshot.groups.length === 0) return undefined;
  const may = person ? requestable(policy, person, snapshot) : undefined;
  return modal(GROUP_MODAL_CALLBACK, 'Request group access', metadata, [
    {
      type: 'input',
      block_id: MODAL_BLOCKS.group,
      label: { type: 'plain_text', text: 'Groups' },
      element: multiSelect(MODAL_BLOCKS.group, 'Choose groups', snapshot.groups, groupOption, Math.min(policy.limits.maxGrantsPerRequest, STATIC_MENU_LIMIT), may && ((g) => may.group(g))),
    },
    ...durationAndReason(policy),
  ]);
}
