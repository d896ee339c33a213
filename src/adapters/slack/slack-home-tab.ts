import type { WebClient } from '@slack/web-api';
import type { HomeContent, HomeTab } from '../../app/ports';
import { slackPlatformError } from './slack-errors';
import { homeView } from './views/home-view';

const EMAIL_CACHE_MS = 5 * 60_000;

/** App Home through views.publish; approvers named by email are found with users.lookupByEmail (cached five minutes). */
export class SlackHomeTab implements HomeTab {
  private readonly emails = new Map<string, { id: string | undefined; until: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly now: () => number = Date.now,
  ) {}

  async publish(content: HomeContent): Promise<void> {
    await this.client.views.publish({ user_id: content.slackUserId, view: homeView(content) });
  }

  async userIdForEmail(email: string): Promise<string | undefined> {
    const hit = this.emails.get(email);
    if (hit && hit.until > this.now()) return hit.id;
    let id: string | undefined;
    try {
      id = (await this.client.users.lookupByEmail({ email })).user?.id;
    } catch (err) {
      if (slackPlatformError(err) !== 'users_not_found') throw err;
    }
    this.emails.set(email, { id, until: this.now() + EMAIL_CACHE_MS });
    return id;
  }
}
