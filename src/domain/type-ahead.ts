/**
 * What a menu offers for what someone typed (the form's type-ahead): accounts matched by name,
 * id, OU name or tag; permission sets and groups by name. Prefix matches come before matches
 * inside a word, and within each, what the person may request before the rest; at most
 * MENU_LIMIT. Pure and synchronous: the answer goes back in the HTTP reply to Slack.
 */
import type { CatalogueAccount, CatalogueSnapshot } from './catalogue';
import { lowerOf } from './catalogue-view';
import { decider } from './evaluate';
import type { GrantTarget } from './grant-target';
import type { Identity } from './identity';
import type { Group, PermissionSet, Policy } from './policy';

/** Slack's cap on the options of one menu (and of one external select's answer). */
export const MENU_LIMIT = 100;

/** What each account can be found by, lower-cased once per snapshot. */
const searchKeys = new WeakMap<CatalogueSnapshot, Map<CatalogueAccount, { first: string[]; second: string[] }>>();
function keysOf(snapshot: CatalogueSnapshot): Map<CatalogueAccount, { first: string[]; second: string[] }> {
  let keys = searchKeys.get(snapshot);
  if (!keys) {
    keys = new Map(
      snapshot.accounts.map((a) => [
        a,
        {
          // Its own name and id rank above where it sits and how it is tagged.
          first: [lowerOf(a.name), a.id],
          second: [...a.ouPath.map((ou) => lowerOf(ou.name)), ...Object.entries(a.tags).flatMap(([k, v]) => [`${k}=${v}`.toLowerCase(), v.toLowerCase()])],
        },
      ]),
    );
    searchKeys.set(snapshot, keys);
  }
  return keys;
}

/**
 * How well an item matches: 0 its name (or id) starts with the text, 1 another key starts with it
 * (an OU's name, a tag as key=value or its value), 2 the text is inside one of them; undefined: no match.
 */
function rank(first: readonly string[], second: readonly string[], needle: string): number | undefined {
  if (first.some((k) => k.startsWith(needle))) return 0;
  if (second.some((k) => k.startsWith(needle))) return 1;
  return first.some((k) => k.includes(needle)) || second.some((k) => k.includes(needle)) ? 2 : undefined;
}

/** Items in rank order, those the person may request first within each rank, catalogue order otherwise; at most `limit`. */
function ranked<T>(items: readonly T[], rankOf: (item: T) => number | undefined, mayRequest: (item: T) => boolean, limit: number): T[] {
  const buckets: T[][] = [[], [], [], [], [], []];
  for (const item of items) {
    const r = rankOf(item);
    if (r !== undefined) buckets[r * 2 + (mayRequest(item) ? 0 : 1)]!.push(item);
  }
  return buckets.flat().slice(0, limit);
}

const needleOf = (typed: string): string => typed.trim().toLowerCase();

export function findAccounts(snapshot: CatalogueSnapshot, typed: string, mayRequest: (account: CatalogueAccount) => boolean, limit = MENU_LIMIT): CatalogueAccount[] {
  const needle = needleOf(typed);
  const keys = keysOf(snapshot);
  return ranked(snapshot.accounts, (a) => (needle === '' ? 0 : rank(keys.get(a)!.first, keys.get(a)!.second, needle)), mayRequest, limit);
}

export function findByName<T extends { name: string }>(items: readonly T[], typed: string, mayRequest: (item: T) => boolean, limit = MENU_LIMIT): T[] {
  const needle = needleOf(typed);
  return ranked(items, (i) => (needle === '' ? 0 : rank([lowerOf(i.name)], [], needle)), mayRequest, limit);
}

/**
 * What `person` may request, asked item by item (read off `decider`, the deciding rule only): an
 * account with a permission set a rule allows them (among `permissionSets`, all by default), a
 * permission set allowed on one of `accounts` (all by default), a group whose membership is allowed.
 */
export function requestable(policy: Pick<Policy, 'catalogue' | 'rules'>, person: Identity, snapshot: CatalogueSnapshot = policy.catalogue.current()) {
  const { decide, anyRuleOn } = decider(policy, person, false, snapshot);
  // Most accounts have no rule for a given person: they are passed over without asking per permission set.
  const allowed = (account: CatalogueAccount, set: PermissionSet): boolean =>
    anyRuleOn(account.id) && decide({ kind: 'account', accountId: account.id, accountName: account.name, permissionSetName: set.name, permissionSetArn: set.arn }).kind === 'allowed';
  // The accounts any rule could decide on, once per list asked about (a menu asks for each of its permission sets).
  const ruledLists = new WeakMap<readonly CatalogueAccount[], CatalogueAccount[]>();
  const ruled = (accounts: readonly CatalogueAccount[]): CatalogueAccount[] => {
    let found = ruledLists.get(accounts);
    if (!found) {
      found = accounts.filter((a) => anyRuleOn(a.id));
      ruledLists.set(accounts, found);
    }
    return found;
  };
  return {
    account: (account: CatalogueAccount, permissionSets: readonly PermissionSet[] = snapshot.permissionSets): boolean => permissionSets.some((set) => allowed(account, set)),
    permissionSet: (set: PermissionSet, accounts: readonly CatalogueAccount[] = snapshot.accounts): boolean => ruled(accounts).some((account) => allowed(account, set)),
    group: (group: Group): boolean => decide({ kind: 'group', groupId: group.id, groupName: group.name } satisfies GrantTarget).kind === 'allowed',
  };
}
