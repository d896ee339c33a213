import { advanceRequest } from '../../src/app/advance-request';
import { findRequestId } from '../../src/domain/request-id';
import { eventually } from '../support/eventually';
import { APPROVAL_CHANNEL, PEOPLE, REVOKED_WITHIN_MS, TimeboxHarness, buttonClick, testConfigYaml } from '../support/timebox-harness';

/** The warning comes this long before a window ends (durations.extendWarning). */
const WARNING_MS = 4_000;

const CONFIG = testConfigYaml(`
  - name: staging-admin-once
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h
    maxExtensions: 1`).replace('  min: 1s\n', `  min: 1s\n  extendWarning: ${WARNING_MS / 1000}s\n`);

/** Extend, with a warning before the end (daily-use item 3): the same window lasts longer, decided like a request. */
describe('daily-use: extend', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: CONFIG });
  });
  afterAll(async () => {
    await h.stop();
  });

  const endsAt = async (id: string) => (await h.runtime.deps.store.getRequest(id))!.grants[0]!.endsAt!;
  /** The assignment calls the AWS stand-in saw for one person's account (Create and Delete). */
  const assignmentCalls = (who: keyof typeof PEOPLE) =>
    [...h.aws.callsTo('CreateAccountAssignment'), ...h.aws.callsTo('DeleteAccountAssignment')].filter((c) => JSON.stringify(c.input).includes(PEOPLE[who].principalId));

  async function extend(who: keyof typeof PEOPLE, text: string): Promise<{ text: string; id: string | undefined }> {
    const { text: reply } = await h.command(who, `extend ${text}`);
    return { text: reply, id: findRequestId(reply.replace(/of `R-[^`]+`/, '')) };
  }

  test('an extension the rule auto-approves moves the end of the same window: no second assignment, no removal, and the original end passes with access still there', async () => {
    const id = await h.file('dave', 'staging ReadOnly 8s auto extended');
    const active = await h.waitForStatus(id, 'ACTIVE');
    const before = active.endsAt!;

    const reply = await extend('dave', `${id} 1m still debugging`);
    expect(reply.text).toContain('was approved automatically');
    expect(reply.text).toContain(`of \`${id}\``);
    const extensionId = reply.id!;
    const applied = await h.waitForStatus(extensionId, 'APPLIED');
    expect(await endsAt(id)).toBe(before + 60_000);
    expect(applied.endsAt).toBe(before + 60_000);

    // The original end passes: the window goes on, the assignment was never removed and re-created.
    await eventually(async () => Date.now() > before + 500, 15_000, 'the original end to pass');
    await h.runtime.sweep();
    expect(await h.request(id)).toMatchObject({ status: 'ACTIVE' });
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);
    expect(assignmentCalls('dave').map((c) => c.operation)).toEqual(['CreateAccountAssignment']);

    const audit = await h.audit(id);
    expect(audit.filter((e) => e.type === 'extended').map((e) => e.detail)).toEqual([expect.stringContaining(`by ${extensionId} (1m more)`)]);
    expect((await h.audit(extensionId)).map((e) => e.type)).toEqual(['requested', 'auto_approved', 'extended']);
    await h.slack.waitFor(() => h.dmTextsTo('dave').find((t) => t.includes(extensionId) && t.includes('is extended by 1m, until')), 5000, 'the extended DM');

    await h.command('dave', `end ${id}`);
    await h.waitForStatus(id, 'ENDED');
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
  });

  test('an extension under a rule with approvers is posted for approval showing the original; approved, the window ends later', async () => {
    const id = await h.file('carol', 'production Admin 20s needs approval');
    await h.click('alice', 'approve', id);
    const before = (await h.waitForStatus(id, 'ACTIVE')).endsAt!;

    const reply = await extend('carol', `${id} 10m hotfix takes longer`);
    expect(reply.text).toContain(`is waiting for approval in <#${APPROVAL_CHANNEL}>`);
    const extensionId = reply.id!;
    const message = await h.approvalMessage(extensionId);
    const shown = JSON.stringify(message.blocks);
    expect(shown).toContain('AWS access extension');
    expect(shown).toContain(`Extends request \`${id}\``);
    expect(shown).toContain('Waiting for approval');
    expect(await endsAt(id)).toBe(before);

    await h.click('bob', 'approve', extensionId);
    await h.waitForStatus(extensionId, 'APPLIED');
    expect(await endsAt(id)).toBe(before + 10 * 60_000);
    expect(assignmentCalls('carol').map((c) => c.operation)).toEqual(['CreateAccountAssignment']);
    await h.slack.waitFor(
      () => JSON.stringify(h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.ts === message.ts)?.blocks ?? []).includes('Extended: the window now ends'),
      5000,
      'the extension message to show it applied',
    );
    // The original's own message moves with it: active until the new end.
    const originalMessage = await h.approvalMessage(id);
    const newEnd = `<!date^${Math.floor((before + 10 * 60_000) / 1000)}^`;
    await h.slack.waitFor(
      () => JSON.stringify(h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.ts === originalMessage.ts)?.blocks ?? []).includes(`Active until ${newEnd}`),
      5000,
      "the original's message to show the new end",
    );
    await h.command('carol', `end ${id}`);
    await h.waitForStatus(id, 'ENDED');
  });

  test('a two-grant request extended: each grant is decided under its own rule again; the auto-approved one moves at once, the other on approval', async () => {
    const id = await h.file('dave', 'staging,production ReadOnly 30s two windows');
    await h.click('alice', 'approve', id);
    await h.waitForGrants(id, ['ACTIVE', 'ACTIVE']);
    const before = (await h.runtime.deps.store.getRequest(id))!.grants.map((g) => g.endsAt!);

    const reply = await extend('dave', `${id} 5m both please`);
    const extensionId = reply.id!;
    await h.waitForGrants(extensionId, ['APPLIED', 'PENDING']);
    expect((await h.runtime.deps.store.getRequest(id))!.grants.map((g) => g.endsAt)).toEqual([before[0]! + 5 * 60_000, before[1]]);
    await h.click('bob', 'approve', extensionId);
    await h.waitForGrants(extensionId, ['APPLIED', 'APPLIED']);
    expect((await h.runtime.deps.store.getRequest(id))!.grants.map((g) => g.endsAt)).toEqual(before.map((e) => e + 5 * 60_000));
    expect((await h.audit(id)).filter((e) => e.type === 'extended').map((e) => e.grantId)).toEqual(['1', '2']);
    await h.command('dave', `end ${id}`);
    await h.waitForStatus(id, 'ENDED');
  });

  test('an extension nobody approves before the window ends expires, and the access ends on time', async () => {
    const id = await h.file('carol', 'production ReadOnly 5s nobody will approve');
    await h.click('alice', 'approve', id);
    const before = (await h.waitForStatus(id, 'ACTIVE')).endsAt!;
    const reply = await extend('carol', `${id} 30m please`);
    const extensionId = reply.id!;
    expect((await h.request(extensionId)).status).toBe('PENDING');
    const pendingMessage = structuredClone(await h.approvalMessage(extensionId));

    const ended = await h.waitForStatus(id, 'ENDED');
    expect(ended.endedAt! - before).toBeLessThan(REVOKED_WITHIN_MS);
    expect(ended.endsAt).toBe(before);
    expect(h.hasAssignment('carol', 'production', 'ReadOnly')).toBe(false);
    await h.waitForStatus(extensionId, 'EXPIRED');
    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(extensionId) && t.includes('was not approved before the window ended')), 5000, 'the expired DM');
    // An approval after the end (on the message as it was while pending) changes nothing.
    const late = await h.nextEphemeral('alice', () => h.click('alice', 'approve', extensionId, pendingMessage));
    expect(late).toContain('expired');
    expect((await h.request(id)).endsAt).toBe(before);
  });

  test('rules[].maxExtensions caps how many extensions a window gets, and maxDuration caps each one; refusals change nothing', async () => {
    const id = await h.file('dave', 'staging Admin 30s capped at one');
    const before = (await h.waitForStatus(id, 'ACTIVE')).endsAt!;

    const tooLong = await extend('dave', `${id} 2h more than the rule allows`);
    expect(tooLong.text).toContain('is above the maximum of 1h');
    expect(tooLong.text).toContain('Nothing was changed.');

    const first = await extend('dave', `${id} 1m first`);
    await h.waitForStatus(first.id!, 'APPLIED');
    const second = await extend('dave', `${id} 1m second`);
    expect(second.text).toBe(
      `:warning: Request ${id} has already been extended 1 time (or has an extension waiting); rule "staging-admin-once" allows at most 1 (rules[].maxExtensions). Ask for new access instead. Nothing was changed.`,
    );
    expect(await endsAt(id)).toBe(before + 60_000);
    expect((await h.audit(id)).filter((e) => e.type === 'extended')).toHaveLength(1);
    await h.command('dave', `end ${id}`);
    await h.waitForStatus(id, 'ENDED');
  });

  test('the warning DM before the end has an Extend button; it opens the extend form, and submitting it files the extension', async () => {
    const id = await h.file('alice', 'staging ReadOnly 10s warn me');
    const before = (await h.waitForStatus(id, 'ACTIVE')).endsAt!;
    const warning = await h.slack.waitFor(
      () => h.slack.dmsTo(PEOPLE.alice.id).find((m) => (m.text ?? '').includes(id) && (m.text ?? '').includes('Need more time?')),
      10_000,
      'the warning DM',
    );
    const button = JSON.stringify(warning.blocks);
    expect(button).toContain('"text":"Extend"');
    // Sent once the window is within the warning of its end, not before.
    expect(Number(warning.ts) * 1000).toBeGreaterThanOrEqual(before - WARNING_MS - 1_000);

    const triggerId = '88888.12345.extendform';
    await h.sender.blockAction({ ...buttonClick(h.slack, PEOPLE.alice, 'timebox_extend', id, warning), triggerId });
    const opened = await h.slack.waitFor(() => h.slack.openedViews().find((v) => v.trigger_id === triggerId), 5000, 'the extend form');
    const view = opened.view as { callback_id: string; private_metadata: string; blocks: Array<{ block_id?: string; type: string }> };
    expect(view.blocks.map((b) => b.block_id ?? b.type)).toEqual(['section', 'duration', 'reason']);
    const submitted = await h.sender.viewSubmission({
      userId: PEOPLE.alice.id,
      callbackId: view.callback_id,
      values: { duration: { duration: { type: 'plain_text_input', value: '2m' } }, reason: { reason: { type: 'plain_text_input', value: 'from the warning' } } },
      privateMetadata: view.private_metadata,
    });
    expect(submitted.status).toBe(200);
    const confirmation = await h.slack.waitFor(() => h.ephemeralTextsTo('alice').find((t) => t.includes(`of \`${id}\``)), 5000, 'the confirmation');
    const extensionId = findRequestId(confirmation)!;
    await h.waitForStatus(extensionId, 'APPLIED');
    expect(await endsAt(id)).toBe(before + 120_000);
    // One warning for this window end; the moved end gets its own, far later.
    expect(h.slack.dmsTo(PEOPLE.alice.id).filter((m) => (m.text ?? '').includes(id) && (m.text ?? '').includes('Need more time?'))).toHaveLength(1);

    await h.command('alice', `end ${id}`);
    await h.waitForStatus(id, 'ENDED');
  });

  test('/aws-access extend is refused for someone else\'s request, for an ended one, and for bad input; nothing changes', async () => {
    const id = await h.file('carol', 'staging ReadOnly 30s not yours');
    const before = (await h.waitForStatus(id, 'ACTIVE')).endsAt!;
    expect((await extend('dave', `${id} 10m mine now`)).text).toBe(`:warning: Only the person who asked for request ${id} can extend it. Nothing was changed.`);
    expect((await h.command('carol', `extend ${id} soon reason`)).text).toContain('is not a duration');
    expect((await h.command('carol', `extend ${id} 10m`)).text).toContain('Please give a reason');
    expect((await h.command('carol', 'extend R-0000000000 10m why')).text).toBe(':warning: There is no request R-0000000000. Nothing was changed.');
    expect((await h.command('carol', 'extend')).text).toContain('Say which request, how much longer and why');
    expect(await endsAt(id)).toBe(before);
    expect((await h.runtime.deps.store.getRequest(id))!.extensions).toBeUndefined();

    await h.command('carol', `end ${id}`);
    await h.waitForStatus(id, 'ENDED');
    expect((await extend('carol', `${id} 10m too late`)).text).toBe(
      `:warning: Request ${id} is over; there is no access to extend. Ask for new access instead. Nothing was changed.`,
    );
  });

  test('the same extend form submitted twice at once, and the worker run twice: the window moves once', async () => {
    const id = await h.file('bob', 'staging ReadOnly 30s double submit');
    const before = (await h.waitForStatus(id, 'ACTIVE')).endsAt!;
    const values = { duration: { duration: { type: 'plain_text_input', value: '5m' } }, reason: { reason: { type: 'plain_text_input', value: 'twice' } } };
    const submit = () =>
      h.sender.viewSubmission({ userId: PEOPLE.bob.id, viewId: 'V0DOUBLE01', callbackId: 'timebox_extend_form', values, privateMetadata: JSON.stringify({ requestId: id }) });
    const [a, b] = await Promise.all([submit(), submit()]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const original = await eventually(async () => {
      const r = await h.runtime.deps.store.getRequest(id);
      return r?.extensions?.length === 1 && r.extensions[0]!.applied.length === 1 ? r : undefined;
    }, 10_000, 'the extension to apply');
    const extensionId = original.extensions![0]!.id;
    await h.waitForStatus(extensionId, 'APPLIED');
    // The worker again, twice at once (a retried hand-off, a sweep): nothing moves again.
    await Promise.all([advanceRequest(h.runtime.deps, extensionId), advanceRequest(h.runtime.deps, extensionId)]);
    await h.runtime.sweep();
    expect(await endsAt(id)).toBe(before + 5 * 60_000);
    expect((await h.audit(id)).filter((e) => e.type === 'extended')).toHaveLength(1);
    await h.command('bob', `end ${id}`);
    await h.waitForStatus(id, 'ENDED');
  });
});
