import { applyDiscovery, type CatalogueSnapshot } from '../../src/domain/catalogue';
import { snapshotOf } from '../../src/domain/catalogue-view';
import { SwappableCatalogue } from '../support/in-memory-ports';
import { buildOrganization } from '../support/organization-fixture';
import { GROUPS, PEOPLE, TimeboxHarness, type PersonName, DISCOVERING_CONFIG_HEAD } from '../support/timebox-harness';

/**
 * 1,000 accounts (969 active) in 40 nested OUs with five tags each, and 100 permission sets, as
 * discovery gives them (injected as the catalogue, so this is about the menus, the command and
 * `available`, not about reading AWS), and 200 rules: two for carol (one by OU, one by tag), one
 * for the Identity Center group oncall (dave is in it), 197 for other people.
 */
const fixture = buildOrganization();
const discovered = (permissionSets = fixture.expected.permissionSets): CatalogueSnapshot =>
  applyDiscovery(
    snapshotOf({ accounts: [], permissionSets: [], groups: [] }),
    { accounts: fixture.expected.accounts, permissionSets, readAt: 0 },
    { accounts: { names: {} }, permissionSets: true, refreshMs: 900_000 },
  );
const ouNamed = (name: string) => fixture.organization.units.find((u) => u.name === name)!;
const CAROLS_OU = ouNamed('security-prod-us');
const CAROLS_TAG = { key: 'cost-center', value: 'cc-1039' };
const ONCALLS_OU = ouNamed('sandbox-dev-eu');
const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : 1);
const ACCOUNTS = [...fixture.expected.accounts].sort(byName);
/** What carol may request, worked out here from the fixture, not by the code under test. */
const carolMay = (a: (typeof ACCOUNTS)[number]) => a.ouPath.some((ou) => ou.id === CAROLS_OU.id) || a.tags[CAROLS_TAG.key] === CAROLS_TAG.value;
/** The menu's order: what carol may request first, then the rest, each by name. */
const carolsOrder = (accounts: typeof ACCOUNTS) => [...accounts.filter(carolMay), ...accounts.filter((a) => !carolMay(a))].map((a) => a.id);

const fillerRules = Array.from({ length: 197 }, (_, r) => {
  const account = fixture.expected.accounts[(r * 7) % fixture.expected.accounts.length]!;
  return `
  - name: team-${r}
    accounts: ["${account.id}"]
    permissionSets: [Role${String(r % 100).padStart(3, '0')}]
    requesters: [someone${r}@example.com]
    approvers: [alice@example.com]
    maxDuration: 1h`;
}).join('');

const CONFIG = `${DISCOVERING_CONFIG_HEAD}
  - name: carol-security-prod-us
    accounts: ["ou:${CAROLS_OU.id}"]
    permissionSets: [Role007]
    requesters: [carol@example.com]
    approvers: [alice@example.com]
    maxDuration: 1h
  - name: carol-cost-center
    accounts: ["tag:${CAROLS_TAG.key}=${CAROLS_TAG.value}"]
    permissionSets: [Role042]
    requesters: [U0CAROL000]
    autoApprove: true
    maxDuration: 1h
  - name: oncall-sandbox
    accounts: ["ou:${ONCALLS_OU.id}"]
    permissionSets: [Role011]
    requesters: ["group:oncall"]
    approvers: [alice@example.com]
    maxDuration: 1h${fillerRules}
`;

type Option = { value: string; text: { text: string } };
interface OpenedForm {
  callback_id: string;
  private_metadata: string;
  blocks: Array<{ block_id: string; element: { type: string; options?: Option[] } }>;
}

describe('large-orgs: type-ahead menus, ambiguous accounts and available at 1,000 accounts × 100 permission sets × 200 rules', () => {
  let h: TimeboxHarness;
  const catalogue = new SwappableCatalogue(discovered());
  let forms = 0;

  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: CONFIG, catalogue, beforeStart: (aws) => void aws.addMembership({ groupId: GROUPS.oncall, userId: PEOPLE.dave.principalId }) });
  });
  afterAll(async () => {
    await h.stop();
  });

  /** `/aws-access` with nothing after it, as `who`: the form Slack was asked to open. */
  const openForm = async (who: PersonName): Promise<OpenedForm> => {
    const triggerId = `55555.${++forms}.typeahead`;
    const person = PEOPLE[who];
    await h.sender.command({ userId: person.id, userName: person.name, text: '', triggerId, channelId: 'C0GENERAL0', responseUrl: h.slack.responseUrl({ userId: person.id }) });
    return h.slack.openedViews().find((v) => v.trigger_id === triggerId)!.view as OpenedForm;
  };
  /** What `who` is offered after typing `value` in a menu of `form` (Slack's block_suggestion, answered in the HTTP reply). */
  const suggest = async (who: PersonName, form: OpenedForm, menu: 'account' | 'permission_set', value: string): Promise<Option[]> => {
    const response = await h.sender.blockSuggestion({ userId: PEOPLE[who].id, actionId: menu, blockId: menu, value, callbackId: form.callback_id, privateMetadata: form.private_metadata });
    expect(response.status).toBe(200);
    return (response.json() as { options: Option[] }).options;
  };
  const ids = (options: Option[]) => options.map((o) => o.value);
  /** The ephemeral answer's text, its blocks' sections joined when it has blocks (available). */
  const ask = async (who: PersonName, text: string): Promise<string> => {
    const { response, text: plain } = await h.command(who, text);
    const blocks = (response.json() as { blocks?: Array<{ text?: { text: string } }> }).blocks ?? [];
    return blocks.length > 0 ? blocks.map((b) => b.text?.text ?? '').join('\n') : plain;
  };

  test('nothing typed yet: the account menu is a type-ahead offering 100 of the 969 accounts, the ones carol may request first; alice, who may request none, gets the first 100 by name', async () => {
    const form = await openForm('carol');
    expect(form.blocks[0]!.element.type).toBe('multi_external_select');
    const carols = await suggest('carol', form, 'account', '');
    expect(carols).toHaveLength(100);
    expect(ids(carols)).toEqual(carolsOrder(ACCOUNTS).slice(0, 100));
    expect(ACCOUNTS.filter(carolMay).length).toBeGreaterThan(30);
    const alices = await suggest('alice', await openForm('alice'), 'account', '');
    expect(ids(alices)).toEqual(ACCOUNTS.slice(0, 100).map((a) => a.id));
  });

  test('a rule naming an Identity Center group puts its accounts first for a member (checked once, when the form opens), not for someone outside it', async () => {
    const inOncallOu = ACCOUNTS.filter((a) => a.ouPath.some((ou) => ou.id === ONCALLS_OU.id)).map((a) => a.id);
    const daves = await suggest('dave', await openForm('dave'), 'account', '');
    expect(ids(daves).slice(0, inOncallOu.length)).toEqual(inOncallOu);
    const carols = await suggest('carol', await openForm('carol'), 'account', 'sandbox-dev-eu');
    expect(ids(carols)).toEqual(carolsOrder(ACCOUNTS.filter((a) => a.ouPath.some((ou) => ou.id === ONCALLS_OU.id))));
  });

  test('typing the start of a name offers exactly the accounts whose names begin so, carol\'s first', async () => {
    const form = await openForm('carol');
    const options = await suggest('carol', form, 'account', 'Payments-00');
    expect(ids(options)).toEqual(carolsOrder(ACCOUNTS.filter((a) => a.name.startsWith('payments-00'))));
    expect(options.length).toBeGreaterThan(5);
    expect(options[0]!.text.text).toMatch(/^payments-00\d\d \(3\d{11}\)$/);
  });

  test('typing an account id offers that account; the start of an id offers the accounts whose ids begin so', async () => {
    const form = await openForm('carol');
    expect(ids(await suggest('carol', form, 'account', '300000000042'))).toEqual(['300000000042']);
    expect(ids(await suggest('carol', form, 'account', '30000000004'))).toEqual(carolsOrder(ACCOUNTS.filter((a) => a.id.startsWith('30000000004'))));
  });

  test('typing an OU\'s name offers the accounts in it and in the OUs under it', async () => {
    const form = await openForm('carol');
    const inOu = (name: string) => ACCOUNTS.filter((a) => a.ouPath.some((ou) => ou.name.startsWith(name)));
    expect(ids(await suggest('carol', form, 'account', 'security-staging-eu'))).toEqual(carolsOrder(inOu('security-staging-eu')));
    // The parent OU: its own accounts and those of security-staging-eu and -us.
    const parent = await suggest('carol', form, 'account', 'security-staging');
    expect(ids(parent)).toEqual(carolsOrder(inOu('security-staging')));
    expect(parent.length).toBeGreaterThan(inOu('security-staging-eu').length);
  });

  test('typing a tag (key=value, or its value) offers the accounts tagged so; past 100 matches, 100 are offered', async () => {
    const form = await openForm('carol');
    const tagged = (key: string, value: string) => ACCOUNTS.filter((a) => a.tags[key] === value);
    expect(ids(await suggest('carol', form, 'account', 'cost-center=cc-1007'))).toEqual(carolsOrder(tagged('cost-center', 'cc-1007')));
    expect(ids(await suggest('carol', form, 'account', 'cc-1039'))).toEqual(carolsOrder(tagged('cost-center', 'cc-1039')));
    const web = await suggest('carol', form, 'account', 'team=web');
    expect(tagged('team', 'web').length).toBeGreaterThan(100);
    expect(ids(web)).toEqual(carolsOrder(tagged('team', 'web')).slice(0, 100));
  });

  test('prefix matches come first: "prod" offers accounts tagged env=prod before accounts merely in an OU whose name has "prod" inside it', async () => {
    const form = await openForm('alice');
    const options = await suggest('alice', form, 'account', 'prod');
    expect(options).toHaveLength(100);
    const tagged = new Set(ACCOUNTS.filter((a) => a.tags.env === 'prod').map((a) => a.id));
    expect(ids(options).every((id) => tagged.has(id))).toBe(true);
    // An account with "prod" only inside an OU name is still found when nothing begins with the text.
    const inside = await suggest('alice', form, 'account', 'rod-e');
    expect(ids(inside)).toEqual(ACCOUNTS.filter((a) => a.ouPath.some((ou) => ou.name.includes('rod-e'))).map((a) => a.id).slice(0, 100));
  });

  test('the permission set menu puts carol\'s first; past 100 permission sets it becomes a type-ahead too', async () => {
    const statics = (await openForm('carol')).blocks[1]!.element;
    expect(statics.type).toBe('multi_static_select');
    expect(statics.options!.slice(0, 2).map((o) => o.value)).toEqual(['Role007', 'Role042']);
    const more = Array.from({ length: 50 }, (_, i) => ({ arn: `arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-e${String(i).padStart(15, '0')}`, name: `Extra${i}`, sessionDurationMs: 3_600_000 }));
    catalogue.swap(discovered([...fixture.expected.permissionSets, ...more]));
    try {
      const form = await openForm('carol');
      expect(form.blocks[1]!.element.type).toBe('multi_external_select');
      expect(ids(await suggest('carol', form, 'permission_set', 'role04'))).toEqual(['Role042', ...Array.from({ length: 10 }, (_, i) => `Role04${i}`).filter((n) => n !== 'Role042')]);
      expect(await suggest('carol', form, 'permission_set', '')).toHaveLength(100);
    } finally {
      catalogue.swap(discovered());
    }
  });

  test('/aws-access (and whocan) with an account that only begins several names or ids is answered with the candidates and a count of the rest; nothing is filed', async () => {
    const before = await h.storedRequestCount();
    const candidates = ACCOUNTS.filter((a) => a.name.startsWith('payments-00'));
    const { text } = await h.command('carol', 'payments-00 Role007 1h look at the queue');
    expect(text).toContain(`"payments-00" matches ${candidates.length} accounts by prefix and none exactly: ${candidates.slice(0, 10).map((a) => `${a.name} (${a.id})`).join(', ')} and ${candidates.length - 10} more. Say which with its full name or id.`);
    const { text: byId } = await h.command('carol', '30000000004 Role007 1h look at the queue');
    expect(byId).toContain('"30000000004" matches');
    expect(await ask('carol', 'whocan payments-00 Role007')).toContain(`"payments-00" matches ${candidates.length} accounts by prefix and none exactly`);
    expect(await h.storedRequestCount()).toBe(before);
  });

  test('an exact account name or id still wins: carol files for an account in her OU by its id and by its name', async () => {
    const mine = ACCOUNTS.filter((a) => a.ouPath.some((ou) => ou.id === CAROLS_OU.id));
    const byId = await h.file('carol', `${mine[0]!.id} Role007 30m check the alarms`);
    const byName = await h.file('carol', `${mine[1]!.name.toUpperCase()} Role007 30m check the alarms`);
    const accountOf = async (id: string) => (await h.request(id)).grants.map((g) => (g.target.kind === 'account' ? g.target.accountId : ''));
    expect(await accountOf(byId)).toEqual([mine[0]!.id]);
    expect(await accountOf(byName)).toEqual([mine[1]!.id]);
  });

  test('/aws-access available answers carol with her accounts and permission sets, read from 200 rules over 96,900 targets', async () => {
    const text = await ask('carol', 'available');
    const first = ACCOUNTS.filter(carolMay)[0]!;
    expect(text).toContain('What you may request (auto-approved first)');
    expect(text).toContain(`*${first.name} (${first.id})*`);
    expect(text).toMatch(/Role007: needs 1 approval .* \(rule carol-security-prod-us, by ou:ou-ab12-[0-9a-f]{8} \(security-prod-us\)\)/);
    expect(text).toContain('Role042: auto-approved, for up to 1h (rule carol-cost-center, by tag:cost-center=cc-1039)');
    expect(await ask('alice', 'available')).toContain('Nothing: no rule lets you request any account, permission set or group.');
  });
});
