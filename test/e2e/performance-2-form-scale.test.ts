import { scaleConfigYaml } from '../../bench/local';
import { eventually } from '../support/eventually';
import { newTriggerId } from '../support/slack-requests';
import { TimeboxHarness } from '../support/timebox-harness';

/** A requester the last of the scale config's 200 rules names (team-199: acct-0995 … acct-0999, PermSet099 and PermSet000, approvers needed). */
const LAST_RULE_REQUESTER = { id: 'U0TEAM1999', name: 'team199-dev9', email: 'team199-dev9@bench.example.com' };
/** Someone in the workspace whom no rule names. */
const NOBODY = { id: 'U0NOBODY01', name: 'nobody', email: 'nobody@bench.example.com' };

interface Menu {
  type: string;
  options?: Array<{ value: string }>;
}
interface FormView {
  callback_id: string;
  blocks: Array<{ block_id?: string; element?: Menu }>;
}

/**
 * The form and the rules at scale (bench item 5's config: 1,000 accounts, 100 permission sets,
 * 200 rules), through the real Bolt app over signed HTTP: the form opens for a new person with what
 * they may request listed first, and a request is matched to the one rule that names its requester
 * (only the rules that name someone are looked at now, so this pins what they decide).
 */
describe('performance-2: the form and the rules at scale (1,000 accounts, 100 permission sets, 200 rules)', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: scaleConfigYaml() });
    h.slack.addUser(LAST_RULE_REQUESTER);
    h.slack.addUser(NOBODY);
  });
  afterAll(async () => {
    await h.stop();
  });

  const openForm = async (person: { id: string; name: string }): Promise<FormView> => {
    const triggerId = newTriggerId();
    const ack = await h.sender.command({ userId: person.id, userName: person.name, text: '', channelId: 'C0GENERAL0', responseUrl: h.slack.responseUrl({ userId: person.id, channelId: 'C0GENERAL0' }), triggerId });
    expect(ack.status).toBe(200);
    const opened = await eventually(() => Promise.resolve(h.slack.openedViews().find((v) => v.trigger_id === triggerId)), 5_000, 'the form to open');
    return opened.view as FormView;
  };
  const menu = (view: FormView, blockId: string): Menu => view.blocks.find((b) => b.block_id === blockId)!.element!;

  test('a new requester only the last of 200 rules names opens the form: it opens, the two permission sets that rule allows listed first, the 1,000 accounts as a type-ahead', async () => {
    const view = await openForm(LAST_RULE_REQUESTER);
    expect(view.callback_id).toBe('timebox_request');
    expect(menu(view, 'account').type).toBe('multi_external_select');
    const sets = menu(view, 'permission_set');
    expect(sets.type).toBe('multi_static_select');
    expect(sets.options).toHaveLength(100);
    expect(sets.options!.slice(0, 3).map((o) => o.value)).toEqual(['PermSet000', 'PermSet099', 'PermSet001']);
  });

  test('a new person no rule names opens the form: it opens, the permission sets in catalogue order (nothing listed first)', async () => {
    const view = await openForm(NOBODY);
    const sets = menu(view, 'permission_set');
    expect(sets.options).toHaveLength(100);
    expect(sets.options!.slice(0, 3).map((o) => o.value)).toEqual(['PermSet000', 'PermSet001', 'PermSet002']);
  });

  test('a 10-grant request (5 accounts × 2 permission sets) only the last of 200 rules covers: filed under that rule, every grant waiting for its approvers', async () => {
    const responseUrl = h.slack.responseUrl({ userId: LAST_RULE_REQUESTER.id, channelId: 'C0GENERAL0' });
    const ack = await h.sender.command({
      userId: LAST_RULE_REQUESTER.id,
      userName: LAST_RULE_REQUESTER.name,
      text: 'acct-0995,acct-0996,acct-0997,ACCT-0998,acct-0999 PermSet099,permset000 1h scale check',
      channelId: 'C0GENERAL0',
      responseUrl,
    });
    expect(ack.status).toBe(200);
    const text = await eventually(() => Promise.resolve(answerText(ack.body) ?? h.slack.responses(responseUrl)[0]?.body.text), 5_000, 'the answer');
    const id = /`(R-[0-9A-Z]+)`/.exec(String(text))?.[1];
    expect(id).toBeDefined();
    const request = await h.request(id!);
    expect(request.grants).toHaveLength(10);
    expect(new Set(request.grants.map((g) => g.ruleName))).toEqual(new Set(['team-199']));
    expect(request.grants.every((g) => g.status === 'PENDING')).toBe(true);
  });

  test('the same requester asking for an account another rule covers: refused naming the grant, nothing filed', async () => {
    const before = await h.storedRequestCount();
    const responseUrl = h.slack.responseUrl({ userId: LAST_RULE_REQUESTER.id, channelId: 'C0GENERAL0' });
    const ack = await h.sender.command({ userId: LAST_RULE_REQUESTER.id, userName: LAST_RULE_REQUESTER.name, text: 'acct-0999,acct-0000 PermSet099 1h scale check', channelId: 'C0GENERAL0', responseUrl });
    expect(ack.status).toBe(200);
    const text = await eventually(() => Promise.resolve(answerText(ack.body) ?? h.slack.responses(responseUrl)[0]?.body.text), 5_000, 'the answer');
    expect(String(text)).toContain('No rule allows you to request PermSet099 on acct-0000 (100000000000).');
    expect(await h.storedRequestCount()).toBe(before);
  });
});

/** The answer when it came in the ack (it may instead follow on the response_url). */
function answerText(body: string): string | undefined {
  return body ? (JSON.parse(body) as { text?: string }).text : undefined;
}
