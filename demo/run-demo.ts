/**
 * `npm run demo`: the real Timebox process (Bolt over signed HTTP, dynalite, real AWS SDK
 * clients) against local stand-ins for Slack and AWS. Plays a two-account request (one grant
 * auto-approved, one approved by a person) through to its automatic revoke, and a temporary group
 * membership that is extended, shown on App Home and ended early from there; prints what people
 * see in Slack and which AWS calls were made.
 */
import type { AwsCall } from '../test/support/aws-stand-in';
import { appHomeOpenedBody, homeClickBody } from '../test/support/home-tab';
import { APPROVAL_CHANNEL, PEOPLE, TimeboxHarness } from '../test/support/timebox-harness';
import { box, knowPerson, readable, renderBlocks } from './transcript';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const WINDOW = '10s';
const started = Date.now();
const clock = () => `+${((Date.now() - started) / 1000).toFixed(1).padStart(4)}s`;
const say = (text: string) => console.log(`\n${clock()}  ${text}`);

function awsLine(call: AwsCall): string {
  const input = call.input as Record<string, string | undefined>;
  switch (call.operation) {
    case 'GetUserId':
      return `identitystore:GetUserId(emails.value=${JSON.stringify((input as unknown as { AlternateIdentifier: { UniqueAttribute: { AttributeValue: string } } }).AlternateIdentifier.UniqueAttribute.AttributeValue)})`;
    case 'ListAccountAssignments':
      return `sso:ListAccountAssignments(account=${input.AccountId}, permissionSet=…${input.PermissionSetArn?.slice(-19)})`;
    case 'CreateAccountAssignment':
    case 'DeleteAccountAssignment':
      return `sso:${call.operation}(account=${input.TargetId}, permissionSet=…${input.PermissionSetArn?.slice(-19)}, user=${input.PrincipalId})`;
    case 'GetGroupMembershipId':
    case 'CreateGroupMembership':
      return `identitystore:${call.operation}(group=${input.GroupId}, user=${(input as unknown as { MemberId?: { UserId?: string } }).MemberId?.UserId})`;
    case 'DeleteGroupMembership':
      return `identitystore:DeleteGroupMembership(membership=${input.MembershipId})`;
    default:
      return `sso:${call.operation}`;
  }
}

async function main(): Promise<void> {
  const h = await TimeboxHarness.start();
  for (const p of Object.values(PEOPLE)) knowPerson(p.id, p.name);
  let awsSeen = 0;
  const showAws = () => {
    const calls = h.aws.calls.slice(awsSeen);
    awsSeen = h.aws.calls.length;
    if (calls.length > 0) console.log(box('AWS calls made by Timebox', calls.map(awsLine)));
  };
  const showChannel = (ts: string) => {
    const message = h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.ts === ts);
    console.log(box('#aws-approvals', renderBlocks(message?.blocks, message?.text)));
  };
  try {
    console.log('Timebox demo: the real app, with Slack and AWS played by local stand-ins.');
    console.log(`Rules: ${h.runtime.deps.policy.rules.map((r) => `${r.name} (${r.autoApprove ? 'auto-approve' : `approvers: ${r.approvers.join(', ')}`})`).join('; ')}`);

    say(`@carol types: /aws-access staging,production ReadOnly ${WINDOW} investigating INC-4711`);
    const { text } = await h.command('carol', `staging,production ReadOnly ${WINDOW} investigating INC-4711`);
    console.log(box('only visible to @carol', [readable(text)]));
    const id = /`(R-[0-9A-Z]{10})`/.exec(text)?.[1];
    if (!id) throw new Error(`request was not filed: ${text}`);

    const posted = await h.approvalMessage(id);
    await h.waitForGrants(id, ['ACTIVE', 'PENDING']);
    say('Two grants: staging is auto-approved and already active; production waits in #aws-approvals:');
    showAws();
    showChannel(posted.ts);

    say('@dave (not an approver) clicks Approve:');
    console.log(box('only visible to @dave', [readable(await h.nextEphemeral('dave', () => h.click('dave', 'approve', id)))]));

    say('@alice (an approver) clicks Approve.');
    await h.click('alice', 'approve', id);
    const active = await h.waitForGrants(id, ['ACTIVE', 'ACTIVE']).then(() => h.request(id));
    await h.slack.waitFor(() => h.dmTextsTo('carol').some((t) => t.includes('2 of 2 active')), 5000, 'the DM');
    showAws();
    say('The channel message is updated:');
    showChannel(posted.ts);
    console.log(box('DM to @carol', h.dmTextsTo('carol').flatMap((t) => readable(t).split('\n'))));

    say(`@carol also types: /aws-access group oncall ${WINDOW} paging duty`);
    const { text: groupText } = await h.command('carol', `group oncall ${WINDOW} paging duty`);
    console.log(box('only visible to @carol', [readable(groupText)]));
    const groupId = /`(R-[0-9A-Z]{10})`/.exec(groupText)?.[1];
    if (!groupId) throw new Error(`group request was not filed: ${groupText}`);
    await h.waitForStatus(groupId, 'ACTIVE');
    showAws();
    say(`Identity Center says carol is in group oncall: ${h.isMember('carol', 'oncall') ? 'yes' : 'NO (this is a bug)'}`);

    const groupEnd = (await h.request(groupId)).endsAt ?? 0;
    say(`@carol needs the membership longer: /aws-access extend ${groupId} 20s paging runs long`);
    const { text: extendText } = await h.command('carol', `extend ${groupId} 20s paging runs long`);
    console.log(box('only visible to @carol', [readable(extendText)]));
    await h.slack.waitFor(async () => ((await h.request(groupId)).endsAt ?? 0) > groupEnd || undefined, 10_000, 'the window to move');
    const movedTo = (await h.request(groupId)).endsAt ?? 0;
    say(`The same membership now ends at ${new Date(movedTo).toISOString().slice(11, 19)} instead of ${new Date(groupEnd).toISOString().slice(11, 19)}: no second membership, no gap.`);
    showAws();

    say("@carol opens the Timebox app's Home tab:");
    await h.settled();
    const homesBefore = h.slack.homePublishCount(PEOPLE.carol.id);
    await h.sender.raw(appHomeOpenedBody(PEOPLE.carol.id), { contentType: 'application/json' });
    const home = await h.slack.waitFor(() => (h.slack.homePublishCount(PEOPLE.carol.id) > homesBefore ? h.slack.homeOf(PEOPLE.carol.id)?.blocks : undefined), 5000, "carol's Home");
    console.log(box('Home tab of @carol', renderBlocks(home)));

    say('The incident is over early: @carol clicks "End access now" next to the oncall membership on her Home.');
    await h.sender.raw(homeClickBody(PEOPLE.carol, 'timebox_end', groupId, home));
    await h.waitForStatus(groupId, 'ENDED', 10_000);
    showAws();
    say(`Identity Center says carol is in group oncall: ${h.isMember('carol', 'oncall') ? 'YES (this is a bug)' : 'no (removed at once)'}`);

    const ends = active.grants.map((g) => new Date(g.endsAt ?? 0).toISOString().slice(11, 19)).join(' and ');
    say(`The windows run until ${ends} (each from its own grant); waiting for Timebox to revoke them on its own…`);
    await h.waitForStatus(id, 'ENDED', 30_000);
    await h.slack.waitFor(() => h.dmTextsTo('carol').some((t) => t.includes('2 of 2 ended')), 5000, 'the ended DM');
    showAws();
    say('The channel message is updated:');
    showChannel(posted.ts);
    console.log(box('DMs to @carol', h.dmTextsTo('carol').slice(1).flatMap((t) => readable(t).split('\n'))));

    const stillAssigned = h.hasAssignment('carol', 'production', 'ReadOnly') || h.hasAssignment('carol', 'staging', 'ReadOnly');
    const stillMember = h.isMember('carol', 'oncall');
    say(`Identity Center now has the assignments: ${stillAssigned ? 'YES (this is a bug)' : 'no (removed)'}; the membership: ${stillMember ? 'YES (this is a bug)' : 'no (removed)'}`);
    const audit = await h.audit(id);
    console.log(box(`Audit log for ${id}`, audit.map((e) => `${new Date(e.at).toISOString().slice(11, 23)}  ${e.grantId ? `grant ${e.grantId}` : "request"}  ${e.type.padEnd(17)} by ${e.actor}${e.detail ? `  (${e.detail})` : ''}`)));
    if (stillAssigned || stillMember) throw new Error('access was not removed');
    say(`Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } finally {
    await h.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
