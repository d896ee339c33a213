import { setTimeout as sleep } from 'node:timers/promises';
import { ACCOUNTS, APPROVAL_CHANNEL, INSTANCE_ARN, PEOPLE, PERMISSION_SETS, REVOKED_WITHIN_MS, TimeboxHarness, testConfigYaml } from '../support/timebox-harness';
import { findRequestId } from '../../src/domain/request-id';

/**
 * Several grants in one request: every account × permission set pair is its own grant, matched
 * to its own rule, decided by that rule's approvers, with its own window and its own end.
 */
const STAGING_ADMIN_RULE = `
  - name: staging-admin
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["*"]
    approvers: [U0BOB00000]
    maxDuration: 1h
  - name: staging-and-prod-readonly-auto
    accounts: [staging, production]
    permissionSets: [ReadOnly]
    requesters: [U0DAVE0000]
    autoApprove: true
    maxDuration: 1h`;

describe('several accounts and permission sets in one request', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: testConfigYaml(STAGING_ADMIN_RULE), sweepIntervalMs: 500 });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('a 2 × 2 request: the auto-approved grant starts at once, each approver decides only the grants of their rules, and every grant is revoked on time', async () => {
    const { text } = await h.command('carol', 'staging,production ReadOnly,Admin 4s two by two');
    expect(text).toContain('4 grants for 4s');
    expect(text).toContain('Approved automatically: ReadOnly on staging (`111111111111`)');
    const id = findRequestId(text)!;
    // Grant order is accounts × permission sets as typed.
    await h.waitForGrants(id, ['ACTIVE', 'PENDING', 'PENDING', 'PENDING']);
    const request = await h.request(id);
    expect(request.grants.map((g) => `${g.target.kind === 'account' ? `${g.target.accountName}/${g.target.permissionSetName}` : ''}:${g.ruleName}`)).toEqual([
      'staging/ReadOnly:staging-readonly',
      'staging/Admin:staging-admin',
      'production/ReadOnly:prod-admin',
      'production/Admin:prod-admin',
    ]);
    expect(h.hasAssignment('carol', 'staging', 'ReadOnly')).toBe(true);

    // The channel message lists every grant with its account name and id, permission set, rule and state.
    const message = await h.approvalMessage(id);
    const shown = JSON.stringify(message.blocks);
    for (const line of ['ReadOnly on staging (`111111111111`)', 'Admin on staging (`111111111111`)', 'ReadOnly on production (`222222222222`)', 'rule `staging-admin`', 'rule `prod-admin`']) {
      expect(shown).toContain(line);
    }

    // A clicker who may decide none of them is refused, and nothing changes.
    const refusal = await h.nextEphemeral('dave', () => h.click('dave', 'approve', id));
    expect(refusal).toContain('not an approver for any of the rules of this request');
    expect(await h.grantStatuses(id)).toEqual(['ACTIVE', 'PENDING', 'PENDING', 'PENDING']);

    // alice approves for prod-admin only: the two production grants start; staging Admin waits for bob.
    const partial = await h.nextEphemeral('alice', () => h.click('alice', 'approve', id));
    expect(partial).toContain('You approved 2 of 3 pending grants');
    expect(partial).toContain('rule `staging-admin`');
    await h.waitForGrants(id, ['ACTIVE', 'PENDING', 'ACTIVE', 'ACTIVE']);
    expect(h.hasAssignment('carol', 'staging', 'Admin')).toBe(false);

    await h.click('bob', 'approve', id);
    await h.waitForGrants(id, ['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE']);
    const active = await h.request(id);
    // Each window runs from its own grant, for the request's duration.
    for (const g of active.grants) expect(g.endsAt! - g.activeAt!).toBe(4000);
    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('4 of 4 active')), 5000, 'the DM with every grant active');

    const ended = await h.waitForStatus(id, 'ENDED', 20_000);
    for (const g of ended.grants) {
      expect(g.status).toBe('ENDED');
      // Revoked on time: well within one sweep of its own end.
      expect(g.endedAt! - g.endsAt!).toBeLessThan(REVOKED_WITHIN_MS);
    }
    expect(h.aws.listAssignments().filter((a) => a.principalId === PEOPLE.carol.principalId)).toEqual([]);
    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('4 of 4 ended')), 5000, 'the ended DM');
    // The audit log tells each grant's story with its own id.
    const audit = await h.audit(id);
    for (const grantId of ['1', '2', '3', '4']) {
      expect(audit.filter((e) => e.grantId === grantId && e.type === 'revoked')).toHaveLength(1);
    }
    expect(audit.filter((e) => e.type === 'approved').map((e) => `${e.grantId}:${e.actor}`).sort()).toEqual(['2:U0BOB00000', '3:U0ALICE000', '4:U0ALICE000']);
  });

  test('Deny acts only on the grants the clicker may decide; the others stay pending for their own approvers', async () => {
    const creates = h.aws.callsTo('CreateAccountAssignment').length;
    const id = await h.file('carol', 'staging,production Admin 1h deny some');
    await h.waitForGrants(id, ['PENDING', 'PENDING']);
    const reply = await h.nextEphemeral('alice', () => h.click('alice', 'deny', id));
    expect(reply).toContain('You denied 1 of 2 pending grants');
    await h.waitForGrants(id, ['PENDING', 'DENIED']);
    await h.click('bob', 'deny', id);
    await h.waitForGrants(id, ['DENIED', 'DENIED']);
    expect((await h.request(id)).status).toBe('DENIED');
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(creates);
  });

  test('one grant FAILED while the other stays active and is revoked on time; the requester is told which', async () => {
    h.aws.failNextCreation('Permission set provisioning failed in the account');
    const id = await h.file('dave', 'staging,production ReadOnly 3s one fails');
    await h.slack.waitFor(() => h.dmTextsTo('dave').find((t) => t.includes(id) && t.includes('1 of 2 active') && t.includes('1 of 2 failed')), 10_000, 'the DM naming the failed grant');
    const statuses = await h.grantStatuses(id);
    expect([...statuses].sort()).toEqual(['ACTIVE', 'FAILED']);
    const request = await h.request(id);
    const failed = request.grants.find((g) => g.status === 'FAILED')!;
    expect(failed.failure).toContain('Permission set provisioning failed');
    expect(request.status).toBe('ACTIVE');
    const ended = await h.waitForStatus(id, 'ENDED', 15_000);
    const ran = ended.grants.find((g) => g.status === 'ENDED')!;
    expect(ran.endedAt! - ran.endsAt!).toBeLessThan(REVOKED_WITHIN_MS);
    expect(h.aws.listAssignments().filter((a) => a.principalId === PEOPLE.dave.principalId)).toEqual([]);
  });

  test('End by an approver ends only the grants under the rules they approve; the requester\'s End ends the rest', async () => {
    const id = await h.file('carol', 'staging,production ReadOnly 30m end some');
    await h.waitForGrants(id, ['ACTIVE', 'PENDING']);
    await h.click('alice', 'approve', id);
    await h.waitForGrants(id, ['ACTIVE', 'ACTIVE']);
    // alice approves prod-admin, not staging-readonly (an auto-approve rule with no approvers).
    const { text: byAlice } = await h.command('alice', `end ${id}`);
    expect(byAlice).toContain('ReadOnly* on *production*');
    await h.waitForGrants(id, ['ACTIVE', 'ENDED']);
    expect(h.hasAssignment('carol', 'staging', 'ReadOnly')).toBe(true);
    expect(h.hasAssignment('carol', 'production', 'ReadOnly')).toBe(false);
    const { text: byCarol } = await h.command('carol', `end ${id}`);
    expect(byCarol).toContain('ReadOnly* on *staging*');
    await h.waitForGrants(id, ['ENDED', 'ENDED']);
    expect(h.hasAssignment('carol', 'staging', 'ReadOnly')).toBe(false);
  });

  test('repeated accounts and permission sets fold into one grant each, and a request with one grant past its rule\'s maximum is refused whole, naming it, and nothing is filed', async () => {
    const before = await h.storedRequestCount();
    const repeated = await h.command('carol', `${Array.from({ length: 6 }, () => 'staging').join(',')},production ReadOnly,Admin 1h repeated names`);
    // Duplicates fold: that is 2 accounts × 2 permission sets, 4 grants.
    expect(repeated.text).toContain('4 grants');
    const h2Limit = await h.command('carol', 'staging,production,111111111111 ReadOnly,Admin,ReadOnly 1h folded');
    expect(h2Limit.text).toContain('4 grants');
    const noRule = await h.command('dave', 'staging,production Admin,ReadOnly 20h too long for some');
    expect(noRule.text).toContain('above the maximum of 1h for Admin on staging (111111111111) (rule "staging-admin")');
    expect(await h.storedRequestCount()).toBe(before + 2);
  });
});

describe('reliability-3: the requester ending a request withdraws its pending grants', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: testConfigYaml(STAGING_ADMIN_RULE), sweepIntervalMs: 500 });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('the requester ends a request with one grant active and one still pending: the active one is removed, the pending one is withdrawn (CANCELLED) and the DM, the channel and the audit say so; approving it afterwards is refused as already decided and nothing is created', async () => {
    const id = await h.file('carol', 'staging,production ReadOnly 30m one live one pending');
    await h.waitForGrants(id, ['ACTIVE', 'PENDING']);
    const message = await h.approvalMessage(id);
    // What an approver still has on screen if the update has not reached them: the Approve button.
    const seenBefore = structuredClone(message);
    expect(JSON.stringify(seenBefore.blocks)).toContain('timebox_approve');

    const { text } = await h.command('carol', `end ${id}`);
    expect(text).toContain('Ending your access to *ReadOnly* on *staging* now');
    expect(text).toContain('Withdrawn, as it was still waiting for approval: *ReadOnly* on *production*');
    await h.waitForGrants(id, ['ENDED', 'CANCELLED']);
    expect(h.hasAssignment('carol', 'staging', 'ReadOnly')).toBe(false);

    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('1 of 2 ended') && t.includes('1 of 2 withdrawn')), 5000, 'the DM saying the pending grant was withdrawn');
    const shown = await h.slack.waitFor(
      () => {
        const blocks = JSON.stringify(h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.ts === message.ts)?.blocks ?? []);
        return blocks.includes('Withdrawn') && blocks.includes(':lock: Ended') ? blocks : undefined;
      },
      5000,
      'the channel message to say the pending grant was withdrawn',
    );
    expect(shown).toContain(`Withdrawn: cancelled by <@${PEOPLE.carol.id}> when they ended the request`);
    expect(shown).not.toContain('timebox_approve');
    expect((await h.audit(id)).filter((e) => e.grantId === '2').map((e) => `${e.type}:${e.actor}:${e.from ?? ''}>${e.to ?? ''}`)).toEqual([
      'requested:U0CAROL000:>PENDING',
      'cancelled:U0CAROL000:PENDING>CANCELLED',
    ]);

    // Approve clicked on the message as it was before the end: refused, nothing created.
    const reply = await h.nextEphemeral('alice', () => h.click('alice', 'approve', id, seenBefore));
    expect(reply).toBe(`:warning: Request ${id} is already cancelled. Nothing was changed.`);
    expect(await h.grantStatuses(id)).toEqual(['ENDED', 'CANCELLED']);
    expect(h.aws.callsTo('CreateAccountAssignment').filter((c) => JSON.stringify(c.input).includes(ACCOUNTS.production))).toEqual([]);
    expect(h.hasAssignment('carol', 'production', 'ReadOnly')).toBe(false);
  });

  test('the requester ends a request whose only active grant an approver has already ended: its pending grant is still withdrawn, and cannot be approved', async () => {
    const id = await h.file('carol', 'staging,production Admin 30m approver ended the live one');
    await h.click('alice', 'approve', id);
    await h.waitForGrants(id, ['PENDING', 'ACTIVE']);
    await h.command('alice', `end ${id}`);
    await h.waitForGrants(id, ['PENDING', 'ENDED']);
    // What bob still has on screen if the update has not reached him: the Approve button.
    const seenBefore = structuredClone(await h.approvalMessage(id));

    const { text } = await h.command('carol', `end ${id}`);
    expect(text).toContain('Withdrawn, as it was still waiting for approval: *Admin* on *staging*');
    await h.waitForGrants(id, ['CANCELLED', 'ENDED']);
    const reply = await h.nextEphemeral('bob', () => h.click('bob', 'approve', id, seenBefore));
    expect(reply).toBe(`:warning: Request ${id} is already cancelled. Nothing was changed.`);
    expect(h.hasAssignment('carol', 'staging', 'Admin')).toBe(false);
  });

  test('the requester ends a request whose active window has already run out: its pending grant is withdrawn', async () => {
    const id = await h.file('carol', 'staging,production ReadOnly 2s the live one runs out');
    await h.waitForGrants(id, ['ENDED', 'PENDING'], 15_000);

    const { text } = await h.command('carol', `end ${id}`);
    expect(text).toContain('Withdrawn, as it was still waiting for approval: *ReadOnly* on *production*');
    await h.waitForGrants(id, ['ENDED', 'CANCELLED']);
    expect((await h.audit(id)).filter((e) => e.type === 'cancelled').map((e) => `${e.grantId}:${e.actor}`)).toEqual(['2:U0CAROL000']);
  });

  test('an approver ending the grants of their rules leaves a pending grant of another rule waiting for its own approver', async () => {
    const id = await h.file('carol', 'staging,production Admin 30m approver ends one');
    await h.click('alice', 'approve', id);
    await h.waitForGrants(id, ['PENDING', 'ACTIVE']);
    await h.command('alice', `end ${id}`);
    await h.waitForGrants(id, ['PENDING', 'ENDED']);
    await h.click('bob', 'approve', id);
    await h.waitForGrants(id, ['ACTIVE', 'ENDED']);
    await h.command('carol', `end ${id}`);
    await h.waitForGrants(id, ['ENDED', 'ENDED']);
  });
});

describe('daily-use: an early end is shown on the grants it ended, not on the others of the request', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: testConfigYaml(STAGING_ADMIN_RULE), sweepIntervalMs: 500 });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('an approver ends one grant of two early and the other runs to the end of its window: the channel message and the DM say "ended early by" the approver for the first only, and the second ended at its time', async () => {
    const id = await h.file('carol', 'staging,production Admin 4s one cut short one runs out');
    const message = await h.approvalMessage(id);
    // bob approves both rules; alice approves prod-admin only, so her End takes the production grant alone.
    await h.click('bob', 'approve', id);
    await h.waitForGrants(id, ['ACTIVE', 'ACTIVE']);
    const { text } = await h.command('alice', `end ${id}`);
    expect(text).toContain('Ending <@U0CAROL000>\'s access to *Admin* on *production* now');
    await h.waitForGrants(id, ['ENDED', 'ENDED']);
    const [staging, production] = (await h.request(id)).grants;
    expect(production!.endedAt!).toBeLessThan(production!.activeAt! + 4000);
    expect(staging!.endedAt!).toBeGreaterThanOrEqual(staging!.endsAt!);

    const blocks = await h.slack.waitFor(
      () => {
        const shown = h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.ts === message.ts)?.blocks as Array<{ block_id?: string; text?: { text: string } }> | undefined;
        const line = (grantId: string) => shown?.find((b) => b.block_id === `grant_${grantId}`)?.text?.text ?? '';
        return line('1').includes(':lock: Ended') && line('2').includes(':lock: Ended') ? { staging: line('1'), production: line('2') } : undefined;
      },
      5000,
      'the channel message to show both grants ended',
    );
    expect(blocks.production).toContain(`:lock: Ended early by <@${PEOPLE.alice.id}> <!date^`);
    expect(blocks.staging).toContain(':lock: Ended <!date^');
    expect(blocks.staging).not.toContain('early');

    const dm = await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('2 of 2 ended')), 5000, 'the DM saying both grants ended');
    const dmLine = (account: string) => dm.split('\n').find((l) => l.includes(`Admin on ${account}`)) ?? '';
    expect(dmLine('production')).toContain(`ended early by <@${PEOPLE.alice.id}> <!date^`);
    expect(dmLine('staging')).toContain('ended <!date^');
    expect(dmLine('staging')).not.toContain('early');
  });
});

describe('limits.maxGrantsPerRequest', () => {
  test('more grants than the limit are refused naming the limit, and nothing is filed', async () => {
    const h = await TimeboxHarness.start({ configYaml: testConfigYaml().replace('durations:', 'limits:\n  maxGrantsPerRequest: 3\ndurations:') });
    try {
      const { text } = await h.command('carol', 'staging,production ReadOnly,Admin 1h four is too many');
      expect(text).toContain('That asks for 4 grants; one request may hold at most 3 (limits.maxGrantsPerRequest)');
      expect(await h.storedRequestCount()).toBe(0);
    } finally {
      await h.stop();
    }
  });
});

describe('explicit ownership: the leaks of the inferred one', () => {
  let h: TimeboxHarness;
  beforeEach(async () => {
    h = await TimeboxHarness.start({ sweepIntervalMs: 500 });
  });
  afterEach(async () => {
    await h.stop();
  });

  const daveStaging = { instanceArn: INSTANCE_ARN, accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.ReadOnly, principalId: PEOPLE.dave.principalId };

  test('(a) a standing assignment removed during a window, then created by a second Timebox grant, is removed when both windows end', async () => {
    h.aws.addAssignment({ ...daveStaging, principalType: 'USER' });
    const first = await h.file('dave', 'staging ReadOnly 4s standing access');
    await h.waitForStatus(first, 'ACTIVE');
    // An admin removes the standing assignment during the window.
    h.aws.removeAssignment(daveStaging);
    const second = await h.file('dave', 'staging ReadOnly 5s need it again');
    await h.waitForStatus(second, 'ACTIVE');
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);
    expect(h.aws.callsTo('CreateAccountAssignment')).toHaveLength(1);

    const firstEnded = await h.waitForStatus(first, 'ENDED', 15_000);
    expect(firstEnded.keptBecause).toContain(second);
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);
    await h.waitForStatus(second, 'ENDED', 15_000);
    // Timebox created it, so Timebox removes it.
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
    expect((await h.runtime.deps.store.listLeases()).leases).toEqual([]);
  });

  test('(b) a grant given up on while its creation is still in progress: the lease keeps the operation, and the assignment AWS finishes later is removed', async () => {
    await h.stop();
    h = await TimeboxHarness.start({ workflow: { claimMs: 600, revokeRetryMs: 300 }, sweepIntervalMs: 300 });
    // Identity Center is degraded: creations are accepted but stay in progress, and every status
    // look-up fails, so each grant attempt ends in an error; after five the grant is FAILED.
    h.aws.setCreationPolls(1_000_000);
    h.aws.injectFault('DescribeAccountAssignmentCreationStatus', { type: 'InternalServerException', message: 'degraded' }, 1_000_000);
    const id = await h.file('dave', 'staging ReadOnly 1h degraded');
    const failed = await h.waitForStatus(id, 'FAILED', 60_000);
    expect(failed.grantAttempts).toBe(5);
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false); // not yet: AWS is still on it
    const [lease] = (await h.runtime.deps.store.listLeases()).leases;
    expect(lease?.operations.length).toBeGreaterThanOrEqual(1);
    expect(lease?.createdByTimebox).toBe(true);

    // The reconciler cannot see the operations finish yet: it keeps the lease rather than forget it.
    h.aws.clearFaults('DescribeAccountAssignmentCreationStatus');
    const waiting = await h.runtime.reconcile();
    expect(waiting.waitingForAws.length).toBeGreaterThanOrEqual(1);
    expect(waiting.orphansRevoked).toEqual([]);
    expect((await h.runtime.deps.store.listLeases()).leases).toHaveLength(1);

    // AWS finishes the creation in its own time: the next reconcile finds an orphan Timebox made, and removes it.
    expect(h.aws.completeOperations()).toBeGreaterThanOrEqual(1);
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);
    const report = await h.runtime.reconcile();
    expect(report.orphansRevoked).toHaveLength(1);
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
    expect((await h.runtime.deps.store.listLeases()).leases).toEqual([]);
  }, 90_000);

  test('(c) the store replaced while a grant is active: the window still ends, and what Timebox created goes with it', async () => {
    const id = await h.file('dave', 'staging ReadOnly 3s store about to go');
    await h.waitForStatus(id, 'ACTIVE');
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);
    await h.replaceStore();
    expect(await h.runtime.deps.store.getRequest(id)).toBeUndefined();
    // The in-process timer still fires at the window's end and carries what Timebox created.
    await h.slack.waitFor(() => (h.hasAssignment('dave', 'staging', 'ReadOnly') ? undefined : true), 10_000, 'the assignment to be removed');
    expect(h.aws.callsTo('DeleteAccountAssignment')).toHaveLength(1);
  });

  test('(c) a standing assignment is never removed by a window end the store has lost, if Timebox did not create it', async () => {
    h.aws.addAssignment({ ...daveStaging, principalType: 'USER' });
    const id = await h.file('dave', 'staging ReadOnly 2s standing then store lost');
    await h.waitForStatus(id, 'ACTIVE');
    await h.replaceStore();
    await sleep(3500);
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);
    expect(h.aws.callsTo('DeleteAccountAssignment')).toHaveLength(0);
  });
});

describe('channel message with many grants', () => {
  test('ten grants fit Slack limits and show each grant', async () => {
    const accounts = Array.from({ length: 5 }, (_, i) => `  acct${i}: "33333333333${i}"`).join('\n');
    const yaml = testConfigYaml(`
  - name: many
    accounts: ["*"]
    permissionSets: ["*"]
    requesters: ["*"]
    approvers: [alice@example.com]
    maxDuration: 1h`).replace('accounts:\n', `accounts:\n${accounts}\n`);
    const h = await TimeboxHarness.start({ configYaml: yaml });
    try {
      const id = await h.file('carol', 'acct0,acct1,acct2,acct3,acct4 ReadOnly,Admin 1h ten grants');
      const message = await h.approvalMessage(id);
      expect(h.slack.messagesIn(APPROVAL_CHANNEL).filter((m) => m.ts === message.ts)).toHaveLength(1);
      expect(JSON.stringify(message.blocks)).toContain('*10.*');
      expect((await h.request(id)).grants).toHaveLength(10);
    } finally {
      await h.stop();
    }
  });
});

describe('the form past 100 accounts', () => {
  test('accounts become a type-ahead multi-select; a query gets at most 100 matching options; several picked file one grant each', async () => {
    const accounts = Array.from({ length: 150 }, (_, i) => `  team${String(i).padStart(3, '0')}: "4444444${String(i).padStart(5, '0')}"`).join('\n');
    const yaml = testConfigYaml(`
  - name: teams
    accounts: ["*"]
    permissionSets: [ReadOnly]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h`).replace('accounts:\n', `accounts:\n${accounts}\n`);
    const h = await TimeboxHarness.start({ configYaml: yaml });
    try {
      const triggerId = '55555.12345.typeahead';
      await h.sender.command({ userId: PEOPLE.carol.id, text: '', triggerId, channelId: 'C0GENERAL0', responseUrl: h.slack.responseUrl({ userId: PEOPLE.carol.id }) });
      const view = h.slack.openedViews().find((v) => v.trigger_id === triggerId)!.view as { callback_id: string; private_metadata: string; blocks: Array<{ block_id: string; element: { type: string; min_query_length?: number } }> };
      expect(view.blocks[0]!.element).toMatchObject({ type: 'multi_external_select', min_query_length: 0 });
      expect(view.blocks[1]!.element.type).toBe('multi_static_select'); // two permission sets: a static menu

      const all = (await h.sender.blockSuggestion({ userId: PEOPLE.carol.id, actionId: 'account', blockId: 'account', value: '', callbackId: view.callback_id })).json() as { options: Array<{ value: string }> };
      expect(all.options).toHaveLength(100);
      const some = (await h.sender.blockSuggestion({ userId: PEOPLE.carol.id, actionId: 'account', blockId: 'account', value: 'team12', callbackId: view.callback_id })).json() as { options: Array<{ value: string; text: { text: string } }> };
      expect(some.options.map((o) => o.text.text)).toEqual(Array.from({ length: 10 }, (_, i) => `team12${i} (444444400${120 + i})`));

      const option = (o: { value: string; text: { text: string } }) => ({ text: { type: 'plain_text', text: o.text.text }, value: o.value });
      const ok = await h.sender.viewSubmission({
        userId: PEOPLE.carol.id,
        callbackId: view.callback_id,
        values: {
          account: { account: { type: 'multi_external_select', selected_options: some.options.slice(0, 3).map(option) } },
          permission_set: { permission_set: { type: 'multi_static_select', selected_options: [{ text: { type: 'plain_text', text: 'ReadOnly' }, value: 'ReadOnly' }] } },
          duration: { duration: { type: 'plain_text_input', value: '30m' } },
          reason: { reason: { type: 'plain_text_input', value: 'three teams' } },
        },
        privateMetadata: view.private_metadata,
      });
      expect(ok.status).toBe(200);
      const confirmation = await h.slack.waitFor(() => h.ephemeralTextsTo('carol').find((t) => t.includes('3 grants')), 5000, 'confirmation');
      const id = findRequestId(confirmation)!;
      await h.waitForGrants(id, ['ACTIVE', 'ACTIVE', 'ACTIVE']);
    } finally {
      await h.stop();
    }
  });
});
