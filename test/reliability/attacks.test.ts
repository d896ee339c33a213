import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditEvent } from '../../src/domain/audit';
import { checkBlockKit } from '../support/block-kit-limits';
import { eventually } from '../support/eventually';
import { SlackRequestSender, newTriggerId, slackSignature, type RawOptions, type SignedResponse } from '../support/slack-requests';
import type { SlackMessage } from '../support/slack-stand-in';
import { APPROVAL_CHANNEL, PEOPLE, buttonClick, SIGNING_SECRET, TimeboxHarness, testConfigYaml, type PersonName } from '../support/timebox-harness';
import { findRequestId } from '../../src/domain/request-id';

/**
 * What an attacker (or a broken client) can do at the Slack door, and what Timebox promises in
 * return. Every test sends its requests over signed HTTP to the real local app and checks what
 * changed: the store, the AWS calls, the Slack messages and the audit log. The answer is nothing,
 * except where a request is legitimately filed or decided exactly once.
 */

/** An approver of a second rule: dave decides staging Admin requests, and nothing else. */
const DAVE_ONLY_RULE = `
  - name: staging-admin
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["*"]
    approvers: [dave@example.com]
    maxDuration: 1h`;

let h: TimeboxHarness;
beforeAll(async () => {
  // One process for the whole suite, in which the same few people file far more than 20 requests
  // that wait for approval: limits.maxPendingPerRequester (tested in flood.test.ts) is raised here.
  h = await TimeboxHarness.start({ configYaml: `${testConfigYaml(DAVE_ONLY_RULE)}limits:\n  maxPendingPerRequester: 1000\n` });
});
afterAll(async () => {
  await h.stop();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Requests the store still has work for (pending, granting, active, …): a new filing shows up here. */
const openRequests = async () => (await h.runtime.deps.store.listDue(Number.MAX_SAFE_INTEGER)).length;

/** Everything an attack could change, counted. */
async function snapshot() {
  return {
    openRequests: await openRequests(),
    createAssignment: h.aws.callsTo('CreateAccountAssignment').length,
    channelMessages: h.slack.messagesIn(APPROVAL_CHANNEL).length,
    postMessage: h.slack.callsTo('chat.postMessage').length,
    update: h.slack.callsTo('chat.update').length,
  };
}

/** Waits out anything the request could have set off in the background, then compares. */
async function expectNothingChanged(before: Awaited<ReturnType<typeof snapshot>>): Promise<void> {
  await sleep(200);
  expect(await snapshot()).toEqual(before);
}

/** The app still files and posts an ordinary request. */
async function expectStillServing(): Promise<void> {
  const id = await h.file('carol', 'production ReadOnly 30m still serving after an attack');
  await h.approvalMessage(id);
  expect((await h.request(id)).status).toBe('PENDING');
}

/** A slash command body exactly as Slack sends it, with fields replaced or left out. */
function commandForm(who: PersonName, text: string, changes: Record<string, string | undefined> = {}): string {
  const person = PEOPLE[who];
  const fields: Record<string, string | undefined> = {
    token: 'legacy-verification-token',
    team_id: 'T0TIMEBOX',
    team_domain: 'timebox-test',
    channel_id: 'C0GENERAL0',
    channel_name: 'general',
    user_id: person.id,
    user_name: person.name,
    command: '/aws-access',
    text,
    api_app_id: 'A0TIMEBOX',
    is_enterprise_install: 'false',
    response_url: h.slack.responseUrl({ userId: person.id, channelId: 'C0GENERAL0' }),
    trigger_id: newTriggerId(),
    ...changes,
  };
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) form.set(key, value);
  return form.toString();
}

/** An interactivity body (`payload=<json>`). */
const payloadForm = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

/** Sends `body` signed correctly for `timestamp`, so it passes authentication and reaches the app. */
function signed(body: string, options: Omit<RawOptions, 'signature'> = {}): Promise<SignedResponse> {
  const timestamp = options.timestamp ?? nowSeconds();
  return h.sender.raw(body, { ...options, timestamp, signature: slackSignature(SIGNING_SECRET, timestamp, body) });
}

/** POSTs to /slack/events with exactly these headers (for headers the sender always sets). */
async function postWithHeaders(body: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${h.runtime.url}/slack/events`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body });
  await response.text();
  return response.status;
}

/** POSTs with the request target exactly as given (fetch would normalise `/./` and absolute forms away). */
function rawPost(target: string, body: string, headers: Record<string, string>): Promise<number> {
  const { hostname, port } = new URL(h.runtime.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, method: 'POST', path: target, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A sender that remembers the last body and timestamp it signed, so they can be replayed byte for byte. */
class RecordingSender extends SlackRequestSender {
  last?: { body: string; timestamp: number };
  /** Record without sending. */
  dryRun = false;
  override raw(body: string, options: RawOptions = {}): Promise<SignedResponse> {
    const timestamp = options.timestamp ?? nowSeconds();
    this.last = { body, timestamp };
    if (this.dryRun) return Promise.resolve({ status: 0, body: '', json: () => undefined, ackMs: 0 });
    return super.raw(body, { ...options, timestamp });
  }
}
const recordingSender = () => new RecordingSender({ url: `${h.runtime.url}/slack/events`, signingSecret: SIGNING_SECRET, answers: h.slack });

const requestIdIn = (text: string) => findRequestId(text);
const ofType = (events: AuditEvent[], type: AuditEvent['type']) => events.filter((e) => e.type === type);
const channelMessagesAbout = (id: string) => h.slack.messagesIn(APPROVAL_CHANNEL).filter((m) => JSON.stringify(m.blocks ?? []).includes(id));

/** A click on a button as `who`, with the payload's value, message and channel as given (no checks that the button exists). */
function clickAs(who: PersonName, actionId: string, value: string, where: { channelId?: string; messageTs: string; message?: SlackMessage }): Promise<SignedResponse> {
  const person = PEOPLE[who];
  return h.sender.blockAction({
    userId: person.id,
    userName: person.name,
    actionId,
    value,
    channelId: where.channelId ?? APPROVAL_CHANNEL,
    messageTs: where.messageTs,
    ...(where.message ? { message: where.message } : {}),
    responseUrl: h.slack.responseUrl({ userId: person.id, channelId: where.channelId ?? APPROVAL_CHANNEL, messageTs: where.messageTs }),
  });
}

describe('Attacks: request authenticity', () => {
  test.each([
    ['10 minutes', 600],
    ['1 day', 86_400],
  ])('a command stamped %s in the future, with a valid signature for that timestamp, gets 401 and files nothing (it could otherwise be replayed until then)', async (_what, aheadSeconds) => {
    const before = await snapshot();
    const slackCalls = h.slack.calls.length;
    const response = await signed(commandForm('carol', 'staging ReadOnly 1h from the future'), { timestamp: nowSeconds() + aheadSeconds });
    expect(response.status).toBe(401);
    await expectNothingChanged(before);
    expect(h.slack.calls.length).toBe(slackCalls);
  });

  test.each([
    ['/./slack/events', (_base: string) => '/./slack/events'],
    ['//slack/events', (_base: string) => '//slack/events'],
    ['/slack/../slack/events', (_base: string) => '/slack/../slack/events'],
    ['an absolute-form request target', (base: string) => `${base}/slack/events`],
  ])('the guard holds for every spelling of the path (%s): a command stamped a day ahead, correctly signed, gets 401 and files nothing', async (_what, pathFor) => {
    const before = await snapshot();
    const timestamp = nowSeconds() + 86_400;
    const body = commandForm('carol', 'staging ReadOnly 1h through a path trick');
    const status = await rawPost(pathFor(h.runtime.url), body, {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': slackSignature(SIGNING_SECRET, timestamp, body),
    });
    expect(status).toBe(401);
    await expectNothingChanged(before);
  });

  test('the same signed /aws-access command delivered twice files one request: both replies name the same id, and one approval message is posted', async () => {
    const sender = recordingSender();
    const before = await openRequests();
    const posts = h.slack.callsTo('chat.postMessage').length;
    const responseUrl = h.slack.responseUrl({ userId: PEOPLE.carol.id });
    const first = await sender.command({ userId: PEOPLE.carol.id, text: 'production Admin 30m replayed command', channelId: 'C0GENERAL0', responseUrl });
    const { body, timestamp } = sender.last!;
    const replay = await sender.raw(body, { timestamp });
    expect([first.status, replay.status]).toEqual([200, 200]);
    const id = requestIdIn(first.body);
    expect(id).toBeDefined();
    // Acked at once, the replay is answered on the same response_url, with the same words.
    const answers = await h.slack.waitFor(() => (h.slack.responses(responseUrl).length >= 2 ? h.slack.responses(responseUrl) : undefined), 10_000, 'both answers');
    expect(answers[1]?.body).toEqual(answers[0]?.body);
    expect(JSON.stringify(answers[0]?.body)).toBe(first.body);
    await expectFiledOnce(id!, before, posts);
  });

  /** The replays made one request, one approval message and one `requested` event. */
  async function expectFiledOnce(id: string, openBefore: number, postsBefore: number): Promise<void> {
    await h.approvalMessage(id);
    await sleep(300);
    expect(await openRequests()).toBe(openBefore + 1);
    expect(channelMessagesAbout(id)).toHaveLength(1);
    // One approval message (the requester's DM at filing is a post of its own).
    expect(h.slack.callsTo('chat.postMessage').slice(postsBefore).filter((c) => c.args.channel === APPROVAL_CHANNEL && JSON.stringify(c.args).includes(id))).toHaveLength(1);
    expect(ofType(await h.audit(id), 'requested')).toHaveLength(1);
  }

  test('the same signed /aws-access command delivered 20 times at once files one request: every reply names the same id, and one approval message is posted', async () => {
    const sender = recordingSender();
    const body = commandForm('carol', 'production Admin 30m twenty replays at once');
    const responseUrl = new URLSearchParams(body).get('response_url') ?? '';
    const timestamp = nowSeconds();
    const before = await openRequests();
    const posts = h.slack.callsTo('chat.postMessage').length;
    const replies = await Promise.all(Array.from({ length: 20 }, () => sender.raw(body, { timestamp })));
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200));
    // Each is answered on the one response_url (Slack takes 5 posts on it): all name the same id.
    const answers = await h.slack.waitFor(() => (h.slack.responses(responseUrl).length >= 5 ? h.slack.responses(responseUrl) : undefined), 10_000, 'the answers');
    const ids = new Set(answers.map((a) => requestIdIn(String(a.body.text))));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect(id).toBeDefined();
    await expectFiledOnce(id!, before, posts);
  });

  /** alice's Approve click on `id`, recorded for replay; sent once first when `sendFirst`. */
  async function recordedApproveClick(id: string, sendFirst: boolean): Promise<{ sender: RecordingSender; body: string; timestamp: number }> {
    const message = await h.approvalMessage(id);
    const sender = recordingSender();
    sender.dryRun = !sendFirst;
    const response = await sender.blockAction(buttonClick(h.slack, PEOPLE.alice, 'timebox_approve', id, message));
    if (sendFirst) expect(response.status).toBe(200);
    sender.dryRun = false;
    return { sender, ...sender.last! };
  }

  async function expectOneDecisionAndOneGrant(id: string, requester: PersonName, creates: number, refusedReplays: number): Promise<void> {
    await h.waitForStatus(id, 'ACTIVE');
    // A refusal is written after its click was acknowledged, in a write of the request that may
    // lose races to the others and to the grant's own writes (then it re-reads and appends again):
    // wait for them to land, then for every piece of work to finish, before counting.
    await eventually(async () => ofType(await h.audit(id), 'decision_refused').length >= refusedReplays || undefined, 15_000, `${refusedReplays} refusals on record`);
    await h.settled();
    const audit = await h.audit(id);
    expect(ofType(audit, 'approved')).toEqual([expect.objectContaining({ actor: PEOPLE.alice.id })]);
    expect(ofType(audit, 'granted')).toHaveLength(1);
    // Every replay that lost was refused, and the refusal is on record.
    expect(ofType(audit, 'decision_refused')).toHaveLength(refusedReplays);
    expect(h.aws.callsTo('CreateAccountAssignment').length - creates).toBe(1);
    expect(h.hasAssignment(requester, 'production', 'ReadOnly')).toBe(true);
  }

  test('the same signed Approve click delivered twice makes one decision and one grant, and the audit log has exactly one "approved"', async () => {
    const id = await h.file('carol', 'production ReadOnly 30m replayed approve click');
    const creates = h.aws.callsTo('CreateAccountAssignment').length;
    const { sender, body, timestamp } = await recordedApproveClick(id, true);
    expect((await sender.raw(body, { timestamp })).status).toBe(200);
    await expectOneDecisionAndOneGrant(id, 'carol', creates, 1);
  });

  test('the same signed Approve click delivered 10 times at once makes one decision and one grant, and the audit log has exactly one "approved"', async () => {
    const id = await h.file('dave', 'production ReadOnly 30m ten replays of one click');
    const creates = h.aws.callsTo('CreateAccountAssignment').length;
    const { sender, body, timestamp } = await recordedApproveClick(id, false);
    const replies = await Promise.all(Array.from({ length: 10 }, () => sender.raw(body, { timestamp })));
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200));
    await expectOneDecisionAndOneGrant(id, 'dave', creates, 9);
  });

  test.each([
    ['the body swapped for another after signing', (signedBody: string) => signedBody.replace('staging', 'production').replace('ReadOnly', 'Admin')],
    ['a field appended after signing (user_id=alice)', (signedBody: string) => `${signedBody}&user_id=${PEOPLE.alice.id}`],
  ])('a valid signature with %s gets 401 and files nothing', async (_what, tamper) => {
    const before = await snapshot();
    const original = commandForm('carol', 'staging ReadOnly 1h innocent');
    const timestamp = nowSeconds();
    const response = await h.sender.raw(tamper(original), { timestamp, signature: slackSignature(SIGNING_SECRET, timestamp, original) });
    expect(response.status).toBe(401);
    await expectNothingChanged(before);
  });

  test.each([
    ['missing', undefined],
    ['not a number', 'soon'],
  ])('a request whose timestamp header is %s gets 401 and files nothing', async (_what, header) => {
    const before = await snapshot();
    const body = commandForm('carol', 'staging ReadOnly 1h no timestamp');
    const headers: Record<string, string> = { 'X-Slack-Signature': slackSignature(SIGNING_SECRET, nowSeconds(), body) };
    if (header !== undefined) headers['X-Slack-Request-Timestamp'] = header;
    expect(await postWithHeaders(body, headers)).toBe(401);
    await expectNothingChanged(before);
  });

  test.each([
    ['as "+T"', (t: number) => ({ header: `+${t}`, signedFor: t })],
    ['as "T.0"', (t: number) => ({ header: `${t}.0`, signedFor: t })],
    ['in e-notation', (t: number) => ({ header: t.toExponential(), signedFor: t })],
    ['as "Infinity"', () => ({ header: 'Infinity', signedFor: Number.POSITIVE_INFINITY })],
  ])('a far-future timestamp written %s, with the valid signature for it, gets 401 and files nothing', async (_what, form) => {
    const { header, signedFor } = form(nowSeconds() + 86_400);
    const before = await snapshot();
    const body = commandForm('carol', 'production Admin 30m future in disguise');
    try {
      const status = await postWithHeaders(body, { 'X-Slack-Request-Timestamp': header, 'X-Slack-Signature': slackSignature(SIGNING_SECRET, signedFor, body) });
      expect(status).toBe(401);
      await expectNothingChanged(before);
    } finally {
      await sleep(300); // let a wrongly filed request finish posting before the next test counts
    }
  });
});

describe('Attacks: approval abuse', () => {
  test('an Approve click on a request that has expired is refused, grants nothing, and the attempt is audited', async () => {
    const expiring = await TimeboxHarness.start({ configYaml: testConfigYaml().replace('durations:\n', 'durations:\n  pendingExpiry: 2s\n') });
    try {
      const id = await expiring.file('carol', 'production Admin 30m nobody answers in time');
      // The copy a slow client still shows, buttons and all, after the message was updated.
      const stale = structuredClone(await expiring.approvalMessage(id));
      await expiring.waitForStatus(id, 'EXPIRED', 10_000);
      const reply = await expiring.nextEphemeral('alice', () => expiring.click('alice', 'approve', id, stale));
      expect(reply).toMatch(/already expired|has expired/);
      await sleep(200);
      const request = await expiring.request(id);
      expect(request.status).toBe('EXPIRED');
      expect(request.approvals).toEqual([]);
      expect(expiring.aws.callsTo('CreateAccountAssignment')).toHaveLength(0);
      expect(expiring.hasAssignment('carol', 'production', 'Admin')).toBe(false);
      const audit = await expiring.audit(id);
      expect(ofType(audit, 'approved')).toEqual([]);
      expect(ofType(audit, 'decision_refused')).toEqual([expect.objectContaining({ actor: PEOPLE.alice.id, detail: 'approve: already_decided' })]);
    } finally {
      await expiring.stop();
    }
  });

  test.each([
    ['a request id with an account appended (R-XXXXXXXXXX|222222222222)', 'R-XXXXXXXXXX|222222222222'],
    ['a path (../../x)', '../../x'],
    ['5,000 characters', `R-${'A'.repeat(4_998)}`],
    ['empty', ''],
  ])('an Approve button whose value was tampered to %s gets an ephemeral refusal, not a 500, and changes nothing', async (_what, value) => {
    const target = await h.file('carol', 'production Admin 30m target of a tampered button');
    const message = await h.approvalMessage(target);
    const auditBefore = await h.audit(target);
    const before = await snapshot();
    let status = 0;
    const reply = await h.nextEphemeral('alice', async () => {
      status = (await clickAs('alice', 'timebox_approve', value, { messageTs: message.ts })).status;
    });
    expect(status).toBe(200);
    expect(reply).toContain('not a Timebox request button');
    await expectNothingChanged(before);
    expect(await h.request(target)).toMatchObject({ status: 'PENDING', approvals: [] });
    expect(await h.audit(target)).toEqual(auditBefore);
  });

  test('an Approve button naming a well-formed request id that does not exist is refused ephemerally, and nothing is created', async () => {
    const target = await h.file('carol', 'production Admin 30m target of a made-up id');
    const message = await h.approvalMessage(target);
    const before = await snapshot();
    const reply = await h.nextEphemeral('alice', () => clickAs('alice', 'timebox_approve', 'R-0000000000', { messageTs: message.ts }));
    expect(reply).toContain('There is no request R-0000000000');
    await expectNothingChanged(before);
    expect(await h.runtime.deps.store.getRequest('R-0000000000')).toBeUndefined();
    expect(await h.request(target)).toMatchObject({ status: 'PENDING', approvals: [] });
  });

  test('a click whose action_id is unknown (timebox_grant_everything) is not a 500 and changes nothing', async () => {
    const id = await h.file('carol', 'production Admin 30m unknown action');
    const message = await h.approvalMessage(id);
    const auditBefore = await h.audit(id);
    const before = await snapshot();
    const response = await clickAs('alice', 'timebox_grant_everything', id, { messageTs: message.ts });
    expect(response.status).toBeLessThan(500);
    await expectNothingChanged(before);
    expect(await h.request(id)).toMatchObject({ status: 'PENDING', approvals: [] });
    expect(await h.audit(id)).toEqual(auditBefore);
  });

  test.each([
    ['the message ts of another request\'s approval message', 'other-message'],
    ['the right message ts but another channel', 'other-channel'],
  ])('an approver\'s click whose payload points at %s is refused as not belonging to the request, and audited', async (_what, variant) => {
    const other = await h.file('carol', 'production Admin 30m the other request');
    const target = await h.file('carol', 'production Admin 30m the target request');
    const otherMessage = await h.approvalMessage(other);
    const targetMessage = await h.approvalMessage(target);
    const before = await snapshot();
    const where = variant === 'other-message'
      ? { messageTs: otherMessage.ts, message: targetMessage }
      : { messageTs: targetMessage.ts, message: targetMessage, channelId: 'C0ELSEWHERE' };
    const reply = await h.nextEphemeral('alice', () => clickAs('alice', 'timebox_approve', target, where));
    expect(reply).toContain('does not belong to this request');
    await expectNothingChanged(before);
    expect(await h.request(target)).toMatchObject({ status: 'PENDING', approvals: [] });
    expect(await h.request(other)).toMatchObject({ status: 'PENDING', approvals: [] });
    expect(ofType(await h.audit(target), 'decision_refused')).toEqual([expect.objectContaining({ actor: PEOPLE.alice.id, detail: 'approve: stale_button' })]);
  });

  test('an approver of another rule (dave, staging-admin) cannot approve a prod-admin request: refused, audited, nothing granted', async () => {
    const id = await h.file('carol', 'production Admin 30m dave is not our approver');
    await h.approvalMessage(id); // posted and recorded before the snapshot
    await h.runtime.queue.drain();
    const before = await snapshot();
    expect(await h.nextEphemeral('dave', () => h.click('dave', 'approve', id))).toContain('You are not an approver for rule "prod-admin"');
    await expectNothingChanged(before);
    expect(await h.request(id)).toMatchObject({ status: 'PENDING', approvals: [] });
    expect(ofType(await h.audit(id), 'decision_refused')).toEqual([expect.objectContaining({ actor: PEOPLE.dave.id, detail: 'approve: not_an_approver' })]);
  });

  test('a prod-admin approver (alice) cannot approve a request filed under another rule (staging-admin, dave only)', async () => {
    const id = await h.file('carol', 'staging Admin 30m only dave decides this');
    expect((await h.request(id)).ruleName).toBe('staging-admin');
    await h.approvalMessage(id);
    await h.runtime.queue.drain();
    const before = await snapshot();
    expect(await h.nextEphemeral('alice', () => h.click('alice', 'approve', id))).toContain('You are not an approver for rule "staging-admin"');
    await expectNothingChanged(before);
    expect(await h.request(id)).toMatchObject({ status: 'PENDING', approvals: [] });
  });

  test('a click is authorised as the signed payload\'s user.id alone: the requester, with an approver\'s name in user.name (alice), is refused as themselves', async () => {
    const id = await h.file('carol', 'production Admin 30m name spoofing');
    const message = await h.approvalMessage(id);
    const before = await snapshot();
    // carol's own user id, with alice's name in user.name.
    const reply = await h.nextEphemeral('carol', () => h.sender.blockAction(buttonClick(h.slack, { id: PEOPLE.carol.id, name: PEOPLE.alice.name }, 'timebox_approve', id, message)));
    expect(reply).toContain('cannot approve or deny your own request');
    await expectNothingChanged(before);
    expect(await h.request(id)).toMatchObject({ status: 'PENDING', approvals: [] });
    expect(ofType(await h.audit(id), 'decision_refused')).toEqual([expect.objectContaining({ actor: PEOPLE.carol.id })]);
  });
});

describe('Bad input: malformed payloads', () => {
  test('a payload= field that is not JSON gets a 4xx, files nothing, and the app still serves a normal request', async () => {
    const before = await snapshot();
    const response = await signed('payload=%7Bnot%20json');
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    await expectNothingChanged(before);
    await expectStillServing();
  });

  /** A block_actions payload as Slack sends it for `who`'s Approve click on `id`, before it is bent out of shape. */
  function approvePayload(who: PersonName, id: string, messageTs: string): Record<string, unknown> {
    const person = PEOPLE[who];
    return {
      type: 'block_actions',
      user: { id: person.id, username: person.name, name: person.name, team_id: 'T0TIMEBOX' },
      api_app_id: 'A0TIMEBOX',
      token: 'legacy-verification-token',
      container: { type: 'message', message_ts: messageTs, channel_id: APPROVAL_CHANNEL, is_ephemeral: false },
      trigger_id: newTriggerId(),
      team: { id: 'T0TIMEBOX', domain: 'timebox-test' },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: APPROVAL_CHANNEL, name: 'approvals' },
      message: { type: 'message', text: '', ts: messageTs },
      state: { values: {} },
      response_url: h.slack.responseUrl({ userId: person.id, channelId: APPROVAL_CHANNEL, messageTs }),
      actions: [{ action_id: 'timebox_approve', block_id: 'decision', text: { type: 'plain_text', text: 'Approve' }, value: id, type: 'button', action_ts: `${Date.now() / 1000}` }],
    };
  }

  type Bend = (payload: Record<string, unknown>) => Record<string, unknown>;
  const decisions = (events: AuditEvent[]) => events.filter((e) => ['approval_recorded', 'approved', 'denied'].includes(e.type));

  /**
   * alice, a real approver of prod-admin, sends a bent Approve click: whatever the answer, it is not
   * a 500 and decides nothing. (From a non-approver it would decide nothing whatever the bend did.)
   */
  async function bentClickDecidesNothing(bend: Bend): Promise<void> {
    const id = await h.file('carol', 'production Admin 30m target of a bent payload');
    const message = await h.approvalMessage(id);
    const before = await snapshot();
    try {
      const response = await signed(payloadForm(bend(approvePayload('alice', id, message.ts))));
      expect(response.status).toBeLessThan(500);
      await expectNothingChanged(before);
      expect(await h.request(id)).toMatchObject({ status: 'PENDING', approvals: [] });
      expect(decisions(await h.audit(id))).toEqual([]);
      await expectStillServing();
    } finally {
      await sleep(100);
    }
  }

  test.each<[string, Bend]>([
    ['no type', (p) => ({ ...p, type: undefined })],
    ['an empty actions array', (p) => ({ ...p, actions: [] })],
  ])('a block_actions payload with %s is answered without a 500, decides nothing, and the app still serves a normal request', async (_what, bend) => {
    await bentClickDecidesNothing(bend);
  });

  test('the same click unbent, from the same approver, does decide (so the bent ones above were refused for their bend)', async () => {
    const id = await h.file('carol', 'production Admin 30m target of a straight payload');
    const message = await h.approvalMessage(id);
    const response = await signed(payloadForm(approvePayload('alice', id, message.ts)));
    expect(response.status).toBe(200);
    await h.waitForStatus(id, 'ACTIVE');
  });

  test.each<[string, Bend]>([
    ['no user', (p) => ({ ...p, user: undefined })],
    ['actions that is an object, not an array', (p) => ({ ...p, actions: (p.actions as unknown[])[0] })],
  ])('a block_actions payload with %s is answered without a 500, decides nothing, and the app still serves a normal request', async (_what, bend) => {
    await bentClickDecidesNothing(bend);
  });

  test('a block_actions payload whose user has no id is refused, and the request\'s audit log stays readable with an actor on every event', async () => {
    const id = await h.file('carol', 'production Admin 30m clicked by nobody');
    const message = await h.approvalMessage(id);
    const before = await snapshot();
    const payload = { ...approvePayload('alice', id, message.ts), user: { name: 'alice', username: 'alice', team_id: 'T0TIMEBOX' } };
    const response = await signed(payloadForm(payload));
    expect(response.status).toBeLessThan(500);
    await expectNothingChanged(before);
    expect(await h.request(id)).toMatchObject({ status: 'PENDING', approvals: [] });
    const audit = await h.audit(id);
    expect(decisions(audit)).toEqual([]);
    for (const event of audit) expect(typeof event.actor).toBe('string');
  });

  test('a form submission whose view has no state at all is answered without a 500, files nothing, and the app still serves a normal request', async () => {
    const before = await snapshot();
    const response = await signed(payloadForm({
      type: 'view_submission',
      team: { id: 'T0TIMEBOX', domain: 'timebox-test' },
      user: { id: PEOPLE.carol.id, name: 'carol', team_id: 'T0TIMEBOX' },
      api_app_id: 'A0TIMEBOX',
      trigger_id: newTriggerId(),
      view: { id: 'V0NOSTATE', team_id: 'T0TIMEBOX', type: 'modal', callback_id: 'timebox_request', private_metadata: '', blocks: [] },
    }));
    expect(response.status).toBeLessThan(500);
    await expectNothingChanged(before);
    await expectStillServing();
  });

  test('a payload of an unknown type gets a 4xx, changes nothing, and the app still serves a normal request', async () => {
    const before = await snapshot();
    const response = await signed(payloadForm({ type: 'grant_everything', user: { id: PEOPLE.carol.id }, team: { id: 'T0TIMEBOX' }, account: '222222222222' }));
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    await expectNothingChanged(before);
    await expectStillServing();
  });

  test.each([
    ['user_id', { user_id: undefined }],
    ['command', { command: undefined }],
  ])('a slash command body missing %s gets a 4xx or an ephemeral answer, files nothing, and the app still serves a normal request', async (_what, changes) => {
    const before = await snapshot();
    const response = await signed(commandForm('carol', 'staging ReadOnly 1h who am i', changes));
    expect(response.status).toBeLessThan(500);
    if (response.status === 200) expect(response.json()).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining(':warning:') });
    else expect(response.status).toBeGreaterThanOrEqual(400);
    await expectNothingChanged(before);
    await expectStillServing();
  });

  test('a 100,000-character reason gets an ephemeral answer naming the 500-character limit, and files nothing', async () => {
    const before = await snapshot();
    const { response, text } = await h.command('carol', `staging ReadOnly 1h ${'a'.repeat(100_000)}`);
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ response_type: 'ephemeral' });
    expect(text).toContain('keep it under 500');
    expect(text.length).toBeLessThan(1_000);
    await expectNothingChanged(before);
    await expectStillServing();
  });

  test('a reason with control, zero-width and RTL-override characters and emoji is filed cleaned, rendered escaped in the channel, and accepted by Slack\'s Block Kit limits', async () => {
    const reason = 'fix\u0007bell\u0000nul\u001b[31mred\u007fdel \u200bzero\u200dwidth\u200e \u202eevil\u202c ok 🚀🔥👩‍💻 & <!here> <@U0ALICE000>';
    const id = await h.file('carol', `production ReadOnly 30m ${reason}`);
    const request = await h.request(id);
    // eslint-disable-next-line no-control-regex
    expect(request.reason).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e]/);
    expect(request.reason).toContain('🚀🔥');
    expect(request.reason).toContain('fix bell nul');
    expect(request.reason).toContain('& <!here> <@U0ALICE000>');
    const message = await h.approvalMessage(id);
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain('&amp; &lt;!here&gt; &lt;@U0ALICE000&gt;');
    expect(blocks).not.toContain('<!here>');
    expect(blocks).not.toMatch(/[\u202a-\u202e\u200b]/);
    expect(checkBlockKit('message', message.blocks ?? [])).toEqual([]);
  });

  test('a reason with bidi isolate controls (U+2066–U+2069) or other invisible format characters is filed without them', async () => {
    const id = await h.file('carol', 'production ReadOnly 30m ok \u2066ltr\u2069 \u2067evil\u2069 \u2068first\u2069 \u2060joined\u061cmark');
    const message = await h.approvalMessage(id);
    expect((await h.request(id)).reason).not.toMatch(/[\u2060-\u2069\u061c]/);
    expect(JSON.stringify(message.blocks)).not.toMatch(/[\u2060-\u2069\u061c]/);
  });

  test.each([
    ['an account name with a Cyrillic і (productіon)', 'product\u0456on Admin 30m look-alike', 'Unknown account'],
    ['an account name with a Greek ο (prοduction)', 'pr\u03bfduction Admin 30m look-alike', 'Unknown account'],
    ['an account id in full-width digits', '\uff12\uff12\uff12\uff12\uff12\uff12\uff12\uff12\uff12\uff12\uff12\uff12 Admin 30m look-alike', 'Unknown account'],
    ['a permission set with a Cyrillic А (Аdmin)', 'production \u0410dmin 30m look-alike', 'Unknown permission set'],
  ])('%s is refused as unknown and files nothing', async (_what, text, expected) => {
    const before = await snapshot();
    const { response, text: reply } = await h.command('carol', text);
    expect(response.status).toBe(200);
    expect(reply).toContain(expected);
    await expectNothingChanged(before);
  });

  const formValues = (account: string | null, duration: string | null) => ({
    ...(account === null ? {} : { account: { account: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'x' }, value: account } } } }),
    permission_set: { permission_set: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'Admin' }, value: 'Admin' } } },
    ...(duration === null ? {} : { duration: { duration: { type: 'plain_text_input', value: duration } } }),
    reason: { reason: { type: 'plain_text_input', value: 'from a bent form' } },
  });

  test.each([
    ['no blocks or values at all', {}, 'duration'],
    ['no duration', formValues('222222222222', null), 'duration'],
    ['no account', formValues(null, '30m'), 'account'],
    ['an account that is not configured (999999999999)', formValues('999999999999', '30m'), 'account'],
  ])('a form submission with %s gets response_action errors naming that field, and files nothing', async (_what, values, fieldName) => {
    const before = await snapshot();
    const response = await h.sender.viewSubmission({ userId: PEOPLE.carol.id, callbackId: 'timebox_request', values, privateMetadata: '{"channelId":"C0GENERAL0"}' });
    expect(response.status).toBe(200);
    const body = response.json() as { response_action?: string; errors?: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(Object.keys(body.errors ?? {})).toEqual([fieldName]);
    await expectNothingChanged(before);
  });

  test.each([
    ['account', 'a 10,000-character', 'a'.repeat(10_000)],
    ['account', 'an empty', ''],
    ['permission_set', 'a 10,000-character', 'x'.repeat(10_000)],
  ])('an options request for the %s menu with %s query is answered 200 with at most 100 options, all of them configured', async (menu, _what, query) => {
    const response = await h.sender.blockSuggestion({ userId: PEOPLE.carol.id, actionId: menu, blockId: menu, value: query, callbackId: 'timebox_request' });
    expect(response.status).toBe(200);
    const { options } = response.json() as { options: Array<{ value: string }> };
    expect(options.length).toBeLessThanOrEqual(100);
    const configured = menu === 'account' ? ['111111111111', '222222222222'] : ['ReadOnly', 'Admin'];
    for (const option of options) expect(configured).toContain(option.value);
    if (query === '') expect(options.map((o) => o.value)).toEqual(configured);
  });

  async function jsonCommandFilesNothing(body: string): Promise<void> {
    const before = await snapshot();
    try {
      const response = await signed(body, { contentType: 'application/json' });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      await expectNothingChanged(before);
    } finally {
      await sleep(300); // let a wrongly filed request finish posting before the next test counts
    }
  }

  test('a slash command\'s form body sent as Content-Type application/json gets a 4xx and files nothing', async () => {
    await jsonCommandFilesNothing(commandForm('carol', 'production Admin 30m form sent as json'));
  });

  test('a slash command\'s fields sent as a JSON object with Content-Type application/json get a 4xx and file nothing', async () => {
    await jsonCommandFilesNothing(JSON.stringify(Object.fromEntries(new URLSearchParams(commandForm('carol', 'production Admin 30m fields sent as json')))));
  });
});

describe('Bad input: oversized bodies', () => {
  test('a 1.2 MB body is refused with 413 before it is parsed, and the app keeps serving', async () => {
    const harness = await TimeboxHarness.start();
    try {
      const response = await harness.sender.raw(`text=${'x'.repeat(1_200_000)}`);
      expect(response.status).toBe(413);
      expect((await harness.runtime.deps.store.listDue(Number.MAX_SAFE_INTEGER)).length).toBe(0);
      expect((await harness.command('carol', 'help')).response.status).toBe(200);
    } finally {
      await harness.stop();
    }
  });
});
