import { applyDiscovery, catalogueChanges, type CatalogueSnapshot, type DiscoveredOrganization, type DiscoverySettings } from '../../../src/domain/catalogue';

const PROD_OU = { id: 'ou-ab12-00000001', name: 'workloads' };
const PROD_EU = { id: 'ou-ab12-00000002', name: 'workloads-prod' };
const SANDBOX_OU = { id: 'ou-ab12-00000009', name: 'sandbox' };
const ARN = (n: string) => `arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-${n.padStart(16, '0')}`;

const config: CatalogueSnapshot = {
  accounts: [{ id: '111111111111', name: 'shared', ouPath: [], tags: {} }],
  permissionSets: [{ name: 'ReadOnly', arn: ARN('1') }],
  groups: [{ name: 'oncall', id: 'g-1' }],
  source: 'config',
};
const discovered: DiscoveredOrganization & { readAt: number } = {
  readAt: 1_700_000_000_000,
  accounts: [
    { id: '111111111111', name: 'Shared Services', ouPath: [PROD_OU], tags: { env: 'prod' } },
    { id: '222222222222', name: 'payments-prod', ouPath: [PROD_OU, PROD_EU], tags: { env: 'prod', team: 'payments' } },
    { id: '333333333333', name: 'sandbox-1', ouPath: [SANDBOX_OU], tags: { env: 'dev' } },
  ],
  permissionSets: [
    { name: 'ReadOnly', arn: ARN('1'), sessionDurationMs: 3_600_000, description: 'read' },
    { name: 'Admin', arn: ARN('2'), sessionDurationMs: 43_200_000 },
    { name: 'ViewOnlyRenamed', arn: ARN('3'), sessionDurationMs: 7_200_000 },
  ],
};
const settings = (accounts?: DiscoverySettings['accounts'], permissionSets = true): DiscoverySettings => ({ ...(accounts ? { accounts } : {}), permissionSets, refreshMs: 900_000 });
const names = (s: CatalogueSnapshot) => s.accounts.map((a) => a.name);

describe('large-orgs: applyDiscovery combines the config with what was discovered', () => {
  test('config names and `names` win over Organizations names; OU path and tags stay AWS facts; sorted by name', () => {
    const out = applyDiscovery(config, discovered, settings({ names: { '333333333333': 'sandbox' } }));
    expect(names(out)).toEqual(['payments-prod', 'sandbox', 'shared']);
    expect(out.accounts.find((a) => a.id === '111111111111')).toEqual({ id: '111111111111', name: 'shared', ouPath: [PROD_OU], tags: { env: 'prod' } });
    expect(out.source).toBe('discovery');
    expect(out.readAt).toBe(discovered.readAt);
    expect(out.groups).toBe(config.groups);
  });

  test('include keeps only ids, names and ou:<id> (the OU and every OU under it); exclude then drops', () => {
    expect(names(applyDiscovery(config, discovered, settings({ names: {}, include: [`ou:${PROD_OU.id}`] })))).toEqual(['payments-prod', 'shared']);
    expect(names(applyDiscovery(config, discovered, settings({ names: {}, include: [`ou:${PROD_OU.id}`], exclude: ['payments-prod'] })))).toEqual(['shared']);
    expect(names(applyDiscovery(config, discovered, settings({ names: {}, exclude: ['333333333333', `ou:${PROD_EU.id}`] })))).toEqual(['shared']);
    // An include naming nothing that exists keeps nothing (not everything).
    expect(names(applyDiscovery(config, discovered, settings({ names: {}, include: ['ou:ou-ab12-99999999'] })))).toEqual([]);
  });

  test('without account discovery only the config map counts; a config account AWS does not know is kept as written', () => {
    const out = applyDiscovery({ ...config, accounts: [...config.accounts, { id: '444444444444', name: 'legacy', ouPath: [], tags: {} }] }, discovered, settings(undefined));
    expect(names(out)).toEqual(['legacy', 'shared']);
    const withDiscovery = applyDiscovery({ ...config, accounts: [{ id: '444444444444', name: 'legacy', ouPath: [], tags: {} }] }, discovered, settings({ names: {} }));
    expect(names(withDiscovery)).toEqual(['Shared Services', 'legacy', 'payments-prod', 'sandbox-1']);
  });

  test('permission sets combine: the config ARN learns its session duration; a config name for a discovered ARN is used once; discovery off keeps the config only', () => {
    const out = applyDiscovery({ ...config, permissionSets: [...config.permissionSets, { name: 'ViewOnly', arn: ARN('3') }] }, discovered, settings({ names: {} }));
    expect(out.permissionSets).toEqual([
      { name: 'Admin', arn: ARN('2'), sessionDurationMs: 43_200_000 },
      { name: 'ReadOnly', arn: ARN('1'), sessionDurationMs: 3_600_000, description: 'read' },
      { name: 'ViewOnly', arn: ARN('3'), sessionDurationMs: 7_200_000 },
    ]);
    expect(applyDiscovery(config, discovered, settings({ names: {} }, false)).permissionSets).toEqual(config.permissionSets);
    const noDiscovery = applyDiscovery(config, discovered, settings(undefined, false));
    expect(noDiscovery.source).toBe('config');
    expect(noDiscovery.readAt).toBeUndefined();
  });
});

describe('large-orgs: catalogueChanges says what a refresh added and removed', () => {
  test('accounts by id, permission sets by ARN; a renamed account is neither added nor removed; no snapshot before means everything was added', () => {
    const before = applyDiscovery(config, discovered, settings({ names: {} }));
    const after = applyDiscovery(config, { ...discovered, accounts: [...discovered.accounts.slice(1, 2), { id: '555555555555', name: 'new', ouPath: [], tags: {} }], permissionSets: discovered.permissionSets.slice(0, 2) }, settings({ names: { '222222222222': 'renamed' } }));
    expect(catalogueChanges(before, after)).toEqual({
      accountsAdded: [{ id: '555555555555', name: 'new' }],
      accountsRemoved: [{ id: '333333333333', name: 'sandbox-1' }],
      permissionSetsAdded: [],
      permissionSetsRemoved: [{ name: 'ViewOnlyRenamed', arn: ARN('3') }],
    });
    expect(catalogueChanges(undefined, before).accountsAdded).toHaveLength(3);
  });
});
