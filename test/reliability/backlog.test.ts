import { findRequestId } from '../../src/domain/request-id';
import { eventually } from '../support/eventually';
import { ACCOUNTS, IDENTITY_STORE_ID, INSTANCE_ARN, PERMISSION_SETS, TimeboxHarness } from '../support/timebox-harness';

const AT_ONCE = 2;
const QUEUED = 3;
const REQUESTS = 9;

/**
 * Grants queued behind a slow Identity Center are data in the store, not work held in memory:
 * the local process runs a bounded number of jobs, keeps a bounded number of request ids
 * waiting, and picks the rest up from the store's due index as places free up.
 */
describe('performance-2: a backlog waits in the store, not in memory', () => {
  let h: TimeboxHarness;

  beforeAll(async () => {
    h = await TimeboxHarness.start({ workQueue: { atOnce: AT_ONCE, queued: QUEUED } });
  });
  afterAll(async () => {
    await h.stop();
  });

  test(`${REQUESTS} people asking at once while Identity Center is slow: each is answered, at most ${AT_ONCE} jobs run and ${QUEUED} wait, and every grant is made once AWS answers`, async () => {
    h.aws.setCreationPolls(1_000_000); // every assignment stays IN_PROGRESS until completed below
    const people = Array.from({ length: REQUESTS }, (_, i) => {
      const n = String(i).padStart(2, '0');
      const person = { id: `U0BACKLOG${n}`, name: `backlog-${n}`, email: `backlog-${n}@example.com`, principalId: `9067c0ffee-bac10000-0000-4000-8000-0000000000${n}` };
      h.slack.addUser({ id: person.id, name: person.name, email: person.email });
      h.aws.addUser({ userId: person.principalId, email: person.email, identityStoreId: IDENTITY_STORE_ID });
      return person;
    });
    let mostRunning = 0;
    let mostWaiting = 0;
    const watch = setInterval(() => {
      mostRunning = Math.max(mostRunning, h.runtime.queue.load.running);
      mostWaiting = Math.max(mostWaiting, h.runtime.queue.load.waiting);
    }, 1);
    try {
      const answers = await Promise.all(
        people.map(async (p) => {
          const responseUrl = h.slack.responseUrl({ userId: p.id, channelId: 'C0GENERAL0' });
          const r = await h.sender.command({ userId: p.id, userName: p.name, text: 'staging ReadOnly 30m backlog', channelId: 'C0GENERAL0', responseUrl });
          return (JSON.parse(r.body) as { text?: string }).text ?? '';
        }),
      );
      for (const text of answers) expect(text).toContain('was approved automatically');
      const ids = answers.map((t) => findRequestId(t) as string);
      await eventually(async () => h.aws.callsTo('CreateAccountAssignment').length >= AT_ONCE, 5_000, 'the first grants to reach AWS');
      // Some were turned away: they are stored and due, not held in memory.
      expect(h.runtime.queue.load.turnedAway).toBeGreaterThan(0);
      expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(AT_ONCE);

      h.aws.setCreationPolls(0);
      h.aws.completeOperations();
      for (const id of ids) await h.waitForStatus(id, 'ACTIVE');
      await h.settled();
      expect(mostRunning).toBeLessThanOrEqual(AT_ONCE);
      expect(mostWaiting).toBeLessThanOrEqual(QUEUED);
      for (const p of people) expect(h.aws.hasAssignment({ instanceArn: INSTANCE_ARN, accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.ReadOnly, principalId: p.principalId })).toBe(true);
      expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(REQUESTS);
    } finally {
      clearInterval(watch);
    }
  });
});
