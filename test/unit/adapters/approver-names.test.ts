import { approverNames } from '../../../src/adapters/slack/views/approver-names';

describe('daily-use: reminders and who gets told (how approvers read)', () => {
  test('approvers read as mentions, a user group as <!subteam^…>, an unresolved entry as written (escaped), "*" as anyone', () => {
    expect(approverNames([{ kind: 'user', slackUserId: 'U1' }, { kind: 'user-group', id: 'S1' }, { kind: 'as-written', entry: 'x<y>@example.com' }])).toBe(
      '<@U1>, <!subteam^S1> or x&lt;y&gt;@example.com',
    );
    expect(approverNames([{ kind: 'user', slackUserId: 'U1' }, { kind: 'anyone' }])).toBe('anyone');
    expect(approverNames([{ kind: 'user', slackUserId: 'U1' }, { kind: 'user', slackUserId: 'U1' }])).toBe('<@U1>');
    expect(approverNames(Array.from({ length: 30 }, (_, i) => ({ kind: 'user' as const, slackUserId: `U${i}` })))).toMatch(/, <@U19> or 10 more$/);
  });
});
