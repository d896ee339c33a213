import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDbStore } from '../../src/adapters/dynamodb/dynamodb-store';
import { startEmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import type { AuditEvent } from '../../src/domain/audit';
import { findRequestId } from '../../src/domain/request-id';
import { AwsStandIn } from '../support/aws-stand-in';
import { SlackRequestSender } from '../support/slack-requests';
import { SlackStandIn } from '../support/slack-stand-in';
import { TimeboxChild, childEnv } from '../support/timebox-child-process';
import { denyStatement, sessionDenySid, timeboxStatements } from '../../src/domain/session-deny';
import { eventually } from '../support/eventually';
import { ACCOUNTS, APPROVAL_CHANNEL, BOT_TOKEN, IDENTITY_STORE_ID, INSTANCE_ARN, PEOPLE, PERMISSION_SETS, SIGNING_SECRET, TimeboxHarness, testConfigYaml, type PersonName } from '../support/timebox-harness';

/** Staging Admin is granted at once and, when it ends, the sessions already issued are ended too. */
const END_SESSIONS_RULE = `
  - name: staging-admin-ends-sessions
    accounts: [staging]
    permissionSets: [Admin]
    requesters: [carol@example.com, alice@example.com, bob@example.com, dave@example.com]
    autoApprove: true
    maxDuration: 1h
    endSessions: true`;

const ADMIN = PERMISSION_SETS.Admin;
const HOUR = 3_600_000;

describe('sessions-breakglass: ending sessions already issued', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({
      configYaml: testConfigYaml(END_SESSIONS_RULE),
      beforeStart: (aws) => {
        aws.addPermissionSet({ permissionSetArn: ADMIN, name: 'Admin', sessionDuration: 'PT1H' });
        aws.addPermissionSet({ permissionSetArn: PERMISSION_SETS.ReadOnly, name: 'ReadOnly', sessionDuration: 'PT8H' });
      },
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  const sid = (who: PersonName) => sessionDenySid({ userId: PEOPLE[who].principalId, accountId: ACCOUNTS.staging });
  const statementOf = (who: PersonName, policy = h.aws.inlinePolicy(ADMIN)): Record<string, unknown> | undefined =>
    ((policy ? (JSON.parse(policy) as { Statement: Array<Record<string, unknown>> }).Statement : []) ?? []).find((s) => s.Sid === sid(who));
  const typesOf = (events: AuditEvent[]) => events.map((e) => e.type);

  async function activeAdmin(who: PersonName, duration = '30m'): Promise<string> {
    const id = await h.file(who, `staging Admin ${duration} checking the deploy`);
    await h.waitForStatus(id, 'ACTIVE');
    return id;
  }

  /** Waits until the request's audit trail has `type`. */
  const audited = (id: string, type: AuditEvent['type']) =>
    eventually(async () => (await h.audit(id)).find((e) => e.type === type), 10_000, `${id} to be audited as ${type}`);

  const endNow = async (who: PersonName, id: string) => {
    await h.command(who, `end ${id}`);
    return h.waitForStatus(id, 'ENDED');
  };

  test('a window that runs out: the assignment goes, then a deny for sessions issued before the end is written, provisioned, audited, and told in the DM and the channel', async () => {
    const id = await activeAdmin('carol', '2s');
    const ended = await h.waitForStatus(id, 'ENDED');
    expect(h.hasAssignment('carol', 'staging', 'Admin')).toBe(false);
    const event = await audited(id, 'sessions_ended');
    expect(event.grantId).toBe('1');
    const stored = (await h.runtime.deps.store.getRequest(id))!;
    expect(stored.sessionEnds).toEqual([expect.objectContaining({ grantId: '1', before: ended.endedAt, doneAt: expect.any(Number) })]);

    expect(statementOf('carol')).toEqual(denyStatement({ userId: PEOPLE.carol.principalId, accountId: ACCOUNTS.staging, before: ended.endedAt! }));
    expect(statementOf('carol')).toMatchObject({
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { StringEquals: { 'identitystore:UserId': PEOPLE.carol.principalId, 'aws:PrincipalAccount': ACCOUNTS.staging }, DateLessThan: { 'aws:TokenIssueTime': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) } },
    });
    // Provisioned to every account the permission set is in, and in force there.
    expect(statementOf('carol', h.aws.provisionedPolicy(ADMIN))).toBeDefined();
    expect(h.aws.callsTo('ProvisionPermissionSet').at(-1)?.input).toEqual({ InstanceArn: INSTANCE_ARN, PermissionSetArn: ADMIN, TargetType: 'ALL_PROVISIONED_ACCOUNTS' });
    // The revoke came first: the assignment's deletion is in the log before any policy call.
    const order = h.aws.calls.filter((c) => ['DeleteAccountAssignment', 'PutInlinePolicyToPermissionSet'].includes(c.operation)).map((c) => c.operation);
    expect(order.slice(-2)).toEqual(['DeleteAccountAssignment', 'PutInlinePolicyToPermissionSet']);
    expect(typesOf(await h.audit(id)).slice(-3)).toEqual(['revoke_started', 'revoked', 'sessions_ended']);

    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('Open AWS sessions were ended at <!date^')), 5000, 'the DM saying the sessions were ended');
    await h.slack.waitFor(
      () => h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.text?.includes(id) && JSON.stringify(m.blocks).includes('Open AWS sessions were ended at')),
      5000,
      'the channel message saying the sessions were ended',
    );
  });

  test('End access now: the deny is cut at the moment of the early end, not the window planned', async () => {
    const id = await activeAdmin('alice');
    const planned = (await h.request(id)).endsAt!;
    const dm = await h.activeDm('alice', id);
    await h.clickEnd('alice', id, dm);
    const ended = await h.waitForStatus(id, 'ENDED');
    await audited(id, 'sessions_ended');
    const cut = Date.parse(((statementOf('alice')?.Condition as Record<string, Record<string, string>>).DateLessThan!)['aws:TokenIssueTime']!);
    // The removal's own moment, rounded up to the whole second IAM compares in.
    expect(cut).toBeGreaterThanOrEqual(ended.endedAt!);
    expect(cut - ended.endedAt!).toBeLessThan(1000);
    expect(cut).toBeLessThan(planned - 25 * 60_000);
  });

  test('an assignment that was there before Timebox is kept, and no deny is added: the sessions it still allows stay open', async () => {
    h.aws.addAssignment({ instanceArn: INSTANCE_ARN, accountId: ACCOUNTS.staging, permissionSetArn: ADMIN, principalId: PEOPLE.dave.principalId, principalType: 'USER' });
    const puts = h.aws.callsTo('PutInlinePolicyToPermissionSet').length;
    const id = await activeAdmin('dave');
    const ended = await endNow('dave', id);
    expect(ended.keptBecause).toBeDefined();
    expect(h.hasAssignment('dave', 'staging', 'Admin')).toBe(true);
    // The decision is written with the end: no step to end sessions, now or later.
    expect((await h.runtime.deps.store.getRequest(id))?.sessionEnds).toBeUndefined();
    await h.slack.waitFor(() => h.dmTextsTo('dave').find((t) => t.includes(id) && t.includes('Sessions already open last until their own expiry')), 5000, 'the ended DM');
    expect(h.aws.callsTo('PutInlinePolicyToPermissionSet').length).toBe(puts);
    expect(statementOf('dave')).toBeUndefined();
    h.aws.removeAssignment({ instanceArn: INSTANCE_ARN, accountId: ACCOUNTS.staging, permissionSetArn: ADMIN, principalId: PEOPLE.dave.principalId });
  });

  test('an assignment another grant still holds is kept without a deny; the last holder\'s end adds it', async () => {
    const first = await activeAdmin('bob');
    const second = await activeAdmin('bob');
    const ended = await endNow('bob', first);
    expect(ended.keptBecause).toBeDefined();
    expect((await h.runtime.deps.store.getRequest(first))?.sessionEnds).toBeUndefined();
    expect(statementOf('bob')).toBeUndefined();
    const last = await endNow('bob', second);
    await audited(second, 'sessions_ended');
    expect(h.hasAssignment('bob', 'staging', 'Admin')).toBe(false);
    expect(statementOf('bob')).toEqual(denyStatement({ userId: PEOPLE.bob.principalId, accountId: ACCOUNTS.staging, before: last.endedAt! }));
  });

  test("an admin's own statements are kept byte for byte, formatting and all; Timebox only adds its own", async () => {
    const admin = `{
    "Version" : "2012-10-17",
  "Statement":[
      {"Sid":"AllowLogs","Effect":"Allow","Action":["logs:Get*", "logs:Describe*"],"Resource":"*"},
      { "Effect": "Deny", "Action": "iam:DeleteRole", "Resource": "*" }
  ]  }`;
    h.aws.setInlinePolicy(ADMIN, admin);
    const id = await activeAdmin('carol');
    await endNow('carol', id);
    await audited(id, 'sessions_ended');
    const policy = h.aws.inlinePolicy(ADMIN)!;
    expect(policy.startsWith('{\n    "Version" : "2012-10-17",\n  "Statement":[{"Sid":"AllowLogs","Effect":"Allow","Action":["logs:Get*", "logs:Describe*"],"Resource":"*"},{ "Effect": "Deny", "Action": "iam:DeleteRole", "Resource": "*" },')).toBe(true);
    expect(policy.endsWith(']  }')).toBe(true);
    expect(timeboxStatements(policy).map((s) => s.sid)).toEqual([sid('carol')]);
  });

  test('Timebox statements older than the permission set\'s SessionDuration are pruned; younger ones stay', async () => {
    const now = Date.now();
    const old = denyStatement({ userId: PEOPLE.dave.principalId, accountId: ACCOUNTS.production, before: now - HOUR - 60_000 });
    const young = denyStatement({ userId: PEOPLE.bob.principalId, accountId: ACCOUNTS.production, before: now - 10 * 60_000 });
    h.aws.setInlinePolicy(ADMIN, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:List*', Resource: '*' }, old, young] }));
    const id = await activeAdmin('alice');
    await endNow('alice', id);
    const event = await audited(id, 'sessions_ended');
    expect(event.detail).toContain('1 expired statement(s) pruned');
    const sids = timeboxStatements(h.aws.inlinePolicy(ADMIN)).map((s) => s.sid);
    expect(sids).not.toContain(old.Sid);
    expect(sids).toEqual([young.Sid, sid('alice')]);
  });

  test('at the 32,768-character limit the oldest Timebox statements go first, an alert is posted, and the admin\'s statements are untouched', async () => {
    const now = Date.now();
    const older = denyStatement({ userId: PEOPLE.dave.principalId, accountId: ACCOUNTS.production, before: now - 20 * 60_000 });
    const newer = denyStatement({ userId: PEOPLE.bob.principalId, accountId: ACCOUNTS.production, before: now - 10 * 60_000 });
    const bulky = { Sid: 'AdminBulk', Effect: 'Deny', Action: 'ec2:TerminateInstances', Resource: Array.from({ length: 400 }, (_, i) => `arn:aws:ec2:*:*:instance/i-${String(i).padStart(17, '0')}`) };
    const base = JSON.stringify({ Version: '2012-10-17', Statement: [bulky, older, newer] });
    // Room for the admin's statement and two of Timebox's, not three.
    const pad = 32_768 - base.length - JSON.stringify(older).length + 150;
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ ...bulky, Condition: { StringNotEquals: { 'aws:PrincipalTag/pad': 'x'.repeat(pad) } } }, older, newer] });
    expect(policy.length).toBeLessThanOrEqual(32_768);
    const adminRaw = JSON.stringify({ ...bulky, Condition: { StringNotEquals: { 'aws:PrincipalTag/pad': 'x'.repeat(pad) } } });
    h.aws.setInlinePolicy(ADMIN, policy);
    const id = await activeAdmin('carol');
    await endNow('carol', id);
    const event = await audited(id, 'sessions_ended');
    expect(event.detail).toContain('1 dropped for the size limit');
    const written = h.aws.inlinePolicy(ADMIN)!;
    expect(written.length).toBeLessThanOrEqual(32_768);
    expect(written).toContain(adminRaw);
    expect(timeboxStatements(written).map((s) => s.sid)).toEqual([newer.Sid, sid('carol')]);
    await h.slack.waitFor(() => h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.text?.includes("AWS's 32,768-character limit") && m.text.includes(older.Sid as string)), 5000, 'the size-limit alert');
  });

  test('an admin policy that leaves no room: nothing is written, an alert names the problem, and the step keeps being retried', async () => {
    const full = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Full', Effect: 'Allow', Action: 's3:Get*', Resource: 'x'.repeat(32_600) }] });
    h.aws.setInlinePolicy(ADMIN, full);
    const id = await activeAdmin('dave');
    await endNow('dave', id);
    const failed = await audited(id, 'sessions_end_failed');
    expect(failed.detail).toContain('has no room for the deny');
    await h.slack.waitFor(() => h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.text?.includes('could not end the open AWS sessions') && m.text.includes(id)), 5000, 'the no-room alert');
    expect(h.aws.inlinePolicy(ADMIN)).toBe(full);
    // Room is made: the retry gets through.
    h.aws.setInlinePolicy(ADMIN, JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Small', Effect: 'Allow', Action: 's3:Get*', Resource: '*' }] }));
    await audited(id, 'sessions_ended');
    expect(statementOf('dave')).toBeDefined();
  });

  test('provisioning FAILED: recorded as sessions_end_failed and retried until it succeeds; the deny is then in force', async () => {
    h.aws.failNextProvisioning('Received a 404 status error: Not supported policy.');
    const id = await activeAdmin('bob');
    await endNow('bob', id);
    const failed = await audited(id, 'sessions_end_failed');
    expect(failed.detail).toContain('provisioning Admin FAILED: Received a 404 status error');
    await audited(id, 'sessions_ended');
    expect(statementOf('bob', h.aws.provisionedPolicy(ADMIN))).toBeDefined();
    expect(typesOf(await h.audit(id)).slice(-3)).toEqual(['revoked', 'sessions_end_failed', 'sessions_ended']);
  });

  test('the revoke is never held up: while ProvisionPermissionSet hangs, the assignment is gone, the grant ENDED and the requester told', async () => {
    const held = h.aws.hold('ProvisionPermissionSet');
    const id = await activeAdmin('alice');
    await h.command('alice', `end ${id}`);
    await held.arrived;
    expect(h.hasAssignment('alice', 'staging', 'Admin')).toBe(false);
    expect((await h.request(id)).status).toBe('ENDED');
    await h.slack.waitFor(() => h.dmTextsTo('alice').find((t) => t.includes(id) && t.includes('was ended early by you') && t.includes('Open AWS sessions are being ended')), 5000, 'the ended DM while provisioning hangs');
    expect((await h.audit(id)).some((e) => e.type === 'sessions_ended')).toBe(false);
    held.release();
    await audited(id, 'sessions_ended');
  });

  test('a crash between the policy write and the provisioning (SIGKILL): the restarted process provisions it, and the sessions end once', async () => {
    const aws = await AwsStandIn.start({ creationPolls: 1, deletionPolls: 1 });
    const slack = await SlackStandIn.start({ users: Object.values(PEOPLE).map(({ id, name, email }) => ({ id, name, email })), token: BOT_TOKEN });
    const dir = mkdtempSync(join(tmpdir(), 'timebox-end-sessions-crash-'));
    const children: TimeboxChild[] = [];
    try {
      for (const p of Object.values(PEOPLE)) aws.addUser({ userId: p.principalId, email: p.email, identityStoreId: IDENTITY_STORE_ID });
      aws.addPermissionSet({ permissionSetArn: ADMIN, name: 'Admin', sessionDuration: 'PT1H' });
      const configPath = join(dir, 'timebox.yaml');
      writeFileSync(configPath, testConfigYaml(END_SESSIONS_RULE));
      const env = childEnv({ aws, slack, configPath, dataDir: join(dir, 'data'), knobs: { claimMs: 1500, sweepIntervalMs: 500, pollDelaysMs: [20, 40, 80], pollBudgetMs: 5_000, leasePollMs: 20, revokeRetryMs: 200, newsRetryMs: 200 } });
      const start = async () => {
        const { child, url } = await TimeboxChild.start(env);
        children.push(child);
        return { child, sender: new SlackRequestSender({ url: `${url}/slack/events`, signingSecret: SIGNING_SECRET, answers: slack }) };
      };
      const carol = PEOPLE.carol;
      const command = async (sender: SlackRequestSender, text: string) => {
        const response = await sender.command({ userId: carol.id, userName: carol.name, text, channelId: 'C0GENERAL0', responseUrl: slack.responseUrl({ userId: carol.id, channelId: 'C0GENERAL0' }) });
        return (JSON.parse(response.body) as { text?: string }).text ?? '';
      };
      const dms = () => slack.dmsTo(carol.id).map((m) => m.history[0]?.text ?? m.text ?? '');

      const first = await start();
      const id = findRequestId(await command(first.sender, 'staging Admin 30m crash between write and provisioning'));
      if (!id) throw new Error('no request id');
      await slack.waitFor(() => dms().find((t) => t.includes(id) && t.includes('is active until')), 10_000, 'the active DM');
      // Killed as the policy write arrives: AWS stores it, the process never learns it did, and no provisioning is sent.
      aws.onCall((call) => {
        if (call.operation === 'PutInlinePolicyToPermissionSet' && first.child.running) first.child.kill();
      });
      await command(first.sender, `end ${id}`);
      await first.child.exited;
      expect(aws.hasAssignment({ instanceArn: INSTANCE_ARN, accountId: ACCOUNTS.staging, permissionSetArn: ADMIN, principalId: carol.principalId })).toBe(false);
      expect(statementOf('carol', aws.inlinePolicy(ADMIN))).toBeDefined();
      expect(aws.callsTo('ProvisionPermissionSet')).toHaveLength(0);
      expect(aws.provisionedPolicy(ADMIN)).toBeUndefined();

      const second = await start();
      await slack.waitFor(() => dms().find((t) => t.includes(id) && t.includes('Open AWS sessions were ended at')), 15_000, 'the DM saying the sessions were ended');
      expect(statementOf('carol', aws.provisionedPolicy(ADMIN))).toBeDefined();
      expect(timeboxStatements(aws.inlinePolicy(ADMIN)).map((x) => x.sid)).toEqual([sid('carol')]);
      await second.child.stop();

      const db = await startEmbeddedDynamoDb(join(dir, 'data'));
      try {
        const store = new DynamoDbStore(db.client, db.tableName);
        const events = (await store.listAudit(id)).map((e) => e.type);
        expect(events.filter((t) => t === 'sessions_ended')).toHaveLength(1);
        expect(events.slice(-2)).toEqual(['revoked', 'sessions_ended']);
        expect((await store.getRequest(id))?.sessionEnds?.[0]?.doneAt).toEqual(expect.any(Number));
      } finally {
        await db.close();
      }
    } finally {
      for (const c of children) c.kill();
      await Promise.all(children.map((c) => c.exited));
      await slack.close();
      await aws.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
