import { auditProblems } from '../support/audit-check';
import { eventually } from '../support/eventually';
import { ACCOUNTS, INSTANCE_ARN, PEOPLE, PERMISSION_SETS, TimeboxHarness, testConfigYaml } from '../support/timebox-harness';

interface Write {
  command: string;
  input: { Key?: { sk?: unknown }; Item?: { sk?: unknown }; ConditionExpression?: string; UpdateExpression?: string };
}

/**
 * Every state change of every request is in the audit log with its actor, and the log is
 * append-only: nothing in Timebox ever updates or deletes an audit event.
 */
describe('Audit trail', () => {
  let h: TimeboxHarness;
  const writes: Write[] = [];
  const ids: string[] = [];

  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: testConfigYaml().replace('  min: 1s', '  min: 1s\n  pendingExpiry: 3s') });
    // Watch every command the store sends to DynamoDB, as a proxy between Timebox and the table would.
    h.runtime.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const name = (context as { commandName?: string }).commandName ?? 'unknown';
        if (/Put|Update|Delete|Batch|Transact/.test(name)) writes.push({ command: name, input: (args as { input: Write['input'] }).input });
        return next(args);
      },
      { step: 'initialize', name: 'auditWriteRecorder' },
    );

    // A mix of every outcome: approved and revoked, denied, refused clicks, auto-approved,
    // failed, kept because it pre-existed, expired, ended early (after a refused attempt).
    const approved = await h.file('carol', 'production Admin 2s approved one');
    await h.click('dave', 'approve', approved); // refused
    await h.click('carol', 'approve', approved); // refused: own request
    // A refusal is recorded in a write of the request, which may land just after the ack: wait for both, so the log's order is the test's.
    await eventually(async () => ((await h.audit(approved)).filter((e) => e.type === 'decision_refused').length === 2 ? true : undefined), 10_000, 'both refusals to be logged');
    await h.click('alice', 'approve', approved);
    const denied = await h.file('carol', 'production Admin 30m denied one');
    await h.click('bob', 'deny', denied);
    const auto = await h.file('dave', 'staging ReadOnly 2s auto one');
    await h.waitForStatus(approved, 'ACTIVE');
    await h.waitForStatus(auto, 'ACTIVE');
    h.aws.failNextCreation('role limit');
    const failed = await h.file('alice', 'staging ReadOnly 2s failed one');
    await h.waitForStatus(failed, 'FAILED');
    h.aws.addAssignment({ instanceArn: INSTANCE_ARN, accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.ReadOnly, principalId: PEOPLE.bob.principalId, principalType: 'USER' });
    const kept = await h.file('bob', 'staging ReadOnly 2s kept one');
    const expired = await h.file('carol', 'production ReadOnly 30m nobody decides');
    const endedEarly = await h.file('dave', 'production Admin 30m ended early one');
    await h.click('bob', 'approve', endedEarly);
    await h.waitForStatus(endedEarly, 'ACTIVE');
    await h.command('carol', `end ${endedEarly}`); // refused: neither requester nor approver
    await h.command('alice', `end ${endedEarly}`);
    ids.push(approved, denied, auto, failed, kept, expired, endedEarly);
    await h.waitForStatus(approved, 'ENDED');
    await h.waitForStatus(denied, 'DENIED');
    await h.waitForStatus(auto, 'ENDED');
    await h.waitForStatus(kept, 'ENDED');
    await h.waitForStatus(expired, 'EXPIRED', 10_000);
    await h.waitForStatus(endedEarly, 'ENDED');
    await h.runtime.queue.drain();
  });
  afterAll(async () => {
    await h.stop();
  });

  test('every request has every transition, in an order the state machine allows, each with its actor', async () => {
    for (const id of ids) {
      const request = await h.request(id);
      expect({ id, problems: auditProblems(request, await h.audit(id)) }).toEqual({ id, problems: [] });
    }
  });

  test('who did what is recorded: requester, approver, refused clickers, who ended access early, and the system', async () => {
    const [approved, denied, , , , , endedEarly] = ids;
    expect((await h.audit(approved!)).map((e) => `${e.type}:${e.actor}`)).toEqual([
      'requested:U0CAROL000',
      'decision_refused:U0DAVE0000',
      'decision_refused:U0CAROL000',
      'approved:U0ALICE000',
      'grant_started:timebox',
      'granted:timebox',
      'revoke_started:timebox',
      'revoked:timebox',
    ]);
    expect((await h.audit(denied!)).map((e) => `${e.type}:${e.actor}`)).toEqual(['requested:U0CAROL000', 'denied:U0BOB00000']);
    expect((await h.audit(endedEarly!)).map((e) => `${e.type}:${e.actor}`)).toEqual([
      'requested:U0DAVE0000',
      'approved:U0BOB00000',
      'grant_started:timebox',
      'granted:timebox',
      'end_refused:U0CAROL000',
      'ended_early:U0ALICE000',
      'revoke_started:timebox',
      'revoked:timebox',
    ]);
  });

  test('audit events are only ever appended, in the same write as the change they record: never rewritten or deleted', () => {
    const requestWrites = writes.filter((w) => String(w.input.Key?.sk ?? w.input.Item?.sk ?? '') === 'REQUEST');
    const updates = requestWrites.filter((w) => w.command === 'UpdateItemCommand');
    expect(updates.length).toBeGreaterThan(ids.length); // the log was written to
    for (const w of requestWrites) {
      if (w.command === 'PutItemCommand') expect(w.input.ConditionExpression).toBe('attribute_not_exists(pk)'); // a new request, with its first events
      else {
        expect(w.command).toBe('UpdateItemCommand');
        // The log is only appended to, and only by a write conditional on the request's version.
        expect(w.input.UpdateExpression).toContain('#log = list_append(if_not_exists(#log, :none), :appended)');
        expect(w.input.UpdateExpression?.match(/#log/g)).toHaveLength(2);
        expect(w.input.ConditionExpression).toBe('#version = :v');
      }
    }
    // Nothing writes audit events of their own any more, nor deletes a request or an event.
    expect(writes.filter((w) => String(w.input.Key?.sk ?? w.input.Item?.sk ?? '').startsWith('AUDIT#'))).toEqual([]);
    expect(writes.filter((w) => /Delete/.test(w.command) && !String(w.input.Key?.sk).startsWith('LEASE'))).toEqual([]);
  });
});
