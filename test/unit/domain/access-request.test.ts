import fc from 'fast-check';
import {
  channelKey,
  channelNeedsUpdate,
  decideGrant,
  dueAt,
  endEarly,
  findGrant,
  GRANT_STATUSES,
  grantTransitions,
  grantWorkDueAt,
  holdsAccess,
  isRequestOver,
  isTerminal,
  needsNotification,
  requesterKey,
  requesterNeedsTelling,
  requestStatus,
  STATUS_TABLE,
  withGrant,
  workDueAt,
  type AccessRequest,
  type Grant,
  type GrantStatus,
  type GrantStep,
} from '../../../src/domain/access-request';
import { TimeboxError } from '../../../src/domain/errors';
import type { AccountTarget, GroupTarget } from '../../../src/domain/grant-target';
import type { Person } from '../../../src/domain/policy';

const M = 60_000;
const H = 60 * M;
const T0 = Date.UTC(2025, 0, 1, 9, 0, 0);

const REQUESTER: Person = { slackUserId: 'U0CAROL000', email: 'carol@example.com' };
const ALICE: Person = { slackUserId: 'U0ALICE000', email: 'alice@example.com' };
const BOB: Person = { slackUserId: 'U0BOB00000' };
const DAVE: Person = { slackUserId: 'U0DAVE0000', email: 'dave@example.com' };

const PROD_ADMIN: AccountTarget = {
  kind: 'account',
  accountId: '222222222222',
  accountName: 'production',
  permissionSetName: 'Admin',
  permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222',
};
const STAGING_READONLY: AccountTarget = {
  kind: 'account',
  accountId: '111111111111',
  accountName: 'staging',
  permissionSetName: 'ReadOnly',
  permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1111111111111111',
};
const ONCALL: GroupTarget = { kind: 'group', groupId: '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000001', groupName: 'oncall' };

const TERMINAL: GrantStatus[] = ['DENIED', 'EXPIRED', 'CANCELLED', 'FAILED', 'ENDED', 'APPLIED'];
const OPEN: GrantStatus[] = ['PENDING', 'APPROVED', 'GRANTING', 'ACTIVE', 'REVOKING'];

/** The life of a grant as the diagram on GRANT_STATUSES draws it. */
const DIAGRAM: Record<GrantStatus, GrantStatus[]> = {
  PENDING: ['APPROVED', 'DENIED', 'EXPIRED', 'CANCELLED'],
  APPROVED: ['GRANTING', 'APPLIED', 'FAILED'],
  GRANTING: ['ACTIVE', 'FAILED'],
  ACTIVE: ['REVOKING'],
  REVOKING: ['ENDED'],
  DENIED: [],
  EXPIRED: [],
  CANCELLED: [],
  FAILED: [],
  ENDED: [],
  APPLIED: [],
};

function grant(id: string, overrides: Partial<Grant> = {}): Grant {
  return {
    id,
    target: PROD_ADMIN,
    ruleName: 'prod-admin',
    autoApproved: false,
    approvalsRequired: 1,
    approvals: [],
    status: 'PENDING',
    ...overrides,
  };
}

/** A grant in `status` with the fields that status implies. */
function grantIn(id: string, status: GrantStatus, overrides: Partial<Grant> = {}): Grant {
  const implied: Partial<Grant> = {
    APPROVED: { decidedAt: T0 + M },
    GRANTING: { decidedAt: T0 + M, claimUntil: T0 + 2 * M },
    ACTIVE: { decidedAt: T0 + M, activeAt: T0 + 2 * M, endsAt: T0 + 2 * M + H },
    REVOKING: { decidedAt: T0 + M, activeAt: T0 + 2 * M, endsAt: T0 + 2 * M + H, claimUntil: T0 + 3 * H },
    ENDED: { decidedAt: T0 + M, activeAt: T0 + 2 * M, endsAt: T0 + 2 * M + H, endedAt: T0 + 2 * M + H },
    DENIED: { decidedAt: T0 + M },
    FAILED: { decidedAt: T0 + M, failure: 'AccessDenied' },
    PENDING: {},
    EXPIRED: {},
    CANCELLED: { decidedBy: REQUESTER, decidedAt: T0 + M },
    APPLIED: { decidedAt: T0 + M, endsAt: T0 + 2 * M + 2 * H },
  }[status];
  return grant(id, { status, ...implied, ...overrides });
}

function request(grants: Grant[], overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id: 'R-0123456789',
    version: 1,
    requester: REQUESTER,
    durationMs: H,
    reason: 'fixing INC-1',
    createdAt: T0,
    expiresAt: T0 + 24 * H,
    grants,
    messages: [],
    updatedAt: T0,
    ...overrides,
  };
}

/** The request with the channel message and the requester's DM both showing where it stands. */
function told(r: AccessRequest): AccessRequest {
  return ({ ...r, messages: [{ kind: 'channel', shown: channelKey(r) }, { kind: 'requester-dm', shown: requesterKey(r) }] });
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

const statusArb = fc.constantFrom(...GRANT_STATUSES);

describe('STATUS_TABLE', () => {
  test('lists every status, and leads only to statuses that exist', () => {
    expect(Object.keys(STATUS_TABLE).sort()).toEqual([...GRANT_STATUSES].sort());
    for (const s of GRANT_STATUSES) for (const next of STATUS_TABLE[s].next) expect(GRANT_STATUSES).toContain(next);
  });

  test.each(GRANT_STATUSES)('%s leads where the documented life of a grant says', (status) => {
    expect([...STATUS_TABLE[status].next].sort()).toEqual([...DIAGRAM[status]].sort());
  });

  test('a status is terminal exactly when nothing follows it, and only DENIED, EXPIRED, CANCELLED, FAILED and ENDED are', () => {
    for (const s of GRANT_STATUSES) {
      expect(isTerminal(s)).toBe(STATUS_TABLE[s].next.length === 0);
      expect(isTerminal(s)).toBe(TERMINAL.includes(s));
    }
  });

  test('every status is reachable from the two a grant is born in (PENDING, or APPROVED when auto-approved)', () => {
    const reached = new Set<GrantStatus>(['PENDING', 'APPROVED']);
    // Sets iterate what is added during the loop, so this walks the whole graph.
    for (const s of reached) for (const n of STATUS_TABLE[s].next) reached.add(n);
    expect([...reached].sort()).toEqual([...GRANT_STATUSES].sort());
  });

  test('every open grant can still reach an end, and every way ends in a terminal status', () => {
    const canEnd = (s: GrantStatus, seen = new Set<GrantStatus>()): boolean =>
      isTerminal(s) || (!seen.has(s) && STATUS_TABLE[s].next.some((n) => canEnd(n, new Set([...seen, s]))));
    for (const s of OPEN) expect(canEnd(s)).toBe(true);
  });

  test('the requester hears of the filing, the approval, access going live and every outcome, but not of the steps in between', () => {
    for (const s of TERMINAL) expect(STATUS_TABLE[s].toldRequester).toBe(true);
    for (const s of ['PENDING', 'APPROVED', 'ACTIVE'] as const) expect(STATUS_TABLE[s].toldRequester).toBe(true);
    for (const s of ['GRANTING', 'REVOKING'] as const) expect(STATUS_TABLE[s].toldRequester).toBe(false);
  });

  test('the channel message shows everything but the in-between GRANTING and REVOKING', () => {
    for (const s of GRANT_STATUSES) expect(STATUS_TABLE[s].shownInChannel).toBe(s !== 'GRANTING' && s !== 'REVOKING');
  });

  test('a grant may hold AWS access only from the start of granting until its revoke is done', () => {
    expect(GRANT_STATUSES.filter(holdsAccess).sort()).toEqual(['ACTIVE', 'GRANTING', 'REVOKING']);
    // Nothing terminal holds access: a request that is over leaves no lease behind.
    for (const s of TERMINAL) expect(holdsAccess(s)).toBe(false);
  });
});

describe('requestStatus', () => {
  test.each(GRANT_STATUSES)('a request of one %s grant has that status', (status) => {
    expect(requestStatus(request([grantIn('1', status)]))).toBe(status);
  });

  test.each<[GrantStatus[], GrantStatus, string]>([
    [['ACTIVE', 'GRANTING'], 'GRANTING', 'one window live, another still being granted'],
    [['ACTIVE', 'PENDING'], 'PENDING', 'one window live, another still waiting for approval'],
    [['ACTIVE', 'REVOKING'], 'REVOKING', 'one window live, another being removed'],
    [['ACTIVE', 'ENDED'], 'ACTIVE', 'the open grants are all active'],
    [['ACTIVE', 'DENIED', 'ACTIVE'], 'ACTIVE', 'the open grants are all active'],
    [['PENDING', 'DENIED'], 'PENDING', 'an open grant outranks any outcome'],
    [['ENDED', 'DENIED'], 'ENDED', 'all over, and one grant ran'],
    [['EXPIRED', 'ENDED', 'FAILED'], 'ENDED', 'all over, and one grant ran'],
    [['FAILED', 'DENIED'], 'FAILED', 'all over, nothing ran, one failed'],
    [['DENIED', 'EXPIRED'], 'DENIED', 'all over, nothing ran, one was denied'],
    [['EXPIRED', 'EXPIRED'], 'EXPIRED', 'nobody decided'],
    [['ENDED', 'CANCELLED'], 'ENDED', 'all over: one grant ran, the other was withdrawn'],
    [['CANCELLED', 'CANCELLED'], 'CANCELLED', 'all withdrawn before anyone decided'],
    [['DENIED', 'CANCELLED'], 'DENIED', 'all over, nothing ran, one was denied'],
  ])('%j → %s (%s)', (statuses, expected) => {
    expect(requestStatus(request(statuses.map((s, i) => grantIn(String(i + 1), s))))).toBe(expected);
  });

  test('is read from the grants alone: the order they are listed in does not matter', () => {
    fc.assert(
      fc.property(fc.array(statusArb, { minLength: 1, maxLength: 6 }), fc.integer(), (statuses, seed) => {
        const grants = statuses.map((s, i) => grantIn(String(i + 1), s));
        const shuffled = [...grants].sort((a, b) => ((Number(a.id) * 7919 + seed) % 13) - ((Number(b.id) * 7919 + seed) % 13));
        return requestStatus(request(grants)) === requestStatus(request(shuffled));
      }),
    );
  });

  test('property: the request is terminal iff every grant is, and then it is over', () => {
    fc.assert(
      fc.property(fc.array(statusArb, { minLength: 1, maxLength: 6 }), (statuses) => {
        const r = request(statuses.map((s, i) => grantIn(String(i + 1), s)));
        const allTerminal = statuses.every(isTerminal);
        return isTerminal(requestStatus(r)) === allTerminal && isRequestOver(r) === allTerminal;
      }),
      { numRuns: 1_000 },
    );
  });

  test('property: it is one of its grants\' statuses, and ACTIVE only when every open grant is active', () => {
    fc.assert(
      fc.property(fc.array(statusArb, { minLength: 1, maxLength: 6 }), (statuses) => {
        const status = requestStatus(request(statuses.map((s, i) => grantIn(String(i + 1), s))));
        const open = statuses.filter((s) => !isTerminal(s));
        const activeIff = (status === 'ACTIVE') === (open.length > 0 && open.every((s) => s === 'ACTIVE'));
        return statuses.includes(status) && activeIff;
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('findGrant, withGrant', () => {
  const r = request([grant('1'), grant('2', { target: ONCALL, ruleName: 'oncall' })]);

  test('findGrant finds a grant by id; an unknown one is not_found naming the request and grant', () => {
    expect(findGrant(r, '2').target).toEqual(ONCALL);
    const err = timeboxErrorFrom(() => findGrant(r, '3'));
    expect(err.code).toBe('not_found');
    expect(err.message).toContain('R-0123456789');
    expect(err.message).toContain('3');
  });

  test('withGrant replaces that grant only, keeping the order, without touching the request it was given', () => {
    const before = structuredClone(r);
    const next = withGrant(r, { ...grant('2', { target: ONCALL }), status: 'DENIED' });
    expect(next.grants.map((g) => [g.id, g.status])).toEqual([
      ['1', 'PENDING'],
      ['2', 'DENIED'],
    ]);
    expect(r).toEqual(before);
  });

});

describe('grantTransitions', () => {
  const id = 'R-0123456789';
  const now = T0 + 5 * M;

  type Move = { name: keyof typeof grantTransitions; from: GrantStatus; to: GrantStatus; step: (g: Grant) => GrantStep; run: (g: Grant) => Grant };
  const MOVES: Move[] = ([
    { name: 'approve', from: 'PENDING', to: 'APPROVED', step: (g) => grantTransitions.approve(g, ALICE, now, id) },
    { name: 'deny', from: 'PENDING', to: 'DENIED', step: (g) => grantTransitions.deny(g, ALICE, now, id) },
    { name: 'expire', from: 'PENDING', to: 'EXPIRED', step: (g) => grantTransitions.expire(g, id) },
    { name: 'cancel', from: 'PENDING', to: 'CANCELLED', step: (g) => grantTransitions.cancel(g, REQUESTER, now, id, 'withdrawn') },
    { name: 'startGranting', from: 'APPROVED', to: 'GRANTING', step: (g) => grantTransitions.startGranting(g, now + 30_000, id) },
    { name: 'activate', from: 'GRANTING', to: 'ACTIVE', step: (g) => grantTransitions.activate(g, now, H, id) },
    { name: 'fail', from: 'GRANTING', to: 'FAILED', step: (g) => grantTransitions.fail(g, 'AccessDenied', id) },
    { name: 'startRevoking', from: 'ACTIVE', to: 'REVOKING', step: (g) => grantTransitions.startRevoking(g, now + 30_000, id) },
    { name: 'end', from: 'REVOKING', to: 'ENDED', step: (g) => grantTransitions.end(g, now, undefined, id) },
    { name: 'apply', from: 'APPROVED', to: 'APPLIED', step: (g) => grantTransitions.apply(g, now + H, id, 'R-0000000001') },
    { name: 'notApplied', from: 'APPROVED', to: 'FAILED', step: (g) => grantTransitions.notApplied(g, 'the window had already ended', id) },
  ] as Array<Omit<Move, 'run'>>).map((m) => ({ ...m, run: (g: Grant) => m.step(g).grant }));

  test('between them, the named transitions cover every move of the status table, and only those', () => {
    const moves = MOVES.map((m) => `${m.from}→${m.to}`).sort();
    const table = GRANT_STATUSES.flatMap((s) => STATUS_TABLE[s].next.map((n) => `${s}→${n}`)).sort();
    expect(moves).toEqual(table);
  });

  test.each(MOVES.map((m) => [m.name, m.from, m.to, m] as const))('%s: %s → %s', (_name, from, to, move) => {
    const before = grantIn('2', from, { target: ONCALL, approvals: [{ slackUserId: BOB.slackUserId, at: T0 }] });
    const copy = structuredClone(before);
    const after = move.run(before);
    expect(after.status).toBe(to);
    // What the grant is for, and who approved it, never changes on the way.
    expect(after).toMatchObject({ id: '2', target: ONCALL, ruleName: 'prod-admin', approvals: [{ slackUserId: BOB.slackUserId, at: T0 }] });
    expect(before).toEqual(copy);
  });

  test.each(MOVES.flatMap((m) => GRANT_STATUSES.filter((s) => s !== m.from).map((s) => [m.name, s, m] as const)))(
    '%s from %s is invalid_transition, naming the grant and both statuses',
    (_name, from, move) => {
      const err = timeboxErrorFrom(() => move.run(grantIn('2', from)));
      expect(err.code).toBe('invalid_transition');
      expect(err.message).toContain('R-0123456789/2');
      expect(err.message).toContain(from.toLowerCase());
      expect(err.message).toContain(move.to.toLowerCase());
    },
  );

  test('daily-use: every transition returns the grant and the audit event that records it, naming the grant', () => {
    const expected: Record<string, [string, string]> = {
      approve: ['approved', ALICE.slackUserId],
      deny: ['denied', ALICE.slackUserId],
      expire: ['expired', 'timebox'],
      cancel: ['cancelled', REQUESTER.slackUserId],
      startGranting: ['grant_started', 'timebox'],
      activate: ['granted', 'timebox'],
      fail: ['grant_failed', 'timebox'],
      startRevoking: ['revoke_started', 'timebox'],
      end: ['revoked', 'timebox'],
      apply: ['extended', 'timebox'],
      notApplied: ['grant_failed', 'timebox'],
    };
    for (const m of MOVES) {
      const { grant: after, events } = m.step(grantIn('2', m.from));
      expect({ move: m.name, status: after.status, events: events.map((e) => [e.type, e.actor, e.grantId]) }).toEqual({ move: m.name, status: m.to, events: [[...expected[m.name]!, '2']] });
    }
  });

  test('daily-use: the events say what people read in the log (approvals counted, the window, why it failed, kept or removed)', () => {
    expect(grantTransitions.approve(grantIn('1', 'PENDING', { approvals: [{ slackUserId: ALICE.slackUserId, at: now }] }), ALICE, now, id).events[0]!.detail).toBe('1/1 approvals');
    expect(grantTransitions.activate(grantIn('1', 'GRANTING'), now, H, id, { timeboxOwned: true, wasThere: true }).events[0]!.detail).toBe(`until ${new Date(now + H).toISOString()} (it was there already)`);
    expect(grantTransitions.fail(grantIn('1', 'GRANTING'), 'AccessDenied', id).events[0]!.detail).toBe('AccessDenied');
    expect(grantTransitions.end(grantIn('1', 'REVOKING'), now, 'a permanent assignment', id).events.map((e) => [e.type, e.detail])).toEqual([
      ['assignment_kept', 'a permanent assignment'],
      ['revoked', 'kept'],
    ]);
    expect(grantTransitions.claim(grantIn('1', 'GRANTING'), now).events[0]).toMatchObject({ type: 'grant_started', detail: 'resumed' });
    expect(grantTransitions.claim(grantIn('1', 'REVOKING'), now).events[0]).toMatchObject({ type: 'revoke_started', detail: 'retry' });
    expect(grantTransitions.refuse(grantIn('1', 'PENDING'), 'rule gone', now, id, BOB.slackUserId).events[0]).toMatchObject({ type: 'denied', actor: 'timebox', detail: `no longer allowed by the config now running (rule gone); click by ${BOB.slackUserId}` });
  });

  test('approve and deny record who decided and when', () => {
    expect(grantTransitions.approve(grantIn('1', 'PENDING'), ALICE, now, id).grant).toMatchObject({ decidedBy: ALICE, decidedAt: now });
    expect(grantTransitions.deny(grantIn('1', 'PENDING'), BOB, now, id).grant).toMatchObject({ decidedBy: BOB, decidedAt: now });
  });

  test('reliability-3: cancel records who withdrew the grant and when; it is over, holds nothing, and can no longer be decided', () => {
    const cancelled = grantTransitions.cancel(grantIn('1', 'PENDING'), REQUESTER, now, id, 'withdrawn').grant;
    expect(cancelled).toMatchObject({ status: 'CANCELLED', decidedBy: REQUESTER, decidedAt: now });
    expect(isTerminal(cancelled.status)).toBe(true);
    expect(holdsAccess(cancelled.status)).toBe(false);
    const r = request([cancelled]);
    expect(grantWorkDueAt(r, cancelled)).toBeUndefined();
    const err = timeboxErrorFrom(() => decideGrant(r, cancelled, 'approve', ALICE, now).grant);
    expect(err.code).toBe('already_decided');
    expect(err.message).toContain('already cancelled');
  });

  test('startGranting and startRevoking hold the grant for a worker until the claim runs out', () => {
    expect(grantTransitions.startGranting(grantIn('1', 'APPROVED'), now + 30_000, id).grant.claimUntil).toBe(now + 30_000);
    expect(grantTransitions.startRevoking(grantIn('1', 'ACTIVE'), now + 45_000, id).grant.claimUntil).toBe(now + 45_000);
  });

  test("activate opens the grant's own window, from now for the request's duration, and lets go of the claim", () => {
    const active = grantTransitions.activate(grantIn('1', 'GRANTING', { lastError: 'Throttling' }), now, 2 * H, id).grant;
    expect(active).toMatchObject({ status: 'ACTIVE', activeAt: now, endsAt: now + 2 * H });
    expect(active.claimUntil).toBeUndefined();
    expect(active.lastError).toBeUndefined();
  });

  test('fail records why, and lets go of the claim', () => {
    const failed = grantTransitions.fail(grantIn('1', 'GRANTING'), 'AccessDeniedException: no', id).grant;
    expect(failed).toMatchObject({ status: 'FAILED', failure: 'AccessDeniedException: no' });
    expect(failed.claimUntil).toBeUndefined();
  });

  test('end records when, and why the access was left in place if it was', () => {
    const removed = grantTransitions.end(grantIn('1', 'REVOKING', { lastError: 'Throttling' }), now, undefined, id).grant;
    expect(removed).toMatchObject({ status: 'ENDED', endedAt: now });
    expect(removed).not.toHaveProperty('keptBecause');
    expect(removed.claimUntil).toBeUndefined();
    expect(removed.lastError).toBeUndefined();
    const kept = grantTransitions.end(grantIn('1', 'REVOKING'), now, 'it existed before Timebox granted it', id).grant;
    expect(kept.keptBecause).toBe('it existed before Timebox granted it');
  });

  test('claim hands a GRANTING or REVOKING grant to a worker without moving it', () => {
    for (const s of ['GRANTING', 'REVOKING'] as const) {
      expect(grantTransitions.claim(grantIn('1', s), now + 60_000).grant).toMatchObject({ status: s, claimUntil: now + 60_000 });
    }
  });
});

describe('decideGrant', () => {
  const now = T0 + H;

  test('approve with approvalsRequired 1 → APPROVED, the approval and the decider recorded', () => {
    const r = request([grant('1')]);
    const approved = decideGrant(r, r.grants[0]!, 'approve', ALICE, now).grant;
    expect(approved).toMatchObject({ status: 'APPROVED', decidedBy: ALICE, decidedAt: now });
    expect(approved.approvals).toEqual([{ slackUserId: ALICE.slackUserId, email: ALICE.email, at: now }]);
  });

  test('an approver Slack reports no email for is recorded without one', () => {
    const r = request([grant('1')]);
    expect(decideGrant(r, r.grants[0]!, 'approve', BOB, now).grant.approvals).toEqual([{ slackUserId: BOB.slackUserId, at: now }]);
  });

  test('with approvalsRequired 3: PENDING after one and two distinct approvers, APPROVED after the third', () => {
    const r = request([grant('1', { approvalsRequired: 3 })]);
    const one = decideGrant(r, r.grants[0]!, 'approve', ALICE, now).grant;
    expect(one.status).toBe('PENDING');
    expect(one.decidedBy).toBeUndefined();
    const two = decideGrant(r, one, 'approve', BOB, now + 1_000).grant;
    expect(two.status).toBe('PENDING');
    expect(two.approvals.map((a) => a.slackUserId)).toEqual([ALICE.slackUserId, BOB.slackUserId]);
    const three = decideGrant(r, two, 'approve', DAVE, now + 2_000).grant;
    expect(three).toMatchObject({ status: 'APPROVED', decidedBy: DAVE, decidedAt: now + 2_000 });
    expect(three.approvals.map((a) => a.slackUserId)).toEqual([ALICE.slackUserId, BOB.slackUserId, DAVE.slackUserId]);
  });

  test('the same approver twice is already_approved_by_you and counts once, whatever email Slack reports', () => {
    const r = request([grant('1', { approvalsRequired: 2 })]);
    const one = decideGrant(r, r.grants[0]!, 'approve', ALICE, now).grant;
    expect(timeboxErrorFrom(() => decideGrant(r, one, 'approve', ALICE, now + 1).grant).code).toBe('already_approved_by_you');
    expect(timeboxErrorFrom(() => decideGrant(r, one, 'approve', { ...ALICE, email: 'other@example.com' }, now + 1).grant).code).toBe('already_approved_by_you');
  });

  test('one deny ends the grant, even after partial approval, and records who denied it', () => {
    const r = request([grant('1', { approvalsRequired: 2 })]);
    const one = decideGrant(r, r.grants[0]!, 'approve', ALICE, now).grant;
    const denied = decideGrant(r, one, 'deny', BOB, now + 1_000).grant;
    expect(denied).toMatchObject({ status: 'DENIED', decidedBy: BOB, decidedAt: now + 1_000 });
    // An approver who already approved may still change their mind and deny.
    expect(decideGrant(r, one, 'deny', ALICE, now + 1_000).grant.status).toBe('DENIED');
  });

  test.each(GRANT_STATUSES.filter((s) => s !== 'PENDING'))('a %s grant is already_decided, saying so', (status) => {
    const r = request([grantIn('1', status)]);
    for (const decision of ['approve', 'deny'] as const) {
      const err = timeboxErrorFrom(() => decideGrant(r, r.grants[0]!, decision, ALICE, now).grant);
      expect(err.code).toBe('already_decided');
      expect(err.message).toContain(status.toLowerCase());
    }
  });

  test('at or after the request expires, a still PENDING grant is already_decided (expired); a millisecond before it is not', () => {
    const r = request([grant('1')]);
    for (const decision of ['approve', 'deny'] as const) {
      for (const at of [r.expiresAt, r.expiresAt + 1]) {
        const err = timeboxErrorFrom(() => decideGrant(r, r.grants[0]!, decision, ALICE, at).grant);
        expect(err.code).toBe('already_decided');
        expect(err.message).toContain('expired');
      }
    }
    expect(decideGrant(r, r.grants[0]!, 'approve', ALICE, r.expiresAt - 1).grant.status).toBe('APPROVED');
  });

  test('each grant is decided on its own: approving one leaves the other waiting', () => {
    const r = request([grant('1'), grant('2', { target: STAGING_READONLY, ruleName: 'staging' })]);
    const next = withGrant(r, decideGrant(r, r.grants[1]!, 'approve', ALICE, now).grant);
    expect(next.grants.map((g) => g.status)).toEqual(['PENDING', 'APPROVED']);
    expect(next.grants[0]!.approvals).toEqual([]);
  });

  test('does not modify the grant or request it was given', () => {
    const r = request([grant('1', { approvalsRequired: 2 })]);
    const copy = structuredClone(r);
    decideGrant(r, r.grants[0]!, 'approve', ALICE, now);
    decideGrant(r, r.grants[0]!, 'deny', ALICE, now);
    expect(r).toEqual(copy);
  });

  test('property: whatever the clicks, APPROVED needs approvalsRequired distinct approvers, and only a PENDING grant changes', () => {
    const people: Person[] = ['U0A', 'U0B', 'U0C', 'U0D'].map((p) => ({ slackUserId: `${p}0000000` }));
    const click = fc.record({
      decision: fc.constantFrom<'approve' | 'deny'>('approve', 'approve', 'approve', 'deny'),
      who: fc.constantFrom(...people),
      after: fc.integer({ min: 0, max: 30 * H }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(click, { maxLength: 10 }), (required, clicks) => {
        const r = request([grant('1', { approvalsRequired: required })]);
        let g = r.grants[0]!;
        let now = T0;
        for (const c of clicks) {
          now += c.after;
          const before = g;
          try {
            g = decideGrant(r, g, c.decision, c.who, now).grant;
          } catch (err) {
            if (!(err instanceof TimeboxError)) return false;
            const expected = before.status !== 'PENDING' || now >= r.expiresAt ? 'already_decided' : 'already_approved_by_you';
            if (err.code !== expected) return false;
            continue;
          }
          if (before.status !== 'PENDING' || now >= r.expiresAt) return false;
          const ids = g.approvals.map((a) => a.slackUserId);
          if (new Set(ids).size !== ids.length) return false;
          if (g.status === 'APPROVED' && ids.length < required) return false;
          if (g.status === 'PENDING' && ids.length >= required) return false;
          if (!['PENDING', 'APPROVED', 'DENIED'].includes(g.status)) return false;
        }
        return true;
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('endEarly', () => {
  const now = T0 + 30 * M;
  const liveUntil = (id: string, endsAt: number, overrides: Partial<Grant> = {}) => grantIn(id, 'ACTIVE', { activeAt: T0, endsAt, ...overrides });

  test('ends every active window now and records who ended it; the rest of the request is left alone', () => {
    const r = told(
      request([
        liveUntil('1', T0 + H),
        liveUntil('2', T0 + 2 * H, { target: ONCALL }),
        grantIn('3', 'DENIED', { target: STAGING_READONLY }),
      ]),
    );
    const ended = endEarly(r, ALICE, now).next;
    expect(ended.grants.map((g) => [g.id, g.status, g.endsAt, g.endedEarlyBy])).toEqual([
      ['1', 'ACTIVE', now, ALICE],
      ['2', 'ACTIVE', now, ALICE],
      ['3', 'DENIED', undefined, undefined],
    ]);
    // Who ended it is the grants' own record: the request carries no copy of it.
    expect(ended).not.toHaveProperty('endedEarlyBy');
    // The revokes are due at once, and the channel message should say the access is being ended.
    expect(workDueAt(ended)).toBe(now);
    expect(dueAt(ended)).toBeLessThanOrEqual(now);
    expect(channelNeedsUpdate(ended)).toBe(true);
  });

  test('a window already past its end keeps its end; only the ones still running move', () => {
    const r = request([liveUntil('1', T0 + 10 * M), liveUntil('2', T0 + H)]);
    const ended = endEarly(r, REQUESTER, now).next;
    expect(ended.grants.map((g) => g.endsAt)).toEqual([T0 + 10 * M, now]);
  });

  test('an approver ending early while another grant is still waiting for approval ends the live one only', () => {
    const r = request([liveUntil('1', T0 + H, { target: STAGING_READONLY }), grantIn('2', 'PENDING')]);
    const ended = endEarly(r, ALICE, now).next;
    expect(ended.grants.map((g) => [g.status, g.endsAt])).toEqual([
      ['ACTIVE', now],
      ['PENDING', undefined],
    ]);
  });

  test('reliability-3: the requester ending early withdraws the grants still waiting for approval (CANCELLED), so no approval can start a window after the end', () => {
    const r = told(request([liveUntil('1', T0 + H, { target: STAGING_READONLY }), grantIn('2', 'PENDING', { approvals: [{ slackUserId: BOB.slackUserId, at: T0 }], approvalsRequired: 2 }), grantIn('3', 'DENIED')]));
    const ended = endEarly(r, REQUESTER, now).next;
    expect(ended.grants.map((g) => [g.status, g.endsAt])).toEqual([
      ['ACTIVE', now],
      ['CANCELLED', undefined],
      ['DENIED', undefined],
    ]);
    expect(ended.grants[1]).toMatchObject({ decidedBy: REQUESTER, decidedAt: now });
    // The channel and the requester both hear of it; the request is over once the live window is removed.
    expect(channelNeedsUpdate(ended)).toBe(true);
    expect(requesterNeedsTelling(ended)).toBe(true);
    expect(timeboxErrorFrom(() => decideGrant(ended, ended.grants[1]!, 'approve', ALICE, now + 1).grant).code).toBe('already_decided');
    const afterRevoke = withGrant(ended, grantIn('1', 'ENDED', { target: STAGING_READONLY }));
    expect(isRequestOver(afterRevoke)).toBe(true);
    expect(dueAt(told(afterRevoke))).toBeUndefined();
  });

  test('reliability-3: with nothing active to end, the requester\'s end withdraws nothing (a request only waiting for approval is refused as before)', () => {
    const r = request([grantIn('1', 'PENDING'), grantIn('2', 'PENDING')]);
    expect(timeboxErrorFrom(() => endEarly(r, REQUESTER, now).next).code).toBe('not_active_yet');
  });

  test('does not modify the request it was given', () => {
    const r = request([liveUntil('1', T0 + H)]);
    const copy = structuredClone(r);
    endEarly(r, ALICE, now);
    expect(r).toEqual(copy);
  });

  describe('refusals', () => {
    test('every active window already past its end: already_ending (the revoke is on its way)', () => {
      const err = timeboxErrorFrom(() => endEarly(request([liveUntil('1', now), liveUntil('2', now - 1)]), ALICE, now).next);
      expect(err.code).toBe('already_ending');
      expect(err.message).toContain('R-0123456789');
    });

    test.each<[string, GrantStatus[]]>([
      ['one grant being removed', ['REVOKING']],
      ['one being removed, one over', ['REVOKING', 'ENDED']],
    ])('%s: already_ending', (_what, statuses) => {
      expect(timeboxErrorFrom(() => endEarly(request(statuses.map((s, i) => grantIn(String(i + 1), s))), ALICE, now).next).code).toBe('already_ending');
    });

    test('a second end is already_ending, even from a clock that runs behind the first one', () => {
      const once = endEarly(request([liveUntil('1', T0 + H), liveUntil('2', T0 + H)]), ALICE, now).next;
      expect(timeboxErrorFrom(() => endEarly(once, BOB, now).next).code).toBe('already_ending');
      expect(timeboxErrorFrom(() => endEarly(once, BOB, now - 5 * M).next).code).toBe('already_ending');
    });

    test('waiting for approval: not_active_yet, saying so', () => {
      const err = timeboxErrorFrom(() => endEarly(request([grantIn('1', 'PENDING'), grantIn('2', 'PENDING')]), REQUESTER, now).next);
      expect(err.code).toBe('not_active_yet');
      expect(err.message).toContain('waiting for approval');
    });

    test.each<GrantStatus[]>([['APPROVED'], ['GRANTING'], ['GRANTING', 'PENDING'], ['APPROVED', 'DENIED']])('%j: not_active_yet, still being granted', (...statuses) => {
      const err = timeboxErrorFrom(() => endEarly(request(statuses.map((s, i) => grantIn(String(i + 1), s))), REQUESTER, now).next);
      expect(err.code).toBe('not_active_yet');
      expect(err.message).toContain('still being granted');
    });

    test.each<GrantStatus[]>([['DENIED'], ['EXPIRED'], ['FAILED'], ['ENDED'], ['ENDED', 'DENIED'], ['FAILED', 'EXPIRED']])('%j: already_over, naming how it ended', (...statuses) => {
      const r = request(statuses.map((s, i) => grantIn(String(i + 1), s)));
      const err = timeboxErrorFrom(() => endEarly(r, REQUESTER, now).next);
      expect(err.code).toBe('already_over');
      expect(err.message).toContain(requestStatus(r).toLowerCase());
    });
  });

  // Once a request has been ended early, a grant that became active after that (its approval
  // came later, or its granting was slow) can still be ended: only the grant's own record counts.
  test('a grant that went live after an earlier early end can still be ended early', () => {
    const firstEnd = T0 + 10 * M;
    const r = request([
      grantIn('1', 'ENDED', { target: STAGING_READONLY, activeAt: T0, endsAt: firstEnd, endedAt: firstEnd + 2_000, endedEarlyBy: REQUESTER }),
      // Approved and granted after the first end: a full window of its own.
      liveUntil('2', T0 + 20 * M + H, { activeAt: T0 + 20 * M }),
    ]);
    const ended = endEarly(r, REQUESTER, now).next;
    expect(ended.grants[1]!.endsAt).toBe(now);
  });

  test('property: the end only ever moves earlier — each window still running ends exactly now, nothing else changes', () => {
    const grantArb = fc.record({
      status: statusArb,
      endsIn: fc.integer({ min: -2 * H, max: 8 * H }),
      // Ended early already (by ALICE), with a clock behind hers: never ended again.
      endedBefore: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(grantArb, { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 10 * H }), (specs, offset) => {
        const at = T0 + offset;
        const r = request(
          specs.map((s, i) =>
            grantIn(String(i + 1), s.status, {
              ...(['ACTIVE', 'REVOKING', 'ENDED'].includes(s.status) ? { endsAt: at + s.endsIn } : {}),
              ...(s.endedBefore && s.status !== 'PENDING' ? { endedEarlyBy: ALICE } : {}),
            }),
          ),
        );
        const running = r.grants.filter((g) => g.status === 'ACTIVE' && (g.endsAt as number) > at && !g.endedEarlyBy);
        let ended: AccessRequest;
        try {
          ended = endEarly(r, BOB, at).next;
        } catch (err) {
          // Refused only when nothing is running that was not ended early already.
          return err instanceof TimeboxError && running.length === 0;
        }
        if (running.length === 0) return false;
        return ended.grants.every((g, i) => {
          const old = r.grants[i]!;
          if (g.status !== old.status) return false;
          if (running.includes(old)) return g.endsAt === at && at < (old.endsAt as number) && g.endedEarlyBy?.slackUserId === BOB.slackUserId;
          return g.endsAt === old.endsAt && g.endedEarlyBy?.slackUserId === (old.endedEarlyBy ?? (['APPROVED', 'GRANTING'].includes(old.status) ? BOB : undefined))?.slackUserId;
        });
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('notification keys', () => {
  /** One grant's life, step by step, with what should be due after each step (before anyone is told). */
  test("one grant's life: the channel and the requester are due exactly at the steps people see", () => {
    const steps: Array<[string, (g: Grant) => Grant, { channel: boolean; requester: boolean }]> = [
      ['approved', (g) => grantTransitions.approve(g, ALICE, T0 + M, 'R').grant, { channel: true, requester: true }],
      ['granting', (g) => grantTransitions.startGranting(g, T0 + 2 * M, 'R').grant, { channel: false, requester: false }],
      ['active', (g) => grantTransitions.activate(g, T0 + 2 * M, H, 'R').grant, { channel: true, requester: true }],
      ['revoking', (g) => grantTransitions.startRevoking(g, T0 + 3 * H, 'R').grant, { channel: false, requester: false }],
      ['ended', (g) => grantTransitions.end(g, T0 + 3 * H, undefined, 'R').grant, { channel: true, requester: true }],
    ];
    let r = told(request([grant('1')]));
    expect(needsNotification(r)).toBe(false);
    for (const [what, step, due] of steps) {
      r = withGrant(r, step(r.grants[0]!));
      expect({ what, channel: channelNeedsUpdate(r), requester: requesterNeedsTelling(r) }).toEqual({ what, ...due });
      r = told(r);
      expect(needsNotification(r)).toBe(false);
    }
  });

  test.each(['DENIED', 'EXPIRED', 'CANCELLED', 'FAILED'] as const)('a grant becoming %s is news for the channel and for the requester', (status) => {
    const from = status === 'FAILED' ? 'GRANTING' : 'PENDING';
    const r = told(request([grantIn('1', from)]));
    const moved = withGrant(r, { ...r.grants[0]!, status });
    expect(channelNeedsUpdate(moved)).toBe(true);
    expect(requesterNeedsTelling(moved)).toBe(true);
  });

  test('one more approval (not yet enough) changes what the channel shows, and is news for the requester', () => {
    const r = told(request([grant('1', { approvalsRequired: 2 })]));
    const one = withGrant(r, decideGrant(r, r.grants[0]!, 'approve', ALICE, T0 + M).grant);
    expect(one.grants[0]!.status).toBe('PENDING');
    expect(channelKey(one)).not.toBe(channelKey(r));
    expect(channelNeedsUpdate(one)).toBe(true);
    expect(requesterNeedsTelling(one)).toBe(true);
  });

  test('an early end changes what the channel shows; the requester hears when the access is gone', () => {
    const r = told(request([grantIn('1', 'ACTIVE', { activeAt: T0, endsAt: T0 + H })]));
    const ended = endEarly(r, ALICE, T0 + 10 * M).next;
    expect(channelNeedsUpdate(ended)).toBe(true);
    expect(requesterKey(ended)).toBe(requesterKey(r));
    expect(requesterNeedsTelling(ended)).toBe(false);
  });

  test('a request nobody was told about yet is due for the channel and for the requester (the DM at filing, with its id)', () => {
    const fresh = request([grant('1'), grant('2')]);
    expect(channelNeedsUpdate(fresh)).toBe(true);
    expect(requesterNeedsTelling(fresh)).toBe(true);
    // An auto-approved request the worker is already granting: nothing to show in the channel until it is active.
    const granting = request([grantIn('1', 'GRANTING'), grantIn('2', 'GRANTING')]);
    expect(channelNeedsUpdate(granting)).toBe(false);
    expect(requesterKey(granting)).toBe(requesterKey(request([grantIn('1', 'APPROVED'), grantIn('2', 'APPROVED')])));
  });

  test('with two grants, each going live or ending is news of its own for the requester', () => {
    let r = told(request([grantIn('1', 'GRANTING'), grantIn('2', 'GRANTING', { target: ONCALL })]));
    r = withGrant(r, grantTransitions.activate(r.grants[0]!, T0 + 2 * M, H, r.id).grant);
    expect(requesterNeedsTelling(r)).toBe(true);
    r = told(r);
    r = withGrant(r, grantTransitions.activate(r.grants[1]!, T0 + 3 * M, H, r.id).grant);
    expect(requesterNeedsTelling(r)).toBe(true);
    r = told(r);
    expect(requesterNeedsTelling(r)).toBe(false);
  });

  test('the keys tell grants apart: the same statuses on swapped grants are a different message', () => {
    const a = request([grantIn('1', 'ACTIVE'), grantIn('2', 'DENIED')]);
    const b = request([grantIn('1', 'DENIED'), grantIn('2', 'ACTIVE')]);
    expect(channelKey(a)).not.toBe(channelKey(b));
    expect(requesterKey(a)).not.toBe(requesterKey(b));
  });

  test("property: the keys do not change with what people aren't shown (claims, retries, errors, bookkeeping)", () => {
    const noise = fc.record({
      claimUntil: fc.option(fc.integer({ min: T0, max: T0 + H }), { nil: undefined }),
      grantAttempts: fc.option(fc.nat(9), { nil: undefined }),
      revokeAttempts: fc.option(fc.nat(9), { nil: undefined }),
      lastError: fc.option(fc.string(), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(statusArb, noise), { minLength: 1, maxLength: 4 }), fc.nat(), (specs, bump) => {
        const r = request(specs.map(([s], i) => grantIn(String(i + 1), s)));
        const noisy: AccessRequest = {
          ...r,
          version: r.version + bump,
          updatedAt: r.updatedAt + bump,
          grants: r.grants.map((g, i) => ({ ...g, ...specs[i]![1] })),
        };
        return channelKey(noisy) === channelKey(r) && requesterKey(noisy) === requesterKey(r);
      }),
    );
  });
});

describe('due times', () => {
  test.each<[GrantStatus, Partial<Grant>, number | undefined]>([
    ['PENDING', {}, T0 + 24 * H],
    ['APPROVED', { decidedAt: T0 + 5 }, T0 + 5],
    ['APPROVED', { decidedAt: undefined }, T0],
    ['GRANTING', { claimUntil: T0 + 30_000 }, T0 + 30_000],
    ['GRANTING', { claimUntil: undefined }, 0],
    ['ACTIVE', { endsAt: T0 + 2 * H }, T0 + 2 * H],
    ['REVOKING', { claimUntil: T0 + 60_000 }, T0 + 60_000],
    ['REVOKING', { claimUntil: undefined }, 0],
    ['DENIED', {}, undefined],
    ['EXPIRED', {}, undefined],
    ['CANCELLED', {}, undefined],
    ['FAILED', {}, undefined],
    ['ENDED', {}, undefined],
  ])('a %s grant %j is due at %p', (status, overrides, expected) => {
    const r = request([grantIn('1', status, overrides)]);
    expect(grantWorkDueAt(r, r.grants[0]!)).toBe(expected);
  });

  test("each grant keeps its own window: the request is due when the first one ends, then the next", () => {
    const r = request([
      grantIn('1', 'ACTIVE', { activeAt: T0, endsAt: T0 + H }),
      grantIn('2', 'ACTIVE', { activeAt: T0 + 10 * M, endsAt: T0 + 10 * M + H, target: ONCALL }),
    ]);
    expect(workDueAt(r)).toBe(T0 + H);
    const first = withGrant(r, grantIn('1', 'ENDED'));
    expect(workDueAt(first)).toBe(T0 + 10 * M + H);
  });

  test('the earliest work of any grant leads: a grant still to be granted comes before a running window', () => {
    const r = request([grantIn('1', 'ACTIVE', { endsAt: T0 + H }), grantIn('2', 'APPROVED', { decidedAt: T0 + 20 * M })]);
    expect(workDueAt(r)).toBe(T0 + 20 * M);
  });

  test('a request whose grants are all over has no work left', () => {
    expect(workDueAt(request([grantIn('1', 'ENDED'), grantIn('2', 'DENIED')]))).toBeUndefined();
  });

  test('with nothing to tell, the request is due when its work is; all over and told, it is never due again', () => {
    const r = told(request([grantIn('1', 'ACTIVE', { endsAt: T0 + H }), grantIn('2', 'PENDING')]));
    expect(dueAt(r)).toBe(T0 + H);
    expect(dueAt(told(request([grantIn('1', 'ENDED'), grantIn('2', 'EXPIRED')])))).toBeUndefined();
  });

  test('something to tell makes the request due at its last update, never later than its work', () => {
    const over = { ...request([grantIn('1', 'ENDED'), grantIn('2', 'DENIED')]), updatedAt: T0 + 7 };
    expect(dueAt(over)).toBe(T0 + 7);
    const lateUpdate = request([grantIn('1', 'PENDING')], { updatedAt: T0 + 48 * H });
    expect(dueAt(lateUpdate)).toBe(lateUpdate.expiresAt);
  });
});
