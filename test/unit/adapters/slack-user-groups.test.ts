import { WebClient } from '@slack/web-api';
import { SlackDirectory, USER_GROUP_CACHE_MS } from '../../../src/adapters/slack/slack-directory';
import { SlackStandIn } from '../../support/slack-stand-in';

const SRE = { id: 'S0SRE00000', handle: 'sre', users: ['U0BOB00000'] };

describe('daily-use: groups as requesters and approvers (Slack user groups, the real WebClient against the Slack stand-in)', () => {
  let slack: SlackStandIn;
  let now: number;
  const directory = () => new SlackDirectory(new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }), () => now);

  beforeEach(async () => {
    now = 1_000_000;
    slack = await SlackStandIn.start({ token: 'xoxb-test' });
    slack.addUserGroup(SRE);
  });
  afterEach(async () => {
    await slack.close();
  });

  test('a handle and an S… id find the same members; an unknown handle, an unknown id and a disabled group find none', async () => {
    slack.addUserGroup({ id: 'S0OLD00000', handle: 'old-team', users: ['U0BOB00000'], disabled: true });
    const d = directory();
    await expect(d.userGroupMembers('@sre')).resolves.toEqual(new Set(['U0BOB00000']));
    await expect(d.userGroupMembers('S0SRE00000')).resolves.toEqual(new Set(['U0BOB00000']));
    await expect(d.userGroupMembers('@nobody')).resolves.toBeUndefined();
    await expect(d.userGroupMembers('S0NOBODY00')).resolves.toBeUndefined();
    await expect(d.userGroupMembers('@old-team')).resolves.toBeUndefined();
  });

  test('members are kept at most 5 minutes: someone removed from the group is no longer a member once that time is up', async () => {
    const d = directory();
    await d.userGroupMembers('@sre');
    slack.setUserGroupMembers(SRE.id, []);
    now += USER_GROUP_CACHE_MS - 1_000;
    await expect(d.userGroupMembers('@sre')).resolves.toEqual(new Set(['U0BOB00000']));
    expect(slack.callsTo('usergroups.users.list')).toHaveLength(1);
    now += 2_000;
    await expect(d.userGroupMembers('@sre')).resolves.toEqual(new Set());
    expect(slack.callsTo('usergroups.users.list')).toHaveLength(2);
    expect(slack.callsTo('usergroups.list')).toHaveLength(2);
    expect(USER_GROUP_CACHE_MS).toBeLessThanOrEqual(5 * 60_000);
  });

  test('a longer cache setting is held to 5 minutes', async () => {
    const d = new SlackDirectory(new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }), () => now, 60 * 60_000);
    await d.userGroupMembers(SRE.id);
    now += USER_GROUP_CACHE_MS + 1;
    await d.userGroupMembers(SRE.id);
    expect(slack.callsTo('usergroups.users.list')).toHaveLength(2);
  });

  test('a failure is not remembered: the look-up throws, and the next one asks Slack again', async () => {
    slack.injectFault('usergroups.list', { error: 'fatal_error' });
    const d = directory();
    await expect(d.userGroupMembers('@sre')).rejects.toThrow(/fatal_error/);
    slack.injectFault('usergroups.users.list', { error: 'ratelimited' });
    await expect(d.userGroupMembers('@sre')).rejects.toThrow();
    await expect(d.userGroupMembers('@sre')).resolves.toEqual(new Set(['U0BOB00000']));
  });
});
