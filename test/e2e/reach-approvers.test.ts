import { approvalRefs } from '../../src/domain/access-request';
import { eventually } from '../support/eventually';
import type { SlackMessage } from '../support/slack-stand-in';
import { APPROVAL_CHANNEL, PEOPLE, TimeboxHarness, testConfigYaml } from '../support/timebox-harness';

const STAGING_CHANNEL = 'C0STAGING0';
const DB_TEAM = 'S0DBTEAM00';

/**
 * Rules placed ahead of the test config's own (the first matching rule decides): staging Admin
 * is decided by anyone in its own channel; production ReadOnly by alice (listed by email) or bob,
 * in the channel and by DM; the db-admins group is decided by an email Slack does not know, a Slack user group and an
 * Identity Center group, asked by DM only; oncall
 * waits 8 s for a decision.
 */
const RULES = `
  - name: staging-admin-anyone
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["*"]
    approvers: ["*"]
    maxDuration: 1h
    channel: ${STAGING_CHANNEL}
  - name: prod-readonly-both
    accounts: [production]
    permissionSets: [ReadOnly]
    requesters: ["*"]
    approvers: [alice@example.com, U0BOB00000]
    maxDuration: 1h
    notify: both
  - name: oncall-slow
    groups: [oncall]
    requesters: ["*"]
    approvers: [U0BOB00000]
    maxDuration: 1h
    pendingExpiry: 8s
  - name: db-admins-by-dm
    groups: [db-admins]
    requesters: ["*"]
    approvers: [ghost@example.com, "@db-team", "group:platform"]
    maxDuration: 1h
    notify: dm`;

/** The text of a message's blocks (what people read), as one string. */
const shown = (m: SlackMessage | undefined): string => JSON.stringify(m?.blocks ?? []);

describe('daily-use: reminders and who gets told', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    // Reminders 1 s after filing, then 2 s later, and no more (a third would come 7 s after filing).
    h = await TimeboxHarness.start({ configYaml: `${testConfigYaml(RULES)}reminders:\n  after: 1s\n  backoff: 2\n  max: 2\n` });
    h.slack.addUserGroup({ id: DB_TEAM, handle: 'db-team', users: [PEOPLE.alice.id, PEOPLE.dave.id] });
  });

  /** The request's copy of the approval message in `channel` (a channel id, or D<user> for a DM). */
  const copyIn = (channel: string, id: string): Promise<SlackMessage> =>
    h.slack.waitFor(() => h.slack.messagesIn(channel).find((m) => shown(m).includes(id) && !m.threadTs), 5000, `${id}'s message in ${channel}`);
  /** Waits until the request has recorded `count` approval messages (the channel's and its copies), so a click on any is checked against them. */
  const copiesRecorded = (id: string, count: number) =>
    eventually(async () => approvalRefs((await h.runtime.deps.store.getRequest(id)) ?? { messages: [] }).length >= count, 5000, `${id}'s ${count} approval messages to be recorded`);
  /** Replies in the thread of a message. */
  const thread = (m: SlackMessage): SlackMessage[] => h.slack.messagesIn(m.channel).filter((r) => r.threadTs === m.ts);
  /** Waits until every message's latest version passes `check`. */
  const allShow = (messages: SlackMessage[], check: (blocks: string) => boolean, what: string) =>
    h.slack.waitFor(() => messages.every((m) => check(JSON.stringify(h.slack.messagesIn(m.channel).find((x) => x.ts === m.ts)?.blocks ?? []))), 5000, what);
  afterAll(async () => {
    await h.stop();
  });

  test('the approval message names who can decide: an approver listed by email is mentioned as the Slack user users.lookupByEmail finds, one listed by id as is', async () => {
    const id = await h.file('carol', 'production Admin 30m named approvers');
    const message = await h.approvalMessage(id);
    expect(shown(message)).toContain(`Waiting for approval from <@${PEOPLE.alice.id}> or <@${PEOPLE.bob.id}>`);
    expect(h.slack.callsTo('users.lookupByEmail').map((c) => c.args.email)).toContain('alice@example.com');
  });

  test('an approver email Slack does not know (users_not_found) and an Identity Center group are shown as written, a Slack user group as its mention; notify: dm asks each member of the user group by DM and posts nothing in the channel; "*" reads "anyone"', async () => {
    const unknown = await h.file('carol', 'group db-admins 30m unknown approver');
    for (const member of [PEOPLE.alice.id, PEOPLE.dave.id]) {
      expect(shown(await copyIn(`D${member}`, unknown))).toContain(`Waiting for approval from ghost@example.com, <!subteam^${DB_TEAM}> or group:platform`);
    }
    expect(h.slack.messagesIn(APPROVAL_CHANNEL).filter((m) => shown(m).includes(unknown))).toEqual([]);
    const anyone = await h.file('carol', 'staging Admin 30m anyone approves');
    expect(shown(await copyIn(STAGING_CHANNEL, anyone))).toContain('Waiting for approval from anyone');
  });

  test('the requester gets a DM when the request is filed, carrying its id and naming who can decide, and another at the decision', async () => {
    const id = await h.file('dave', 'production Admin 30m filing DM');
    const filed = await h.slack.waitFor(() => h.dmTextsTo('dave').find((t) => t.includes(id)), 5000, 'the DM at filing');
    expect(filed).toContain(`is filed as ${id} and waiting for approval from <@${PEOPLE.alice.id}> or <@${PEOPLE.bob.id}>`);
    await h.click('bob', 'deny', id);
    await h.slack.waitFor(() => h.dmTextsTo('dave').find((t) => t.includes(id) && t.includes(`was denied by <@${PEOPLE.bob.id}>`)), 5000, 'the DM at the decision');
    expect(h.slack.messagesIn(APPROVAL_CHANNEL).filter((m) => shown(m).includes(id))).toHaveLength(1);
  });

  test('reminders: the approvers are mentioned twice in the thread (1 s, then 2 s later; reminders.max 2), then no more before the request expires; a request decided at once gets none', async () => {
    const waiting = await h.file('carol', 'group oncall 30m nobody decides');
    const decided = await h.file('dave', 'group oncall 30m decided at once');
    const [waitingMessage, decidedMessage] = [await h.approvalMessage(waiting), await h.approvalMessage(decided)];
    await h.click('bob', 'deny', decided);
    await h.waitForStatus(decided, 'DENIED');
    // The expiry (8 s after filing) comes after the time a third reminder would have had (7 s).
    await h.waitForStatus(waiting, 'EXPIRED', 15_000);
    const replies = thread(waitingMessage);
    expect(replies.map((r) => r.text)).toEqual([expect.stringContaining(`still waiting for approval from <@${PEOPLE.bob.id}>`), expect.stringContaining(`still waiting for approval from <@${PEOPLE.bob.id}>`)]);
    const [first, second] = replies.map((r) => Number(r.ts.split('.')[0]));
    expect(second! - first!).toBeGreaterThanOrEqual(1); // the second came a gap (2 s) after the first, not in the same pass
    expect(thread(decidedMessage)).toEqual([]);
  });

  test('notify: both: each approver gets a DM copy with Approve / Deny; a non-approver clicking a DM copy is refused; an approver approving from a DM copy approves, and every copy loses its buttons and shows the outcome', async () => {
    const id = await h.file('carol', 'production ReadOnly 30m dm copies');
    const copies = [await copyIn(APPROVAL_CHANNEL, id), await copyIn(`D${PEOPLE.alice.id}`, id), await copyIn(`D${PEOPLE.bob.id}`, id)];
    for (const copy of copies) expect(shown(copy)).toContain('timebox_approve');
    expect(h.slack.dmsTo(PEOPLE.dave.id).filter((m) => shown(m).includes(id))).toEqual([]);
    await copiesRecorded(id, 3);

    expect(await h.nextEphemeral('dave', () => h.click('dave', 'approve', id, copies[1]))).toContain('not an approver');
    expect((await h.request(id)).status).toBe('PENDING');

    await h.click('bob', 'approve', id, copies[2]);
    await h.waitForStatus(id, 'ACTIVE');
    await allShow(copies, (b) => !b.includes('timebox_approve') && b.includes(`Approved by <@${PEOPLE.bob.id}>`), 'every copy to show the approval without buttons');
  });

  test('rules[].channel: a request is posted to its rule\'s channel only; one with grants under rules of two channels is posted to both, each showing all its grants, and a decision updates both', async () => {
    const own = await h.file('carol', 'staging Admin 30m own channel');
    await copyIn(STAGING_CHANNEL, own);
    expect(h.slack.messagesIn(APPROVAL_CHANNEL).filter((m) => shown(m).includes(own))).toEqual([]);

    const both = await h.file('dave', 'staging,production Admin 30m two channels');
    const copies = [await copyIn(STAGING_CHANNEL, both), await copyIn(APPROVAL_CHANNEL, both)];
    for (const copy of copies) expect(shown(copy)).toMatch(/staging.*production|production.*staging/);
    await h.click('alice', 'approve', both, copies[0]);
    await h.waitForStatus(both, 'ACTIVE');
    await allShow(copies, (b) => !b.includes('timebox_approve') && b.includes(`Approved by <@${PEOPLE.alice.id}>`), 'both channel copies to show the approval');
  });
});

describe('daily-use: reminders and who gets told (Slack failing)', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: testConfigYaml(RULES), sweepIntervalMs: 300 });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('a DM copy Slack fails to take is posted again with the news retry, once; the copies that went through are not posted twice', async () => {
    // The first DM opened in the pass is alice's copy (the channel message needs none).
    h.slack.injectFault('conversations.open', { error: 'fatal_error' }, 1);
    const id = await h.file('carol', 'production ReadOnly 30m copy retried');
    const aliceCopies = () => h.slack.dmsTo(PEOPLE.alice.id).filter((m) => shown(m).includes(id) && !m.threadTs);
    await h.slack.waitFor(() => aliceCopies().length > 0, 10_000, "alice's copy, once Slack takes it");
    await eventually(async () => approvalRefs((await h.runtime.deps.store.getRequest(id)) ?? { messages: [] }).length >= 3, 5000, 'all three copies recorded');
    expect(aliceCopies()).toHaveLength(1);
    const bobCopies = h.slack.dmsTo(PEOPLE.bob.id).filter((m) => shown(m).includes(id) && !m.threadTs);
    expect(bobCopies).toHaveLength(1);
    // alice's came later, on the retry: the failed post was hers.
    expect(Number(aliceCopies()[0]!.ts)).toBeGreaterThan(Number(bobCopies[0]!.ts));
    expect(h.slack.messagesIn(APPROVAL_CHANNEL).filter((m) => shown(m).includes(id) && !m.threadTs)).toHaveLength(1);
  });
});
