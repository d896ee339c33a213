import type { App, BlockSuggestion } from '@slack/bolt';
import * as z from '../../../lib/zod';
import type { CatalogueAccount, CatalogueSnapshot } from '../../../domain/catalogue';
import { accountById, permissionSetNamed } from '../../../domain/catalogue-view';
import type { PermissionSet } from '../../../domain/policy';
import { findAccounts, findByName, requestable } from '../../../domain/type-ahead';
import { MODAL_BLOCKS, accountOption, askerIdentity, groupOption, permissionSetOption, type AskerMetadata } from '../views/request-modal';
import type { SlackDoor } from './context';

const askerSchema = z.object({ asker: z.object({ email: z.string().optional(), in: z.array(z.string()).optional(), unchecked: z.array(z.string()).optional() }).optional() }).catch({});

function metadataOf(body: BlockSuggestion): AskerMetadata | undefined {
  try {
    return askerSchema.parse(JSON.parse(body.view?.private_metadata ?? '{}')).asker;
  } catch {
    return undefined;
  }
}

/** What is already chosen in another menu of the form (Slack sends the form's state with each query). */
function chosenIn(body: BlockSuggestion, block: string): string[] {
  const element = body.view?.state?.values?.[block]?.[block];
  return (element?.selected_options ?? []).map((o) => o.value).filter((v): v is string => typeof v === 'string');
}

const known = <T>(items: Array<T | undefined>): T[] | undefined => {
  const found = items.filter((i): i is T => i !== undefined);
  return found.length > 0 ? found : undefined;
};

/**
 * Serves the account, permission-set and group menus when they are too long for a static menu,
 * from the catalogue as it is now: matches by name, id, OU name and tag, prefix matches first,
 * what the person may request first, at most 100. Nothing is looked up (who is typing is what the
 * form remembered when it opened), so the answer is in Slack's HTTP reply.
 */
export function registerOptions(app: App, door: SlackDoor): void {
  const { policy } = door.deps;
  const context = (body: BlockSuggestion) => {
    const snapshot: CatalogueSnapshot = policy.catalogue.current();
    return { snapshot, may: requestable(policy, askerIdentity(policy, body.user.id, metadataOf(body)), snapshot) };
  };
  app.options<'block_suggestion'>(MODAL_BLOCKS.account, async ({ ack, body }) => {
    const { snapshot, may } = context(body);
    // Requestable with a permission set already chosen, when one is.
    const sets = known<PermissionSet>(chosenIn(body, MODAL_BLOCKS.permissionSet).map((name) => permissionSetNamed(snapshot, name)));
    await ack({ options: findAccounts(snapshot, body.value, (a) => may.account(a, sets)).map(accountOption) });
  });
  app.options<'block_suggestion'>(MODAL_BLOCKS.permissionSet, async ({ ack, body }) => {
    const { snapshot, may } = context(body);
    const accounts = known<CatalogueAccount>(chosenIn(body, MODAL_BLOCKS.account).map((id) => accountById(snapshot, id)));
    await ack({ options: findByName(snapshot.permissionSets, body.value, (p) => may.permissionSet(p, accounts)).map(permissionSetOption) });
  });
  app.options<'block_suggestion'>(MODAL_BLOCKS.group, async ({ ack, body }) => {
    const { snapshot, may } = context(body);
    await ack({ options: findByName(snapshot.groups, body.value, (g) => may.group(g)).map(groupOption) });
  });
}
