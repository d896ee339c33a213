/**
 * One person's flood of requests must not delay another person's access: the worker's grants and
 * revokes go ahead of filing and news in the local process (src/adapters/store-lanes.ts), and one
 * person may have only limits.maxPendingPerRequester requests waiting for approval at once.
 */
import { TimeboxHarness, testConfigYaml } from '../support/timebox-harness';

let h: TimeboxHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('reliability-3: limits.maxPendingPerRequester', () => {
  test('one request more than the limit waiting for approval is refused naming limits.maxPendingPerRequester, and nothing is stored or posted; an auto-approved request still goes through, and a decision frees a place', async () => {
    h = await TimeboxHarness.start({ configYaml: testConfigYaml().replace('durations:', 'limits:\n  maxPendingPerRequester: 2\ndurations:') });
    const harness = h;
    const first = await harness.file('carol', 'production Admin 30m first');
    await harness.file('carol', 'production ReadOnly 30m second');
    await harness.approvalMessage(first);
    await harness.runtime.queue.drain();
    const stored = await harness.storedRequestCount();
    const posts = harness.slack.callsTo('chat.postMessage').length;

    const { text } = await harness.command('carol', 'production Admin 30m one too many');
    expect(text).toContain('You already have 2 requests waiting for approval; at most 2 may wait at once (limits.maxPendingPerRequester)');
    expect(await harness.storedRequestCount()).toBe(stored);
    // Nothing posted for the refused one: no approvals message, no DM.
    await harness.runtime.queue.drain();
    expect(harness.slack.callsTo('chat.postMessage')).toHaveLength(posts);

    // Another person is not counted against carol, and carol's auto-approved request is not held up.
    await harness.file('dave', 'production Admin 30m someone else');
    const auto = await harness.file('carol', 'staging ReadOnly 30m auto-approved');
    await harness.waitForStatus(auto, 'ACTIVE');

    // Once one is decided, there is room again.
    await harness.click('alice', 'deny', first);
    await harness.waitForStatus(first, 'DENIED');
    const again = await harness.file('carol', 'production Admin 30m after a decision');
    expect((await harness.request(again)).status).toBe('PENDING');
  });
});

describe('reliability-3: limits.maxPendingPerRequester under concurrent filing', () => {
  test('five requests needing approval sent by one person at the same moment, limit 2: exactly two are filed, three are refused naming the limit', async () => {
    h = await TimeboxHarness.start({ configYaml: testConfigYaml().replace('durations:', 'limits:\n  maxPendingPerRequester: 2\ndurations:') });
    const harness = h;
    const replies = await Promise.all(Array.from({ length: 5 }, (_, i) => harness.command('carol', `production Admin 30m at once ${i + 1}`)));
    expect(replies.filter((r) => r.text.includes('is waiting for approval'))).toHaveLength(2);
    expect(replies.filter((r) => r.text.includes('limits.maxPendingPerRequester'))).toHaveLength(3);
    expect(await harness.storedRequestCount()).toBe(2);
  });
});
