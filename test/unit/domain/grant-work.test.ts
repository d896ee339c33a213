import fc from 'fast-check';
import { channelKey, dueAt, dueTimes, requesterKey, workDueAt, type AccessRequest, type Grant, type GrantStatus } from '../../../src/domain/access-request';
import { planWork, recordAttempt, type AttemptPolicy } from '../../../src/domain/grant-work';

const M = 60_000;
const H = 60 * M;
const T0 = Date.UTC(2025, 0, 1, 9, 0, 0);
const CLAIM = 200_000;

function grantIn(id: string, status: GrantStatus, overrides: Partial<Grant> = {}): Grant {
  return {
    id,
    target: { kind: 'account', accountId: '111111111111', accountName: 'staging', permissionSetName: 'ReadOnly', permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1/ps-1' },
    ruleName: 'staging',
    autoApproved: false,
    approvalsRequired: 1,
    approvals: [],
    status,
    ...overrides,
  };
}

function request(grants: Grant[], overrides: Partial<AccessRequest> = {}): AccessRequest {
  return { id: 'R-0123456789', version: 3, requester: { slackUserId: 'U0CAROL000', email: 'carol@example.com' }, durationMs: H, reason: 'INC-1', createdAt: T0, expiresAt: T0 + H, grants, messages: [], updatedAt: T0, ...overrides };
}

/** Nothing left to tell anyone: only the work is due. */
const told = (r: AccessRequest): AccessRequest => ({ ...r, messages: [{ kind: 'channel', shown: channelKey(r) }, { kind: 'requester-dm', shown: requesterKey(r) }] });

const POLICY: AttemptPolicy = { maxGrantAttempts: 3, revokeRetryMs: 10_000, maxRevokeRetryMs: 60_000, revokeStuckAttempts: 4, revokeStuckMs: 15 * M };

describe('daily-use: the worker policy as pure functions (planWork, recordAttempt)', () => {
  test('planWork takes every grant with work due now in one plan, each with its event, and holds the ones it will grant or revoke', () => {
    const now = T0 + 2 * H;
    const r = request([
      grantIn('1', 'PENDING'),
      grantIn('2', 'APPROVED', { decidedAt: T0 }),
      grantIn('3', 'ACTIVE', { activeAt: T0, endsAt: T0 + H }),
      grantIn('4', 'GRANTING', { claimUntil: now - 1 }),
      grantIn('5', 'REVOKING', { claimUntil: now + 1 }),
      grantIn('6', 'ENDED'),
    ]);
    const plan = planWork(r, now, CLAIM)!;
    expect(plan.next.grants.map((g) => [g.id, g.status, g.claimUntil])).toEqual([
      ['1', 'EXPIRED', undefined],
      ['2', 'GRANTING', now + CLAIM],
      ['3', 'REVOKING', now + CLAIM],
      ['4', 'GRANTING', now + CLAIM],
      ['5', 'REVOKING', now + 1],
      ['6', 'ENDED', undefined],
    ]);
    expect(plan.claimed).toEqual(['2', '3', '4']);
    expect(plan.events.map((e) => [e.grantId, e.type, e.detail])).toEqual([
      ['1', 'expired', 'nobody decided in time'],
      ['2', 'grant_started', undefined],
      ['3', 'revoke_started', undefined],
      ['4', 'grant_started', 'resumed'],
    ]);
    expect(r.grants[0]!.status).toBe('PENDING');
  });

  test('planWork with nothing due now plans nothing (no write)', () => {
    const r = request([grantIn('1', 'PENDING'), grantIn('2', 'ACTIVE', { endsAt: T0 + H }), grantIn('3', 'REVOKING', { claimUntil: T0 + M })]);
    expect(planWork(r, T0 + M - 1, CLAIM)).toBeUndefined();
  });

  test('a refused grant is retried until its attempts reach the limit, then FAILED with why, in one step on the grant it was given', () => {
    let g = grantIn('1', 'GRANTING', { claimUntil: T0 + M });
    for (let n = 1; n < POLICY.maxGrantAttempts; n++) {
      const attempt = recordAttempt(g, 'AccessDeniedException: no', T0, 'R', POLICY);
      expect(attempt.outcome).toBe('retry');
      expect(attempt.grant).toMatchObject({ status: 'GRANTING', grantAttempts: n, lastError: 'AccessDeniedException: no' });
      expect(attempt.events).toEqual([{ type: 'grant_stalled', actor: 'timebox', grantId: '1', detail: `attempt ${n}: AccessDeniedException: no` }]);
      g = attempt.grant;
    }
    const last = recordAttempt(g, 'AccessDeniedException: no', T0, 'R', POLICY);
    expect(last.outcome).toBe('fail');
    expect(last.grant).toMatchObject({ status: 'FAILED', grantAttempts: POLICY.maxGrantAttempts, failure: 'AWS kept refusing: AccessDeniedException: no' });
    expect(last.grant.claimUntil).toBeUndefined();
    expect(last.events).toEqual([{ type: 'grant_failed', actor: 'timebox', grantId: '1', detail: 'AWS kept refusing: AccessDeniedException: no' }]);
  });

  test('a failing revoke is never given up: retried with a doubling delay up to the cap, and raised as stuck from the threshold on, audited once', () => {
    let g = grantIn('1', 'REVOKING', { endsAt: T0, claimUntil: T0 });
    const seen: Array<[string, number, boolean | undefined, string[]]> = [];
    for (let n = 1; n <= 6; n++) {
      const attempt = recordAttempt(g, 'ThrottlingException', T0, 'R', POLICY);
      expect(attempt.outcome).toBe('retry');
      seen.push([attempt.grant.status, attempt.grant.claimUntil! - T0, attempt.stuck?.first, attempt.events.map((e) => e.type)]);
      g = attempt.grant;
    }
    expect(seen).toEqual([
      ['REVOKING', 10_000, undefined, ['revoke_failed']],
      ['REVOKING', 20_000, undefined, ['revoke_failed']],
      ['REVOKING', 40_000, undefined, ['revoke_failed']],
      ['REVOKING', 60_000, true, ['revoke_failed', 'revoke_stuck']],
      ['REVOKING', 60_000, false, ['revoke_failed']],
      ['REVOKING', 60_000, false, ['revoke_failed']],
    ]);
    expect(g).toMatchObject({ revokeAttempts: 6, stuckSince: T0, lastError: 'ThrottlingException' });
  });

  test('a revoke failing long past the window is stuck at its first failure', () => {
    const attempt = recordAttempt(grantIn('1', 'REVOKING', { endsAt: T0 }), 'AccessDenied', T0 + 20 * M, 'R', POLICY);
    expect(attempt.stuck).toEqual({ attempts: 1, overdueMs: 20 * M, first: true });
    expect(attempt.events[1]).toMatchObject({ type: 'revoke_stuck', detail: "1 attempts, 1200 s past the window's end: AccessDenied" });
  });
});

describe('daily-use: due times from one place (dueTimes)', () => {
  test('lists every due time of the request with its kind: expiry, window end, grant, claim, news', () => {
    const r = request(
      [
        grantIn('1', 'PENDING'),
        grantIn('2', 'ACTIVE', { endsAt: T0 + 2 * H }),
        grantIn('3', 'APPROVED', { decidedAt: T0 + 5 }),
        grantIn('4', 'REVOKING', { claimUntil: T0 + 3 * H }),
        grantIn('5', 'ENDED'),
      ],
      { newsRetryAt: T0 + 4 * H },
    );
    expect(dueTimes(r)).toEqual([
      { kind: 'expiry', at: T0 + H, grantId: '1' },
      { kind: 'window-end', at: T0 + 2 * H, grantId: '2' },
      { kind: 'grant', at: T0 + 5, grantId: '3' },
      { kind: 'claim', at: T0 + 3 * H, grantId: '4' },
      { kind: 'news', at: T0 + 4 * H },
    ]);
    expect(dueTimes(told(r)).map((t) => t.kind)).not.toContain('news');
  });

  test('property: no kind of due work can starve another: the request is due at the earliest of all its due times, its timer at the earliest work', () => {
    const statusArb = fc.constantFrom<GrantStatus>('PENDING', 'APPROVED', 'GRANTING', 'ACTIVE', 'REVOKING', 'ENDED', 'DENIED');
    const timeArb = fc.integer({ min: 0, max: 10 * H }).map((d) => T0 + d);
    fc.assert(
      fc.property(
        fc.array(fc.record({ status: statusArb, endsAt: timeArb, claimUntil: timeArb, decidedAt: timeArb }), { minLength: 1, maxLength: 6 }),
        timeArb,
        fc.option(timeArb, { nil: undefined }),
        fc.boolean(),
        (specs, expiresAt, newsRetryAt, isTold) => {
          const base = request(
            specs.map((s, i) => grantIn(String(i + 1), s.status, { endsAt: s.endsAt, claimUntil: s.claimUntil, decidedAt: s.decidedAt })),
            { expiresAt, ...(newsRetryAt === undefined ? {} : { newsRetryAt }) },
          );
          const r = isTold ? told(base) : base;
          const times = dueTimes(r);
          const all = times.map((t) => t.at);
          const work = times.filter((t) => t.kind !== 'news').map((t) => t.at);
          // Every listed time is at or after the earliest, so the index never holds one back.
          if (all.length === 0) return dueAt(r) === undefined;
          return dueAt(r) === Math.min(...all) && all.every((t) => t >= dueAt(r)!) && workDueAt(r) === (work.length ? Math.min(...work) : undefined);
        },
      ),
      { numRuns: 500 },
    );
  });
});
