import fc from 'fast-check';
import {
  decide,
  dueAt,
  endEarly,
  isRequesterNews,
  isTerminal,
  needsNotification,
  notificationKey,
  TERMINAL_STATUSES,
  transition,
  type AccessRequest,
  type RequestStatus,
} from '../../../src/domain/access-request';
import { TimeboxError } from '../../../src/domain/errors';
import type { Person } from '../../../src/domain/policy';

const H = 3_600_000;
const T0 = Date.UTC(2025, 0, 1, 9, 0, 0);

const REQUESTER: Person = { slackUserId: 'U0CAROL000', email: 'carol@example.com' };
const ALICE: Person = { slackUserId: 'U0ALICE000', email: 'alice@example.com' };
const BOB: Person = { slackUserId: 'U0BOB00000' };

const ALL_STATUSES: RequestStatus[] = ['PENDING', 'APPROVED', 'DENIED', 'EXPIRED', 'GRANTING', 'ACTIVE', 'FAILED', 'REVOKING', 'ENDED'];

/** The state machine as documented on RequestStatus. */
const DOCUMENTED: Record<RequestStatus, RequestStatus[]> = {
  PENDING: ['APPROVED', 'DENIED', 'EXPIRED'],
  APPROVED: ['GRANTING'],
  GRANTING: ['ACTIVE', 'FAILED'],
  ACTIVE: ['REVOKING'],
  REVOKING: ['ENDED'],
  DENIED: [],
  EXPIRED: [],
  FAILED: [],
  ENDED: [],
};

function pending(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id: 'req-1',
    version: 1,
    status: 'PENDING',
    requester: REQUESTER,
    accountId: '222222222222',
    accountName: 'production',
    permissionSetName: 'Admin',
    permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222',
    durationMs: H,
    reason: 'fixing INC-1',
    ruleName: 'prod-admin',
    autoApproved: false,
    approvalsRequired: 1,
    approvals: [],
    createdAt: T0,
    expiresAt: T0 + 24 * H,
    updatedAt: T0,
    notified: 'PENDING:0',
    ...overrides,
  };
}

/** A request in `status` whose channel message and requester DM are both up to date. */
function withStatus(status: RequestStatus, overrides: Partial<AccessRequest> = {}): AccessRequest {
  const base = pending({ status, ...overrides });
  return { ...base, notified: overrides.notified ?? notificationKey(base), toldRequester: overrides.toldRequester ?? status };
}

function timeboxErrorFrom(fn: () => unknown): TimeboxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TimeboxError);
    return err as TimeboxError;
  }
  throw new Error('expected a TimeboxError, but nothing was thrown');
}

describe('transition', () => {
  const pairs = ALL_STATUSES.flatMap((from) => ALL_STATUSES.map((to) => [from, to, DOCUMENTED[from].includes(to)] as const));

  test.each(pairs.filter(([, , ok]) => ok))('%s → %s is allowed', (from, to) => {
    const moved = transition(withStatus(from), to);
    expect(moved.status).toBe(to);
  });

  test.each(pairs.filter(([, , ok]) => !ok))('%s → %s is invalid_transition', (from, to) => {
    const err = timeboxErrorFrom(() => transition(withStatus(from), to));
    expect(err.code).toBe('invalid_transition');
    expect(err.message).toContain('req-1');
    expect(err.message).toContain(from.toLowerCase());
    expect(err.message).toContain(to.toLowerCase());
  });

  test('ENDED → ACTIVE throws invalid_transition', () => {
    expect(timeboxErrorFrom(() => transition(withStatus('ENDED'), 'ACTIVE')).code).toBe('invalid_transition');
  });

  test('terminal statuses have no way out', () => {
    for (const from of TERMINAL_STATUSES) {
      for (const to of ALL_STATUSES) expect(() => transition(withStatus(from), to)).toThrow(TimeboxError);
    }
  });

  test('applies the patch, but the patch cannot override the new status', () => {
    const moved = transition(withStatus('GRANTING'), 'ACTIVE', { activeAt: T0, endsAt: T0 + H, status: 'ENDED' });
    expect(moved).toMatchObject({ status: 'ACTIVE', activeAt: T0, endsAt: T0 + H });
  });

  test('does not modify the request it was given', () => {
    const before = withStatus('APPROVED');
    const copy = structuredClone(before);
    transition(before, 'GRANTING', { claimUntil: T0 + 1 });
    expect(before).toEqual(copy);
  });
});

describe('isTerminal', () => {
  test.each(ALL_STATUSES)('%s', (status) => {
    expect(isTerminal(status)).toBe(['DENIED', 'EXPIRED', 'FAILED', 'ENDED'].includes(status));
  });
});

describe('decide', () => {
  const now = T0 + H;

  test('deny → DENIED, recording who and when', () => {
    const denied = decide(pending(), 'deny', ALICE, now);
    expect(denied.status).toBe('DENIED');
    expect(denied.decidedBy).toEqual(ALICE);
    expect(denied.decidedAt).toBe(now);
  });

  test('approve with approvalsRequired 1 → APPROVED with the approval recorded', () => {
    const approved = decide(pending(), 'approve', ALICE, now);
    expect(approved.status).toBe('APPROVED');
    expect(approved.decidedBy).toEqual(ALICE);
    expect(approved.decidedAt).toBe(now);
    expect(approved.approvals).toEqual([{ slackUserId: ALICE.slackUserId, email: ALICE.email, at: now }]);
  });

  test('with approvalsRequired 2: PENDING after the first, APPROVED after a second distinct approver', () => {
    const first = decide(pending({ approvalsRequired: 2 }), 'approve', ALICE, now);
    expect(first.status).toBe('PENDING');
    expect(first.decidedBy).toBeUndefined();
    expect(first.approvals.map((a) => a.slackUserId)).toEqual([ALICE.slackUserId]);

    const second = decide(first, 'approve', BOB, now + 1_000);
    expect(second.status).toBe('APPROVED');
    expect(second.decidedBy).toEqual(BOB);
    expect(second.approvals.map((a) => a.slackUserId)).toEqual([ALICE.slackUserId, BOB.slackUserId]);
  });

  test('the same approver twice is already_approved_by_you and counts once', () => {
    const first = decide(pending({ approvalsRequired: 2 }), 'approve', ALICE, now);
    const err = timeboxErrorFrom(() => decide(first, 'approve', ALICE, now + 1_000));
    expect(err.code).toBe('already_approved_by_you');
    // The same person under a different email is still the same Slack user.
    expect(timeboxErrorFrom(() => decide(first, 'approve', { ...ALICE, email: 'other@example.com' }, now + 1_000)).code).toBe(
      'already_approved_by_you',
    );
  });

  test('one deny ends a request even after partial approval', () => {
    const first = decide(pending({ approvalsRequired: 2 }), 'approve', ALICE, now);
    const denied = decide(first, 'deny', BOB, now + 1_000);
    expect(denied.status).toBe('DENIED');
    expect(denied.decidedBy).toEqual(BOB);
  });

  test.each(ALL_STATUSES.filter((s) => s !== 'PENDING'))('deciding a %s request is already_decided', (status) => {
    for (const decision of ['approve', 'deny'] as const) {
      const err = timeboxErrorFrom(() => decide(withStatus(status), decision, ALICE, now));
      expect(err.code).toBe('already_decided');
      expect(err.message).toContain(status.toLowerCase());
    }
  });

  test('deciding at or after expiresAt is already_decided, even while still PENDING', () => {
    const request = pending();
    for (const decision of ['approve', 'deny'] as const) {
      expect(timeboxErrorFrom(() => decide(request, decision, ALICE, request.expiresAt)).code).toBe('already_decided');
      expect(timeboxErrorFrom(() => decide(request, decision, ALICE, request.expiresAt + 1)).code).toBe('already_decided');
    }
    expect(decide(request, 'approve', ALICE, request.expiresAt - 1).status).toBe('APPROVED');
  });

  test('does not modify the request it was given', () => {
    const before = pending({ approvalsRequired: 2 });
    const copy = structuredClone(before);
    decide(before, 'approve', ALICE, now);
    expect(before).toEqual(copy);
  });
});

describe('notifications', () => {
  test('the key changes with the status and with each approval', () => {
    const request = pending({ approvalsRequired: 2 });
    const afterOne = decide(request, 'approve', ALICE, T0 + 1);
    const afterTwo = decide(afterOne, 'approve', BOB, T0 + 2);
    const keys = [notificationKey(request), notificationKey(afterOne), notificationKey(afterTwo)];
    expect(new Set(keys).size).toBe(3);
  });

  test('a PENDING request already told about needs nothing', () => {
    expect(needsNotification(pending())).toBe(false);
  });

  test('a new approval makes a notification due', () => {
    const afterOne = decide(pending({ approvalsRequired: 2 }), 'approve', ALICE, T0 + 1);
    expect(afterOne.status).toBe('PENDING');
    expect(needsNotification(afterOne)).toBe(true);
    expect(needsNotification({ ...afterOne, notified: notificationKey(afterOne) })).toBe(false);
  });

  test('a request never told about is due', () => {
    expect(needsNotification(pending({ notified: undefined }))).toBe(true);
  });

  test.each(['APPROVED', 'DENIED', 'EXPIRED', 'ACTIVE', 'FAILED', 'ENDED'] as const)('moving to %s makes a notification due', (status) => {
    expect(needsNotification(pending({ status, notified: 'PENDING:0' }))).toBe(true);
  });

  test.each(['GRANTING', 'REVOKING'] as const)('the in-between status %s is not announced', (status) => {
    expect(needsNotification(pending({ status, notified: 'APPROVED:1' }))).toBe(false);
  });

  test.each(TERMINAL_STATUSES)('the terminal status %s is news for the requester (a DM)', (status) => {
    expect(isRequesterNews(status)).toBe(true);
  });

  test('going live is news for the requester; waiting states are not', () => {
    expect(isRequesterNews('ACTIVE')).toBe(true);
    for (const status of ['PENDING', 'APPROVED', 'GRANTING', 'REVOKING'] as const) expect(isRequesterNews(status)).toBe(false);
  });
});

describe('dueAt', () => {
  test('PENDING, nothing to tell → its expiry', () => {
    expect(dueAt(pending())).toBe(T0 + 24 * H);
  });

  test('ACTIVE, nothing to tell → its end', () => {
    expect(dueAt(withStatus('ACTIVE', { activeAt: T0, endsAt: T0 + H }))).toBe(T0 + H);
  });

  test('APPROVED → when it was decided (granting should start right away)', () => {
    expect(dueAt(withStatus('APPROVED', { decidedAt: T0 + 5 }))).toBe(T0 + 5);
  });

  test('GRANTING / REVOKING → when the claim runs out', () => {
    expect(dueAt(withStatus('GRANTING', { claimUntil: T0 + 30_000 }))).toBe(T0 + 30_000);
    expect(dueAt(withStatus('REVOKING', { claimUntil: T0 + 60_000 }))).toBe(T0 + 60_000);
  });

  test('GRANTING / REVOKING with no claim → due immediately', () => {
    expect(dueAt(withStatus('GRANTING'))).toBe(0);
  });

  test.each(TERMINAL_STATUSES)('terminal %s with nothing to notify → undefined (never again)', (status) => {
    expect(dueAt(withStatus(status))).toBeUndefined();
  });

  test.each(TERMINAL_STATUSES)('terminal %s whose requester has not had the DM yet → due at its last update', (status) => {
    expect(dueAt(withStatus(status, { updatedAt: T0 + 9, toldRequester: 'ACTIVE' }))).toBe(T0 + 9);
  });

  test.each(TERMINAL_STATUSES)('terminal %s not yet announced → due at its last update', (status) => {
    expect(dueAt(pending({ status, updatedAt: T0 + 7, notified: 'PENDING:0' }))).toBe(T0 + 7);
  });

  test('a pending notification brings the due time forward, never back', () => {
    const afterOne = { ...decide(pending({ approvalsRequired: 2 }), 'approve', ALICE, T0 + 1), updatedAt: T0 + 1 };
    expect(dueAt(afterOne)).toBe(T0 + 1);
    const lateUpdate = pending({ notified: undefined, updatedAt: T0 + 48 * H });
    expect(dueAt(lateUpdate)).toBe(lateUpdate.expiresAt);
  });
});

describe('decide properties', () => {
  const people: Person[] = ['U0A', 'U0B', 'U0C', 'U0D'].map((id) => ({ slackUserId: `${id}0000000` }));
  const click = fc.record({
    decision: fc.constantFrom<'approve' | 'deny'>('approve', 'approve', 'approve', 'deny'),
    who: fc.constantFrom(...people),
    after: fc.integer({ min: 0, max: 30 * H }),
  });

  test('whatever the clicks, APPROVED needs approvalsRequired distinct approvers and only PENDING changes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(click, { maxLength: 10 }), (required, clicks) => {
        let request = pending({ approvalsRequired: required });
        let now = T0;
        for (const c of clicks) {
          now += c.after;
          const before = request;
          try {
            request = decide(request, c.decision, c.who, now);
          } catch (err) {
            if (!(err instanceof TimeboxError)) return false;
            const expected = before.status !== 'PENDING' || now >= before.expiresAt ? 'already_decided' : 'already_approved_by_you';
            if (err.code !== expected) return false;
            continue;
          }
          if (before.status !== 'PENDING' || now >= before.expiresAt) return false;
          const ids = request.approvals.map((a) => a.slackUserId);
          if (new Set(ids).size !== ids.length) return false;
          if (request.status === 'APPROVED' && ids.length < required) return false;
          if (request.status === 'PENDING' && ids.length >= required) return false;
          if (!['PENDING', 'APPROVED', 'DENIED'].includes(request.status)) return false;
        }
        return true;
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('endEarly', () => {
  const active = () => withStatus('ACTIVE', { activeAt: T0, endsAt: T0 + H });

  test('moves the end of an active window to now and records who ended it; the request is due at once', () => {
    const ended = endEarly(active(), ALICE, T0 + 10 * 60_000);
    expect(ended).toMatchObject({ status: 'ACTIVE', endsAt: T0 + 10 * 60_000, endedEarlyBy: ALICE });
    expect(dueAt(ended)).toBeLessThanOrEqual(T0 + 10 * 60_000);
    // The channel message is due an update ("ended early by …; removing access").
    expect(needsNotification(ended)).toBe(true);
  });

  test('an active window already past its end is being removed: already_ending', () => {
    expect(timeboxErrorFrom(() => endEarly(active(), ALICE, T0 + H)).code).toBe('already_ending');
    expect(timeboxErrorFrom(() => endEarly(withStatus('REVOKING'), ALICE, T0)).code).toBe('already_ending');
    // Once ended early, a second end is refused even on a clock that runs behind the first one's.
    const once = endEarly(active(), ALICE, T0 + 10 * 60_000);
    expect(timeboxErrorFrom(() => endEarly(once, BOB, T0 + 5 * 60_000)).code).toBe('already_ending');
  });

  test.each(['PENDING', 'APPROVED', 'GRANTING'] as const)('%s: not_active_yet, nothing to end', (status) => {
    expect(timeboxErrorFrom(() => endEarly(withStatus(status), REQUESTER, T0)).code).toBe('not_active_yet');
  });

  test.each(['DENIED', 'EXPIRED', 'FAILED', 'ENDED'] as const)('%s: already_over', (status) => {
    expect(timeboxErrorFrom(() => endEarly(withStatus(status), REQUESTER, T0)).code).toBe('already_over');
  });

  test('for any window and any moment: an active window ends exactly now if now is before its end, and is otherwise refused; the end never moves later', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 * H }), fc.integer({ min: 0, max: 10 * H }), (length, offset) => {
        const request = withStatus('ACTIVE', { activeAt: T0, endsAt: T0 + length });
        const now = T0 + offset;
        if (now >= T0 + length) return timeboxErrorFrom(() => endEarly(request, BOB, now)).code === 'already_ending';
        const ended = endEarly(request, BOB, now);
        return ended.endsAt === now && ended.endsAt < (request.endsAt as number) && ended.endedEarlyBy === BOB && ended.status === 'ACTIVE';
      }),
    );
  });
});
