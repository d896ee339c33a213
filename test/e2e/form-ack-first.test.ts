import { homeClickBody } from '../support/home-tab';
import { eventually } from '../support/eventually';
import { buttonClick, PEOPLE, TimeboxHarness } from '../support/timebox-harness';
import type { SlackMessage } from '../support/slack-stand-in';

const HOME_REQUEST = 'timebox_home_request';
/** The Home's "Request access" button, as the published Home shows it (homeClickBody clicks only what is shown). */
const HOME_BLOCKS = [{ type: 'actions', block_id: 'home_request', elements: [{ type: 'button', action_id: HOME_REQUEST, value: 'account', text: { type: 'plain_text', text: 'Request access' } }] }];

/**
 * The form, locally (the real Bolt HTTP app): Slack gets its ack before Timebox calls views.open,
 * so a slow Slack cannot hold the ack past its 3 seconds; the form still opens with the trigger_id,
 * and a failure to open it is answered, naming Slack's error.
 */
describe('performance-2: the form is acked before views.open', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });
  afterEach(() => {
    h.slack.clearFaults();
  });

  test('/aws-access alone with Slack slow to open the form (1 s): the ack comes back while views.open is still on its way, and the form then opens', async () => {
    h.slack.injectFault('views.open', { delayMs: 1_000 }, 1);
    const triggerId = `${Date.now()}.4242.ackfirst`;
    const responseUrl = h.slack.responseUrl({ userId: PEOPLE.carol.id, channelId: 'C0GENERAL0' });
    const form = h.sender.commandForm({ userId: PEOPLE.carol.id, text: '', triggerId, channelId: 'C0GENERAL0', responseUrl });
    const ack = await h.sender.raw(form.toString());
    expect(ack.status).toBe(200);
    expect(ack.body).toBe('');
    const opened = () => h.slack.openedViews().filter((v) => v.trigger_id === triggerId);
    expect(opened()).toEqual([]);
    await eventually(() => Promise.resolve(opened().length === 1), 5_000, 'the form to open');
    expect(h.slack.responses(responseUrl)).toEqual([]);
  });

  test('/aws-access alone, Slack refusing views.open (expired_trigger_id): the person gets an ephemeral answer naming it, and nothing is filed', async () => {
    const before = await h.storedRequestCount();
    h.slack.injectFault('views.open', { error: 'expired_trigger_id' }, 1);
    const { response, text } = await h.command('carol', '');
    expect(response.status).toBe(200);
    expect(text).toContain('The form did not open: Slack refused to open it (`expired_trigger_id`)');
    expect(await h.storedRequestCount()).toBe(before);
  });

  test('Home "Request access", Slack refusing views.open (expired_trigger_id): the person is told by DM, naming it', async () => {
    h.slack.injectFault('views.open', { error: 'expired_trigger_id' }, 1);
    const click = await h.sender.raw(homeClickBody(PEOPLE.dave, HOME_REQUEST, 'account', HOME_BLOCKS));
    expect(click.status).toBe(200);
    await eventually(() => Promise.resolve(h.dmTextsTo('dave').find((t) => t.includes('The form did not open: Slack refused to open it (`expired_trigger_id`)'))), 5_000, 'a DM naming the failure');
  });

  test('Extend, Slack refusing views.open (expired_trigger_id): the requester gets an ephemeral answer naming it, and the window is unchanged', async () => {
    const id = await h.file('alice', 'staging ReadOnly 30m extend form fails');
    const active = await h.waitForStatus(id, 'ACTIVE');
    // The Extend button as the warning DM carries it.
    const dm: SlackMessage = {
      channel: 'D0ALICE001',
      ts: '1700000000.000100',
      text: 'Need more time?',
      blocks: [{ type: 'actions', block_id: 'extend', elements: [{ type: 'button', action_id: 'timebox_extend', value: id, text: { type: 'plain_text', text: 'Extend' } }] }],
      history: [],
    };
    h.slack.injectFault('views.open', { error: 'expired_trigger_id' }, 1);
    const click = buttonClick(h.slack, PEOPLE.alice, 'timebox_extend', id, dm);
    expect((await h.sender.blockAction(click)).status).toBe(200);
    const answer = await eventually(() => Promise.resolve(h.slack.responses(click.responseUrl!)[0]), 5_000, 'an answer to the click');
    expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
    expect(String(answer.body.text)).toContain('The form did not open: Slack refused to open it (`expired_trigger_id`)');
    expect((await h.waitForStatus(id, 'ACTIVE')).endsAt).toBe(active.endsAt);
  });
});
