/**
 * News Slack will never take (a requester deactivated, the bot removed from the approvals channel
 * or the channel archived) is given up once and audited, instead of keeping the request due for
 * ever; and however much of it piles up, a window that has ended is still revoked by the next sweep.
 */
import { PutCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dueAt, messageOf, type AccessRequest } from '../../src/domain/access-request';
import { DUE_INDEX, requestKey } from '../../src/adapters/dynamodb/table-layout';
import { SCHEMA_VERSION } from '../../src/adapters/dynamodb/stored-records';
import { requestStatus } from '../../src/domain/access-request';
import { APPROVAL_CHANNEL, PEOPLE, type TimeboxHarness } from '../support/timebox-harness';
import { eventually } from '../support/eventually';
import { holds, startHarness } from './fault-helpers';

let h: TimeboxHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** A clock Timebox runs on that the test can move forward (Slack's signing keeps the real one). */
function movableClock() {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms: number) => (offset += ms) };
}

const eventTypes = async (harness: TimeboxHarness, id: string) => (await harness.audit(id)).map((e) => e.type);

describe('news Slack will never take', () => {
  test('a requester deactivated during the window: access still ends on time, the DM is given up once and audited, and the request leaves the due list', async () => {
    h = await startHarness({ sweepIntervalMs: 300 });
    const harness = h;
    const id = await harness.file('dave', 'staging ReadOnly 2s deactivated mid window');
    await harness.waitForStatus(id, 'ACTIVE');
    // Told it is active first; the deactivation then lands on the "ended" DM only.
    await harness.activeDm('dave', id);
    harness.slack.deactivateUser(PEOPLE.dave.id);

    await harness.waitForStatus(id, 'ENDED');
    expect(holds(harness, { who: 'dave', account: 'staging', permissionSet: 'ReadOnly' })).toBe(false);
    await eventually(async () => (await eventTypes(harness, id)).includes('news_undeliverable'), 10_000, 'the undeliverable DM to be audited');
    const given = (await harness.audit(id)).filter((e) => e.type === 'news_undeliverable');
    expect(given).toHaveLength(1);
    expect(given[0]?.detail).toContain('user_disabled');

    // Nothing is due any more: several sweeps later nobody has tried to DM dave again.
    const stored = await harness.runtime.deps.store.getRequest(id);
    expect(stored && dueAt(stored)).toBeUndefined();
    const opens = harness.slack.callsTo('conversations.open').length;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(harness.slack.callsTo('conversations.open').length).toBe(opens);
  });

  test('the bot removed from the approvals channel: the post is given up and audited (naming the channel and the error), the requester is still told when it expires, and it is not retried every sweep', async () => {
    h = await startHarness({ sweepIntervalMs: 300 });
    const harness = h;
    harness.slack.setChannelState(APPROVAL_CHANNEL, 'bot_removed');
    const id = await harness.file('carol', 'production Admin 30m nobody can see this');

    await eventually(async () => (await eventTypes(harness, id)).includes('news_undeliverable'), 10_000, 'the undeliverable post to be audited');
    const event = (await harness.audit(id)).find((e) => e.type === 'news_undeliverable');
    expect(event?.detail).toContain(APPROVAL_CHANNEL);
    expect(event?.detail).toContain('not_in_channel');
    const posts = harness.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === APPROVAL_CHANNEL).length;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(harness.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === APPROVAL_CHANNEL).length).toBe(posts);
    expect((await harness.request(id)).status).toBe('PENDING');
  });

  test('an archived approvals channel: the same (is_archived)', async () => {
    h = await startHarness({ sweepIntervalMs: 300 });
    const harness = h;
    harness.slack.setChannelState(APPROVAL_CHANNEL, 'archived');
    const id = await harness.file('carol', 'production Admin 30m archived channel');
    await eventually(async () => (await harness.audit(id)).find((e) => e.type === 'news_undeliverable'), 10_000, 'the undeliverable post to be audited');
    expect((await harness.audit(id)).find((e) => e.type === 'news_undeliverable')?.detail).toContain('is_archived');
  });

  test('2,000 requests whose news cannot be delivered, older than one overdue window: that window is revoked within one sweep, and the 2,000 are given up rather than retried', async () => {
    const clock = movableClock();
    // No sweep on its own timer: the test runs exactly one.
    h = await startHarness({ clock, sweepIntervalMs: 3_600_000 });
    const harness = h;

    // A request of dave's that ended; dave is then deactivated, so its news cannot reach him.
    const template = await harness.file('dave', 'staging ReadOnly 1s template');
    await harness.waitForStatus(template, 'ENDED');
    await eventually(async () => messageOf((await harness.runtime.deps.store.getRequest(template)) ?? { messages: [] }, 'requester-dm')?.shown?.includes('ENDED'), 10_000, 'the template to be told');

    // carol's window: 5 minutes, ACTIVE now.
    const window = await harness.file('carol', 'staging ReadOnly 5m the overdue one');
    await harness.waitForStatus(window, 'ACTIVE');
    harness.slack.deactivateUser(PEOPLE.dave.id);

    // A crash: the process dies with the window's timer, and 2,000 undeliverable requests sit in
    // the store, all due before the window's end.
    const ended = (await harness.runtime.deps.store.getRequest(template)) as AccessRequest;
    await harness.runtime.stop();
    await harness.startRuntime();
    const doc = DynamoDBDocumentClient.from(harness.runtime.dynamo, { marshallOptions: { removeUndefinedValues: true } });
    const base = clock.now() - 3_600_000;
    const seeded: string[] = [];
    for (let i = 0; i < 2_000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => {
          const n = i + j;
          const request: AccessRequest = { ...ended, id: `R-UNDLV${String(n).padStart(5, '0')}`, messages: ended.messages.filter((m) => m.kind !== 'requester-dm'), updatedAt: base + n };
          seeded.push(request.id);
          return doc.send(
            new PutCommand({
              TableName: 'timebox',
              Item: { ...requestKey(request.id), kind: 'request', schemaVersion: SCHEMA_VERSION, version: 1, status: requestStatus(request), request: { ...request, version: 1 }, dueKey: DUE_INDEX.value, dueAt: dueAt(request) },
            }),
          );
        }),
      );
    }
    // The start-up sweep may have run before the seeding; let it finish.
    await harness.runtime.queue.drain();

    clock.advance(6 * 60_000);
    await harness.runtime.sweep();
    await harness.runtime.queue.drain();
    expect((await harness.request(window)).status).toBe('ENDED');
    expect(holds(harness, { who: 'carol', account: 'staging', permissionSet: 'ReadOnly' })).toBe(false);

    // Each undeliverable request was tried once, given up and audited, and is due no more.
    const sample = seeded.filter((_, i) => i % 400 === 0);
    for (const id of sample) {
      const stored = await harness.runtime.deps.store.getRequest(id);
      expect(stored && dueAt(stored)).toBeUndefined();
      expect((await harness.audit(id)).map((e) => e.type)).toContain('news_undeliverable');
    }
    const opens = harness.slack.callsTo('conversations.open').length;
    await harness.runtime.sweep();
    await harness.runtime.queue.drain();
    expect(harness.slack.callsTo('conversations.open').length).toBe(opens);
  }, 180_000);
});
