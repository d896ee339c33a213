import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../support/eventually';
import { APPROVAL_CHANNEL, PEOPLE, testConfigYaml, type TimeboxHarness } from '../support/timebox-harness';
import { DAVE_STAGING_READONLY as DAVE, channelMessagesAbout, deleteFromChannel, drainSlackFaults, holds, openRequests, requestIdIn, startHarness, waitForAudit, waitForRequest } from './fault-helpers';
import { messageOf } from '../../src/domain/access-request';

/**
 * What Slack's own failures do to Timebox: rate limits, server errors, slow or hanging calls,
 * dead response_urls. The promises under test: Slack trouble never blocks or delays an access
 * change (grant or revoke), messages catch up once Slack is back without being duplicated, and
 * a person at the Slack door always gets an answer instead of a silent failure or a half-filed request.
 */

const GENERIC = 'could not handle that right now';

let h: TimeboxHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('Slack faults: messages and DMs', () => {
  test('chat.postMessage rate-limited (HTTP 429, Retry-After: 1): the approval request is still posted to the channel, exactly once', async () => {
    h = await startHarness();
    h.slack.injectFault('chat.postMessage', { status: 429, retryAfterSeconds: 1 }, 1);
    const id = await h.file('carol', 'production Admin 30m rate limited post');

    await h.approvalMessage(id);
    expect(h.slack.callsTo('chat.postMessage').length).toBeGreaterThanOrEqual(2);
    expect(channelMessagesAbout(h, APPROVAL_CHANNEL, id)).toHaveLength(1);
    expect((await h.request(id)).status).toBe('PENDING');
  });

  test('chat.postMessage failing with HTTP 500 past the Web API client\'s retries: the request stays PENDING, the sweep posts the approval message later, exactly once, and it can still be approved', async () => {
    h = await startHarness({ sweepIntervalMs: 500 });
    const harness = h;
    // 5 faults: the first delivery (1 try + the worker client's 3 retries) fails, and so does the
    // sweep's first try, so the moment we look below no post can have got through yet.
    harness.slack.injectFault('chat.postMessage', { status: 500, error: 'internal_error' }, 5);
    const { text } = await harness.command('carol', 'production Admin 2s slack is down');
    expect(text).toContain('waiting for approval'); // filing does not depend on Slack's Web API
    const id = requestIdIn(text);

    // The first delivery gives up after the client's own retries (1 try + 3 retries).
    await harness.slack.waitFor(() => harness.slack.callsTo('chat.postMessage').length >= 4, 15_000, 'the first delivery to give up');
    const waiting = await harness.request(id);
    expect(waiting.status).toBe('PENDING');
    expect(channelMessagesAbout(harness, APPROVAL_CHANNEL, id)).toHaveLength(0);

    await waitForRequest(harness, id, (r) => messageOf(r, 'channel')?.ref !== undefined, 'the approval message to be recorded', 20_000);
    expect(channelMessagesAbout(harness, APPROVAL_CHANNEL, id)).toHaveLength(1);
    await harness.click('alice', 'approve', id);
    await harness.waitForStatus(id, 'ACTIVE');
    expect(holds(harness, { who: 'carol', account: 'production', permissionSet: 'Admin' })).toBe(true);
    expect(channelMessagesAbout(harness, APPROVAL_CHANNEL, id)).toHaveLength(1);
  });

  test('chat.update failing with HTTP 500 after approval: access is still granted while Slack is down, and the channel message and the DM catch up once Slack recovers', async () => {
    h = await startHarness({ sweepIntervalMs: 500 });
    const harness = h;
    const id = await harness.file('carol', 'production Admin 1s approve during a slack outage');
    const message = await harness.approvalMessage(id);
    harness.slack.injectFault('chat.update', { status: 500, error: 'internal_error' }, 200);
    await harness.click('alice', 'approve', id);

    await harness.waitForStatus(id, 'ACTIVE', 20_000);
    expect(holds(harness, { who: 'carol', account: 'production', permissionSet: 'Admin' })).toBe(true);
    // Granted while Slack was still failing: the channel message has not caught up yet.
    expect(JSON.stringify(harness.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.ts === message.ts)?.blocks)).not.toContain('Active until');

    await drainSlackFaults(harness, 'chat.update');
    await harness.slack.waitFor(
      () => JSON.stringify(harness.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.ts === message.ts)?.blocks).match(/Active until|Ended/),
      20_000,
      'the channel message to catch up',
    );
    await harness.slack.waitFor(() => harness.dmTextsTo('carol').find((t) => t.includes(id) && /is active until|has ended/.test(t)), 20_000, 'the DM to catch up');
    expect(channelMessagesAbout(harness, APPROVAL_CHANNEL, id)).toHaveLength(1);
  });

  test('chat.update hanging after approval (Slack slow to answer): the grant does not wait for Slack', async () => {
    h = await startHarness();
    const id = await h.file('carol', 'production Admin 30m approve while slack is slow');
    await h.approvalMessage(id);
    const delayMs = 3000;
    h.slack.injectFault('chat.update', { delayMs }, 1);
    await h.click('alice', 'approve', id);

    await h.waitForStatus(id, 'ACTIVE', 20_000);
    const slowCall = await h.slack.waitFor(() => h!.slack.callsTo('chat.update')[0], 10_000, 'the slow chat.update');
    const granted = (await waitForAudit(h, id, 'granted')).find((e) => e.type === 'granted')!;
    // Causal, not a speed bound: access was granted before the slow Slack call could have returned.
    expect(granted.at).toBeLessThan(slowCall.at + delayMs);
  });

  test('Slack refusing to open the requester\'s DM: access is still revoked when the window ends, and the DM is delivered once Slack recovers', async () => {
    // Enough attempts that the ended news outlasts the outage (a bounded number is given up: see undeliverable-news).
    h = await startHarness({ sweepIntervalMs: 500, workflow: { newsAttempts: 20 } });
    const harness = h;
    harness.slack.injectFault('conversations.open', { error: 'internal_error' }, 500);
    const id = await harness.file('dave', 'staging ReadOnly 1s no dms today');

    await harness.waitForStatus(id, 'ACTIVE');
    const ended = await harness.waitForStatus(id, 'ENDED', 20_000);
    expect(ended.keptBecause).toBeUndefined();
    expect(holds(harness, DAVE)).toBe(false);
    expect(harness.dmTextsTo('dave')).toEqual([]); // revoked while every DM was still failing

    await drainSlackFaults(harness, 'conversations.open');
    await harness.slack.waitFor(() => harness.dmTextsTo('dave').find((t) => t.includes(id) && t.includes('has ended')), 20_000, 'the ended DM once Slack recovers');
    expect(harness.dmTextsTo('dave').filter((t) => t.includes(id) && t.includes('has ended'))).toHaveLength(1);
  });

  test('The approval message deleted from the channel (every chat.update answers message_not_found): the requester is still told their access is active and when it has ended', async () => {
    h = await startHarness({ sweepIntervalMs: 500 });
    const harness = h;
    const id = await harness.file('carol', 'production Admin 1s message will vanish');
    const message = await harness.approvalMessage(id);
    // Someone in the channel deletes the message: Slack answers chat.update with message_not_found from now on.
    await deleteFromChannel(harness, message);
    await harness.click('alice', 'approve', id, message);

    await harness.waitForStatus(id, 'ACTIVE');
    await harness.slack.waitFor(() => harness.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('is active until')), 2000, 'the active DM');
    await harness.waitForStatus(id, 'ENDED', 20_000);
    expect(holds(harness, { who: 'carol', account: 'production', permissionSet: 'Admin' })).toBe(false);
    await harness.slack.waitFor(() => harness.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('has ended')), 2000, 'the ended DM');
  });

  test('A DM that hangs (slow chat.postMessage to the requester): the revoke at the end of the window does not wait for it', async () => {
    h = await startHarness();
    const id = await h.file('carol', 'production Admin 1s slow dm');
    await h.approvalMessage(id);
    const delayMs = 3000;
    h.slack.injectFault('chat.postMessage', { delayMs }, 1); // the channel message exists: the next post is the DM
    await h.click('alice', 'approve', id);

    await h.waitForStatus(id, 'ENDED', 20_000);
    const dmCall = await h.slack.waitFor(() => h!.slack.callsTo('chat.postMessage').find((c) => String(c.args.channel).startsWith('D')), 10_000, 'the slow DM');
    const revoked = (await waitForAudit(h, id, 'revoked')).find((e) => e.type === 'revoked')!;
    expect(holds(h, { who: 'carol', account: 'production', permissionSet: 'Admin' })).toBe(false);
    // Causal, not a speed bound: the assignment was removed before the slow DM could have been delivered.
    expect(revoked.at).toBeLessThan(dmCall.at + delayMs);
  });
});

describe('Slack faults: commands and clicks', () => {
  test('views.open refused by Slack for /aws-access with no text: the user gets an ephemeral error naming Slack\'s error and nothing is filed', async () => {
    h = await startHarness();
    const before = await openRequests(h);
    h.slack.injectFault('views.open', { error: 'internal_error' }, 1);
    const { response, text } = await h.command('carol', '');

    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ response_type: 'ephemeral' });
    expect(text).toContain('The form did not open: Slack refused to open it (`internal_error`)');
    expect(h.slack.openedViews()).toEqual([]);
    expect(await openRequests(h)).toBe(before);
  });

  test('views.open failing with HTTP 500 (Slack down): the user still gets an ephemeral error (not Slack\'s timeout) and nothing is filed', async () => {
    h = await startHarness();
    const before = await openRequests(h);
    h.slack.injectFault('views.open', { status: 500, error: 'internal_error' }, 4);
    const { response, text } = await h.command('carol', '');

    expect(response.status).toBe(200);
    expect(text).toContain('The form did not open');
    expect(await openRequests(h)).toBe(before);
  });

  // Slack drops a slash-command answer that comes after 3 s (Bolt itself answers 404 then), so a
  // form that Slack is slow to open must still end in an answer from Timebox within that window.
  test('views.open hanging past Slack\'s 3-second deadline: the user still gets an ephemeral error (not Slack\'s timeout) and nothing is filed', async () => {
    h = await startHarness();
    const before = await openRequests(h);
    h.slack.injectFault('views.open', { delayMs: 4000 }, 1);
    const { response, text } = await h.command('carol', '');

    expect(response.status).toBe(200);
    expect(text).toContain('The form did not open');
    expect(await openRequests(h)).toBe(before);
  });

  test('response_url gone (HTTP 404) when a non-approver clicks Approve: no server error, nothing changes, the refusal is audited, and the app keeps serving', async () => {
    h = await startHarness();
    const id = await h.file('carol', 'production Admin 1s dead response url');
    await h.approvalMessage(id);
    h.slack.injectFault('response_url', { status: 404, error: 'expired_url' }, 1);
    const answered = h.slack.callsTo('response_url').length; // the filing's own answer

    const click = await h.click('dave', 'approve', id);
    expect(click.status).toBe(200);
    await h.slack.waitFor(() => h!.slack.callsTo('response_url').length > answered, 5000, 'the refusal to be sent to the dead response_url');
    const unchanged = await h.request(id);
    expect(unchanged.status).toBe('PENDING');
    expect(unchanged.approvals).toEqual([]);
    expect((await h.audit(id)).map((e) => `${e.type}:${e.actor}`)).toContain(`decision_refused:${PEOPLE.dave.id}`);

    // Still serving: health check, a real approval of the same request, and a new command.
    expect((await fetch(`${h.runtime.url}/healthz`)).status).toBe(200);
    expect((await h.click('alice', 'approve', id)).status).toBe(200);
    await h.waitForStatus(id, 'ACTIVE');
    const { text } = await h.command('dave', 'staging ReadOnly 1s still serving');
    expect(text).toContain('approved automatically');
  });

  test('users.info refused by Slack on a command: the user gets a clear "could not handle that right now" message and nothing is filed', async () => {
    h = await startHarness();
    const before = await openRequests(h);
    h.slack.injectFault('users.info', { error: 'fatal_error' }, 1);
    const { response, text } = await h.command('dave', 'staging ReadOnly 1h directory refused');

    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ response_type: 'ephemeral' });
    expect(text).toContain(GENERIC);
    expect(await openRequests(h)).toBe(before);
    expect(h.slack.messagesIn(APPROVAL_CHANNEL)).toEqual([]);
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(0);
  });

  test('users.info failing with HTTP 500 past the Web API client\'s retries: the user still gets the clear "could not handle that right now" message and nothing is filed', async () => {
    h = await startHarness();
    const before = await openRequests(h);
    h.slack.injectFault('users.info', { status: 500, error: 'internal_error' }, 4);
    const { response, text } = await h.command('dave', 'staging ReadOnly 1h directory down');
    try {
      expect(response.status).toBe(200);
      expect(text).toContain(GENERIC);
      expect(await openRequests(h)).toBe(before);
    } finally {
      // Let a retrying client finish its last attempt, so nothing is left running when the test ends.
      await h.slack.waitFor(() => h!.slack.callsTo('users.info').length >= 4, 1500).catch(() => undefined);
      await sleep(200);
    }
  });
});

describe('reliability-3: the answer to a command when its response_url fails', () => {
  let door: TimeboxHarness;
  beforeAll(async () => {
    door = await startHarness();
  });
  afterAll(async () => {
    await door.stop();
  });

  /** `/aws-access <text>` typed by carol in C0GENERAL0, with the next response_url post failing as `fault` says; returns the ack. */
  async function commandWithDeadResponseUrl(text: string, fault: { status: number; error: string }) {
    door.slack.injectFault('response_url', fault, 1);
    const responseUrl = door.slack.responseUrl({ userId: PEOPLE.carol.id, channelId: 'C0GENERAL0' });
    const form = door.sender.commandForm({ userId: PEOPLE.carol.id, userName: 'carol', text, channelId: 'C0GENERAL0', responseUrl });
    const ack = await door.sender.raw(form.toString());
    // The answer was tried on the response_url first, and that failed.
    await door.slack.waitFor(() => door.slack.callsTo('response_url').some((c) => c.args.url === responseUrl), 5000, 'the answer to be tried on the response_url');
    expect(door.slack.responses(responseUrl)).toEqual([]);
    return ack;
  }

  /** What carol sees from Timebox (ephemeral or DM) mentioning `words`, posted with the Web API rather than the response_url. */
  const seenByCarol = (words: string) =>
    door.slack.waitFor(
      () => [...door.slack.ephemeralsTo(PEOPLE.carol.id), ...door.slack.dmsTo(PEOPLE.carol.id)].find((m) => !m.responseUrl && (m.text ?? '').includes(words)),
      5000,
      `carol to be told "${words}"`,
    );

  test('response_url failing (HTTP 500) once a request is filed: the requester still sees "Request R-… is waiting for approval" as an ephemeral message in the channel', async () => {
    const ack = await commandWithDeadResponseUrl('production Admin 30m response url down', { status: 500, error: 'internal_error' });
    expect(ack.status).toBe(200);
    const told = await seenByCarol('is waiting for approval');
    expect(told.channel).toBe('C0GENERAL0');
    expect(door.slack.ephemeralsTo(PEOPLE.carol.id)).toContain(told);
    const id = requestIdIn(told.text ?? '');
    expect((await door.request(id)).status).toBe('PENDING');
  });

  test('response_url gone and the bot not in the channel: the requester is told by DM instead', async () => {
    door.slack.setChannelState('C0GENERAL0', 'bot_removed');
    try {
      await commandWithDeadResponseUrl('staging ReadOnly 30m channel closed too', { status: 404, error: 'expired_url' });
      const told = await seenByCarol('was approved automatically');
      expect(told.channel).toBe(`D${PEOPLE.carol.id}`);
      await door.waitForStatus(requestIdIn(told.text ?? ''), 'ACTIVE');
    } finally {
      door.slack.setChannelState('C0GENERAL0', 'open');
    }
  });

  test('response_url gone (HTTP 404) for a refusal decided after the ack (no rule allows it): the refusal still reaches the person in the channel, and nothing is filed', async () => {
    const before = await door.storedRequestCount();
    await commandWithDeadResponseUrl('staging Admin 30m not allowed', { status: 404, error: 'expired_url' });
    const told = await seenByCarol('No rule allows you to request Admin on staging');
    expect(told.channel).toBe('C0GENERAL0');
    expect(await door.storedRequestCount()).toBe(before);
  });
});

/** production Admin needing three approvers: a request stays pending through two approvals. */
const THREE_APPROVERS = `
  - name: prod-admin-three-approvers
    accounts: [production]
    permissionSets: [Admin]
    requesters: ["*"]
    approvers: [alice@example.com, U0BOB00000, U0DAVE0000]
    approvalsRequired: 3
    maxDuration: 1h`;

describe('reliability-3: a re-posted approvals message', () => {
  test('the approvals message deleted, and a second approver\'s click landing while Timebox posts its replacement: the replacement is recorded, it is the only one, and its Approve button works', async () => {
    h = await startHarness({ configYaml: testConfigYaml(THREE_APPROVERS) });
    const harness = h;
    const id = await harness.file('carol', 'production Admin 30m replacement message');
    const original = await harness.approvalMessage(id);
    await deleteFromChannel(harness, original);

    // alice's approval makes Timebox update the message, find it gone and post a replacement.
    // Slack answers that post only once bob's approval (a click on the message alice saw) is stored.
    let bobsClick: Promise<unknown> | undefined;
    harness.slack.onCall(async (call) => {
      if (bobsClick || call.method !== 'chat.postMessage' || call.args.channel !== APPROVAL_CHANNEL) return;
      bobsClick = harness.click('bob', 'approve', id, original);
      await waitForRequest(harness, id, (r) => r.approvals.length === 2, "bob's approval to be stored");
    });
    await harness.click('alice', 'approve', id, original);

    await harness.slack.waitFor(
      () => channelMessagesAbout(harness, APPROVAL_CHANNEL, id).some((m) => JSON.stringify(m.blocks).includes('2/3 approvals')),
      10_000,
      'the channel to show both approvals',
    );
    await bobsClick;
    // The replacement Timebox posted in place of the deleted message is the one it refers to from
    // now on: its Approve button works, and no second message is posted beside it.
    const [replacement, ...more] = channelMessagesAbout(harness, APPROVAL_CHANNEL, id);
    await harness.click('dave', 'approve', id, replacement!);
    const decided = await eventually(
      async () => (await harness.audit(id)).find((e) => e.actor === PEOPLE.dave.id && (e.type === 'approved' || e.type === 'decision_refused')),
      5000,
      "dave's click to be decided",
    );
    expect(`${decided.type}: ${decided.detail ?? ''}`).toBe('approved: 3/3 approvals');
    expect(more).toEqual([]);
    expect(messageOf(await harness.request(id), 'channel')?.ref).toEqual({ channel: APPROVAL_CHANNEL, ts: replacement!.ts });
    await harness.waitForStatus(id, 'ACTIVE');
    expect(harness.hasAssignment('carol', 'production', 'Admin')).toBe(true);
  });
});
