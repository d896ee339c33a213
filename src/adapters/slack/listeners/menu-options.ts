import type { App } from '@slack/bolt';
import { MODAL_BLOCKS, accountOption, groupOption, matchingOptions, permissionSetOption } from '../views/request-modal';
import type { SlackDoor } from './context';

/** Serves the account and permission-set menus when they are too long for a static menu. */
export function registerOptions(app: App, door: SlackDoor): void {
  const { policy } = door.deps;
  app.options(MODAL_BLOCKS.account, async ({ ack, options }) => {
    await ack({ options: matchingOptions(policy.accounts, options.value, (a) => `${a.name} ${a.id}`, accountOption) });
  });
  app.options(MODAL_BLOCKS.permissionSet, async ({ ack, options }) => {
    await ack({ options: matchingOptions(policy.permissionSets, options.value, (p) => p.name, permissionSetOption) });
  });
  app.options(MODAL_BLOCKS.group, async ({ ack, options }) => {
    await ack({ options: matchingOptions(policy.groups, options.value, (g) => g.name, groupOption) });
  });
}
