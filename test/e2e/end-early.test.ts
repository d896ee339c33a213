import { APPROVAL_CHANNEL, PEOPLE, TimeboxHarness } from '../support/timebox-harness';

/** Ending access before its window is over: the requester, an approver, and everyone else. */
describe('ending access early', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  /** The request's channel message once it shows the End button (it does while the access is active). */
  const channelMessageWithEnd = (id: string) =>
    h.slack.waitFor(
      () => h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.text?.includes(id) && JSON.stringify(m.blocks).includes('timebox_end')),
      5000,
      'the End button on the channel message',
    );

  async function activeAdmin(who: 'carol' | 'dave', reason: string): Promise<{ id: string; endsAt: number }> {
    const id = await h.file(who, `production Admin 30m ${reason}`);
    await h.click('alice', 'approve', id);
    const active = await h.waitForStatus(id, 'ACTIVE');
    return { id, endsAt: active.endsAt! };
  }

  test('the requester clicks "End access now" in their DM: the assignment goes at once, and the DM, the channel and the audit log say who ended it', async () => {
    const { id, endsAt } = await activeAdmin('carol', 'hotfix done early');
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(true);
    const dm = await h.activeDm('carol', id);
    expect(JSON.stringify(dm.blocks)).toContain('timebox_end');

    const reply = await h.nextEphemeral('carol', () => h.clickEnd('carol', id, dm));
    expect(reply).toContain(`Ending your access to *Admin* on *production* now (\`${id}\`)`);
    const ended = await h.waitForStatus(id, 'ENDED');
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(false);
    expect(ended.endedAt!).toBeLessThan(endsAt - 25 * 60_000);
    expect(ended.endedEarlyBy?.slackUserId).toBe(PEOPLE.carol.id);

    await h.slack.waitFor(() => h.dmTextsTo('carol').find((t) => t.includes(id) && t.includes('was ended early by you')), 5000, 'the ended DM');
    // The "active" DM is closed: its End button is gone, and it says when the access ended.
    const closed = await h.slack.waitFor(() => h.slack.dmsTo(PEOPLE.carol.id).find((m) => m.ts === dm.ts && !JSON.stringify(m.blocks).includes('timebox_end')), 5000, 'the active DM to lose its End button');
    expect(closed.text).toContain(`was active from <!date^`);
    expect(closed.text).toContain(`early by <@${PEOPLE.carol.id}>. (${id})`);
    const message = await h.approvalMessage(id);
    await h.slack.waitFor(() => JSON.stringify(h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.ts === message.ts)?.blocks).includes(`Ended early by <@${PEOPLE.carol.id}>`), 5000, 'the channel to show who ended it');
    const shown = JSON.stringify(h.slack.messagesIn(APPROVAL_CHANNEL).find((m) => m.ts === message.ts)?.blocks);
    expect(shown).not.toContain('timebox_end');

    expect((await h.audit(id)).map((e) => `${e.type}:${e.actor}`)).toEqual([
      'requested:U0CAROL000',
      'approved:U0ALICE000',
      'grant_started:timebox',
      'granted:timebox',
      'ended_early:U0CAROL000',
      'revoke_started:timebox',
      'revoked:timebox',
    ]);
  });

  test('an approver ends it from the channel message; the requester is told who did', async () => {
    const { id } = await activeAdmin('dave', 'suspicious activity check');
    const message = await channelMessageWithEnd(id);
    const reply = await h.nextEphemeral('bob', () => h.clickEnd('bob', id, message));
    expect(reply).toContain(`Ending <@${PEOPLE.dave.id}>'s access`);
    await h.waitForStatus(id, 'ENDED');
    expect(h.hasAssignment('dave', 'production', 'Admin')).toBe(false);
    await h.slack.waitFor(() => h.dmTextsTo('dave').find((t) => t.includes(id) && t.includes(`was ended early by <@${PEOPLE.bob.id}>`)), 5000, 'the ended DM naming bob');
  });

  test('/aws-access end <id> does the same from anywhere (ids are read case-insensitively)', async () => {
    const { id } = await activeAdmin('carol', 'typed end');
    const { text } = await h.command('carol', `end ${id.toLowerCase()}`);
    expect(text).toContain(`Ending your access to *Admin* on *production* now (\`${id}\`)`);
    await h.waitForStatus(id, 'ENDED');
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(false);
  });

  test('someone who is neither the requester nor an approver is refused; nothing changes and the attempt is audited', async () => {
    const { id, endsAt } = await activeAdmin('carol', 'must not be cut short');
    const { text } = await h.command('dave', `end ${id}`);
    expect(text).toBe(':warning: Only the requester or an approver for rule "prod-admin" can end this access. Nothing was changed.');
    const after = await h.request(id);
    expect(after).toMatchObject({ status: 'ACTIVE', endsAt });
    expect(after.endedEarlyBy).toBeUndefined();
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(true);
    expect((await h.audit(id)).filter((e) => e.type === 'end_refused').map((e) => `${e.actor}:${e.detail}`)).toEqual([`${PEOPLE.dave.id}:not_allowed_to_end`]);
    await h.command('carol', `end ${id}`); // tidy up for the next tests
    await h.waitForStatus(id, 'ENDED');
  });

  test('two End clicks at once: one ends it, the other is told it is already being removed; one deletion', async () => {
    const { id } = await activeAdmin('carol', 'double click');
    const dm = await h.activeDm('carol', id);
    const deletesBefore = h.aws.callsTo('DeleteAccountAssignment').length;
    await Promise.all([h.clickEnd('carol', id, dm), h.clickEnd('carol', id, dm)]);
    await h.waitForStatus(id, 'ENDED');
    const replies = await h.slack.waitFor(() => {
      const texts = h.ephemeralTextsTo('carol').filter((t) => t.includes(id));
      return texts.length >= 2 ? texts.slice(-2) : undefined;
    }, 5000, 'both replies');
    expect(replies.filter((t) => t.includes('Ending your access'))).toHaveLength(1);
    expect(replies.filter((t) => t.includes('already being removed') || t.includes('is ended'))).toHaveLength(1);
    expect((await h.audit(id)).filter((e) => e.type === 'ended_early')).toHaveLength(1);
    expect((await h.audit(id)).filter((e) => e.type === 'end_refused')).toEqual([]);
    expect(h.aws.callsTo('DeleteAccountAssignment').length - deletesBefore).toBe(1);
  });

  test('ending one of two overlapping windows keeps the assignment for the other; ending the second removes it', async () => {
    const first = await h.file('dave', 'staging ReadOnly 30m first window');
    await h.waitForStatus(first, 'ACTIVE');
    const second = await h.file('dave', 'staging ReadOnly 30m second window');
    await h.waitForStatus(second, 'ACTIVE');

    const { text: endingFirst } = await h.command('dave', `end ${first}`);
    expect(endingFirst).toContain(`The assignment itself stays: still needed by ${second}.`);
    expect(endingFirst).toContain('AWS sessions already open last until they expire.');
    const firstEnded = await h.waitForStatus(first, 'ENDED');
    expect(firstEnded.keptBecause).toBeDefined();
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);

    await h.command('dave', `end ${second}`);
    await h.waitForStatus(second, 'ENDED');
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
  });

  test('what is not active gets a clear answer and changes nothing', async () => {
    const pending = await h.file('carol', 'production Admin 30m not approved yet');
    expect((await h.command('carol', `end ${pending}`)).text).toBe(
      `:warning: Request ${pending} is waiting for approval, so there is no access to end yet. Nothing was changed.`,
    );
    expect((await h.request(pending)).status).toBe('PENDING');

    const over = await h.file('carol', 'staging ReadOnly 1s already over');
    await h.waitForStatus(over, 'ENDED');
    expect((await h.command('carol', `end ${over}`)).text).toBe(`:warning: Request ${over} is ended; there is no access to end. Nothing was changed.`);

    // Refusals because of where the request stands are answered, not audited as an attempt by an outsider.
    expect((await h.audit(pending)).filter((e) => e.type === 'end_refused')).toEqual([]);
    expect((await h.audit(over)).filter((e) => e.type === 'end_refused')).toEqual([]);
    expect((await h.command('carol', 'end R-0000000000')).text).toBe(':warning: There is no request R-0000000000. Nothing was changed.');
    expect((await h.command('carol', 'end')).text).toContain('Say which request to end, e.g. `/aws-access end R-0123456789`');
    expect((await h.command('carol', 'end yesterday')).text).toContain('Say which request to end');
  });

  test("an End button clicked by someone who may not end it (a copy of the channel message) is refused the same way", async () => {
    const { id } = await activeAdmin('carol', 'outsider clicks end');
    const message = await channelMessageWithEnd(id);
    const reply = await h.nextEphemeral('dave', () => h.clickEnd('dave', id, message));
    expect(reply).toBe(':warning: Only the requester or an approver for rule "prod-admin" can end this access. Nothing was changed.');
    expect(await h.request(id)).toMatchObject({ status: 'ACTIVE' });
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(true);
    await h.command('carol', `end ${id}`);
    await h.waitForStatus(id, 'ENDED');
  });

  test('under a rule with no approvers (auto-approve), only the requester may end it, and the refusal says so', async () => {
    const id = await h.file('carol', 'staging ReadOnly 30m auto approved');
    await h.waitForStatus(id, 'ACTIVE');
    expect((await h.command('alice', `end ${id}`)).text).toBe(':warning: Only the requester can end this access. Nothing was changed.');
    await h.command('carol', `end ${id}`);
    await h.waitForStatus(id, 'ENDED');
  });

  test('the hand-off to the worker lost after the end is stored: the requester is still told it is ending, and the start-up sweep revokes it', async () => {
    const id = await h.file('dave', 'staging ReadOnly 30m hand-off lost');
    await h.waitForStatus(id, 'ACTIVE');
    await h.runtime.queue.close(); // what a crash right after the write would leave: nothing runs the revoke
    const { text } = await h.command('dave', `end ${id}`);
    expect(text).toContain(`Ending your access to *ReadOnly* on *staging* now (\`${id}\`)`);
    expect(await h.request(id)).toMatchObject({ status: 'ACTIVE', endedEarlyBy: { slackUserId: PEOPLE.dave.id } });
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(true);

    await h.restart();
    const ended = await h.waitForStatus(id, 'ENDED', 10_000);
    expect(ended.endedAt! - ended.activeAt!).toBeLessThan(ended.durationMs);
    expect(h.hasAssignment('dave', 'staging', 'ReadOnly')).toBe(false);
  });
});
