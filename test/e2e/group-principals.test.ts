import { APPROVAL_CHANNEL, PEOPLE, TimeboxHarness, testConfigYaml } from '../support/timebox-harness';

/** Identity Center groups the rules below name, with who is in them. */
const PLATFORM = { displayName: 'Platform Engineers', groupId: '9067c0ffee-91a7f000-0000-4000-8000-0000000000b1' };
const DBA = { displayName: 'DBA', groupId: '9067c0ffee-dbadba00-0000-4000-8000-0000000000b2' };
/** Slack user groups: @devs may ask, @sre approves. */
const DEVS = { id: 'S0DEVS0000', handle: 'devs', users: [PEOPLE.carol.id] };
const SRE = { id: 'S0SRE00000', handle: 'sre', users: [PEOPLE.bob.id] };
/** A user group whose look-ups the tests make fail. */
const FLAKY = { id: 'S0FLAKY000', handle: 'flaky', users: [PEOPLE.carol.id] };

// Admin on staging has no rule of its own in the test config, so a refusal here cannot fall
// through to a rule that allows everyone.
const GROUP_RULES = `
  - name: slack-groups
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["@devs"]
    approvers: ["@sre"]
    maxDuration: 1h
  - name: identity-center-groups
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["group:${PLATFORM.displayName}"]
    approvers: ["group:${DBA.displayName}"]
    maxDuration: 1h
  - name: ghost-group
    groups: [db-admins]
    requesters: ["@ghosts"]
    approvers: [alice@example.com]
    maxDuration: 1h
  - name: flaky-group
    groups: [oncall]
    requesters: ["${FLAKY.id}"]
    autoApprove: true
    maxDuration: 1h`;

describe('daily-use: groups as requesters and approvers', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({
      configYaml: testConfigYaml(GROUP_RULES),
      beforeStart: (aws) => {
        aws.addGroup({ ...PLATFORM, identityStoreId: 'd-1234567890' });
        aws.addGroup({ ...DBA, identityStoreId: 'd-1234567890' });
      },
    });
    for (const group of [DEVS, SRE, FLAKY]) h.slack.addUserGroup(group);
  });
  afterAll(async () => {
    await h.stop();
  });
  beforeEach(() => {
    // Dave is in Platform Engineers, Alice in DBA; a test that changes this puts it back here.
    for (const [who, group] of [['dave', PLATFORM], ['alice', DBA]] as const) {
      const m = { groupId: group.groupId, userId: PEOPLE[who].principalId };
      if (!h.aws.isMember(m)) h.aws.addMembership(m);
    }
    h.aws.clearFaults();
    h.slack.clearFaults();
  });

  test('a member of the Slack user group named as requesters files, and a member of the one named as approvers approves: access is granted', async () => {
    const id = await h.file('carol', 'staging Admin 30m slack group request');
    expect((await h.request(id)).grants.map((g) => g.ruleName)).toEqual(['slack-groups']);
    // Alice approves other rules by email, but is not in @sre.
    expect(await h.nextEphemeral('alice', () => h.click('alice', 'approve', id))).toContain('You are not an approver for rule "slack-groups"');
    expect((await h.request(id)).status).toBe('PENDING');
    await h.click('bob', 'approve', id);
    await h.waitForStatus(id, 'ACTIVE');
    expect(h.hasAssignment('carol', 'staging', 'Admin')).toBe(true);
    expect(h.slack.callsTo('usergroups.users.list').map((c) => c.args.usergroup)).toEqual(expect.arrayContaining([DEVS.id, SRE.id]));
  });

  test('a member of the Identity Center group named as requesters files, and a member of the one named as approvers approves: access is granted', async () => {
    const id = await h.file('dave', 'staging Admin 30m identity center group request');
    expect((await h.request(id)).grants.map((g) => g.ruleName)).toEqual(['identity-center-groups']);
    await h.click('alice', 'approve', id);
    await h.waitForStatus(id, 'ACTIVE');
    expect(h.hasAssignment('dave', 'staging', 'Admin')).toBe(true);
    expect(h.aws.callsTo('IsMemberInGroups').length).toBeGreaterThan(0);
  });

  test('a member of the Slack user group named as approvers may end the access early; someone outside it is refused and nothing changes', async () => {
    const id = await h.file('carol', 'staging Admin 30m ended by the group');
    await h.click('bob', 'approve', id);
    await h.waitForStatus(id, 'ACTIVE');
    const message = await h.slack.waitFor(
      () => h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.text?.includes(id) && JSON.stringify(m.blocks).includes('timebox_end')),
      5000,
      'the End button on the channel message',
    );
    expect(await h.nextEphemeral('alice', () => h.clickEnd('alice', id, message))).toContain('Only the requester or an approver for rule "slack-groups" can end this access. Nothing was changed.');
    expect((await h.request(id)).status).toBe('ACTIVE');
    expect(await h.nextEphemeral('bob', () => h.clickEnd('bob', id, message))).toContain(`Ending <@${PEOPLE.carol.id}>'s access`);
    expect((await h.waitForStatus(id, 'ENDED')).endedEarlyBy?.slackUserId).toBe(PEOPLE.bob.id);
  });

  test('someone in none of the groups a rule names is refused with a clear message, and nothing is filed', async () => {
    const before = await h.storedRequestCount();
    const { text } = await h.command('bob', 'staging Admin 30m not in any group');
    expect(text).toContain('No rule allows you to request Admin on staging');
    expect(await h.storedRequestCount()).toBe(before);
  });

  test('an approver removed from the Identity Center group between filing and clicking is refused at the click, and the request stays pending', async () => {
    const id = await h.file('dave', 'staging Admin 30m approver leaves the group');
    await h.approvalMessage(id);
    h.aws.removeMembership({ groupId: DBA.groupId, userId: PEOPLE.alice.principalId });
    const creates = h.aws.callsTo('CreateAccountAssignment').length;
    const reply = await h.nextEphemeral('alice', () => h.click('alice', 'approve', id));
    expect(reply).toContain('You are not an approver for rule "identity-center-groups"');
    expect(reply).toContain('Nothing was changed');
    const request = await h.request(id);
    expect(request.status).toBe('PENDING');
    expect(request.approvals).toEqual([]);
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(creates);
  });

  test('a requester removed from the Identity Center group before approval: the click refuses the grant and grants nothing', async () => {
    const id = await h.file('dave', 'staging Admin 30m requester leaves the group');
    await h.approvalMessage(id);
    h.aws.removeMembership({ groupId: PLATFORM.groupId, userId: PEOPLE.dave.principalId });
    const creates = h.aws.callsTo('CreateAccountAssignment').length;
    const reply = await h.nextEphemeral('alice', () => h.click('alice', 'approve', id));
    expect(reply).toContain('no longer covers Admin on staging');
    await h.waitForStatus(id, 'DENIED');
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(creates);
  });

  test('a rule naming a Slack user group handle that does not exist refuses the request, naming the group, and nothing is filed', async () => {
    const before = await h.storedRequestCount();
    const { text } = await h.command('carol', 'group db-admins 30m ghost handle');
    expect(text).toContain('Timebox could not check membership of Slack user group @ghosts (there is no such user group in this Slack workspace)');
    expect(await h.storedRequestCount()).toBe(before);
  });

  test('Slack failing to list a user group’s members refuses the request with a message naming the group, and nothing is filed', async () => {
    const before = await h.storedRequestCount();
    h.slack.injectFault('usergroups.users.list', { error: 'fatal_error' });
    const { text } = await h.command('carol', 'group oncall 30m slack is down');
    expect(text).toContain(`Timebox could not check membership of Slack user group ${FLAKY.id} (Slack failed:`);
    expect(text).toContain('refuses rather than guess');
    expect(await h.storedRequestCount()).toBe(before);
    expect(h.isMember('carol', 'oncall')).toBe(false);
  });

  test('AWS failing IsMemberInGroups at the approval click refuses it with a message naming the group, and the request stays pending', async () => {
    const id = await h.file('dave', 'staging Admin 30m aws is down at the click');
    await h.approvalMessage(id);
    // AccessDeniedException: the role lost identitystore:IsMemberInGroups (not retried by the SDK).
    h.aws.injectFault('IsMemberInGroups', { type: 'AccessDeniedException', message: 'not authorized to perform identitystore:IsMemberInGroups' }, 2);
    const reply = await h.nextEphemeral('alice', () => h.click('alice', 'approve', id));
    expect(reply).toMatch(/Timebox could not check membership of Identity Center group "(DBA|Platform Engineers)" \(AWS failed: AccessDeniedException/);
    expect(reply).toContain('Nothing was changed');
    expect((await h.request(id)).status).toBe('PENDING');
    expect((await h.audit(id)).map((e) => e.type)).toContain('decision_refused');
  });
  describe('Slack user groups read afresh at every check (the cache set to 0; it is at most 5 minutes by default)', () => {
    let fresh: TimeboxHarness;
    beforeAll(async () => {
      fresh = await TimeboxHarness.start({ configYaml: testConfigYaml(GROUP_RULES), slackUserGroupCacheMs: 0 });
      for (const group of [DEVS, SRE]) fresh.slack.addUserGroup(group);
    });
    afterAll(async () => {
      await fresh.stop();
    });

    test('an approver removed from the Slack user group between filing and clicking is refused at the click, and the request stays pending', async () => {
      const id = await fresh.file('carol', 'staging Admin 30m approver leaves the slack group');
      await fresh.approvalMessage(id);
      fresh.slack.setUserGroupMembers(SRE.id, []);
      const reply = await fresh.nextEphemeral('bob', () => fresh.click('bob', 'approve', id));
      expect(reply).toContain('You are not an approver for rule "slack-groups"');
      expect(reply).toContain('Nothing was changed');
      const request = await fresh.request(id);
      expect(request.status).toBe('PENDING');
      expect(request.approvals).toEqual([]);
      expect(fresh.aws.callsTo('CreateAccountAssignment')).toHaveLength(0);
    });
  });
});
