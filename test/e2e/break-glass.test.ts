import { eventually } from '../support/eventually';
import { viewText } from '../support/home-tab';
import type { SlackMessage } from '../support/slack-stand-in';
import { APPROVAL_CHANNEL, buttonClick, PEOPLE, REVOKED_WITHIN_MS, testConfigYaml, TimeboxHarness, type PersonName } from '../support/timebox-harness';

const ALERT_CHANNEL = 'C0ALERTS00';
const SRE_LEADS = { id: 'S0SRELEADS', handle: 'sre-leads' };
const REVIEW = 'timebox_review';
const END = 'timebox_end';
const LONG_REASON = 'database failover stuck, need to promote the replica';

/**
 * Carol may break glass into Admin on production; alice (by email), bob (by id) and the
 * @sre-leads Slack user group approve, and so review it. Everyone else asks the usual way.
 */
const config = testConfigYaml(`
  - name: prod-break-glass
    accounts: [production]
    permissionSets: [Admin]
    requesters: [carol@example.com]
    approvers: [alice@example.com, U0BOB00000, "@sre-leads"]
    breakGlass: true
    reviewWithin: 2s
    maxDuration: 1h`).replace(`approvalChannel: ${APPROVAL_CHANNEL}`, `approvalChannel: ${APPROVAL_CHANNEL}\n  alertChannel: ${ALERT_CHANNEL}`);

describe('sessions-breakglass: break-glass', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: config });
    h.slack.addUserGroup({ ...SRE_LEADS, users: ['U0SRELEAD1'] });
  });
  afterAll(async () => {
    await h.stop();
  });

  const blocksOf = (m: SlackMessage | undefined) => JSON.stringify(m?.blocks ?? []);
  /** The first message in `channel` about `id` whose blocks contain `marker`. */
  const messageWith = (channel: string, id: string, marker: string, what: string) =>
    h.slack.waitFor(() => h.slack.messagesIn(channel).find((m) => blocksOf(m).includes(id) && blocksOf(m).includes(marker)), 10_000, what);
  const alertTo = (who: PersonName, id: string, marker = 'Break-glass access') => messageWith(`D${PEOPLE[who].id}`, id, marker, `the break-glass alert in ${who}'s DM`);
  const click = (who: PersonName, actionId: string, id: string, message: SlackMessage) => h.sender.blockAction(buttonClick(h.slack, PEOPLE[who], actionId, id, message));

  async function breakGlass(reason = LONG_REASON): Promise<string> {
    const id = await h.file('carol', `breakglass production Admin 30m ${reason}`);
    await h.waitForStatus(id, 'ACTIVE');
    return id;
  }

  test('an eligible requester breaks glass: granted at once without any approver, told it is being reviewed, audited as break_glass', async () => {
    const { text } = await h.command('carol', `breakglass production Admin 30m ${LONG_REASON}`);
    expect(text).toContain('is being granted now, without approval');
    expect(text).toContain('it is being reviewed');
    const id = /`(R-[0-9A-Z]+)`/.exec(text)?.[1] ?? '';
    const active = await h.waitForStatus(id, 'ACTIVE');
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(true);
    expect(active.breakGlass).toBe(true);
    expect(active.approvals).toEqual([]);
    expect((await h.audit(id)).map((e) => e.type)).toEqual(expect.arrayContaining(['requested', 'break_glass', 'granted']));
    expect((await h.audit(id)).find((e) => e.type === 'break_glass')?.actor).toBe(PEOPLE.carol.id);
    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('is active until')), 5000, "carol's active DM");
    // The channel message says it was not approved by anyone, and that it waits for review.
    const message = await h.approvalMessage(id);
    expect(blocksOf(message)).toContain('Break-glass AWS access (no approval)');
  });

  test('the alert goes to the approvals channel and the alert channel mentioning every approver (an email found with users.lookupByEmail, a Slack user group), and each user approver gets a DM with Mark reviewed and End access now', async () => {
    const id = await breakGlass();
    const mentions = [`<@${PEOPLE.alice.id}>`, `<@${PEOPLE.bob.id}>`, `<!subteam^${SRE_LEADS.id}>`];
    for (const channel of [APPROVAL_CHANNEL, ALERT_CHANNEL]) {
      const alert = await messageWith(channel, id, 'Break-glass access', `the alert in ${channel}`);
      for (const m of mentions) expect(blocksOf(alert)).toContain(m);
      expect(blocksOf(alert)).toContain(REVIEW);
      expect(blocksOf(alert)).toContain(END);
    }
    for (const who of ['alice', 'bob'] as const) {
      const dm = await alertTo(who, id);
      expect(blocksOf(dm)).toContain(REVIEW);
      expect(blocksOf(dm)).toContain(END);
    }
    // The requester is not alerted about their own access.
    expect(h.slack.dmsTo(PEOPLE.carol.id).some((m) => blocksOf(m).includes(REVIEW))).toBe(false);
  });

  test('someone no break-glass rule names is refused as not eligible, and nothing is filed or granted', async () => {
    const before = await h.storedRequestCount();
    const { text } = await h.command('dave', `breakglass production Admin 30m ${LONG_REASON}`);
    expect(text).toContain('You are not eligible for break-glass access here');
    expect(text).toContain('Nothing was filed');
    expect(await h.storedRequestCount()).toBe(before);
    expect(h.hasAssignment('dave', 'production', 'Admin')).toBe(false);
  });

  test('a reason shorter than minReasonLength (default 20) is refused naming the length, and nothing is filed', async () => {
    const before = await h.storedRequestCount();
    const { text } = await h.command('carol', 'breakglass production Admin 30m it broke');
    expect(text).toContain('at least 20 characters');
    expect(text).toContain('yours has 8');
    expect(await h.storedRequestCount()).toBe(before);
  });

  test('an ordinary request never falls under a break-glass rule: without the word it waits for approval as usual', async () => {
    const id = await h.file('carol', `production Admin 30m ${LONG_REASON}`);
    const waiting = await h.waitForStatus(id, 'PENDING');
    expect(waiting.breakGlass).toBeUndefined();
    expect(waiting.grants[0]?.ruleName).toBe('prod-admin');
  });

  test('/aws-access why agrees: for an ordinary request the break-glass rule is passed over, saying why, and the ordinary rule decides', async () => {
    const { text } = await h.command('carol', 'why production Admin');
    expect(text).toContain('Rule "prod-admin" decides');
    expect(text).toContain('prod-break-glass: does not apply: it is a break-glass rule, reached only with `/aws-access breakglass`');
  });

  test('an approver marks it reviewed: who and when are recorded and audited, the channel shows it, the access stays; a second review, the requester and a non-approver change nothing', async () => {
    const id = await breakGlass();
    const bobsAlert = await alertTo('bob', id);
    const reply = await h.nextEphemeral('bob', () => click('bob', REVIEW, id, bobsAlert));
    expect(reply).toContain(`marked <@${PEOPLE.carol.id}>'s break-glass access \`${id}\` reviewed`);
    const reviewed = await h.request(id);
    expect(reviewed.review?.by?.slackUserId).toBe(PEOPLE.bob.id);
    expect(reviewed.review?.at).toBeGreaterThan(reviewed.createdAt);
    expect(reviewed.status).toBe('ACTIVE');
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(true);
    expect((await h.audit(id)).filter((e) => e.type === 'reviewed').map((e) => e.actor)).toEqual([PEOPLE.bob.id]);
    await messageWith(APPROVAL_CHANNEL, id, `Reviewed by <@${PEOPLE.bob.id}>`, 'the channel message to show the review');

    const alicesAlert = await alertTo('alice', id);
    expect(await h.nextEphemeral('alice', () => click('alice', REVIEW, id, alicesAlert))).toContain('was already reviewed (by bob');
    const channelAlert = await messageWith(APPROVAL_CHANNEL, id, REVIEW, 'the channel alert');
    expect(await h.nextEphemeral('carol', () => click('carol', REVIEW, id, channelAlert))).toContain('You cannot review your own break-glass access');
    expect(await h.nextEphemeral('dave', () => click('dave', REVIEW, id, channelAlert))).toContain('Only an approver for rule "prod-break-glass" can mark it reviewed');
    expect((await h.request(id)).review?.by?.slackUserId).toBe(PEOPLE.bob.id);
    expect((await h.audit(id)).filter((e) => e.type === 'reviewed')).toHaveLength(1);
  });

  test('unreviewed after reviewWithin, the approvers are reminded in both channels and by DM, once, and it is audited', async () => {
    const id = await breakGlass();
    const reminder = await messageWith(APPROVAL_CHANNEL, id, 'not reviewed yet', 'the reminder in the approvals channel');
    expect(blocksOf(reminder)).toContain(`<@${PEOPLE.alice.id}>`);
    expect(blocksOf(reminder)).toContain(REVIEW);
    await messageWith(ALERT_CHANNEL, id, 'not reviewed yet', 'the reminder in the alert channel');
    await alertTo('alice', id, 'not reviewed yet');
    await alertTo('bob', id, 'not reviewed yet');
    const reminded = await eventually(async () => { const r = (await h.audit(id)).filter((e) => e.type === 'review_reminded'); return r.length > 0 ? r : undefined; }, 5000, 'the reminder audited');
    expect(reminded).toHaveLength(1);
    expect(h.slack.messagesIn(APPROVAL_CHANNEL).filter((m) => blocksOf(m).includes(id) && blocksOf(m).includes('not reviewed yet'))).toHaveLength(1);
    expect(reminded[0]?.detail).toContain('approvals channel');
  });

  test('the form offers the "break glass" choice only to someone a break-glass rule names; chosen, it files break-glass access', async () => {
    const formFor = async (who: PersonName) => {
      const triggerId = `${Date.now()}.${who}.form`;
      await h.sender.command({ userId: PEOPLE[who].id, text: '', triggerId, channelId: 'C0GENERAL0', responseUrl: h.slack.responseUrl({ userId: PEOPLE[who].id }) });
      return h.slack.waitFor(() => h.slack.openedViews().find((v) => v.trigger_id === triggerId)?.view as { callback_id: string; private_metadata: string; blocks: Array<{ block_id?: string }> } | undefined, 5000, `${who}'s form`);
    };
    expect((await formFor('dave')).blocks.map((b) => b.block_id)).not.toContain('break_glass');
    const form = await formFor('carol');
    expect(form.blocks.map((b) => b.block_id)).toContain('break_glass');
    const selected = (value: string) => ({ text: { type: 'plain_text', text: value }, value });
    const earlier = h.ephemeralTextsTo('carol').length;
    const submitted = await h.sender.viewSubmission({
      userId: PEOPLE.carol.id,
      callbackId: form.callback_id,
      values: {
        account: { account: { type: 'multi_static_select', selected_options: [selected('222222222222')] } },
        permission_set: { permission_set: { type: 'multi_static_select', selected_options: [selected('Admin')] } },
        duration: { duration: { type: 'plain_text_input', value: '30m' } },
        reason: { reason: { type: 'plain_text_input', value: LONG_REASON } },
        break_glass: { break_glass: { type: 'checkboxes', selected_options: [selected('break_glass')] } },
      },
      privateMetadata: form.private_metadata,
    });
    expect(submitted.status).toBe(200);
    const confirmation = await h.slack.waitFor(() => h.ephemeralTextsTo('carol').slice(earlier).find((t) => t.includes('Break-glass request')), 5000, 'the break-glass confirmation');
    const id = /`(R-[0-9A-Z]+)`/.exec(confirmation)?.[1] ?? '';
    expect((await h.waitForStatus(id, 'ACTIVE')).breakGlass).toBe(true);
  });

  test('every listing marks it: /aws-access list, /aws-access status (with where its review stands) and App Home', async () => {
    const id = await breakGlass();
    const { text: list } = await h.command('carol', 'list');
    expect(list).toContain(`\`${id}\` :rotating_light: *break glass*`);
    const { text: status } = await h.command('carol', `status ${id}`);
    expect(status).toContain('Break glass: granted without approval.');
    expect(status).toMatch(/Not reviewed yet|Reviewed by/);
    await h.slack.waitFor(() => {
      const home = h.slack.homeOf(PEOPLE.carol.id);
      return home && viewText(home.blocks).includes(`\`${id}\` :rotating_light: *break glass*`);
    }, 10_000, "carol's Home to mark it");
  });

  test('a window that ends after the reminder still ends on time (the reminder does not take the window-end timer)', async () => {
    const id = await h.file('carol', `breakglass production Admin 4s ${LONG_REASON}`);
    const active = await h.waitForStatus(id, 'ACTIVE');
    await eventually(async () => ((await h.audit(id)).some((e) => e.type === 'review_reminded') ? true : undefined), 5000, 'the reminder');
    const ended = await h.waitForStatus(id, 'ENDED', REVOKED_WITHIN_MS + 4000);
    expect(ended.endedAt! - active.endsAt!).toBeLessThan(REVOKED_WITHIN_MS);
  });

  test("an approver's End access now on the alert ends the access like the End button does", async () => {
    const id = await breakGlass();
    const alicesAlert = await alertTo('alice', id);
    const reply = await h.nextEphemeral('alice', () => click('alice', END, id, alicesAlert));
    expect(reply).toContain(`Ending <@${PEOPLE.carol.id}>'s access`);
    const ended = await h.waitForStatus(id, 'ENDED');
    expect(ended.endedEarlyBy?.slackUserId).toBe(PEOPLE.alice.id);
    // (The assignment itself stays while carol's earlier break-glass windows in this suite still hold it.)
    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(id) && t.includes(`was ended early by <@${PEOPLE.alice.id}>`)), 5000, 'the ended DM naming alice');
  });
});
