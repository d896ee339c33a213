import { GROUPS, PEOPLE, REVOKED_WITHIN_MS, TimeboxHarness, testConfigYaml } from '../support/timebox-harness';
import { findRequestId } from '../../src/domain/request-id';

/**
 * Temporary group membership: `/aws-access group <groups> <duration> <reason…>` (or its form)
 * adds the requester to an Identity Center group for the window, with the same promises as
 * assignments: a membership that was there before is never removed, overlapping windows keep it
 * until the last ends, and Timebox removes only the membership it created, by its id.
 */
describe('temporary group membership', () => {
  let h: TimeboxHarness;
  beforeEach(async () => {
    h = await TimeboxHarness.start({ sweepIntervalMs: 500 });
  });
  afterEach(async () => {
    await h.stop();
  });

  const member = (who: keyof typeof PEOPLE) => ({ groupId: GROUPS.oncall, userId: PEOPLE[who].principalId });

  test('an auto-approved membership is created, told, and removed by its own MembershipId when the window ends', async () => {
    const { text } = await h.command('carol', 'group oncall 3s paging duty');
    expect(text).toContain('membership of *oncall* for 3s was approved automatically');
    const id = findRequestId(text)!;
    const active = await h.waitForStatus(id, 'ACTIVE');
    expect(h.isMember('carol', 'oncall')).toBe(true);
    const [created] = h.aws.callsTo('CreateGroupMembership');
    expect(created?.input).toEqual({ IdentityStoreId: expect.any(String), GroupId: GROUPS.oncall, MemberId: { UserId: PEOPLE.carol.principalId } });
    const membershipId = h.aws.membershipsOf(PEOPLE.carol.principalId)[0]!.membershipId;
    expect(active.grants[0]!.membershipId).toBe(membershipId);
    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('membership of oncall is active until')), 5000, 'the active DM');

    const ended = await h.waitForStatus(id, 'ENDED', 10_000);
    expect(ended.endedAt! - ended.endsAt!).toBeLessThan(REVOKED_WITHIN_MS);
    expect(h.isMember('carol', 'oncall')).toBe(false);
    expect(h.aws.callsTo('DeleteGroupMembership').map((c) => c.input)).toEqual([{ IdentityStoreId: expect.any(String), MembershipId: membershipId }]);
    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('has ended')), 5000, 'the ended DM');
  });

  test('a membership that existed before is kept when the window ends', async () => {
    const standing = h.aws.addMembership(member('dave'));
    const id = await h.file('dave', 'group oncall 2s already on call');
    await h.waitForStatus(id, 'ACTIVE');
    expect(h.aws.callsTo('CreateGroupMembership')).toHaveLength(0);
    const ended = await h.waitForStatus(id, 'ENDED', 10_000);
    expect(ended.keptBecause).toContain('existed before');
    expect(h.aws.membershipsOf(PEOPLE.dave.principalId).map((m) => m.membershipId)).toEqual([standing]);
    expect(h.aws.callsTo('DeleteGroupMembership')).toHaveLength(0);
    await h.slack.waitFor(() => h.dmTextsTo('dave').find((t) => t.includes(id) && t.includes('the membership stays')), 5000, 'the ended DM explaining the kept membership');
  });

  test('overlapping memberships: kept until the last window ends, then removed once', async () => {
    const short = await h.file('dave', 'group oncall 2s short one');
    await h.waitForStatus(short, 'ACTIVE');
    const long = await h.file('dave', 'group oncall 5s long one');
    await h.waitForStatus(long, 'ACTIVE');
    expect(h.aws.callsTo('CreateGroupMembership')).toHaveLength(1);
    const shortEnded = await h.waitForStatus(short, 'ENDED', 10_000);
    expect(shortEnded.keptBecause).toContain(long);
    expect(h.isMember('dave', 'oncall')).toBe(true);
    await h.waitForStatus(long, 'ENDED', 10_000);
    expect(h.isMember('dave', 'oncall')).toBe(false);
    expect(h.aws.callsTo('DeleteGroupMembership')).toHaveLength(1);
  });

  test('a membership that needs approval waits for an approver of its rule; the requester cannot approve it', async () => {
    const id = await h.file('carol', 'group db-admins 2s query the replica');
    await h.waitForStatus(id, 'PENDING');
    const message = await h.approvalMessage(id);
    expect(JSON.stringify(message.blocks)).toContain('db-admins');
    const own = await h.nextEphemeral('carol', () => h.click('carol', 'approve', id));
    expect(own).toContain('cannot approve or deny your own request');
    await h.click('bob', 'approve', id);
    await h.waitForStatus(id, 'ACTIVE');
    expect(h.isMember('carol', 'db-admins')).toBe(true);
    await h.waitForStatus(id, 'ENDED', 10_000);
    expect(h.isMember('carol', 'db-admins')).toBe(false);
  });

  test('a membership another admin removes during the window is not recreated, and Timebox removes nothing else at the end', async () => {
    const id = await h.file('carol', 'group oncall 2s will be removed');
    await h.waitForStatus(id, 'ACTIVE');
    h.aws.removeMembership(member('carol'));
    // Someone else adds carol again by hand: a different membership, not Timebox's.
    const byHand = h.aws.addMembership(member('carol'));
    await h.waitForStatus(id, 'ENDED', 10_000);
    expect(h.aws.membershipsOf(PEOPLE.carol.principalId).map((m) => m.membershipId)).toEqual([byHand]);
  });

  test('bad input: an unknown group, a group rule that does not cover the requester, and /aws-access group with no groups configured', async () => {
    const unknown = await h.command('carol', 'group nosuch 1h whatever');
    expect(unknown.text).toContain('Unknown group "nosuch". Known groups: oncall, db-admins');
    const tooLong = await h.command('carol', 'group oncall 9h longer than allowed');
    expect(tooLong.text).toContain('above the maximum of 8h for group oncall (rule "oncall-group")');
    const mixed = await h.command('carol', 'group oncall,nosuch 1h one bad');
    expect(mixed.text).toContain('Unknown group "nosuch"');
    expect(await h.storedRequestCount()).toBe(0);
    expect(h.aws.callsTo('CreateGroupMembership')).toHaveLength(0);
  });

  test('/aws-access group alone opens the group form; submitting it files the membership', async () => {
    const triggerId = '77777.12345.groupform';
    await h.sender.command({ userId: PEOPLE.dave.id, text: 'group', triggerId, channelId: 'C0GENERAL0', responseUrl: h.slack.responseUrl({ userId: PEOPLE.dave.id }) });
    const opened = h.slack.openedViews().find((v) => v.trigger_id === triggerId);
    const view = opened!.view as { callback_id: string; private_metadata: string; blocks: Array<{ block_id: string; element: { type: string; options?: Array<{ value: string }> } }> };
    expect(view.blocks.map((b) => `${b.block_id}:${b.element.type}`)).toEqual(['group:multi_static_select', 'duration:plain_text_input', 'reason:plain_text_input']);
    expect(view.blocks[0]!.element.options!.map((o) => o.value)).toEqual(['oncall', 'db-admins']);
    const ok = await h.sender.viewSubmission({
      userId: PEOPLE.dave.id,
      callbackId: view.callback_id,
      values: {
        group: { group: { type: 'multi_static_select', selected_options: [{ text: { type: 'plain_text', text: 'oncall' }, value: 'oncall' }] } },
        duration: { duration: { type: 'plain_text_input', value: '30m' } },
        reason: { reason: { type: 'plain_text_input', value: 'from the group form' } },
      },
      privateMetadata: view.private_metadata,
    });
    expect(ok.status).toBe(200);
    const confirmation = await h.slack.waitFor(() => h.ephemeralTextsTo('dave').find((t) => t.includes('membership of *oncall*')), 5000, 'confirmation');
    const id = findRequestId(confirmation)!;
    await h.waitForStatus(id, 'ACTIVE');
    expect(h.isMember('dave', 'oncall')).toBe(true);
  });
});

describe('no groups configured', () => {
  test('/aws-access group says so instead of opening an empty form', async () => {
    const noGroups = testConfigYaml().replace(/groups:\n( {2}.*\n)+/, '').replace(/ {2}- name: oncall-group[\s\S]*$/, '\n');
    const h = await TimeboxHarness.start({ configYaml: noGroups });
    try {
      const { text } = await h.command('carol', 'group');
      expect(text).toContain('No groups are configured');
      expect(h.slack.openedViews()).toHaveLength(0);
    } finally {
      await h.stop();
    }
  });
});
