/**
 * `npm run demo`: the real Timebox process (Bolt over signed HTTP, dynalite, real AWS SDK
 * clients) against local stand-ins for Slack and AWS. Plays request → approve → active →
 * automatic revoke and prints what people see in Slack and which AWS calls were made.
 */
import type { AwsCall } from '../test/support/aws-stand-in';
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

    say(`@carol types: /aws-access production Admin ${WINDOW} investigating INC-4711`);
    const { text } = await h.command('carol', `production Admin ${WINDOW} investigating INC-4711`);
    console.log(box('only visible to @carol', [readable(text)]));
    const id = /`(R-[0-9A-Z]{10})`/.exec(text)?.[1];
    if (!id) throw new Error(`request was not filed: ${text}`);

    const posted = await h.approvalMessage(id);
    say('Timebox posts to #aws-approvals:');
    showChannel(posted.ts);

    say('@dave (not an approver) clicks Approve:');
    console.log(box('only visible to @dave', [readable(await h.nextEphemeral('dave', () => h.click('dave', 'approve', id)))]));

    say('@alice (an approver) clicks Approve.');
    await h.click('alice', 'approve', id);
    const active = await h.waitForStatus(id, 'ACTIVE');
    await h.slack.waitFor(() => h.dmTextsTo('carol').length > 0, 5000, 'the DM');
    showAws();
    say('The channel message is updated:');
    showChannel(posted.ts);
    console.log(box('DM to @carol', h.dmTextsTo('carol').map(readable)));

    say(`Access window runs until ${new Date(active.endsAt ?? 0).toISOString()}; waiting for Timebox to revoke it on its own…`);
    await h.waitForStatus(id, 'ENDED', 30_000);
    await h.slack.waitFor(() => h.dmTextsTo('carol').length > 1, 5000, 'the ended DM');
    showAws();
    say('The channel message is updated:');
    showChannel(posted.ts);
    console.log(box('DM to @carol', h.dmTextsTo('carol').slice(1).map(readable)));

    const stillAssigned = h.hasAssignment('carol', 'production', 'Admin');
    say(`Identity Center now has the assignment: ${stillAssigned ? 'YES (this is a bug)' : 'no (removed)'}`);
    const audit = await h.audit(id);
    console.log(box(`Audit log for ${id}`, audit.map((e) => `${new Date(e.at).toISOString().slice(11, 23)}  ${e.type.padEnd(17)} by ${e.actor}${e.detail ? `  (${e.detail})` : ''}`)));
    if (stillAssigned) throw new Error('the assignment was not removed');
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
