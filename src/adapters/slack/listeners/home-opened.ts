import type { AllMiddlewareArgs, App, SlackEventMiddlewareArgs } from '@slack/bolt';
import { showHome } from '../../../app/home';
import type { SlackDoor } from './context';

/** The Events API's `app_home_opened` (the Home tab): Timebox publishes the person's Home. */
export function homeOpened(door: SlackDoor) {
  return async ({ event, logger }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    // The Messages tab opens too; only the Home tab has a view to publish.
    if (event.tab !== 'home') return;
    await showHome(door.deps, event.user).catch((err: unknown) =>
      logger.warn(`could not publish ${event.user}'s App Home: ${err instanceof Error ? err.message : String(err)}`),
    );
  };
}

export function registerHomeOpened(app: App, door: SlackDoor): void {
  app.event('app_home_opened', homeOpened(door));
}
