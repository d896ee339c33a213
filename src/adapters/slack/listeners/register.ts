import type { App } from '@slack/bolt';
import { registerActions } from './decision-buttons';
import { registerCommands } from './aws-access-command';
import { registerEndButton } from './end-button';
import { registerExtend } from './extend-button';
import { registerOptions } from './menu-options';
import { registerViews } from './request-modal-submission';
import type { SlackDoor } from './context';
import { registerHomeActions } from './home-actions';
import { registerHomeOpened } from './home-opened';
import { registerReviewButton } from './break-glass-review';

export function registerListeners(app: App, door: SlackDoor): void {
  registerCommands(app, door);
  registerActions(app, door);
  registerEndButton(app, door);
  registerExtend(app, door);
  registerViews(app, door);
  registerOptions(app, door);
  registerHomeOpened(app, door);
  registerHomeActions(app, door);
  registerReviewButton(app, door);
}
