import type { WebClient } from '@slack/web-api';
import type { SlackPerson, UserDirectory } from '../../app/ports';

const CACHE_MS = 60_000;

/** Slack profiles via users.info (the email needs the users:read.email scope), cached for a minute. */
export class SlackDirectory implements UserDirectory {
  private readonly cache = new Map<string, { person: SlackPerson | undefined; until: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly now: () => number = Date.now,
  ) {}

  async lookup(slackUserId: string): Promise<SlackPerson | undefined> {
    const hit = this.cache.get(slackUserId);
    if (hit && hit.until > this.now()) return hit.person;
    let person: SlackPerson | undefined;
    try {
      const out = await this.client.users.info({ user: slackUserId });
      const user = out.user;
      person = user?.id
        ? {
            slackUserId: user.id,
            ...(user.profile?.email ? { email: user.profile.email.toLowerCase() } : {}),
            ...(user.real_name || user.name ? { name: user.real_name || user.name } : {}),
            isBot: Boolean(user.is_bot),
            deleted: Boolean(user.deleted),
          }
        : undefined;
    } catch (err) {
      if ((err as { data?: { error?: string } }).data?.error !== 'user_not_found') throw err;
    }
    this.cache.set(slackUserId, { person, until: this.now() + CACHE_MS });
    return person;
  }
}
