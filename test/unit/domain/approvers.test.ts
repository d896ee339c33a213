import type { AccessRequest, Grant } from '../../../src/domain/access-request';
import { asksByDm, asksInChannel, nextReminderAt, reminderAt, waitingFor } from '../../../src/domain/approvers';

const M = 60_000;
const T0 = Date.UTC(2026, 0, 5, 9);
const REMINDERS = { afterMs: 15 * M, backoff: 2, max: 4 };

const grant = (id: string, status: Grant['status'], ruleName = 'prod'): Grant => ({
  id,
  target: { kind: 'group', groupId: 'g-1', groupName: 'oncall' },
  ruleName,
  autoApproved: false,
  approvalsRequired: 1,
  approvals: [],
  status,
});
const request = (grants: Grant[]): Pick<AccessRequest, 'grants' | 'createdAt' | 'expiresAt'> => ({ grants, createdAt: T0, expiresAt: T0 + 24 * 60 * M });

describe('daily-use: reminders and who gets told (domain)', () => {
  test('reminders fall 15m after filing, then after gaps of 30m, 60m and 120m', () => {
    expect([0, 1, 2, 3].map((n) => (reminderAt(REMINDERS, T0, n) - T0) / M)).toEqual([15, 45, 105, 225]);
  });

  test('no reminder past max, once nothing waits, past the expiry, or when reminders are off', () => {
    expect(nextReminderAt(REMINDERS, request([grant('1', 'PENDING')]), 3)).toBe(T0 + 225 * M);
    expect(nextReminderAt(REMINDERS, request([grant('1', 'PENDING')]), 4)).toBeUndefined();
    expect(nextReminderAt(REMINDERS, request([grant('1', 'APPROVED')]), 0)).toBeUndefined();
    expect(nextReminderAt(REMINDERS, { ...request([grant('1', 'PENDING')]), expiresAt: T0 + 10 * M }, 0)).toBeUndefined();
    expect(nextReminderAt(undefined, request([grant('1', 'PENDING')]), 0)).toBeUndefined();
    expect(nextReminderAt({ ...REMINDERS, max: 0 }, request([grant('1', 'PENDING')]), 0)).toBeUndefined();
  });

  test('who decides a waiting grant is its rule running now; a grant whose rule is gone lists nobody; decided grants are left out', () => {
    const rules = [{ name: 'prod', approvers: ['alice@example.com', 'U0BOB00000'] }] as Parameters<typeof waitingFor>[0]['rules'];
    const waiting = waitingFor({ rules }, { grants: [grant('1', 'PENDING'), grant('2', 'PENDING', 'gone'), grant('3', 'ACTIVE')] });
    expect([...waiting]).toEqual([
      ['1', ['alice@example.com', 'U0BOB00000']],
      ['2', []],
    ]);
  });

  test('notify: channel is the default; dm asks by DM only; both asks in both', () => {
    expect([asksInChannel(undefined), asksByDm(undefined)]).toEqual([true, false]);
    expect([asksInChannel({ notify: 'dm' }), asksByDm({ notify: 'dm' })]).toEqual([false, true]);
    expect([asksInChannel({ notify: 'both' }), asksByDm({ notify: 'both' })]).toEqual([true, true]);
  });
});
