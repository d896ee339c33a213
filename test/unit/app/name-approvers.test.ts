import type { AccessRequest, Grant } from '../../../src/domain/access-request';
import { dmRecipients, nameDeciders } from '../../../src/app/name-approvers';
import { ALICE, BOB, CAROL, REQUESTER, T0, makeDeps, makePolicy, rule } from '../../support/in-memory-ports';

const grant = (id: string, ruleName: string, status: Grant['status'] = 'PENDING'): Grant => ({
  id,
  target: { kind: 'group', groupId: 'g-1', groupName: 'oncall' },
  ruleName,
  autoApproved: false,
  approvalsRequired: 1,
  approvals: [],
  status,
});
const request = (grants: Grant[]): AccessRequest =>
  ({ id: 'R-0000000001', version: 1, requester: REQUESTER, durationMs: 60_000, reason: 'r', createdAt: T0, expiresAt: T0 + 60_000, grants, updatedAt: T0, messages: [] }) as unknown as AccessRequest;

describe('daily-use: reminders and who gets told (naming and reaching approvers)', () => {
  const world = () => {
    const w = makeDeps({
      policy: makePolicy({
        rules: [
          rule({ name: 'by-email', groups: ['*'], approvers: [ALICE.email as string, 'ghost@example.com', BOB.slackUserId], notify: 'both' }),
          rule({ name: 'groups', groups: ['*'], approvers: ['@dba', '@nobody', 'group:platform', REQUESTER.slackUserId], notify: 'dm' }),
          rule({ name: 'anyone', groups: ['*'], approvers: ['*'] }),
        ],
      }),
    });
    w.directory.userGroups.set('@dba', new Set([CAROL.slackUserId, REQUESTER.slackUserId]));
    return w;
  };

  test('emails become the Slack users Slack finds, or stay as written; a user group @handle its id; an Identity Center group stays as written; decided grants name nobody', async () => {
    const w = world();
    const names = await nameDeciders(w.deps, request([grant('1', 'by-email'), grant('2', 'groups'), grant('3', 'anyone'), grant('4', 'by-email', 'ACTIVE')]));
    expect(names.get('1')).toEqual([{ kind: 'user', slackUserId: ALICE.slackUserId }, { kind: 'as-written', entry: 'ghost@example.com' }, { kind: 'user', slackUserId: BOB.slackUserId }]);
    expect(names.get('2')).toEqual([
      { kind: 'user-group', id: 'SDBA' },
      { kind: 'as-written', entry: '@nobody' },
      { kind: 'as-written', entry: 'group:platform' },
      { kind: 'user', slackUserId: REQUESTER.slackUserId },
    ]);
    expect(names.get('3')).toEqual([{ kind: 'anyone' }]);
    expect(names.has('4')).toBe(false);
  });

  test('a directory that fails names the entry as written rather than failing the news', async () => {
    const w = world();
    w.directory.findByEmail = () => Promise.reject(new Error('ratelimited'));
    expect((await nameDeciders(w.deps, request([grant('1', 'by-email')]))).get('1')?.[0]).toEqual({ kind: 'as-written', entry: ALICE.email });
  });

  test('DMs go to the people of rules with notify dm or both (a user group\'s members), never to the requester, and nobody for "*"', async () => {
    const w = world();
    const r = request([grant('1', 'by-email'), grant('2', 'groups'), grant('3', 'anyone')]);
    expect((await dmRecipients(w.deps, r, await nameDeciders(w.deps, r))).sort()).toEqual([ALICE.slackUserId, BOB.slackUserId, CAROL.slackUserId].sort());
  });
});

describe('performance-2: naming a long list of approvers', () => {
  const many = Array.from({ length: 300 }, (_, i) => `approver${i}@example.com`);
  const world = (notify: 'channel' | 'dm') => {
    const w = makeDeps({ policy: makePolicy({ rules: [rule({ name: 'many', groups: ['*'], approvers: many, notify })] }) });
    const asked: string[] = [];
    let open = 0;
    let most = 0;
    w.directory.findByEmail = async (email: string) => {
      asked.push(email);
      most = Math.max(most, ++open);
      await new Promise((resolve) => setTimeout(resolve, 1));
      open -= 1;
      return `U${email.replace(/\D/g, '').padStart(4, '0')}`;
    };
    return { w, asked, most: () => most };
  };

  test('a channel rule with 300 approvers by email looks up only the 20 its message names, a few at a time; the rest are still counted', async () => {
    const { w, asked, most } = world('channel');
    const names = (await nameDeciders(w.deps, request([grant('1', 'many')]))).get('1') ?? [];
    expect(asked).toHaveLength(20);
    expect(most()).toBeGreaterThan(1);
    expect(most()).toBeLessThanOrEqual(8);
    expect(names).toHaveLength(300);
    expect(names.slice(0, 20).every((n) => n.kind === 'user')).toBe(true);
    expect(names[20]).toEqual({ kind: 'as-written', entry: 'approver20@example.com' });
  });

  test('a rule that asks its 300 approvers by DM looks every one of them up, and every one is DMed', async () => {
    const { w, asked } = world('dm');
    const r = request([grant('1', 'many')]);
    const recipients = await dmRecipients(w.deps, r, await nameDeciders(w.deps, r));
    expect(asked).toHaveLength(300);
    expect(recipients).toHaveLength(300);
  });
});
