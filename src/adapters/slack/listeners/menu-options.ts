import type { App } from '@slack/bolt';
import { MODAL_BLOCKS, accountOption, groupOption, matchingOptions, permissionSetOption } from '../views/request-modal';
import type { SlackDoor } from './context';

/** Serves the account and permission-set menus when they are too long for a static menu, from the catalogue as it is now. */
export function registerOptions(app: App, door: SlackDoor): void {
  const { policy } = door.deps;
  app.options(MODAL_BLOCKS.account, async ({ ack, options }) => {
    await ack({ options: matchingOptions(policy.catalogue.current().accounts, options.value, (a) => `${a.name} ${a.id}`, accountOption) });
  });
  app.options(MODAL_BLOCKS.permissionSet, async ({ ack, options }) => {
    await ack({ options: matchingOptions(policy.catalogue.current().permissionSets, options.value, (p) => p.name, permissionSetOption) });
  });
  app.options(MODAL_BLOCKS.group, async ({ ack, options }) => {
    await ack({ options: matchingOptions(policy.catalogue.current().groups, options.value, (g) => g.name, groupOption) });
  });
}
