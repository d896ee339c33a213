import { WebClient } from '@slack/web-api';
import { APPROVAL_CHANNEL, BOT_TOKEN, PEOPLE, TimeboxHarness, testConfigYaml, type PersonName } from '../support/timebox-harness';
import { appHomeOpenedBody, buttonsOn, homeClickBody, urlVerificationBody, viewText } from '../support/home-tab';

const HOME_REQUEST = 'timebox_home_request';
const APPROVE = 'timebox_approve';
const END = 'timebox_end';
const CANCEL = 'timebox_cancel';

/**
 * App Home over the Events API: signed JSON `app_home_opened` events into the real Bolt app,
 * views.publish into the Slack stand-in (which refuses what Slack refuses: a `home` view, at most
 * 100 blocks), and clicks on the published Home as Slack sends them (no message, no response_url).
 */
describe('daily-use: App Home', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  /**
   * `who` opens the Home tab; resolves once a Home satisfying `shows` is published to them. The
   * worker's own republishing is let finish first, so the publish waited for is this opening's.
   */
  async function openHome(who: PersonName, shows: (text: string, blocks: unknown[]) => boolean = () => true): Promise<unknown[]> {
    await h.settled();
    const before = h.slack.homePublishCount(PEOPLE[who].id);
    const response = await h.sender.raw(appHomeOpenedBody(PEOPLE[who].id), { contentType: 'application/json' });
    expect(response.status).toBe(200);
    return homeShowing(who, shows, before);
  }

  /** The Home `who` sees once it satisfies `shows` (published after the `after`-th publish). */
  function homeShowing(who: PersonName, shows: (text: string, blocks: unknown[]) => boolean, after = 0): Promise<unknown[]> {
    const id = PEOPLE[who].id;
    return h.slack.waitFor(
      () => {
        const home = h.slack.homePublishCount(id) > after ? h.slack.homeOf(id) : undefined;
        return home && shows(viewText(home.blocks), home.blocks) ? home.blocks : undefined;
      },
      10_000,
      `${who}'s Home to show what the test expects`,
    );
  }

  /** `who` clicks `actionId` (value `value`) on the Home `blocks` they were shown. */
  const clickOnHome = (who: PersonName, actionId: string, value: string, blocks: unknown[]) => h.sender.raw(homeClickBody(PEOPLE[who], actionId, value, blocks));

  /**
   * The DM containing `expected` that `who` gets after `action` (a Home click has no response_url,
   * so its answer comes by DM; the worker's own DMs may arrive around it, in any order).
   */
  async function dmAfter(who: PersonName, action: () => Promise<unknown>, expected: string): Promise<string> {
    const before = h.dmTextsTo(who).length;
    await action();
    return h.slack.waitFor(() => h.dmTextsTo(who).slice(before).find((t) => t.includes(expected)), 5000, `a DM to ${who} saying ${JSON.stringify(expected)}`);
  }

  test('Slack\'s url_verification challenge on /slack/events (signed JSON) is answered with the challenge', async () => {
    const response = await h.sender.raw(urlVerificationBody('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P'), { contentType: 'application/json' });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  });

  test('an unsigned app_home_opened event is refused with 401 and publishes nothing', async () => {
    const response = await h.sender.raw(appHomeOpenedBody(PEOPLE.bob.id), { contentType: 'application/json', signature: null });
    expect(response.status).toBe(401);
    expect(h.slack.homePublishCount(PEOPLE.bob.id)).toBe(0);
  });

  test('a requester opening App Home sees Request access, their active access (until when, time left, End access now), their pending request (Cancel) and their finished requests', async () => {
    const active = await h.file('carol', 'staging ReadOnly 2h home: active');
    const pending = await h.file('carol', 'production Admin 30m home: pending');
    const finished = await h.file('carol', 'staging ReadOnly 1s home: finished');
    await h.waitForStatus(active, 'ACTIVE');
    await h.waitForStatus(finished, 'ENDED');

    const blocks = await openHome('carol', (text) => text.includes(finished) && text.includes(active) && text.includes(pending));
    const text = viewText(blocks);
    expect(buttonsOn(blocks, HOME_REQUEST)).toEqual(['account']);
    expect(text).toContain('Request access');
    expect(text).toMatch(new RegExp(`\`${active}\` ReadOnly on staging \\(\`111111111111\`\\) for 2h[^]*active until <!date\\^\\d+\\^[^]*\\((1h59m|2h) left\\)`));
    expect(buttonsOn(blocks, END)).toEqual([active]);
    expect(text).toContain('End access now');
    expect(buttonsOn(blocks, CANCEL)).toEqual([pending]);
    expect(text).toContain('Waiting for approval (0/1 approvals)');
    const finishedAt = text.indexOf('Recently finished');
    expect(finishedAt).toBeGreaterThan(0);
    expect(text.indexOf(finished)).toBeGreaterThan(finishedAt);
    // Carol approves nothing: no decisions are offered to her.
    expect(buttonsOn(blocks, APPROVE)).toEqual([]);
  });

  test('an approver\'s Home lists the requests waiting for them with Approve / Deny; someone who approves nothing is offered none', async () => {
    const id = await h.file('carol', 'production Admin 30m home: for alice');
    const alices = await openHome('alice', (text) => text.includes(id));
    expect(viewText(alices)).toContain('Waiting for your approval');
    expect(viewText(alices)).toContain(`<@${PEOPLE.carol.id}> asks for Admin on production`);
    expect(buttonsOn(alices, APPROVE)).toContain(id);
    expect(buttonsOn(alices, 'timebox_deny')).toContain(id);
    const daves = await openHome('dave');
    expect(buttonsOn(daves, APPROVE)).toEqual([]);
    expect(viewText(daves)).not.toContain('Waiting for your approval');
  });

  test('Approve on the approver\'s Home grants the request, and the Homes of the requester and the approver are republished after the decision', async () => {
    const id = await h.file('carol', 'production ReadOnly 30m home: approve from home');
    const alices = await openHome('alice', (text) => text.includes(id));
    expect((await clickOnHome('alice', APPROVE, id, alices)).status).toBe(200);
    await h.waitForStatus(id, 'ACTIVE');
    expect(h.hasAssignment('carol', 'production', 'ReadOnly')).toBe(true);
    expect((await h.audit(id)).some((e) => e.type === 'approved' && e.actor === PEOPLE.alice.id)).toBe(true);

    // Nobody reopens Home: the worker republished both after the decision.
    const carols = await homeShowing('carol', (_text, blocks) => buttonsOn(blocks, END).includes(id));
    expect(buttonsOn(carols, CANCEL)).not.toContain(id);
    await homeShowing('alice', (_text, blocks) => !buttonsOn(blocks, APPROVE).includes(id));
    // The channel message shows the decision as if it had been made there.
    const posted = await h.approvalMessage(id);
    await h.slack.waitFor(() => !JSON.stringify(h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.ts === posted.ts)?.blocks).includes(APPROVE), 5000, 'the channel buttons to go');
  });

  test('Approve on Home is authorised exactly like the channel: a non-approver\'s click and the requester\'s own click are refused by DM and change nothing', async () => {
    const id = await h.file('carol', 'production Admin 30m home: forged approvals');
    const alices = await openHome('alice', (text) => text.includes(id));
    // Dave replays the button Alice was shown (he is shown none himself).
    await dmAfter('dave', () => clickOnHome('dave', APPROVE, id, alices), 'You are not an approver for rule "prod-admin". Nothing was changed.');
    await dmAfter('carol', () => clickOnHome('carol', APPROVE, id, alices), 'You cannot approve or deny your own request. Nothing was changed.');
    expect((await h.request(id)).status).toBe('PENDING');
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(false);
    expect((await h.audit(id)).filter((e) => e.type === 'decision_refused').map((e) => e.actor)).toEqual([PEOPLE.dave.id, PEOPLE.carol.id]);
  });

  test('End access now on Home ends the window at once: the assignment is removed, the requester is told by DM, and the Home shows it finished', async () => {
    const id = await h.file('dave', 'staging ReadOnly 2h home: end from home');
    await h.waitForStatus(id, 'ACTIVE');
    const daves = await openHome('dave', (_text, blocks) => buttonsOn(blocks, END).includes(id));
    await dmAfter('dave', () => clickOnHome('dave', END, id, daves), `Ending your access to *ReadOnly* on *staging* now (\`${id}\`)`);
    await h.waitForStatus(id, 'ENDED');
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
    const after = await homeShowing('dave', (_text, blocks) => !buttonsOn(blocks, END).includes(id));
    expect(viewText(after).indexOf(id)).toBeGreaterThan(viewText(after).indexOf('Recently finished'));
  });

  test('Cancel on Home withdraws the pending request, like /aws-access cancel', async () => {
    const id = await h.file('dave', 'production Admin 30m home: cancel from home');
    const daves = await openHome('dave', (_text, blocks) => buttonsOn(blocks, CANCEL).includes(id));
    await dmAfter('dave', () => clickOnHome('dave', CANCEL, id, daves), `Cancelled request \`${id}\``);
    await h.waitForStatus(id, 'CANCELLED');
    await homeShowing('dave', (_text, blocks) => !buttonsOn(blocks, CANCEL).includes(id));
  });

  test('Slack failing views.publish (HTTP 500) delays no grant: access goes active and the requester is told, and the Home is shown afresh once Slack is back', async () => {
    h.slack.injectFault('views.publish', { status: 500 }, 50);
    try {
      const id = await h.file('bob', 'staging ReadOnly 1h home: slack publish failing');
      await h.waitForStatus(id, 'ACTIVE');
      expect(h.hasAssignment('bob', 'staging', 'ReadOnly')).toBe(true);
      await h.slack.waitFor(() => h.dmTextsTo('bob').find((t) => t.includes(id) && t.includes('is active until')), 5000, 'bob\'s "active" DM');
      h.slack.clearFaults('views.publish');
      const bobs = await openHome('bob', (_text, blocks) => buttonsOn(blocks, END).includes(id));
      expect(viewText(bobs)).toContain(id);
    } finally {
      h.slack.clearFaults('views.publish');
    }
  });

  test('Request access on Home opens the request form', async () => {
    const daves = await openHome('dave');
    const before = h.slack.openedViews().length;
    expect((await clickOnHome('dave', HOME_REQUEST, 'account', daves)).status).toBe(200);
    const opened = await h.slack.waitFor(() => h.slack.openedViews()[before], 5000, 'the request form');
    expect(opened.view).toEqual(expect.objectContaining({ type: 'modal', callback_id: 'timebox_request' }));
  });
});

describe('daily-use: App Home within Slack\'s 100 blocks', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: `${testConfigYaml()}limits:\n  maxPendingPerRequester: 100\n` });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('the Slack stand-in refuses a Home of 101 blocks as Slack does (invalid_blocks)', async () => {
    const client = new WebClient(BOT_TOKEN, { slackApiUrl: h.slack.apiUrl, retryConfig: { retries: 0 } });
    const blocks = Array.from({ length: 101 }, (_, i) => ({ type: 'section', text: { type: 'mrkdwn', text: `line ${i}` } }));
    await expect(client.views.publish({ user_id: PEOPLE.carol.id, view: { type: 'home', blocks } })).rejects.toThrow(/invalid_blocks/);
    await expect(client.views.publish({ user_id: PEOPLE.carol.id, view: { type: 'home', blocks: blocks.slice(0, 100) } })).resolves.toEqual(expect.objectContaining({ ok: true }));
  });

  test('with 14 pending, 11 active and 11 finished requests (every section past its cap), the requester\'s and the approver\'s Homes are published within 100 blocks, the rest summarised with a count', async () => {
    const filed = async (text: string, n: number) => Promise.all(Array.from({ length: n }, (_, i) => h.file('carol', `${text} ${i}`)));
    // Finished: withdrawn by their requester (no windows to run out, so the test stays short).
    const finished = await filed('production ReadOnly 30m many: finished', 11);
    for (const reply of await Promise.all(finished.map((id) => h.command('carol', `cancel ${id}`)))) expect(reply.text).toContain('Cancelled request');
    // Two targets, so the grants of one assignment do not all queue on its lease.
    const active = [...(await filed('staging ReadOnly 2h many: active', 6)), ...(await filed('group oncall 2h many: active', 5))];
    const pending = await filed('production Admin 30m many: pending', 14);
    await Promise.all(active.map((id) => h.waitForStatus(id, 'ACTIVE')));

    const opened = async (who: PersonName) => {
      // The worker's own republishing first, so the publish waited for is this opening's.
      await h.settled();
      const before = h.slack.homePublishCount(PEOPLE[who].id);
      expect((await h.sender.raw(appHomeOpenedBody(PEOPLE[who].id), { contentType: 'application/json' })).status).toBe(200);
      return h.slack.waitFor(() => (h.slack.homePublishCount(PEOPLE[who].id) > before ? h.slack.homeOf(PEOPLE[who].id)?.blocks : undefined), 10_000, `${who}'s Home`);
    };
    const carols = await opened('carol');
    expect(viewText(carols)).toContain('…and 4 more pending requests');
    expect(carols.length).toBeLessThanOrEqual(100);
    expect(viewText(carols)).toContain('…and 1 more request with access.');
    // The last 10 finished: the oldest of the 11 is left out.
    expect(finished.filter((id) => viewText(carols).includes(id))).toHaveLength(10);
    expect(buttonsOn(carols, END)).toHaveLength(10);
    expect(buttonsOn(carols, CANCEL)).toHaveLength(10);
    // Newest first: the last pending request filed is shown.
    const newest = [...pending].sort((a, b) => (a < b ? 1 : -1));
    expect(newest.some((id) => buttonsOn(carols, CANCEL).includes(id))).toBe(true);

    const alices = await opened('alice');
    expect(viewText(alices)).toContain('Waiting for your approval (14)');
    expect(alices.length).toBeLessThanOrEqual(100);
    expect(buttonsOn(alices, APPROVE)).toHaveLength(12);
    expect(viewText(alices)).toContain('…and 2 more requests wait for you.');
  });
});

describe('daily-use: App Home over Socket Mode', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ socketMode: true });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('app_home_opened arriving as an events_api envelope is acknowledged and publishes the Home', async () => {
    const before = h.slack.homePublishCount(PEOPLE.carol.id);
    await h.slack.socketMode.deliver('events_api', JSON.parse(appHomeOpenedBody(PEOPLE.carol.id)) as Record<string, unknown>);
    const blocks = await h.slack.waitFor(() => (h.slack.homePublishCount(PEOPLE.carol.id) > before ? h.slack.homeOf(PEOPLE.carol.id)?.blocks : undefined), 10_000, 'carol\'s Home');
    expect(buttonsOn(blocks, HOME_REQUEST)).toEqual(['account']);
    expect(viewText(blocks)).toContain('Your active access');
  });
});
