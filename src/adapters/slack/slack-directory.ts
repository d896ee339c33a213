import type { WebClient } from '@slack/web-api';
import type { SlackPerson, UserDirectory } from '../../app/ports';
import { slackPlatformError } from './slack-errors';

const CACHE_MS = 60_000;

/**
 * Slack profiles via users.info (the email needs the users:read.email scope), cached for a
 * minute. Look-ups of the same user that overlap share one users.info call, so an approver
 * clearing a queue of requests costs one call, not one per click. Failures are not cached.
 * An approver listed by email is found with users.lookupByEmail, cached the same minute.
 */
export class SlackDirectory implements UserDirectory {
  private readonly cache = new Map<string, { person: SlackPerson | undefined; until: number }>();
  private readonly inFlight = new Map<string, Promise<SlackPerson | undefined>>();
  private readonly byEmail = new Map<string, { slackUserId: string | undefined; until: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly now: () => number = Date.now,
  ) {}

  lookup(slackUserId: string): Promise<SlackPerson | undefined> {
    const hit = this.cache.get(slackUserId);
    if (hit && hit.until > this.now()) return Promise.resolve(hit.person);
    const pending = this.inFlight.get(slackUserId);
    if (pending) return pending;
    const started = this.fetch(slackUserId)
      .then((person) => {
        this.cache.set(slackUserId, { person, until: this.now() + CACHE_MS });
        return person;
      })
      .finally(() => this.inFlight.delete(slackUserId));
    this.inFlight.set(slackUserId, started);
    return started;
  }

  async findByEmail(email: string): Promise<string | undefined> {
    const key = email.toLowerCase();
    const hit = this.byEmail.get(key);
    if (hit && hit.until > this.now()) return hit.slackUserId;
    let slackUserId: string | undefined;
    try {
      const user = (await this.client.users.lookupByEmail({ email: key })).user;
      slackUserId = user?.id && !user.deleted ? user.id : undefined;
    } catch (err) {
      if (slackPlatformError(err) !== 'users_not_found') throw err;
    }
    this.byEmail.set(key, { slackUserId, until: this.now() + CACHE_MS });
    return slackUserId;
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
