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
