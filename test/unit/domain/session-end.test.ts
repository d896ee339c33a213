import { dueTimes, workDueAt, type AccessRequest } from '../../../src/domain/access-request';
import { SESSION_END_GIVE_UP_MS, sessionEndTransitions, sessionEndsDue, withSessionEnd } from '../../../src/domain/session-end';

const T0 = Date.parse('2026-12-07T14:05:00Z');

function endedRequest(): AccessRequest {
  return {
    id: 'R-AAAAAAAAAA',
    version: 3,
    requester: { slackUserId: 'U0DANA0000' },
    principalId: 'idc-dana',
    durationMs: 3_600_000,
    reason: 'r',
    createdAt: T0 - 3_600_000,
    expiresAt: T0,
    grants: [
      {
        id: '1',
        target: { kind: 'account', accountId: '111111111111', accountName: 'staging', permissionSetName: 'Admin', permissionSetArn: 'arn:ps' },
        ruleName: 'r',
        autoApproved: true,
        approvalsRequired: 0,
        approvals: [],
        status: 'ENDED',
        endedAt: T0,
      },
    ],
    messages: [],
    updatedAt: T0,
  };
}

describe('sessions-breakglass: the session-ending step on the request (domain)', () => {
  test('due at once after the end, listed among the due times as end-sessions, and no longer due once done', () => {
    const due = withSessionEnd(endedRequest(), '1', T0);
    expect(dueTimes(due)).toContainEqual({ kind: 'end-sessions', at: T0, grantId: '1' });
    expect(workDueAt(due)).toBe(T0);
    expect(sessionEndsDue(due, T0)).toHaveLength(1);
    const claimed = sessionEndTransitions.claim(due, '1', T0 + 200_000);
    expect(sessionEndsDue(claimed, T0 + 1)).toEqual([]);
    expect(workDueAt(claimed)).toBe(T0 + 200_000);
    const done = sessionEndTransitions.ended(claimed, '1', T0 + 5_000, 'ok');
    expect(done.events).toEqual([{ type: 'sessions_ended', actor: 'timebox', grantId: '1', detail: 'ok' }]);
    expect(dueTimes(done.next).filter((t) => t.kind === 'end-sessions')).toEqual([]);
  });

  test('a failed attempt backs off, doubling up to the cap; past 12 hours it is given up and dropped, audited', () => {
    let request = withSessionEnd(endedRequest(), '1', T0);
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const failed = sessionEndTransitions.failed(request, '1', 'AccessDenied', T0, 15_000, 300_000);
      request = failed.next;
      delays.push((request.sessionEnds?.[0]?.dueAt ?? 0) - T0);
      expect(failed.events[0]).toMatchObject({ type: 'sessions_end_failed', detail: `attempt ${i + 1}: AccessDenied` });
    }
    expect(delays).toEqual([15_000, 30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
    const givenUp = sessionEndTransitions.failed(request, '1', 'AccessDenied', T0 + SESSION_END_GIVE_UP_MS, 15_000, 300_000);
    expect(givenUp.next.sessionEnds).toEqual([]);
    expect(givenUp.events[0]?.detail).toContain('given up after 8 attempts');
  });
});
