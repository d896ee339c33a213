import type { SlackMessage } from '../support/slack-stand-in';
import { APPROVAL_CHANNEL, PEOPLE, TimeboxHarness, testConfigYaml } from '../support/timebox-harness';

/** Rules placed ahead of the test config's own (the first matching rule decides). */
const RULES = `
  - name: staging-admin-anyone
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["*"]
    approvers: ["*"]
    maxDuration: 1h
  - name: db-admins-unknown-approver
    groups: [db-admins]
    requesters: ["*"]
    approvers: [ghost@example.com, U0BOB00000]
    maxDuration: 1h`;

/** The text of a message's blocks (what people read), as one string. */
const shown = (m: SlackMessage | undefined): string => JSON.stringify(m?.blocks ?? []);

describe('daily-use: reminders and who gets told', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: testConfigYaml(RULES) });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('the approval message names who can decide: an approver listed by email is mentioned as the Slack user users.lookupByEmail finds, one listed by id as is', async () => {
    const id = await h.file('carol', 'production Admin 30m named approvers');
    const message = await h.approvalMessage(id);
    expect(shown(message)).toContain(`Waiting for approval from <@${PEOPLE.alice.id}> or <@${PEOPLE.bob.id}>`);
    expect(h.slack.callsTo('users.lookupByEmail').map((c) => c.args.email)).toContain('alice@example.com');
  });

  test('an approver email Slack does not know (users_not_found) is shown as written; "*" reads "anyone"', async () => {
    const unknown = await h.file('carol', 'group db-admins 30m unknown approver');
    expect(shown(await h.approvalMessage(unknown))).toContain(`Waiting for approval from ghost@example.com or <@${PEOPLE.bob.id}>`);
    const anyone = await h.file('carol', 'staging Admin 30m anyone approves');
    expect(shown(await h.approvalMessage(anyone))).toContain('Waiting for approval from anyone');
  });

  test('the requester gets a DM when the request is filed, carrying its id and naming who can decide, and another at the decision', async () => {
    const id = await h.file('dave', 'production ReadOnly 30m filing DM');
    const filed = await h.slack.waitFor(() => h.dmTextsTo('dave').find((t) => t.includes(id)), 5000, 'the DM at filing');
    expect(filed).toContain(`is filed as ${id} and waiting for approval from <@${PEOPLE.alice.id}> or <@${PEOPLE.bob.id}>`);
    await h.click('bob', 'deny', id);
    await h.slack.waitFor(() => h.dmTextsTo('dave').find((t) => t.includes(id) && t.includes(`was denied by <@${PEOPLE.bob.id}>`)), 5000, 'the DM at the decision');
    expect(h.slack.messagesIn(APPROVAL_CHANNEL).filter((m) => shown(m).includes(id))).toHaveLength(1);
  });
});
