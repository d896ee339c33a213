import { viewText } from '../support/home-tab';
import { APPROVAL_CHANNEL, PEOPLE, testConfigYaml, TimeboxHarness } from '../support/timebox-harness';

const TICKET_URL = 'https://tracker.example.com/browse/{ticket}';

/** Dave's Admin on production needs a change or incident ticket in the reason; alice approves. */
const config = testConfigYaml(`
  - name: prod-change
    accounts: [production]
    permissionSets: [Admin]
    requesters: [dave@example.com]
    approvers: [alice@example.com]
    ticketPattern: "^(INC|CHG)-\\\\d+$"
    maxDuration: 1h`).replace(`approvalChannel: ${APPROVAL_CHANNEL}`, `approvalChannel: ${APPROVAL_CHANNEL}\n  ticketUrl: ${TICKET_URL}`);

describe('sessions-breakglass: tickets', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: config });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('a reason without a ticket is refused naming the pattern, and nothing is filed', async () => {
    const before = await h.storedRequestCount();
    const { text } = await h.command('dave', 'production Admin 30m rolling back the deploy');
    expect(text).toContain('The reason must name a ticket');
    expect(text).toContain('`^(INC|CHG)-\\d+$`');
    expect(text).toContain('rule "prod-change"');
    expect(await h.storedRequestCount()).toBe(before);
  });

  test('a ticket of the wrong kind (JIRA-12, INC-12a) is refused the same way, and nothing is filed', async () => {
    const before = await h.storedRequestCount();
    for (const reason of ['rolling back JIRA-12', 'rolling back INC-12a']) {
      const { text } = await h.command('dave', `production Admin 30m ${reason}`);
      expect(text).toContain('The reason must name a ticket');
    }
    expect(await h.storedRequestCount()).toBe(before);
  });

  test('a reason naming a ticket (even in brackets) is filed; the ticket is its own field on the approval message, linked through slack.ticketUrl, is in the requested audit event, and shows on the approver\'s App Home', async () => {
    const id = await h.file('dave', 'production Admin 30m rolling back (CHG-42), see thread');
    const stored = await h.request(id);
    expect(stored.ticket).toEqual({ id: 'CHG-42', url: 'https://tracker.example.com/browse/CHG-42' });
    const message = await h.approvalMessage(id);
    expect(JSON.stringify(message.blocks)).toContain('*Ticket*\\n<https://tracker.example.com/browse/CHG-42|CHG-42>');
    const requested = (await h.audit(id)).find((e) => e.type === 'requested');
    expect(requested?.detail).toContain('rule prod-change, ticket CHG-42: rolling back (CHG-42), see thread');
    // The approver's Home lists it to decide, with its ticket; the requester's lists it as pending, with its ticket.
    const homeShows = (who: 'alice' | 'dave', text: string) =>
      h.slack.waitFor(() => {
        const home = h.slack.homeOf(PEOPLE[who].id);
        return home && viewText(home.blocks).includes(id) && viewText(home.blocks).includes(text);
      }, 10_000, `${who}'s Home to show the ticket`);
    await homeShows('alice', '*Ticket* <https://tracker.example.com/browse/CHG-42|CHG-42>');
    await homeShows('dave', 'ticket <https://tracker.example.com/browse/CHG-42|CHG-42>');
    const { text: status } = await h.command('dave', `status ${id}`);
    expect(status).toContain('Ticket: <https://tracker.example.com/browse/CHG-42|CHG-42>');
  });

  test('rules without a ticketPattern ask for no ticket', async () => {
    const id = await h.file('carol', 'production ReadOnly 30m looking at the logs');
    expect((await h.request(id)).ticket).toBeUndefined();
  });
});
