import { AwsStandIn } from '../support/aws-stand-in';
import { functionUrlEvent } from '../support/lambda-events';
import { startSlackLambda, type SlackLambda } from '../support/slack-lambda';
import { SlackRequestSender } from '../support/slack-requests';
import { SlackStandIn } from '../support/slack-stand-in';
import { BOT_TOKEN, IDENTITY_STORE_ID, PEOPLE, SIGNING_SECRET, TimeboxHarness, testConfigYaml, type PersonName } from '../support/timebox-harness';

const PLATFORM = { displayName: 'Platform Engineers', groupId: '9067c0ffee-91a7f000-0000-4000-8000-0000000000b1' };
const DEVS = { id: 'S0DEVS0000', handle: 'devs', users: [PEOPLE.carol.id] };
const SRE = { id: 'S0SRE00000', handle: 'sre', users: [PEOPLE.bob.id] };

// Admin on staging: @devs need an approver from @sre; Platform Engineers (and carol by email)
// are auto-approved; the third rule names @devs again, so the first always takes them first.
const EXPLAIN_RULES = `
  - name: devs-staging-admin
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["@devs"]
    approvers: ["@sre"]
    maxDuration: 2h
  - name: platform-staging-admin
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["group:${PLATFORM.displayName}", carol@example.com]
    autoApprove: true
    maxDuration: 1h
  - name: shadowed-staging-admin
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["@devs"]
    autoApprove: true
    maxDuration: 8h`;

interface Shown {
  /** The section texts, in order, as the person sees them. */
  sections: string[];
  all: string;
}

async function ask(h: TimeboxHarness, who: PersonName, text: string): Promise<Shown> {
  const { response } = await h.command(who, text);
  const body = response.json() as { text?: string; blocks?: Array<{ type: string; text?: { text: string } }> };
  const sections = (body.blocks ?? []).map((b) => b.text?.text ?? '');
  return { sections, all: sections.length > 0 ? sections.join('\n') : (body.text ?? '') };
}

describe('explain-audit: whocan, why, available', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({
      configYaml: testConfigYaml(EXPLAIN_RULES),
      slackUserGroupCacheMs: 0,
      beforeStart: (aws) => aws.addGroup({ ...PLATFORM, identityStoreId: 'd-1234567890' }),
    });
    for (const group of [DEVS, SRE]) h.slack.addUserGroup(group);
    // Dave is in Platform Engineers; carol in @devs; bob in @sre; alice in none of them.
    h.aws.addMembership({ groupId: PLATFORM.groupId, userId: PEOPLE.dave.principalId });
  });
  afterAll(async () => {
    await h.stop();
  });
  beforeEach(() => {
    h.aws.clearFaults();
    h.slack.clearFaults();
  });

  test('whocan lists the rules covering a target in order, who may request under each (Slack groups, Identity Center groups, people), approval and max duration, and marks the first match for each kind of requester; a shadowed rule is marked as never the first match', async () => {
    const { sections, all } = await ask(h, 'alice', 'whocan staging Admin');
    expect(sections[0]).toBe('Who can request Admin on staging (111111111111)');
    expect(sections.slice(1).map((s) => s.split('\n')[0])).toEqual([
      '*1. devs-staging-admin (first match for @devs)*',
      '*2. platform-staging-admin (first match for group:Platform Engineers, carol@example.com)*',
      '*3. shadowed-staging-admin (never the first match: earlier rules already take all its requesters)*',
    ]);
    expect(sections[1]).toContain('may request: @devs');
    expect(sections[1]).toContain('approval: needs 1 approval (approvalsRequired: 1) from @sre');
    expect(sections[1]).toContain('max duration: 2h');
    expect(sections[2]).toContain('approval: auto-approved');
    expect(all).not.toContain('staging-readonly');
  });

  test('whocan for a group names the group rule and that everyone (*) may request it', async () => {
    const { sections } = await ask(h, 'alice', 'whocan group db-admins');
    expect(sections[0]).toBe('Who can request membership of group db-admins');
    expect(sections[1]).toContain('*7. db-admins-group (first match for everyone (*))*');
    expect(sections[1]).toContain('from alice@example.com, U0BOB00000');
  });

  test('why, for a member of the Slack group, names the earlier rule and its approvers; the request then filed falls under that same rule', async () => {
    const { all } = await ask(h, 'carol', 'why staging Admin');
    expect(all).toContain('Rule "devs-staging-admin" decides: needs 1 approval (approvalsRequired: 1) from @sre, for up to 2h.');
    expect(all).toContain('1. devs-staging-admin: matches (requesters include @devs)');
    // Carol is named by email in the second rule too, but the first one decides.
    expect(all).not.toContain('2. platform-staging-admin');
    const id = await h.file('carol', 'staging Admin 30m explained first');
    expect((await h.request(id)).grants.map((g) => [g.ruleName, g.status])).toEqual([['devs-staging-admin', 'PENDING']]);
  });

  test('why, for a member of the Identity Center group, gives the first reason the earlier rule did not match and the rule that decides; filing is auto-approved under it', async () => {
    const { all } = await ask(h, 'dave', 'why staging Admin');
    expect(all).toContain('1. devs-staging-admin: does not apply: the requester is not listed (requesters: @devs; not in @devs)');
    expect(all).toContain('2. platform-staging-admin: matches (requesters include group:Platform Engineers)');
    expect(all).toContain('Rule "platform-staging-admin" decides: auto-approved, for up to 1h.');
    const id = await h.file('dave', 'staging Admin 30m explained second');
    expect((await h.request(id)).grants.map((g) => [g.ruleName, g.autoApproved])).toEqual([['platform-staging-admin', true]]);
    await h.waitForStatus(id, 'ACTIVE');
  });

  test('why, for someone no rule allows, lists every rule with the first reason it did not match, and filing is refused with nothing stored', async () => {
    const { all } = await ask(h, 'alice', 'why staging Admin');
    expect(all).toContain('No rule allows it, so a request would be refused.');
    expect(all).toContain('1. devs-staging-admin: does not apply: the requester is not listed (requesters: @devs; not in @devs)');
    expect(all).toContain('2. platform-staging-admin: does not apply: the requester is not listed (requesters: group:Platform Engineers, carol@example.com; not in group:Platform Engineers)');
    expect(all).toContain('4. staging-readonly: does not apply: it covers permission sets ReadOnly, not Admin');
    expect(all).toContain('5. prod-admin: does not apply: it covers accounts production, not staging');
    expect(all).toContain('6. oncall-group: does not apply: it covers group membership, not accounts');
    const before = await h.storedRequestCount();
    const { text } = await h.command('alice', 'staging Admin 30m explained refused');
    expect(text).toContain('No rule allows you to request Admin on staging');
    expect(await h.storedRequestCount()).toBe(before);
  });

  test('why, when AWS fails the Identity Center group check, says a request now would be refused, and filing is refused the same way', async () => {
    h.aws.injectFault('IsMemberInGroups', { type: 'AccessDeniedException', message: 'not authorized' }, 1);
    const { all } = await ask(h, 'dave', 'why staging Admin');
    expect(all).toContain('Rule "platform-staging-admin" names a group whose membership Timebox could not check, so a request now would be refused.');
    expect(all).toContain('2. platform-staging-admin: cannot be decided: Timebox could not check membership of Identity Center group "Platform Engineers" (AWS failed: AccessDeniedException');
    h.aws.injectFault('IsMemberInGroups', { type: 'AccessDeniedException', message: 'not authorized' }, 1);
    const before = await h.storedRequestCount();
    const { text } = await h.command('dave', 'staging Admin 30m refused while aws fails');
    expect(text).toContain('Timebox could not check membership of Identity Center group "Platform Engineers"');
    expect(await h.storedRequestCount()).toBe(before);
  });

  test('available lists what the caller may request, grouped by account, auto-approved first, with groups last', async () => {
    const { sections } = await ask(h, 'dave', 'available');
    expect(sections[0]).toBe('What you may request (auto-approved first)');
    expect(sections[1]).toBe(
      [
        '*staging (111111111111)*',
        '• ReadOnly: auto-approved, for up to 8h (rule staging-readonly)',
        '• Admin: auto-approved, for up to 1h (rule platform-staging-admin)',
      ].join('\n'),
    );
    expect(sections[2]).toContain('*production (222222222222)*');
    expect(sections[2]).toContain('• ReadOnly: needs 1 approval (approvalsRequired: 1) from alice@example.com, U0BOB00000, for up to 1h (rule prod-admin)');
    expect(sections[3]).toBe(
      [
        '*Group membership*',
        '• oncall: auto-approved, for up to 8h (rule oncall-group)',
        '• db-admins: needs 1 approval (approvalsRequired: 1) from alice@example.com, U0BOB00000, for up to 1h (rule db-admins-group)',
      ].join('\n'),
    );
    // Alice is in no group: Admin on staging is not hers to ask for.
    expect((await ask(h, 'alice', 'available')).sections[1]).toBe('*staging (111111111111)*\n• ReadOnly: auto-approved, for up to 8h (rule staging-readonly)');
  });

  test('bad input (an unknown account, a missing permission set, a list, extra words) gets a clear answer naming the problem and files nothing', async () => {
    const before = await h.storedRequestCount();
    expect((await ask(h, 'alice', 'whocan nowhere Admin')).all).toContain('Unknown account "nowhere". Known accounts: staging, production');
    expect((await ask(h, 'alice', 'why staging')).all).toContain('Say which account and permission set, or which group, and nothing more, e.g. `/aws-access why staging ReadOnly`');
    // A keyword, as "group" is: more words are not read as a request for an account named "why".
    expect((await ask(h, 'alice', 'why staging Admin 1h please')).all).toContain('Say which account and permission set, or which group, and nothing more');
    expect((await ask(h, 'alice', 'available staging')).all).toContain('`/aws-access available` takes nothing after it.');
    expect((await ask(h, 'alice', 'why staging,production Admin')).all).toContain('Name one account and one permission set, or one group (no lists)');
    expect((await ask(h, 'alice', 'whocan group nope')).all).toContain('Unknown group "nope"');
    expect(await h.storedRequestCount()).toBe(before);
  });
});

describe('explain-audit: available within Slack limits', () => {
  let h: TimeboxHarness;
  const many = Array.from({ length: 80 }, (_, i) => `  acct-${String(i).padStart(2, '0')}: "${String(300000000000 + i)}"`).join('\n');
  beforeAll(async () => {
    // 80 more accounts, all auto-approved ReadOnly for everyone: 82 account sections.
    const yaml = testConfigYaml(`
  - name: everything-readonly
    accounts: ["*"]
    permissionSets: [ReadOnly]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h`).replace('accounts:\n', `accounts:\n${many}\n`);
    h = await TimeboxHarness.start({ configYaml: yaml });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('an answer longer than a Slack message allows is cut to 50 blocks with a count of what is not shown, and Slack accepts it', async () => {
    const { sections } = await ask(h, 'alice', 'available');
    expect(sections).toHaveLength(50);
    // 80 + 2 accounts and the groups: 83 parts, 48 shown; the 35 left hold 37 lines (production two).
    expect(sections[49]).toBe("…and 35 more parts (37 lines) not shown: Slack limits a message's size.");
  });
});

describe('explain-audit: whocan, why and available on the Lambda path', () => {
  let aws: AwsStandIn;
  let slack: SlackStandIn;
  let lambda: SlackLambda;
  beforeAll(async () => {
    aws = await AwsStandIn.start();
    slack = await SlackStandIn.start({ users: Object.values(PEOPLE).map(({ id, name, email }) => ({ id, name, email })), token: BOT_TOKEN });
    for (const p of Object.values(PEOPLE)) aws.addUser({ userId: p.principalId, email: p.email, identityStoreId: IDENTITY_STORE_ID });
    aws.addGroup({ ...PLATFORM, identityStoreId: IDENTITY_STORE_ID });
    aws.addMembership({ groupId: PLATFORM.groupId, userId: PEOPLE.dave.principalId });
    for (const group of [DEVS, SRE]) slack.addUserGroup(group);
    lambda = await startSlackLambda(aws, slack, testConfigYaml(EXPLAIN_RULES));
  });
  afterAll(async () => {
    await lambda?.close();
    await slack?.close();
    await aws?.close();
  });

  /** The Function URL's answer to `/aws-access <text>` typed by `who`: on Lambda the answer is the ack itself. */
  async function askLambda(who: PersonName, text: string): Promise<string[]> {
    const form = new SlackRequestSender({ url: 'http://unused', signingSecret: SIGNING_SECRET }).commandForm({ userId: PEOPLE[who].id, userName: PEOPLE[who].name, text, responseUrl: slack.responseUrl({ userId: PEOPLE[who].id }) });
    const response = (await lambda.handler(functionUrlEvent(form.toString(), { signingSecret: SIGNING_SECRET }), {})) as { statusCode: number; body?: string };
    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body ?? '{}') as { response_type?: string; blocks?: Array<{ text?: { text: string } }> };
    expect(body.response_type).toBe('ephemeral');
    return (body.blocks ?? []).map((b) => b.text?.text ?? '');
  }

  test('the Slack function answers why (an Identity Center group checked over the wire), whocan and available in its ack', async () => {
    expect((await askLambda('dave', 'why staging Admin')).join('\n')).toContain('Rule "platform-staging-admin" decides: auto-approved, for up to 1h.');
    expect((await askLambda('alice', 'whocan staging Admin'))[1]).toContain('*1. devs-staging-admin (first match for @devs)*');
    expect((await askLambda('carol', 'available'))[1]).toBe(
      '*staging (111111111111)*\n• ReadOnly: auto-approved, for up to 8h (rule staging-readonly)\n• Admin: needs 1 approval (approvalsRequired: 1) from @sre, for up to 2h (rule devs-staging-admin)',
    );
  });
});
