import type { WebClient } from '@slack/web-api';
import type { SlackPerson, UserDirectory } from '../../app/ports';
import { CachedLookups } from '../../lib/cached-lookups';
import { slackPlatformError } from './slack-errors';

const CACHE_MS = 60_000;
/** Slack user groups change by hand and rarely; a removal reaches Timebox within this long. */
export const USER_GROUP_CACHE_MS = 5 * 60_000;

/**
 * Slack profiles via users.info (the email needs the users:read.email scope), cached for a
 * minute. Look-ups of the same user that overlap share one users.info call, so an approver
 * clearing a queue of requests costs one call, not one per click. Failures are not cached.
 * Slack user groups (bot scope usergroups:read): handles via usergroups.list, members via
 * usergroups.users.list, each cached at most USER_GROUP_CACHE_MS, failures not cached.
 * An approver listed by email is found with users.lookupByEmail, cached a minute.
 */
export class SlackDirectory implements UserDirectory {
  private readonly people: CachedLookups<SlackPerson | undefined>;
  private readonly handles: CachedLookups<ReadonlyMap<string, string>>;
  private readonly groupMembers: CachedLookups<ReadonlySet<string> | undefined>;
  private readonly byEmail: CachedLookups<string | undefined>;

  constructor(
    private readonly client: WebClient,
    now: () => number = Date.now,
    userGroupCacheMs = USER_GROUP_CACHE_MS,
  ) {
    this.people = new CachedLookups(CACHE_MS, now);
    this.byEmail = new CachedLookups(CACHE_MS, now);
    // Never longer than the promise: a removal from a group counts within 5 minutes.
    const groupsMs = Math.min(Math.max(userGroupCacheMs, 0), USER_GROUP_CACHE_MS);
    this.handles = new CachedLookups(groupsMs, now);
    this.groupMembers = new CachedLookups(groupsMs, now);
  }

  lookup(slackUserId: string): Promise<SlackPerson | undefined> {
    return this.people.get(slackUserId, () => this.fetch(slackUserId));
  }

  async userGroupMembers(group: string): Promise<ReadonlySet<string> | undefined> {
    const groupId = await this.userGroupId(group);
    if (!groupId) return undefined;
    return this.groupMembers.get(groupId, () => this.fetchMembers(groupId));
  }

  async userGroupId(group: string): Promise<string | undefined> {
    if (!group.startsWith('@')) return group;
    const handles = await this.handles.get('', () => this.fetchHandles());
    return handles.get(group.slice(1).toLowerCase());
  }

  findByEmail(email: string): Promise<string | undefined> {
    const key = email.toLowerCase();
    return this.byEmail.get(key, async () => {
      try {
        const user = (await this.client.users.lookupByEmail({ email: key })).user;
        return user?.id && !user.deleted ? user.id : undefined;
      } catch (err) {
        if (slackPlatformError(err) === 'users_not_found') return undefined;
        throw err;
      }
    });
  }

  /** Handle → id of every enabled user group (disabled ones are left out, as Slack lists them by default). */
  private async fetchHandles(): Promise<ReadonlyMap<string, string>> {
    const out = await this.client.usergroups.list({ include_disabled: false, include_users: false, include_count: false });
    return new Map((out.usergroups ?? []).filter((g) => g.id && g.handle).map((g) => [(g.handle as string).toLowerCase(), g.id as string]));
  }

  private async fetchMembers(groupId: string): Promise<ReadonlySet<string> | undefined> {
    try {
      return new Set((await this.client.usergroups.users.list({ usergroup: groupId })).users ?? []);
    } catch (err) {
      if (slackPlatformError(err) === 'no_such_subteam') return undefined;
      throw err;
    }
  }

  private async fetch(slackUserId: string): Promise<SlackPerson | undefined> {
    try {
      const user = (await this.client.users.info({ user: slackUserId })).user;
      return user?.id
        ? {
            slackUserId: user.id,
            ...(user.profile?.email ? { email: user.profile.email.toLowerCase() } : {}),
            ...(user.real_name || user.name ? { name: user.real_name || user.name } : {}),
            isBot: Boolean(user.is_bot),
            deleted: Boolean(user.deleted),
            ...(user.team_id ? { teamId: user.team_id } : {}),
            guest: Boolean(user.is_restricted || user.is_ultra_restricted),
            stranger: Boolean(user.is_stranger),
          }
        : undefined;
    } catch (err) {
      if (slackPlatformError(err) === 'user_not_found') return undefined;
      throw err;
    }
  }
}
