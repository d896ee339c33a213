/**
 * An AWS organisation for the stand-in (what Organizations and Identity Center would hold), and a
 * builder for a large one: N accounts (default 1,000) spread over OUs nested three levels deep,
 * each with tags, some suspended or closed, and M permission sets (default 100) with varied
 * session durations. Tests and the bench seed the stand-in with it and compare what discovery
 * reads with `expected`, which is worked out here from the same data, not by the code under test.
 */
import type { AwsStandIn } from './aws-stand-in';

/** Organizations' account State (Status is derived from it, as AWS still sends both). */
export type StandInAccountState = 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'CLOSED';

export interface StandInOrgUnit {
  /** ou-<root part>-<8+ chars> */
  id: string;
  name: string;
  /** The root's id or another OU's. */
  parentId: string;
}

export interface StandInOrgAccount {
  id: string;
  name: string;
  email: string;
  state: StandInAccountState;
  /** The root's id or an OU's. */
  parentId: string;
  tags: Record<string, string>;
}

export interface StandInOrganization {
  /** o-… */
  id: string;
  /** r-… */
  rootId: string;
  managementAccountId: string;
  units: StandInOrgUnit[];
  accounts: StandInOrgAccount[];
}

export interface StandInPermissionSetSeed {
  permissionSetArn: string;
  name: string;
  description?: string;
  /** ISO 8601, as AWS keeps it (PT1H … PT12H). */
  sessionDuration: string;
}

export interface OrganizationFixture {
  organization: StandInOrganization;
  permissionSets: StandInPermissionSetSeed[];
  expected: {
    /** The ACTIVE accounts, with their OU path (the root's first child first) and tags. */
    accounts: Array<{ id: string; name: string; ouPath: Array<{ id: string; name: string }>; tags: Record<string, string> }>;
    permissionSets: Array<{ arn: string; name: string; description?: string; sessionDurationMs: number }>;
    suspendedOrClosedIds: string[];
  };
}

export interface OrganizationFixtureOptions {
  /** Accounts in the organisation, active or not (default 1,000). */
  accounts?: number;
  /** Permission sets in the instance (default 100). */
  permissionSets?: number;
  /** The instance the permission sets belong to (default: the stand-in's instance). */
  instanceArn?: string;
}

export const FIXTURE_INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
export const FIXTURE_ROOT_ID = 'r-ab12';
const TOP_LEVEL = ['workloads', 'sandbox', 'security', 'infrastructure'];
const SECOND_LEVEL = ['prod', 'staging', 'dev'];
const THIRD_LEVEL = ['eu', 'us'];
const TEAMS = ['payments', 'search', 'identity', 'data', 'platform', 'mobile', 'web'];
const DURATIONS = ['PT1H', 'PT2H', 'PT4H', 'PT8H', 'PT12H', 'PT30M', 'PT1H30M'];

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
/** ISO 8601 PTnHnM → ms (only the forms the fixture uses). */
function durationMs(iso: string): number {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?$/.exec(iso);
  if (!m) throw new Error(`fixture duration ${iso}`);
  return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60_000;
}

export function accountIdFor(i: number): string {
  return `3${String(i).padStart(11, '0')}`;
}

/** A permission set ARN of `instanceArn`'s shape: arn:aws:sso:::permissionSet/ssoins-…/ps-<16 hex>. */
export function permissionSetArnFor(i: number, instanceArn = FIXTURE_INSTANCE_ARN): string {
  const instanceId = instanceArn.split('/').pop() ?? 'ssoins-1234567890abcdef';
  return `arn:aws:sso:::permissionSet/${instanceId}/ps-${hex(i + 1, 16)}`;
}

export function buildOrganization(options: OrganizationFixtureOptions = {}): OrganizationFixture {
  const accountCount = options.accounts ?? 1000;
  const setCount = options.permissionSets ?? 100;
  const units: StandInOrgUnit[] = [];
  let unitSeq = 0;
  const newUnit = (name: string, parentId: string): StandInOrgUnit => {
    const unit = { id: `ou-ab12-${hex(++unitSeq, 8)}`, name, parentId };
    units.push(unit);
    return unit;
  };
  // 4 top-level OUs, 3 under each, 2 under each of those: 40 OUs, 3 levels.
  for (const top of TOP_LEVEL) {
    const a = newUnit(top, FIXTURE_ROOT_ID);
    for (const second of SECOND_LEVEL) {
      const b = newUnit(`${top}-${second}`, a.id);
      for (const third of THIRD_LEVEL) newUnit(`${top}-${second}-${third}`, b.id);
    }
  }
  // Accounts go round the root and every OU, so every level holds some.
  const parents = [FIXTURE_ROOT_ID, ...units.map((u) => u.id)];
  const accounts: StandInOrgAccount[] = [];
  for (let i = 0; i < accountCount; i++) {
    const state: StandInAccountState = i % 50 === 7 ? 'SUSPENDED' : i % 125 === 11 ? 'CLOSED' : i % 333 === 13 ? 'PENDING_CLOSURE' : 'ACTIVE';
    const team = TEAMS[i % TEAMS.length] ?? 'platform';
    accounts.push({
      id: accountIdFor(i),
      name: `${team}-${String(i).padStart(4, '0')}`,
      email: `aws+${i}@example.com`,
      state,
      parentId: parents[i % parents.length] ?? FIXTURE_ROOT_ID,
      // Five tags each, as the cache's size budget assumes.
      tags: { env: ['prod', 'staging', 'dev'][i % 3] ?? 'dev', team, 'cost-center': `cc-${1000 + (i % 40)}`, owner: `${team}-lead@example.com`, tier: `tier-${(i % 4) + 1}` },
    });
  }
  const organization: StandInOrganization = { id: 'o-ab12cd34ef', rootId: FIXTURE_ROOT_ID, managementAccountId: '123456789012', units, accounts };

  const permissionSets: StandInPermissionSetSeed[] = [];
  for (let i = 0; i < setCount; i++) {
    permissionSets.push({
      permissionSetArn: permissionSetArnFor(i, options.instanceArn),
      name: `Role${String(i).padStart(3, '0')}`,
      ...(i % 3 === 0 ? {} : { description: `Permission set number ${i}` }),
      sessionDuration: DURATIONS[i % DURATIONS.length] ?? 'PT1H',
    });
  }

  const unitById = new Map(units.map((u) => [u.id, u]));
  const pathOf = (parentId: string): Array<{ id: string; name: string }> => {
    const path: Array<{ id: string; name: string }> = [];
    for (let unit = unitById.get(parentId); unit; unit = unitById.get(unit.parentId)) path.unshift({ id: unit.id, name: unit.name });
    return path;
  };
  return {
    organization,
    permissionSets,
    expected: {
      accounts: accounts.filter((a) => a.state === 'ACTIVE').map((a) => ({ id: a.id, name: a.name, ouPath: pathOf(a.parentId), tags: { ...a.tags } })),
      permissionSets: permissionSets.map((p) => ({
        arn: p.permissionSetArn,
        name: p.name,
        ...(p.description === undefined ? {} : { description: p.description }),
        sessionDurationMs: durationMs(p.sessionDuration),
      })),
      suspendedOrClosedIds: accounts.filter((a) => a.state !== 'ACTIVE').map((a) => a.id),
    },
  };
}

/** Puts the fixture's organisation and permission sets into the stand-in. */
export function seedOrganization(aws: AwsStandIn, fixture: OrganizationFixture): void {
  aws.setOrganization(fixture.organization);
  for (const p of fixture.permissionSets) aws.addPermissionSet(p);
}
