/**
 * Reading a catalogue snapshot: the port the policy holds, the static one built from the config,
 * finding an account by id or a permission set by name, and what a rule's `accounts` entry
 * (an id or name, `ou:<ou-id>`, `tag:<key>=<value>`, or "*") selects.
 */
import type { CatalogueAccount, CataloguePermissionSet, CatalogueSnapshot } from './catalogue';
import type { Account, Group, PermissionSet } from './policy';

/**
 * What can be granted right now. `current()` returns a snapshot held in memory (never I/O), so
 * the rule matcher, the form and the command's ack stay synchronous; a discovering catalogue
 * swaps the snapshot on refresh and the next call sees it.
 */
export interface Catalogue {
  current(): CatalogueSnapshot;
}

/** A snapshot of lists known without AWS (the config's): no OU paths, no tags, no session lengths. */
export function snapshotOf(lists: { accounts: readonly Account[]; permissionSets: readonly PermissionSet[]; groups: readonly Group[] }): CatalogueSnapshot {
  return {
    accounts: lists.accounts.map((a) => ({ name: a.name, id: a.id, ouPath: [], tags: {} })),
    permissionSets: lists.permissionSets.map((p) => ({ ...p })),
    groups: lists.groups.map((g) => ({ ...g })),
    source: 'config',
  };
}

/** A catalogue that never changes: the config's own lists. (A class, so two built from the same config compare equal.) */
class StaticCatalogue implements Catalogue {
  constructor(private readonly snapshot: CatalogueSnapshot) {}
  current(): CatalogueSnapshot {
    return this.snapshot;
  }
}
export const staticCatalogue = (snapshot: CatalogueSnapshot): Catalogue => new StaticCatalogue(snapshot);

/** Accounts by id and by lower-cased name (the first of a name), and permission sets by lower-cased name, built once per snapshot. */
const indexes = new WeakMap<CatalogueSnapshot, { accounts: Map<string, CatalogueAccount>; accountNames: Map<string, CatalogueAccount>; permissionSets: Map<string, CataloguePermissionSet> }>();
function indexOf(snapshot: CatalogueSnapshot) {
  let index = indexes.get(snapshot);
  if (!index) {
    const accountNames = new Map<string, CatalogueAccount>();
    for (const a of snapshot.accounts) if (!accountNames.has(lowerOf(a.name))) accountNames.set(lowerOf(a.name), a);
    index = {
      accounts: new Map(snapshot.accounts.map((a) => [a.id, a])),
      accountNames,
      permissionSets: new Map(snapshot.permissionSets.map((p) => [p.name.toLowerCase(), p])),
    };
    indexes.set(snapshot, index);
  }
  return index;
}

export const accountById = (snapshot: CatalogueSnapshot, id: string): CatalogueAccount | undefined => indexOf(snapshot).accounts.get(id);
/** The first account of the snapshot with this name, ignoring case (`lowerName`: already lower-cased). */
export const accountNamed = (snapshot: CatalogueSnapshot, lowerName: string): CatalogueAccount | undefined => indexOf(snapshot).accountNames.get(lowerName);
export const permissionSetNamed = (snapshot: CatalogueSnapshot, name: string): CataloguePermissionSet | undefined => indexOf(snapshot).permissionSets.get(name.toLowerCase());

/** One entry of a rule's `accounts`, read. */
export type AccountSelector =
  | { kind: 'any' }
  /** An account id, or a name (matched ignoring case). */
  | { kind: 'account'; ref: string }
  /** The OU and every OU under it. */
  | { kind: 'ou'; ouId: string }
  | { kind: 'tag'; key: string; value: string };

export const OU_PREFIX = 'ou:';
export const TAG_PREFIX = 'tag:';
/** Organizations' ids: an OU (`ou-<root part>-<ou part>`) or the root (`r-…`). */
export const OU_ID = /^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/;

const parsed = new Map<string, AccountSelector>();
/** What an entry selects. Malformed `ou:`/`tag:` entries are refused by the config (accountSelectorProblem). */
export function accountSelector(entry: string): AccountSelector {
  let selector = parsed.get(entry);
  if (selector) return selector;
  if (entry === '*') selector = { kind: 'any' };
  else if (entry.startsWith(OU_PREFIX)) selector = { kind: 'ou', ouId: entry.slice(OU_PREFIX.length) };
  else if (entry.startsWith(TAG_PREFIX)) {
    const body = entry.slice(TAG_PREFIX.length);
    const eq = body.indexOf('=');
    selector = { kind: 'tag', key: eq < 0 ? body : body.slice(0, eq), value: eq < 0 ? '' : body.slice(eq + 1) };
  } else selector = { kind: 'account', ref: entry };
  if (parsed.size < 10_000) parsed.set(entry, selector);
  return selector;
}

/** Why an `ou:`/`tag:` entry is malformed, or undefined when it is fine (or not one of them). */
export function accountSelectorProblem(entry: string): string | undefined {
  const selector = accountSelector(entry);
  if (selector.kind === 'ou' && !OU_ID.test(selector.ouId)) return `"${entry}" is not an OU: write ou: and the OU's id (e.g. ou:ou-ab12-cdef34gh, or the root r-ab12)`;
  if (selector.kind === 'tag' && (selector.key === '' || !entry.slice(TAG_PREFIX.length).includes('='))) return `"${entry}" is not a tag: write tag:<key>=<value> (e.g. tag:env=dev)`;
  return undefined;
}

/** Whether an entry selects an account. */
export function selects(selector: AccountSelector, account: Pick<CatalogueAccount, 'id' | 'name' | 'ouPath' | 'tags'>): boolean {
  switch (selector.kind) {
    case 'any':
      return true;
    case 'account':
      return selector.ref === account.id || selector.ref.toLowerCase() === account.name.toLowerCase();
    case 'ou':
      return account.ouPath.some((ou) => ou.id === selector.ouId);
    case 'tag':
      return Object.prototype.hasOwnProperty.call(account.tags, selector.key) && account.tags[selector.key] === selector.value;
  }
}

/** A rule's accounts entries, read once (rules never change while they run): what a look-up per target needs. */
interface CompiledEntries {
  any: boolean;
  ids: Set<string>;
  /** Entries that name no id, OU or tag: account names (lower-cased), OUs, tags, in file order. */
  others: Array<{ entry: string; selector: AccountSelector; lowerName?: string }>;
}
const compiledEntries = new WeakMap<readonly string[], CompiledEntries>();
function compile(entries: readonly string[]): CompiledEntries {
  let compiled = compiledEntries.get(entries);
  if (!compiled) {
    compiled = { any: entries.includes('*'), ids: new Set(entries.filter((e) => /^\d{12}$/.test(e))), others: [] };
    for (const entry of entries) {
      if (entry === '*' || compiled.ids.has(entry)) continue;
      const selector = accountSelector(entry);
      compiled.others.push({ entry, selector, ...(selector.kind === 'account' ? { lowerName: selector.ref.toLowerCase() } : {}) });
    }
    compiledEntries.set(entries, compiled);
  }
  return compiled;
}

/** The first of a rule's entries that selects the account ("*" or its id without looking further), or undefined. */
export function selectingEntry(entries: readonly string[], accountId: string, snapshot: CatalogueSnapshot): string | undefined {
  const compiled = compile(entries);
  if (compiled.any) return '*';
  if (compiled.ids.has(accountId)) return accountId;
  if (compiled.others.length === 0) return undefined;
  const account = accountById(snapshot, accountId);
  if (!account) return undefined;
  for (const { entry, selector, lowerName } of compiled.others) {
    if (lowerName !== undefined ? lowerName === lowerOf(account.name) : selects(selector, account)) return entry;
  }
  return undefined;
}

/** Lower-cased names, kept: matching compares the same few thousand names again and again. */
const lowered = new Map<string, string>();
export function lowerOf(name: string): string {
  let lower = lowered.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowered.size < 50_000) lowered.set(name, lower);
  }
  return lower;
}

/** A rule's permission set names, read once: "*", or the names lower-cased. */
const compiledNames = new WeakMap<readonly string[], { any: boolean; names: Set<string> }>();
/** Whether a rule's permission sets (names ignoring case, or "*") include this one. */
export function namesPermissionSet(names: readonly string[], permissionSetName: string): boolean {
  let compiled = compiledNames.get(names);
  if (!compiled) {
    compiled = { any: names.includes('*'), names: new Set(names.map((n) => n.toLowerCase())) };
    compiledNames.set(names, compiled);
  }
  return compiled.any || compiled.names.has(lowerOf(permissionSetName));
}

/**
 * How an OU or tag entry matched, for the approval message: "ou:ou-ab12-cdef34gh (Workloads)" or
 * "tag:env=dev"; undefined for an account named directly or "*" (nothing to add).
 */
export function matchText(entry: string, accountId: string, snapshot: CatalogueSnapshot): string | undefined {
  const selector = accountSelector(entry);
  if (selector.kind === 'tag') return entry;
  if (selector.kind !== 'ou') return undefined;
  const ou = accountById(snapshot, accountId)?.ouPath.find((o) => o.id === selector.ouId);
  return ou && ou.name ? `${entry} (${ou.name})` : entry;
}

/** The name of an OU the snapshot knows (from any account's path), for explanations. */
export function ouName(snapshot: CatalogueSnapshot, ouId: string): string | undefined {
  for (const account of snapshot.accounts) {
    const ou = account.ouPath.find((o) => o.id === ouId);
    if (ou) return ou.name;
  }
  return undefined;
}

/** An entry as people read it: an account id with its name, an OU with its name, a tag as written. */
export function entryLabel(entry: string, snapshot: CatalogueSnapshot): string {
  const selector = accountSelector(entry);
  if (selector.kind === 'ou') {
    const name = ouName(snapshot, selector.ouId);
    return name ? `${entry} (${name})` : entry;
  }
  if (selector.kind === 'account') return accountById(snapshot, entry)?.name ?? entry;
  return entry;
}
