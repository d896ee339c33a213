/**
 * What can be granted: the accounts (with where they sit in the organisation and their tags), the
 * permission sets (with how long their AWS sessions last) and the groups. Static config and
 * discovery from AWS Organizations / Identity Center are two sources of the same snapshot; the
 * rule matcher, the form and the menus read a snapshot, so matching stays synchronous.
 */
import type { Account, Group, PermissionSet } from './policy';

/** An organisational unit, as Organizations names it. */
export interface OrgUnit {
  /** `ou-…`, or the root's `r-…`. */
  id: string;
  name: string;
}

export interface CatalogueAccount extends Account {
  /** The OUs the account sits under, the root's first child first and its own parent last; empty when unknown (static config). */
  ouPath: OrgUnit[];
  /** Organizations tags, key → value; empty when unknown. */
  tags: Record<string, string>;
}

export interface CataloguePermissionSet extends PermissionSet {
  description?: string;
  /** The permission set's SessionDuration in ms (DescribePermissionSet), when known. */
  sessionDurationMs?: number;
}

export interface CatalogueSnapshot {
  accounts: CatalogueAccount[];
  permissionSets: CataloguePermissionSet[];
  groups: Group[];
  /** Where it came from: the config file only, or (partly) discovered from AWS. */
  source: 'config' | 'discovery';
  /** When the discovered part was read from AWS (epoch ms); undefined for config only. */
  readAt?: number;
}

/** What discovery reads from AWS, before the config's include / exclude / names are applied. */
export interface DiscoveredOrganization {
  /** ACTIVE accounts only (suspended and closed ones are left out by the reader). */
  accounts: CatalogueAccount[];
  permissionSets: CataloguePermissionSet[];
}

/** The config's discovery settings (accounts: discover / { discover: true, … }, permissionSets: discover, discovery.refresh). */
export interface DiscoverySettings {
  /** Undefined: accounts come from the config's map only. */
  accounts?: {
    /** When set, only these accounts (ids or names, `ou:<id>` for an OU and everything under it) are kept. */
    include?: string[];
    /** Left out even when discovered (ids, names or `ou:<id>`). */
    exclude?: string[];
    /** id → the name Timebox uses for it (instead of the Organizations name). */
    names: Record<string, string>;
  };
  /** Permission sets are read from Identity Center (the config's map, if any, is combined with them). */
  permissionSets: boolean;
  /** How often the cache is refreshed (discovery.refresh, default 15m). */
  refreshMs: number;
}

/**
 * Discovery could not read the organisation (AWS refused, throttled past every retry, or could
 * not be reached). Its message is one line, fit to print at start-up and exit 1 on; kept here
 * with the rest of discovery rather than in errors.ts (the code is `discovery_failed`).
 */
export class DiscoveryFailedError extends Error {
  readonly code = 'discovery_failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message.replace(/\s*\n\s*/g, ' '), options);
    this.name = 'DiscoveryFailedError';
  }
}

/** Whether an account matches an include / exclude entry: its id, its (config or discovered) name, or `ou:<id>` of an OU it sits under. */
function accountMatches(account: CatalogueAccount, entry: string): boolean {
  if (entry.startsWith('ou:')) {
    const ouId = entry.slice(3);
    return account.ouPath.some((ou) => ou.id === ouId);
  }
  return entry === account.id || entry === account.name;
}

/**
 * The catalogue Timebox works from: the config's accounts and permission sets combined with what
 * discovery found. Config wins where both know a thing (its name for an account id, its ARN for a
 * permission set name) and `names` renames discovered accounts; include keeps only what it names,
 * exclude then drops what it names (config accounts included: an operator excluding an id means it).
 * A discovered account keeps its OU path and tags under whatever name it is given; the result is
 * sorted by name so menus and type-ahead read it in a stable order.
 */
export function applyDiscovery(config: CatalogueSnapshot, discovered: DiscoveredOrganization & { readAt: number }, settings: DiscoverySettings): CatalogueSnapshot {
  const byId = new Map<string, CatalogueAccount>();
  if (settings.accounts) {
    const { names, include, exclude } = settings.accounts;
    for (const found of discovered.accounts) {
      byId.set(found.id, { ...found, name: names[found.id] ?? found.name, ouPath: [...found.ouPath], tags: { ...found.tags } });
    }
    for (const own of config.accounts) {
      const found = byId.get(own.id);
      // The config's name wins, but where the account sits and its tags are AWS's facts.
      byId.set(own.id, found ? { ...found, name: own.name } : { ...own, ouPath: [...own.ouPath], tags: { ...own.tags } });
    }
    for (const [id, account] of byId) {
      const kept = include === undefined || include.length === 0 || include.some((e) => accountMatches(account, e));
      if (!kept || (exclude ?? []).some((e) => accountMatches(account, e))) byId.delete(id);
    }
  } else {
    for (const own of config.accounts) byId.set(own.id, own);
  }

  const byName = new Map<string, CataloguePermissionSet>();
  // A set the config names under another name is the config's: it is listed once, under that name.
  const configArns = new Map(config.permissionSets.map((p) => [p.arn, p.name]));
  if (settings.permissionSets) {
    for (const found of discovered.permissionSets) {
      const configName = configArns.get(found.arn);
      if (configName === undefined || configName === found.name) byName.set(found.name, { ...found });
      else byName.set(configName, { ...found, name: configName });
    }
  }
  for (const own of config.permissionSets) {
    const found = byName.get(own.name);
    // Same name, same set: keep the config's ARN but learn its session length and description.
    byName.set(own.name, found && found.arn === own.arn ? { ...found, ...own, sessionDurationMs: own.sessionDurationMs ?? found.sessionDurationMs } : own);
  }
  const byNameOrder = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    accounts: [...byId.values()].sort(byNameOrder),
    permissionSets: [...byName.values()].sort(byNameOrder),
    groups: config.groups,
    source: settings.accounts || settings.permissionSets ? 'discovery' : 'config',
    ...(settings.accounts || settings.permissionSets ? { readAt: discovered.readAt } : {}),
  };
}

/** What a refresh changed in the catalogue people see (after include / exclude / names). */
export interface CatalogueChanges {
  accountsAdded: Account[];
  accountsRemoved: Account[];
  permissionSetsAdded: PermissionSet[];
  permissionSetsRemoved: PermissionSet[];
}

/** Accounts added and removed (by id), permission sets added and removed (by ARN), between two snapshots. */
export function catalogueChanges(before: CatalogueSnapshot | undefined, after: CatalogueSnapshot): CatalogueChanges {
  const diff = <T, K, V>(from: T[], to: T[], key: (t: T) => K, view: (t: T) => V): V[] => {
    const known = new Set(from.map(key));
    return to.filter((t) => !known.has(key(t))).map(view);
  };
  const account = (a: CatalogueAccount): Account => ({ id: a.id, name: a.name });
  const set = (p: CataloguePermissionSet): PermissionSet => ({ name: p.name, arn: p.arn });
  const beforeAccounts = before?.accounts ?? [];
  const beforeSets = before?.permissionSets ?? [];
  return {
    accountsAdded: diff(beforeAccounts, after.accounts, (a) => a.id, account),
    accountsRemoved: diff(after.accounts, beforeAccounts, (a) => a.id, account),
    permissionSetsAdded: diff(beforeSets, after.permissionSets, (p) => p.arn, set),
    permissionSetsRemoved: diff(after.permissionSets, beforeSets, (p) => p.arn, set),
  };
}
