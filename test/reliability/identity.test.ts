/**
 * One person, two Slack identities; guests; other workspaces; bots. "The same person" is the
 * same Slack user or the same email (AWS access follows the email), and only members of
 * Timebox's own workspace may request, approve or end access unless slack.allowGuests says so.
 */
import { eventually } from '../support/eventually';
import { newTriggerId } from '../support/slack-requests';
import type { SlackUser } from '../support/slack-stand-in';
import { APPROVAL_CHANNEL, buttonClick, PEOPLE, testConfigYaml, TimeboxHarness } from '../support/timebox-harness';
import { findRequestId } from '../../src/domain/request-id';

/** Alice again: a second Slack account with her email in another case (an unconfirmed-email or Slack Connect account). */
const ALICE_AGAIN: SlackUser = { id: 'U0ALICE002', name: 'alice-two', email: 'Alice@Example.com' };
const GUEST: SlackUser = { id: 'U0GUEST000', name: 'gina-guest', email: 'gina@contractor.example', guest: 'multi' };
const SINGLE_GUEST: SlackUser = { id: 'U0GUEST001', name: 'sam-guest', email: 'sam@contractor.example', guest: 'single' };
const OTHER_TEAM: SlackUser = { id: 'U0OTTO0000', name: 'otto', email: 'otto@partner.example', teamId: 'T0PARTNER' };
const STRANGER: SlackUser = { id: 'U0STRANGE0', name: 'stranger', email: 'stan@partner.example', stranger: true };
const BOT: SlackUser = { id: 'U0BOTUSER0', name: 'deploybot', isBot: true };

/** production ReadOnly needs two approvers; every odd identity above is named as an approver by Slack id. */
const RULES = `
  - name: two-approvers
    accounts: [production]
    permissionSets: [ReadOnly]
    requesters: ["*"]
    approvers: [alice@example.com, U0BOB00000, ${GUEST.id}, ${OTHER_TEAM.id}, ${STRANGER.id}, ${BOT.id}]
    approvalsRequired: 2
    maxDuration: 1h`;

function withGuests(allowGuests: boolean): string {
  return testConfigYaml(RULES).replace(/approvalChannel: (\S+)/, `approvalChannel: $1\n  allowGuests: ${allowGuests}`);
}

async function start(allowGuests = false): Promise<TimeboxHarness> {
  const harness = await TimeboxHarness.start({ configYaml: withGuests(allowGuests) });
  for (const user of [ALICE_AGAIN, GUEST, SINGLE_GUEST, OTHER_TEAM, STRANGER, BOT]) harness.slack.addUser(user);
  return harness;
}

/** `/aws-access <text>` typed by any Slack user; the ephemeral reply. */
async function commandAs(h: TimeboxHarness, user: SlackUser, text: string): Promise<string> {
  const response = await h.sender.command({ userId: user.id, userName: user.name, text, channelId: 'C0GENERAL0', responseUrl: h.slack.responseUrl({ userId: user.id, channelId: 'C0GENERAL0' }) });
  return response.body ? ((JSON.parse(response.body) as { text?: string }).text ?? '') : '';
}

/** Approve clicked by any Slack user on the request's channel message; the ephemeral reply. */
async function approveAs(h: TimeboxHarness, user: SlackUser, requestId: string): Promise<string> {
  const message = await h.approvalMessage(requestId);
  const before = h.slack.ephemeralsTo(user.id).length;
  await h.sender.blockAction(buttonClick(h.slack, user, 'timebox_approve', requestId, message));
  return h.slack.waitFor(() => h.slack.ephemeralsTo(user.id)[before]?.text, 5000, `a reply to ${user.name}`);
}

describe('one person, two Slack identities', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(async () => {
    await h.stop();
  });

  test("a second Slack account with the requester's email cannot approve the request (self-approval is decided on the email)", async () => {
    const id = await h.file('alice', 'production Admin 30m my own request');
    const reply = await approveAs(h, ALICE_AGAIN, id);
    expect(reply).toContain('filed by another Slack account with your email');
    expect(reply).toContain('Nothing was changed');
    expect((await h.request(id)).status).toBe('PENDING');
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(0);
    expect((await h.audit(id)).filter((e) => e.type === 'decision_refused')).toEqual([expect.objectContaining({ actor: ALICE_AGAIN.id, detail: 'approve: self_approval' })]);
  });

  test('two Slack accounts with one email count as one approver; a second person is still needed', async () => {
    const id = await h.file('carol', 'production ReadOnly 30m needs two people');
    await h.click('alice', 'approve', id);
    await eventually(async () => (await h.runtime.deps.store.getRequest(id))?.grants[0]?.approvals.length === 1, 5000, 'the first approval');
    const reply = await approveAs(h, ALICE_AGAIN, id);
    expect(reply).toContain('Another Slack account with your email');
    expect((await h.request(id)).status).toBe('PENDING');
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(0);

    await h.click('bob', 'approve', id);
    await h.waitForStatus(id, 'ACTIVE');
    const approvers = (await h.runtime.deps.store.getRequest(id))?.grants[0]?.approvals.map((a) => a.slackUserId);
    expect(approvers).toEqual([PEOPLE.alice.id, PEOPLE.bob.id]);
  });
});

describe('guests, other workspaces and bots', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(async () => {
    await h.stop();
  });

  test.each([
    ['a multi-channel guest', GUEST, 'Guests cannot request access (slack.allowGuests is off).'],
    ['a single-channel guest', SINGLE_GUEST, 'Guests cannot request access (slack.allowGuests is off).'],
    ['a user of another workspace (Slack Connect)', OTHER_TEAM, 'belongs to another workspace, so you cannot request access here'],
    ['a user Slack marks as a stranger', STRANGER, 'belongs to another workspace, so you cannot request access here'],
  ])('%s cannot request: a clear refusal, nothing filed', async (_who, user, refusal) => {
    const before = await h.storedRequestCount();
    expect(await commandAs(h, user, 'staging ReadOnly 30m let me in')).toContain(refusal);
    expect(await h.storedRequestCount()).toBe(before);
  });

  test.each([
    ['a guest', GUEST, 'Guests cannot decide on access'],
    ['a user of another workspace', OTHER_TEAM, 'belongs to another workspace, so you cannot decide on access here'],
    ['a user Slack marks as a stranger', STRANGER, 'belongs to another workspace'],
    ['a bot', BOT, 'Bots cannot decide on access'],
  ])('%s named as an approver by Slack id still cannot approve', async (_who, user, refusal) => {
    const id = await h.file('carol', `production ReadOnly 30m approve as ${user.name}`);
    const reply = await approveAs(h, user, id);
    expect(reply).toContain(refusal);
    const request = await h.runtime.deps.store.getRequest(id);
    expect(request?.grants[0]?.approvals).toEqual([]);
    expect((await h.request(id)).status).toBe('PENDING');
  });
});

describe('slack.allowGuests: true', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await start(true);
  });
  afterAll(async () => {
    await h.stop();
  });

  test('lets a guest request and a user of another workspace approve; bots still cannot', async () => {
    expect(findRequestId(await commandAs(h, GUEST, 'production ReadOnly 30m contractor work'))).toBeDefined();
    const id = await h.file('carol', 'production ReadOnly 30m partner approves');
    await h.sender.blockAction(buttonClick(h.slack, OTHER_TEAM, 'timebox_approve', id, await h.approvalMessage(id)));
    await eventually(async () => (await h.runtime.deps.store.getRequest(id))?.grants[0]?.approvals.length === 1, 5000, 'the partner approval');
    expect(await approveAs(h, BOT, id)).toContain('Bots cannot decide on access');
  });
});

/** Every name and id the test config holds: none of them may reach someone who is not a member. */
const INVENTORY = ['staging', 'production', '111111111111', '222222222222', 'ReadOnly', 'Admin', 'oncall', 'db-admins'];

describe('reliability-3: guests, other workspaces and bots are told nothing about the inventory', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(async () => {
    await h.stop();
  });

  const outsiders: Array<[string, SlackUser, string]> = [
    ['a guest', GUEST, 'Guests cannot request access'],
    ['a user of another workspace', OTHER_TEAM, 'belongs to another workspace, so you cannot request access here'],
    ['a bot', BOT, 'Bots cannot request access'],
  ];

  test.each(outsiders)('%s typing /aws-access or /aws-access group gets a refusal instead of the form (which lists every account with its id), and no form opens', async (_who, user, refusal) => {
    for (const text of ['', 'group']) {
      const triggerId = newTriggerId();
      const response = await h.sender.command({ userId: user.id, userName: user.name, text, triggerId, channelId: 'C0GENERAL0', responseUrl: h.slack.responseUrl({ userId: user.id, channelId: 'C0GENERAL0' }) });
      expect(h.slack.openedViews().filter((v) => v.trigger_id === triggerId)).toEqual([]);
      const reply = response.body ? ((JSON.parse(response.body) as { text?: string }).text ?? '') : '';
      expect(reply).toContain(refusal);
      for (const name of INVENTORY) expect(reply).not.toContain(name);
    }
  });

  test.each(outsiders)('%s typing an unknown account, permission set or group gets the refusal, not the list of known ones', async (_who, user, refusal) => {
    const before = await h.storedRequestCount();
    for (const text of ['sandbox ReadOnly 30m let me in', 'staging PowerUser 30m let me in', 'group nobody 30m let me in']) {
      const reply = await commandAs(h, user, text);
      expect(reply).toContain(refusal);
      for (const name of INVENTORY) expect(reply).not.toContain(name);
    }
    expect(await h.storedRequestCount()).toBe(before);
  });

  test('a member still gets the form, and a typo answer naming the known accounts', async () => {
    const triggerId = newTriggerId();
    await h.sender.command({ userId: PEOPLE.carol.id, text: '', triggerId, channelId: 'C0GENERAL0', responseUrl: h.slack.responseUrl({ userId: PEOPLE.carol.id }) });
    expect(h.slack.openedViews().filter((v) => v.trigger_id === triggerId)).toHaveLength(1);
    expect((await h.command('carol', 'sandbox ReadOnly 30m typo')).text).toContain('Unknown account "sandbox". Known accounts: staging, production');
  });
});

describe('reliability-3: refused clicks by guests, other workspaces and bots are audited', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(async () => {
    await h.stop();
  });

  const outsiders: Array<[string, SlackUser, string]> = [
    ['a guest', GUEST, 'guest'],
    ['a user of another workspace', OTHER_TEAM, 'another workspace'],
    ['a user Slack marks as a stranger', STRANGER, 'another workspace'],
    ['a bot', BOT, 'bot'],
  ];

  test.each(outsiders)('Approve and Deny clicked by %s: refused, nothing changes, and the audit log names who clicked and why', async (_who, user, why) => {
    const id = await h.file('carol', `production ReadOnly 30m clicked by ${user.name}`);
    expect(await approveAs(h, user, id)).toContain('Nothing was changed');
    const before = h.slack.ephemeralsTo(user.id).length;
    await h.sender.blockAction(buttonClick(h.slack, user, 'timebox_deny', id, await h.approvalMessage(id)));
    expect(await h.slack.waitFor(() => h.slack.ephemeralsTo(user.id)[before]?.text, 5000, `a reply to ${user.name}`)).toContain('Nothing was changed');

    expect((await h.request(id)).status).toBe('PENDING');
    expect((await h.audit(id)).filter((e) => e.type === 'decision_refused').map((e) => [e.actor, e.detail])).toEqual([
      [user.id, `approve: not_a_member (${why})`],
      [user.id, `deny: not_a_member (${why})`],
    ]);
  });

  test.each(outsiders)('End clicked or typed by %s: refused, the access stays, and the audit log names who and why', async (_who, user, why) => {
    const id = await h.file('carol', `staging ReadOnly 30m ended by ${user.name}`);
    await h.waitForStatus(id, 'ACTIVE');
    const message = await h.slack.waitFor(
      () => h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.text?.includes(id) && JSON.stringify(m.blocks).includes('timebox_end')),
      5000,
      'the End button on the channel message',
    );
    const before = h.slack.ephemeralsTo(user.id).length;
    await h.sender.blockAction(buttonClick(h.slack, user, 'timebox_end', id, message));
    expect(await h.slack.waitFor(() => h.slack.ephemeralsTo(user.id)[before]?.text, 5000, `a reply to ${user.name}`)).toContain('Nothing was changed');
    expect(await commandAs(h, user, `end ${id}`)).toContain('Nothing was changed');

    expect((await h.request(id)).status).toBe('ACTIVE');
    expect((await h.audit(id)).filter((e) => e.type === 'end_refused').map((e) => [e.actor, e.detail])).toEqual([
      [user.id, `not_a_member (${why})`],
      [user.id, `not_a_member (${why})`],
    ]);
  });

  test('ending a request id that does not exist writes no audit record for it', async () => {
    expect(await commandAs(h, GUEST, 'end R-0000000000')).toContain('Nothing was changed');
    expect(await h.audit('R-0000000000')).toEqual([]);
  });
});
