/**
 * Load: 200 requests and their 200 approvals arrive at once at one local Timebox (the real Bolt
 * app over HTTP, dynalite, real SDK clients against the stand-ins, all on loopback). Every grant
 * must be made exactly once and revoked exactly once, with a complete audit trail, while
 * Identity Center's limits (15 outstanding creations, about 20 calls per second) are respected.
 *
 * The figures (latencies, wall clock, call rates) go to reports/load.json. They are reported,
 * not asserted: only the bounds the code itself enforces are checked.
 */
import diagnostics from 'node:diagnostics_channel';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AwsCall } from '../support/aws-stand-in';
import type { SlackMessage } from '../support/slack-stand-in';
import { APPROVAL_CHANNEL, IDENTITY_STORE_ID, PEOPLE, TimeboxHarness, testConfigYaml } from '../support/timebox-harness';

const REQUESTS = 200;
const SSO_ADMIN_LIMIT_PER_SECOND = 20;
const MAX_OUTSTANDING_CREATES = 15;
const REPORT_PATH = join(__dirname, '..', '..', 'reports', 'load.json');

interface LoadUser {
  slackId: string;
  name: string;
  email: string;
  principalId: string;
}

const users: LoadUser[] = Array.from({ length: REQUESTS }, (_, i) => {
  const n = String(i + 1).padStart(3, '0');
  return { slackId: `U0LOAD0${n}`, name: `load${n}`, email: `load${n}@example.com`, principalId: `ic-load-${n}` };
});

// A rule of its own, listing every requester by email, with alice and bob as approvers.
const loadRule = `
  - name: load-readonly
    accounts: [production]
    permissionSets: [ReadOnly]
    requesters: [${users.map((u) => u.email).join(', ')}]
    approvers: [alice@example.com, U0BOB00000]
    maxDuration: 1m`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function timed<T>(action: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await action();
  return { value, ms: performance.now() - started };
}

/** Nearest-rank percentile of `values` (ms), rounded to 0.1 ms. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return Math.round((sorted[rank - 1] ?? 0) * 10) / 10;
}

function latencySummary(values: number[]) {
  return { p50: percentile(values, 50), p95: percentile(values, 95), max: percentile(values, 100) };
}

/** The most calls whose timestamps fall in any window [t, t + 1 s). */
function peakPerSecond(calls: Array<{ at: number }>): number {
  const times = calls.map((c) => c.at).sort((a, b) => a - b);
  let peak = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while ((times[end] as number) - (times[start] as number) >= 1000) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

const TERMINAL = ['ENDED', 'FAILED', 'DENIED', 'EXPIRED'];

/** Each request's approvals-channel message, once it is posted and its ts is recorded on the request. */
async function waitForApprovalMessages(h: TimeboxHarness, ids: string[]): Promise<Map<string, SlackMessage>> {
  const found = new Map<string, SlackMessage>();
  const deadline = Date.now() + 60_000;
  for (;;) {
    for (const message of h.slack.messagesIn(APPROVAL_CHANNEL)) {
      const id = /R-[0-9A-Z]{10}/.exec(JSON.stringify(message.blocks ?? []))?.[0];
      if (id && !found.has(id)) found.set(id, message);
    }
    if (ids.every((id) => found.has(id))) {
      const recorded = await Promise.all(ids.map(async (id) => (await h.runtime.deps.store.getRequest(id))?.approvalMessage?.ts === found.get(id)?.ts));
      if (recorded.every(Boolean)) return found;
    }
    if (Date.now() > deadline) throw new Error(`only ${found.size}/${ids.length} approval messages were posted and recorded`);
    await sleep(250);
  }
}

/** Waits for every requester's "has ended" DM (sent only once ENDED); checks the store now and then for other ends. */
async function waitForEnded(h: TimeboxHarness, ids: string[], requesters: LoadUser[]): Promise<void> {
  const deadline = Date.now() + 200_000;
  for (let round = 1; Date.now() < deadline; round++) {
    const open = ids.filter((_, i) => !h.slack.dmsTo(requesters[i]?.slackId ?? '').some((m) => (m.text ?? '').includes('has ended')));
    if (open.length === 0) return;
    if (round % 20 === 0) {
      const stored = await Promise.all(open.map((id) => h.runtime.deps.store.getRequest(id)));
      if (stored.every((r) => r && TERMINAL.includes(r.status))) return; // ended some other way: the assertions say how
    }
    await sleep(250);
  }
}

/**
 * Records when the SDK hands each SSO Admin / Identity Store request to Node's HTTP client. The
 * stand-in shares this process's event loop, so after a stall it reads queued requests in a
 * burst; these are the times Timebox actually sent them, which is what AWS would count.
 */
function recordSends(): { calls: Array<{ service: 'sso-admin' | 'identitystore'; at: number }>; stop(): void } {
  const calls: Array<{ service: 'sso-admin' | 'identitystore'; at: number }> = [];
  const onRequestStart = (message: unknown) => {
    const target = (message as { request: ClientRequest }).request.getHeader('x-amz-target');
    if (typeof target !== 'string') return;
    if (target.startsWith('SWBExternalService.')) calls.push({ service: 'sso-admin', at: Date.now() });
    if (target.startsWith('AWSIdentityStore.')) calls.push({ service: 'identitystore', at: Date.now() });
  };
  diagnostics.subscribe('http.client.request.start', onRequestStart);
  return { calls, stop: () => diagnostics.unsubscribe('http.client.request.start', onRequestStart) };
}

function principalOf(call: AwsCall): string {
  return (call.input as { PrincipalId?: string }).PrincipalId ?? '';
}

describe('load: 200 concurrent requests and approvals', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: testConfigYaml(loadRule) });
    for (const u of users) {
      h.slack.addUser({ id: u.slackId, name: u.name, email: u.email });
      h.aws.addUser({ userId: u.principalId, email: u.email, identityStoreId: IDENTITY_STORE_ID });
    }
  });
  afterAll(async () => {
    await h.stop();
  });

  test('200 requests filed and approved at once are each granted once, revoked once and fully audited, within Identity Center limits', async () => {
    // Watch every CreateAccountAssignment as it arrives: the principal must not hold the assignment already.
    const createdWhileAssigned: string[] = [];
    h.aws.onCall((call) => {
      if (call.operation !== 'CreateAccountAssignment') return;
      const principalId = principalOf(call);
      if (h.aws.listAssignments().some((a) => a.principalId === principalId)) createdWhileAssigned.push(principalId);
    });

    const sends = recordSends();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();

    // 1. All 200 slash commands at once.
    const firstCommandAt = Date.now();
    const commands = await Promise.all(
      users.map((u, i) =>
        timed(() =>
          h.sender.command({
            userId: u.slackId,
            userName: u.name,
            text: `production ReadOnly ${3 + (i % 3)}s load test ${i + 1}`,
            channelId: 'C0GENERAL0',
            responseUrl: h.slack.responseUrl({ userId: u.slackId, channelId: 'C0GENERAL0' }),
          }),
        ),
      ),
    );
    const commandAcksMs = commands.map((c) => c.ms);
    const ids = commands.map(({ value }, i) => {
      expect(value.status).toBe(200);
      const text = (JSON.parse(value.body) as { text?: string }).text ?? '';
      const id = /`(R-[0-9A-Z]{10})`/.exec(text)?.[1];
      if (!id) throw new Error(`no request id in the reply to ${users[i]?.name}: ${text}`);
      return id;
    });
    expect(new Set(ids).size).toBe(REQUESTS);

    // 2. Wait until every approval message is posted and recorded, then all 200 clicks at once.
    //    (Waiting reads the Slack stand-in's memory first, so the test itself adds little load.)
    const messages = await waitForApprovalMessages(h, ids);
    const approvers = ids.map((_, i) => (i % 2 === 0 ? 'alice' : 'bob') as 'alice' | 'bob');
    const clicks = await Promise.all(ids.map((id, i) => timed(() => h.click(approvers[i] as 'alice' | 'bob', 'approve', id, messages.get(id)))));
    const clickAcksMs = clicks.map((c) => c.ms);
    for (const c of clicks) expect(c.value.status).toBe(200);

    // 3. Wait until every request has ENDED: the requester's "has ended" DM is sent only then.
    await waitForEnded(h, ids, users);
    await h.runtime.queue.drain();
    sends.stop();
    loopDelay.disable();

    // Figures, gathered before any assertion so they are written even when one fails.
    const requests = await Promise.all(ids.map((id) => h.request(id)));
    const audits = await Promise.all(ids.map((id) => h.audit(id)));
    const ssoAdminCalls = h.aws.calls.filter((c) => c.service === 'sso-admin');
    const identityStoreCalls = h.aws.calls.filter((c) => c.service === 'identitystore');
    const ssoAdminSent = sends.calls.filter((c) => c.service === 'sso-admin');
    const creates = h.aws.callsTo('CreateAccountAssignment');
    const deletes = h.aws.callsTo('DeleteAccountAssignment');
    const grants = audits.reduce((n, events) => n + events.filter((e) => e.type === 'granted').length, 0);
    const revokes = audits.reduce((n, events) => n + events.filter((e) => e.type === 'revoked').length, 0);
    const expectedEvents = (i: number): string[] => [
      `requested:${users[i]?.slackId}`,
      `approved:${PEOPLE[approvers[i] as 'alice' | 'bob'].id}`,
      'grant_started:timebox',
      'granted:timebox',
      'revoke_started:timebox',
      'revoked:timebox',
    ];
    const actualEvents = audits.map((events) => events.map((e) => `${e.type}:${e.actor}`));
    const lostAuditEvents = actualEvents.reduce((lost, actual, i) => lost + expectedEvents(i).filter((e) => !actual.includes(e)).length, 0);
    const lastEndedAt = Math.max(...requests.map((r) => r.endedAt ?? Date.now()));
    const figures = {
      generatedAt: new Date().toISOString(),
      requests: REQUESTS,
      ended: requests.filter((r) => r.status === 'ENDED').length,
      grants,
      revokes,
      duplicates: creates.length - new Set(creates.map(principalOf)).size + (deletes.length - new Set(deletes.map(principalOf)).size),
      lostAuditEvents,
      maxOutstandingCreates: h.aws.maxOutstandingCreations,
      peakSsoAdminCallsPerSecond: peakPerSecond(ssoAdminSent),
      peakIdentityStoreCallsPerSecond: peakPerSecond(sends.calls.filter((c) => c.service === 'identitystore')),
      peakSsoAdminArrivalsPerSecond: peakPerSecond(ssoAdminCalls),
      peakIdentityStoreArrivalsPerSecond: peakPerSecond(identityStoreCalls),
      ssoAdminCalls: ssoAdminCalls.length,
      identityStoreCalls: identityStoreCalls.length,
      totalAwsCalls: h.aws.calls.length,
      wallClockSeconds: Math.round((lastEndedAt - firstCommandAt) / 100) / 10,
      commandAckMs: latencySummary(commandAcksMs),
      commandAcksOver3s: commandAcksMs.filter((ms) => ms > 3000).length,
      clickAckMs: latencySummary(clickAcksMs),
      // How long access outlived its window: from endsAt to the request being ENDED (assignment deleted).
      revokeDelayMs: latencySummary(requests.map((r) => (r.endedAt ?? Date.now()) - (r.endsAt ?? 0))),
      eventLoopDelayMs: { p99: Math.round(loopDelay.percentile(99) / 1e5) / 10, max: Math.round(loopDelay.max / 1e5) / 10 },
      node: process.version,
      cpus: cpus().length,
    };
    mkdirSync(join(REPORT_PATH, '..'), { recursive: true });
    writeFileSync(REPORT_PATH, `${JSON.stringify(figures, null, 2)}\n`);

    // Every request ended, with exactly its six events, by the right people, in order.
    expect(requests.map((r) => r.status)).toEqual(ids.map(() => 'ENDED'));
    actualEvents.forEach((actual, i) => expect({ id: ids[i], events: actual }).toEqual({ id: ids[i], events: expectedEvents(i) }));
    expect(grants).toBe(REQUESTS);
    expect(revokes).toBe(REQUESTS);
    expect(lostAuditEvents).toBe(0);

    // One creation and one deletion per principal, each for the requester's own user, in that order.
    const everyPrincipal = users.map((u) => u.principalId).sort();
    expect(creates.map(principalOf).sort()).toEqual(everyPrincipal);
    expect(deletes.map(principalOf).sort()).toEqual(everyPrincipal);
    const createdBeforeDeleted = creates.filter((c) => deletes.some((d) => principalOf(d) === principalOf(c) && d.at >= c.at));
    expect(createdBeforeDeleted).toHaveLength(REQUESTS);
    expect(createdWhileAssigned).toEqual([]);
    expect(figures.duplicates).toBe(0);
    expect(h.aws.listAssignments()).toEqual([]);

    // The limits the Identity Center adapter enforces (a correctness bound, not a speed figure).
    expect(h.aws.maxOutstandingCreations).toBeLessThanOrEqual(MAX_OUTSTANDING_CREATES);
    expect(figures.peakSsoAdminCallsPerSecond).toBeLessThanOrEqual(SSO_ADMIN_LIMIT_PER_SECOND);
  }, 240_000);
});

describe('load: Identity Center call rate when the event loop stalls', () => {
  // A stalled event loop (GC pause, starved CPU) must not turn queued calls into a burst: the
  // limiter has to space calls by when they go out. (When it booked slots in advance, before
  // 1fec8ca, this measured about 33 SSO Admin calls in one second.)
  test('SSO Admin calls stay at or under 20 in any 1 s window even after a 1.2 s event-loop stall with calls queued', async () => {
    const few = users.slice(0, 40);
    const h2 = await TimeboxHarness.start();
    const sends = recordSends();
    try {
      for (const u of few) {
        h2.slack.addUser({ id: u.slackId, name: u.name, email: u.email });
        h2.aws.addUser({ userId: u.principalId, email: u.email, identityStoreId: IDENTITY_STORE_ID });
      }
      // 40 auto-approved grants at once: far more SSO Admin calls than 15/s, so the limiter queues them.
      const replies = await Promise.all(
        few.map((u) =>
          h2.sender.command({ userId: u.slackId, userName: u.name, text: 'staging ReadOnly 3s stall test', responseUrl: h2.slack.responseUrl({ userId: u.slackId }) }),
        ),
      );
      for (const r of replies) expect(r.status).toBe(200);
      const ssoSent = () => sends.calls.filter((c) => c.service === 'sso-admin');
      while (ssoSent().length < 20) await sleep(10);
      const stallUntil = Date.now() + 1200;
      while (Date.now() < stallUntil) {
        // The event loop is blocked, as by a long GC pause or a starved CPU.
      }
      await sleep(3000);
      expect(peakPerSecond(ssoSent())).toBeLessThanOrEqual(SSO_ADMIN_LIMIT_PER_SECOND);
    } finally {
      sends.stop();
      await h2.stop();
    }
  }, 60_000);
});
