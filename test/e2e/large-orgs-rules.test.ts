import pino from 'pino';
import type { CatalogueAccount, CatalogueSnapshot } from '../../src/domain/catalogue';
import { SwappableCatalogue } from '../support/in-memory-ports';
import { GROUPS, INSTANCE_ARN, PEOPLE, PERMISSION_SETS, REVOKED_WITHIN_MS, TimeboxHarness, type PersonName, DISCOVERING_CONFIG_HEAD } from '../support/timebox-harness';

/**
 * An organisation as discovery would give it (injected, so this is about the rules, the form and
 * the messages, not about reading AWS): accounts in nested OUs with tags, and permission sets with
 * their session durations. The config discovers both and writes rules by OU and by tag.
 */
const WORKLOADS = { id: 'ou-ab12-workload1', name: 'Workloads' };
const NONPROD = { id: 'ou-ab12-nonprod01', name: 'NonProd' };
const SANDBOXES = { id: 'ou-ab12-sandbox01', name: 'Sandboxes' };
const account = (name: string, id: string, ouPath: CatalogueAccount['ouPath'], tags: Record<string, string> = {}): CatalogueAccount => ({ name, id, ouPath, tags });
const STAGING = account('staging', '111111111111', [WORKLOADS, NONPROD], { env: 'staging' });
const PRODUCTION = account('production', '222222222222', [], { env: 'prod' });
const DEV_SANDBOX = account('dev-sandbox', '444444444444', [SANDBOXES], { env: 'dev' });
const NEW_DEV = account('new-dev', '555555555555', [SANDBOXES], { env: 'dev' });
const LEGACY = account('legacy', '333333333333', [], {});
const H = 3_600_000;

const organisation = (accounts: CatalogueAccount[]): CatalogueSnapshot => ({
  accounts,
  permissionSets: [
    { name: 'ReadOnly', arn: PERMISSION_SETS.ReadOnly, sessionDurationMs: H },
    { name: 'Admin', arn: PERMISSION_SETS.Admin, sessionDurationMs: 12 * H },
  ],
  groups: Object.entries(GROUPS).map(([name, id]) => ({ name, id })),
  source: 'discovery',
  readAt: 0,
});

const CONFIG = `${DISCOVERING_CONFIG_HEAD}
  - name: workloads-readonly
    accounts: ["ou:${WORKLOADS.id}"]
    permissionSets: [ReadOnly]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 1h
  - name: dev-admin
    accounts: ["tag:env=dev"]
    permissionSets: [Admin]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 2h
  - name: legacy-readonly
    accounts: [legacy]
    permissionSets: [ReadOnly]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 1h
  - name: dev-readonly-auto
    accounts: ["tag:env=dev"]
    permissionSets: [ReadOnly]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h
`;

describe('large-orgs: rules by OU and tag over the catalogue', () => {
  let h: TimeboxHarness;
  const catalogue = new SwappableCatalogue(organisation([STAGING, PRODUCTION, DEV_SANDBOX]));
  const logged: Array<{ level: number; msg: string }> = [];

  beforeAll(async () => {
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line) as { level: number; msg: string }) });
    h = await TimeboxHarness.start({ configYaml: CONFIG, catalogue, logger });
  });
  afterAll(async () => {
    await h.stop();
  });

  /** The ephemeral answer's text, its blocks' sections joined when it has blocks (whocan, why, available). */
  const ask = async (who: PersonName, text: string): Promise<string> => {
    const { response, text: plain } = await h.command(who, text);
    const blocks = (response.json() as { blocks?: Array<{ text?: { text: string } }> }).blocks ?? [];
    return blocks.length > 0 ? blocks.map((b) => b.text?.text ?? '').join('\n') : plain;
  };

  const fileAndShow = async (who: PersonName, text: string) => {
    const id = await h.file(who, text);
    const message = await h.approvalMessage(id);
    return { id, shown: JSON.stringify(message.blocks) };
  };

  test('an account in a sub-OU of the rule\'s OU is matched by the OU rule, and the channel message says which OU matched', async () => {
    const { id, shown } = await fileAndShow('carol', 'staging ReadOnly 30m check the nonprod queue');
    expect((await h.request(id)).grants.map((g) => [g.ruleName, g.status])).toEqual([['workloads-readonly', 'PENDING']]);
    expect(shown).toContain(`matched ou:${WORKLOADS.id} (Workloads)`);
  });

  test('an account outside the OU is not matched by the OU rule: the request is refused', async () => {
    const { text } = await h.command('carol', 'production ReadOnly 30m not in the OU');
    expect(text).toContain('No rule allows you to request ReadOnly on production (222222222222)');
  });

  test('an account tagged env=dev is matched by the tag rule, and the channel message says which tag matched', async () => {
    const { id, shown } = await fileAndShow('carol', 'dev-sandbox Admin 1h try the new role');
    expect((await h.request(id)).grants.map((g) => g.ruleName)).toEqual(['dev-admin']);
    expect(shown).toContain('matched tag:env=dev');
  });

  test('a permission set whose AWS sessions outlast the window: the approval message says "AWS sessions last up to 12h"; one within the window says nothing', async () => {
    const { shown } = await fileAndShow('carol', 'dev-sandbox Admin 2h long job');
    expect(shown).toContain('AWS sessions last up to 12h');
    const { shown: readOnly } = await fileAndShow('carol', 'staging ReadOnly 1h a short look');
    expect(readOnly).not.toContain('AWS sessions last up to');
  });

  test('start-up warns about the session length and the rule naming an account that is not in the organisation, and keeps serving', async () => {
    const warnings = logged.filter((l) => l.level === 40).map((l) => l.msg);
    expect(warnings).toContainEqual(expect.stringContaining('permission set "Admin": AWS sessions last up to 12h, longer than the longest window a rule allows for it (2h, rule "dev-admin")'));
    expect(warnings).toContainEqual(expect.stringContaining('rules[2] "legacy-readonly": the account "legacy" is not in the organisation as discovered, so this entry matches nothing'));
    expect(warnings.some((w) => w.includes('ReadOnly'))).toBe(false);
  });

  test('a refreshed catalogue is used by the next request without a restart: an account added with the tag is matched, an account removed is unknown', async () => {
    const { text: before } = await h.command('carol', 'new-dev Admin 1h not there yet');
    expect(before).toContain('Unknown account "new-dev"');
    catalogue.swap(organisation([STAGING, PRODUCTION, NEW_DEV]));
    const { id, shown } = await fileAndShow('carol', 'new-dev Admin 1h the account created today');
    expect((await h.request(id)).grants.map((g) => [g.target.kind === 'account' ? g.target.accountId : '', g.ruleName])).toEqual([[NEW_DEV.id, 'dev-admin']]);
    expect(shown).toContain('matched tag:env=dev');
    const { text: gone } = await h.command('carol', 'dev-sandbox Admin 1h closed yesterday');
    expect(gone).toContain('Unknown account "dev-sandbox"');
    catalogue.swap(organisation([STAGING, PRODUCTION, DEV_SANDBOX]));
  });

  test('a rule naming an account that is not in the organisation matches nothing; once a refresh finds the account the next request matches it, and when it vanishes again it is unknown', async () => {
    const whocan = await ask('alice', 'whocan staging ReadOnly');
    expect(whocan).not.toContain('legacy-readonly');
    // An account named legacy appears: the rule names it by name, so it matches it now (and only it).
    catalogue.swap(organisation([STAGING, PRODUCTION, DEV_SANDBOX, LEGACY]));
    const id = await h.file('carol', 'legacy ReadOnly 30m it is back');
    expect((await h.request(id)).grants.map((g) => g.ruleName)).toEqual(['legacy-readonly']);
    catalogue.swap(organisation([STAGING, PRODUCTION, DEV_SANDBOX]));
    const { text } = await h.command('carol', 'legacy ReadOnly 30m gone again');
    expect(text).toContain('Unknown account "legacy"');
  });

  test('whocan, why and available explain the OU and tag rules', async () => {
    const whocan = await ask('alice', 'whocan staging ReadOnly');
    expect(whocan).toContain('workloads-readonly');
    expect(whocan).toContain(`covers staging by ou:${WORKLOADS.id} (Workloads)`);
    const why = await ask('carol', 'why production Admin');
    expect(why).toContain('it covers accounts tag:env=dev, not production');
    expect(why).toContain(`it covers accounts ou:${WORKLOADS.id} (Workloads), not production`);
    const available = await ask('carol', 'available');
    expect(available).toContain('Admin: needs 1 approval');
    expect(available).toContain('rule dev-admin, by tag:env=dev');
  });

  test('access granted by a tag rule is still revoked at its window\'s end when a refresh no longer lists the account', async () => {
    const assignment = { instanceArn: INSTANCE_ARN, accountId: DEV_SANDBOX.id, permissionSetArn: PERMISSION_SETS.ReadOnly, principalId: PEOPLE.dave.principalId };
    const id = await h.file('dave', 'dev-sandbox ReadOnly 3s short look before it closes');
    const active = await h.waitForStatus(id, 'ACTIVE');
    expect(h.aws.hasAssignment(assignment)).toBe(true);
    catalogue.swap(organisation([STAGING, PRODUCTION]));
    try {
      const ended = await h.waitForStatus(id, 'ENDED', REVOKED_WITHIN_MS + 4_000);
      expect(ended.endedAt! - active.endsAt!).toBeLessThan(REVOKED_WITHIN_MS);
      expect(h.aws.hasAssignment(assignment)).toBe(false);
    } finally {
      catalogue.swap(organisation([STAGING, PRODUCTION, DEV_SANDBOX]));
    }
  });

  test('an account moved out of the rule\'s OU by a refresh while its request waits: the approval is refused and nothing is granted', async () => {
    const id = await h.file('carol', 'staging ReadOnly 30m filed while staging was in Workloads');
    await h.approvalMessage(id);
    catalogue.swap(organisation([{ ...STAGING, ouPath: [SANDBOXES] }, PRODUCTION, DEV_SANDBOX]));
    try {
      const reply = await h.nextEphemeral('alice', () => h.click('alice', 'approve', id));
      expect(reply).toContain('no longer allowed');
      const denied = await h.waitForStatus(id, 'DENIED');
      expect(denied.grants[0]!.refusedBecause).toContain('rule "workloads-readonly" no longer covers ReadOnly on staging (111111111111)');
      expect(h.aws.hasAssignment({ instanceArn: INSTANCE_ARN, accountId: STAGING.id, permissionSetArn: PERMISSION_SETS.ReadOnly, principalId: PEOPLE.carol.principalId })).toBe(false);
    } finally {
      catalogue.swap(organisation([STAGING, PRODUCTION, DEV_SANDBOX]));
    }
  });
});
