import { AwsStandIn } from '../support/aws-stand-in';
import { functionUrlEvent } from '../support/lambda-events';
import { SlackStandIn } from '../support/slack-stand-in';
import { startSlackLambda, type LambdaHandler, type SlackLambda } from '../support/slack-lambda';
import { APPROVAL_CHANNEL, BOT_TOKEN, IDENTITY_STORE_ID, PEOPLE, SIGNING_SECRET, testConfigYaml } from '../support/timebox-harness';

const WORKER = 'timebox-worker';
const WAITER = 'timebox-sweep';
const ALERT_CHANNEL = 'C0ALERTS00';
const config = testConfigYaml(`
  - name: prod-break-glass
    accounts: [production]
    permissionSets: [Admin]
    requesters: [carol@example.com]
    approvers: [U0BOB00000]
    breakGlass: true
    reviewWithin: 2s
    maxDuration: 1h`).replace(`approvalChannel: ${APPROVAL_CHANNEL}`, `approvalChannel: ${APPROVAL_CHANNEL}\n  alertChannel: ${ALERT_CHANNEL}`);

/**
 * Break-glass on AWS: the Slack function answers in its ack, the worker (run on what the function
 * handed over, as Lambda's async invoke would) grants and alerts, and the EventBridge schedule it
 * arms brings the reminder.
 */
describe('sessions-breakglass: break-glass on the Lambda path', () => {
  let aws: AwsStandIn;
  let slack: SlackStandIn;
  let lambda: SlackLambda;
  let worker: LambdaHandler;
  let sweep: LambdaHandler;

  beforeAll(async () => {
    aws = await AwsStandIn.start({ creationPolls: 1, deletionPolls: 1 });
    slack = await SlackStandIn.start({ users: Object.values(PEOPLE).map(({ id, name, email }) => ({ id, name, email })), token: BOT_TOKEN });
    for (const p of Object.values(PEOPLE)) aws.addUser({ userId: p.principalId, email: p.email, identityStoreId: IDENTITY_STORE_ID });
    lambda = await startSlackLambda(aws, slack, config);
    worker = (await import('../../src/entrypoints/lambda/worker')).handler as LambdaHandler;
    sweep = (await import('../../src/entrypoints/lambda/sweep')).handler as LambdaHandler;
  });

  afterAll(async () => {
    await lambda.close();
    await slack.close();
    await aws.close();
  });

  const command = (text: string) =>
    new URLSearchParams({
      token: 'x', team_id: 'T0TIMEBOX', team_domain: 'timebox-test', channel_id: 'C0GENERAL0', channel_name: 'general',
      user_id: PEOPLE.carol.id, user_name: PEOPLE.carol.name, command: '/aws-access', text,
      api_app_id: 'A0TIMEBOX', response_url: slack.responseUrl({ userId: PEOPLE.carol.id }), trigger_id: `${Date.now()}.${Math.random()}`,
    }).toString();

  test('the ack says it is granted and reviewed; the worker grants it at once and alerts both channels and the approver; the schedule it arms brings the reminder', async () => {
    const filed = (await lambda.handler(functionUrlEvent(command('breakglass production Admin 30m the primary database is down, failing over'), { signingSecret: SIGNING_SECRET }))) as { statusCode: number; body?: string };
    expect(filed.statusCode).toBe(200);
    const ack = (JSON.parse(filed.body ?? '{}') as { text?: string }).text ?? '';
    expect(ack).toContain('is being granted now, without approval');
    const id = /`(R-[0-9A-Z]+)`/.exec(ack)?.[1] ?? '';

    for (const invocation of aws.takeInvocations(WORKER)) await worker(JSON.parse(invocation.payload));
    const request = await lambda.store.getRequest(id);
    expect(request?.grants.map((g) => g.status)).toEqual(['ACTIVE']);
    const about = (channel: string, text: string) => slack.messagesIn(channel).filter((m) => JSON.stringify(m.blocks ?? []).includes(id) && JSON.stringify(m.blocks ?? []).includes(text));
    expect(about(APPROVAL_CHANNEL, 'Break-glass access')).not.toHaveLength(0);
    expect(about(ALERT_CHANNEL, 'Break-glass access')).toHaveLength(1);
    expect(about(`D${PEOPLE.bob.id}`, 'Break-glass access')).toHaveLength(1);

    // The reminder is due within a minute: the schedule is for the minute after (the backup), and
    // the job is handed to the waiter (the sweep function), which waits until it is due and hands it
    // to the worker, as on AWS.
    expect(aws.schedules().some((s) => (s.input ?? '').includes(id))).toBe(true);
    const waiting = aws.takeInvocations(WAITER).filter((i) => i.payload.includes(id));
    expect(waiting).toHaveLength(1);
    expect(JSON.parse(waiting[0]!.payload)).toMatchObject({ requestId: id, notBefore: request!.review!.dueAt });
    await sweep(JSON.parse(waiting[0]!.payload));
    for (const invocation of aws.takeInvocations(WORKER)) await worker(JSON.parse(invocation.payload));
    expect(about(APPROVAL_CHANNEL, 'not reviewed yet')).toHaveLength(1);
    expect(about(ALERT_CHANNEL, 'not reviewed yet')).toHaveLength(1);
    expect(about(`D${PEOPLE.bob.id}`, 'not reviewed yet')).toHaveLength(1);
    // ...and the request's schedule is armed again, for what comes next: the warning before the
    // window's end (its Extend button; durations.extendWarning), then the end itself.
    const next = aws.schedules().find((s) => (s.input ?? '').includes(id));
    expect(JSON.parse(next!.input!)).toMatchObject({ requestId: id, notBefore: request!.grants[0]!.endsAt! - (request!.extendWarningMs ?? 0) });
  });
});
