import type { Person } from './policy';

/**
 * A group a rule may name among its requesters or approvers: a Slack user group (`@handle` or
 * its `S…` id) or an Identity Center group (`group:<display name>`). Anything else in those
 * lists (an email, a Slack user id, "*") names one person, or everyone.
 */
export type GroupEntry = { kind: 'slack'; entry: string; label: string } | { kind: 'identity-center'; entry: string; displayName: string; label: string };

export const IDENTITY_CENTER_GROUP_PREFIX = 'group:';
const SLACK_GROUP_ID = /^S[A-Z0-9]{2,}$/;
const SLACK_GROUP_HANDLE = /^@[a-z0-9][a-z0-9._-]*$/;

export function groupEntry(entry: string): GroupEntry | undefined {
  if (entry.startsWith(IDENTITY_CENTER_GROUP_PREFIX)) {
    const displayName = entry.slice(IDENTITY_CENTER_GROUP_PREFIX.length);
    return { kind: 'identity-center', entry, displayName, label: `Identity Center group "${displayName}"` };
  }
  if (SLACK_GROUP_HANDLE.test(entry) || SLACK_GROUP_ID.test(entry)) return { kind: 'slack', entry, label: `Slack user group ${entry}` };
  return undefined;
}

/**
 * The groups one list names, each once, read once per list: a rule's lists never change while it
 * runs, and matching asks of the same 200 rules' lists for every person and every form.
 */
const groupsOfList = new WeakMap<readonly string[], readonly GroupEntry[]>();
export function groupsIn(list: readonly string[]): readonly GroupEntry[] {
  let groups = groupsOfList.get(list);
  if (!groups) {
    const found = new Map<string, GroupEntry>();
    for (const entry of list) {
      const group = groupEntry(entry);
      if (group && !found.has(entry)) found.set(entry, group);
    }
    groups = [...found.values()];
    groupsOfList.set(list, groups);
  }
  return groups;
}

/** The groups named in these lists, each once, in the order first named. */
export function groupsNamed(lists: readonly (readonly string[])[]): GroupEntry[] {
  const found = new Map<string, GroupEntry>();
  for (const list of lists) for (const group of groupsIn(list)) if (!found.has(group.entry)) found.set(group.entry, group);
  return [...found.values()];
}

/** Whether someone is in a group: known, or why it could not be found out (then nobody is let in through it). */
export type Membership = { member: boolean } | { unresolved: string };

/**
 * Who someone is, resolved once per request or click: their Slack profile, and their membership
 * of the groups the rules in play name (looked up only for those). Rules are matched against it.
 */
export interface Identity extends Person {
  /** Their own workspace (users.info `team_id`). */
  teamId?: string;
  guest?: boolean;
  stranger?: boolean;
  /** Their Identity Center user id, when a rule names an Identity Center group. */
  principalId?: string;
  /**
   * Membership of each group entry looked up, keyed by the entry as the rules spell it. A group
   * not in it was not looked up (no rule in play names it), and lets nobody in.
   */
  groups?: ReadonlyMap<string, Membership>;
}
