import { homeView, HOME_MAX_BLOCKS } from '../../../src/adapters/slack/views/home-view';
import type { AccessRequest, Grant } from '../../../src/domain/access-request';
import { checkHomeView } from '../../support/block-kit-limits';

const NOW = 1_900_000_000_000;
const many = (n: number, status: Grant['status']): AccessRequest[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `R-${String(i).padStart(10, '0')}`,
    version: 1,
    requester: { slackUserId: 'U0CAROL000' },
    durationMs: 3_600_000,
    reason: 'x'.repeat(500),
    createdAt: NOW,
    expiresAt: NOW + 86_400_000,
    updatedAt: NOW,
    messages: [],
    grants: Array.from({ length: 10 }, (_g, j) => ({
      id: String(j + 1),
      target: { kind: 'account', accountId: '111111111111', accountName: 'a'.repeat(60), permissionSetName: 'p'.repeat(32), permissionSetArn: 'arn' },
      ruleName: 'r',
      autoApproved: false,
      approvalsRequired: 1,
      approvals: [],
      status,
      ...(status === 'ACTIVE' ? { activeAt: NOW, endsAt: NOW + 3_600_000 } : {}),
    })),
  }));

describe('daily-use: App Home view within Slack\'s limits', () => {
  test('however many requests (200 of each kind, 10 grants each, long names and reasons), the Home is a valid home view of at most 100 blocks, the rest counted', () => {
    const view = homeView({ slackUserId: 'U0CAROL000', now: NOW, active: many(200, 'ACTIVE'), pending: many(200, 'PENDING'), finished: many(10, 'ENDED'), toDecide: many(200, 'PENDING') });
    expect(view.blocks.length).toBeLessThanOrEqual(HOME_MAX_BLOCKS);
    expect(checkHomeView(view)).toEqual([]);
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('…and 188 more requests wait for you.');
    expect(text).toContain('…and 190 more pending requests.');
    expect(text).toContain('…and 190 more requests with access.');
  });

  test('a Home with nothing to show still offers Request access and says each list is empty', () => {
    const view = homeView({ slackUserId: 'U0DAVE0000', now: NOW, active: [], pending: [], finished: [], toDecide: [] });
    expect(checkHomeView(view)).toEqual([]);
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('Request access');
    expect(text).toContain('None right now.');
    expect(text).not.toContain('Waiting for your approval');
  });
});
