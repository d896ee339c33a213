import { advanceRequest } from '../../../src/app/advance-request';
import { markReviewed } from '../../../src/app/break-glass';
import { submitRequest } from '../../../src/app/submit-request';
import { dueTimes } from '../../../src/domain/access-request';
import { parseCommand } from '../../../src/domain/command';
import { findTicket, requireTicket } from '../../../src/domain/ticket';
import { ALICE, BOB, HOUR, makeDeps, makePolicy, MINUTE, passTime, REQUESTER, rule, stored, type TestWorld } from '../../support/in-memory-ports';

const GLASS = rule({ name: 'glass', accountIds: ['*'], permissionSets: ['Admin'], requesters: [REQUESTER.slackUserId], approvers: [BOB.slackUserId, ALICE.email as string], breakGlass: true, reviewWithinMs: 30 * MINUTE });

function world(): TestWorld {
  return makeDeps({ policy: makePolicy({ rules: [GLASS, ...makePolicy().rules] }) });
}

const breakGlass = async (w: TestWorld, reason = 'the database is down and needs a failover') => {
  const { request } = await submitRequest(w.deps, { requesterSlackUserId: REQUESTER.slackUserId, spec: { kind: 'account', accounts: ['production'], permissionSets: ['Admin'] }, durationMs: 2 * HOUR, reason, breakGlass: true });
  await advanceRequest(w.deps, request.id);
  return stored(w, request.id);
};

describe('sessions-breakglass: break-glass (in-memory ports)', () => {
  test('granted at once, alerted once in both channels and to each approver named by Slack id; the reminder is a due time of its own', async () => {
    const w = world();
    const request = await breakGlass(w);
    expect(request.grants.map((g) => g.status)).toEqual(['ACTIVE']);
    expect(w.notifier.breakGlassAlerts.map((a) => `${a.alert.kind}:${a.to.kind === 'dm' ? a.to.slackUserId : a.to.kind}`)).toEqual(['alert:approvals', 'alert:alerts', `alert:${BOB.slackUserId}`]);
    // Without a directory that knows emails (no App Home here), the email is named, not mentioned.
    expect(w.notifier.breakGlassAlerts[0]?.alert.audience).toEqual({ users: [BOB.slackUserId], userGroups: [], named: [ALICE.email] });
    expect(dueTimes(request)).toContainEqual({ kind: 'review-reminder', at: request.createdAt + 30 * MINUTE });
  });

  test('unreviewed after reviewWithin: reminded once (the timer fires it), never again', async () => {
    const w = world();
    const request = await breakGlass(w);
    await passTime(w, 31 * MINUTE);
    await passTime(w, 3 * HOUR);
    expect(w.notifier.breakGlassAlerts.filter((a) => a.alert.kind === 'reminder').map((a) => a.to.kind)).toEqual(['approvals', 'alerts', 'dm']);
    expect((await w.store.listAudit(request.id)).filter((e) => e.type === 'review_reminded')).toHaveLength(1);
    // The window still ends on time: the reminder's timer is armed again for it.
    expect((await stored(w, request.id)).grants[0]?.status).toBe('ENDED');
    expect(dueTimes(await stored(w, request.id))).toEqual([]);
  });

  test('Slack failing the reminder leaves it due (for the sweep), and the window still ends by its own timer', async () => {
    const w = world();
    const request = await breakGlass(w);
    w.notifier.fail('postBreakGlassAlert', new Error('slack_webapi_platform_error: ratelimited'), 100);
    await passTime(w, 31 * MINUTE);
    expect(w.notifier.breakGlassAlerts.filter((a) => a.alert.kind === 'reminder')).toEqual([]);
    await passTime(w, 2 * HOUR);
    const after = await stored(w, request.id);
    expect(after.grants[0]?.status).toBe('ENDED');
    expect(dueTimes(after).map((t) => t.kind)).toEqual(['review-reminder']);
    w.notifier.heal();
    await advanceRequest(w.deps, request.id); // what the sweep does with a request past its due time
    expect(w.notifier.breakGlassAlerts.filter((a) => a.alert.kind === 'reminder')).toHaveLength(3);
  });

  test('Slack failing part way through the alert: the places it reached are recorded, and the retry posts only to the rest', async () => {
    const w = world();
    const post = w.notifier.postBreakGlassAlert.bind(w.notifier);
    let failures = 1;
    w.notifier.postBreakGlassAlert = async (to, alert) => {
      if (to.kind === 'dm' && failures-- > 0) throw new Error('slack_webapi_platform_error: ratelimited');
      return post(to, alert);
    };
    const request = await breakGlass(w);
    expect(w.notifier.breakGlassAlerts.map((a) => a.to.kind)).toEqual(['approvals', 'alerts']);
    expect(dueTimes(request).map((t) => t.kind)).toContain('news');
    await advanceRequest(w.deps, request.id); // the sweep's retry
    expect(w.notifier.breakGlassAlerts.map((a) => (a.to.kind === 'dm' ? a.to.slackUserId : a.to.kind))).toEqual(['approvals', 'alerts', BOB.slackUserId]);
    expect(dueTimes(await stored(w, request.id)).map((t) => t.kind)).toEqual(['window-end', 'review-reminder']);
  });

  test('reviewed in time: no reminder, and the review is a record, not a decision (the grant stays active)', async () => {
    const w = world();
    const request = await breakGlass(w);
    await markReviewed(w.deps, { requestId: request.id, bySlackUserId: BOB.slackUserId });
    await passTime(w, 31 * MINUTE);
    expect(w.notifier.breakGlassAlerts.filter((a) => a.alert.kind === 'reminder')).toEqual([]);
    const after = await stored(w, request.id);
    expect(after.review?.by?.slackUserId).toBe(BOB.slackUserId);
    expect(after.grants[0]?.status).toBe('ACTIVE');
  });
});

describe('sessions-breakglass: tickets and the breakglass word (domain)', () => {
  test.each([
    ['INC-1 failover', 'INC-1'],
    ['see (CHG-42), thanks', 'CHG-42'],
    ['"INC-7".', 'INC-7'],
    ['JIRA-1 and INC-12a', undefined],
    ['inc-1 lower case', undefined],
  ])('findTicket(%p) is %p', (reason, ticket) => {
    expect(findTicket('^(INC|CHG)-\\d+$', reason)).toBe(ticket);
  });

  test('every rule with a pattern must be satisfied; the link is the template with the id in place', () => {
    expect(requireTicket([{ name: 'a', ticketPattern: '^INC-\\d+$' }, { name: 'b' }], 'fix INC-9', 'https://t.example/{ticket}?x')).toEqual({ id: 'INC-9', url: 'https://t.example/INC-9?x' });
    expect(() => requireTicket([{ name: 'a', ticketPattern: '^INC-\\d+$' }, { name: 'c', ticketPattern: '^CHG-\\d+$' }], 'fix INC-9')).toThrow('rule "c"');
    expect(requireTicket([{ name: 'b' }], 'anything')).toBeUndefined();
  });

  test('breakglass is a keyword: an ordinary request behind it, any case; anything else after it is answered with its form', () => {
    expect(parseCommand('BreakGlass production Admin 1h db down')).toMatchObject({ kind: 'request', breakGlass: true, reason: 'db down' });
    expect(parseCommand('breakglass group oncall 1h db down')).toMatchObject({ kind: 'request', breakGlass: true, spec: { kind: 'group' } });
    expect(() => parseCommand('breakglass')).toThrow('/aws-access breakglass <accounts>');
    expect(() => parseCommand('breakglass list')).toThrow('/aws-access breakglass <accounts>');
    expect(() => parseCommand('breakglass production Admin 1h')).toThrow('reason');
  });
});
