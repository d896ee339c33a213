import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import manifest from '../fixtures/v1-store/manifest.json';
import { eventually } from '../support/eventually';
import { APPROVAL_CHANNEL, buttonClick, PEOPLE, REVOKED_WITHIN_MS, TimeboxHarness } from '../support/timebox-harness';
import type { SlackMessage } from '../support/slack-stand-in';
import { messageOf } from '../../src/domain/access-request';

/**
 * A store written by the release before grants-v2 (17bbd9a: one flat record per request, leases
 * keyed by request id, no schemaVersion), opened by this code: its items are upgraded on read.
 * test/fixtures/v1-store holds that release's embedded data directory with an ACTIVE request
 * (carol, staging ReadOnly, 8h) and a PENDING one (dave, production Admin, waiting for alice or
 * bob). Timebox's clock is set to 3 s before carol's window ends, as if the upgrade were deployed then.
 */
describe('upgrading a store written by the previous release', () => {
  let h: TimeboxHarness;
  const offset = manifest.active.endsAt - 3_000 - Date.now();

  beforeAll(async () => {
    // Opening a leveldb directory rewrites it: always open a copy of the fixture.
    const dataDir = mkdtempSync(join(tmpdir(), 'timebox-v1-'));
    cpSync(join(__dirname, '../fixtures/v1-store/data'), dataDir, { recursive: true });
    h = await TimeboxHarness.start({
      dataDir,
      clock: { now: () => Date.now() + offset },
      sweepIntervalMs: 500,
      // The world the old release left: carol holds the assignment it made for her.
      beforeStart: (aws) => aws.addAssignment({ ...manifest.standInAssignment, principalType: 'USER' }),
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('the active grant is read as one grant of an upgraded request, and revoked on time', async () => {
    const before = await h.request(manifest.active.requestId);
    expect(before.grants).toEqual([
      expect.objectContaining({ id: '1', status: 'ACTIVE', ruleName: 'staging-readonly', activeAt: manifest.active.activeAt, endsAt: manifest.active.endsAt, target: expect.objectContaining({ kind: 'account', accountName: 'staging' }) }),
    ]);
    const [lease] = (await h.runtime.deps.store.listLeases()).leases;
    expect(lease).toMatchObject({ holders: [`${manifest.active.requestId}/1`], createdByTimebox: true, operations: [] });
    // Nothing already told is told again by the upgrade.
    const dmsBefore = h.dmTextsTo('carol').length;

    const ended = await h.waitForStatus(manifest.active.requestId, 'ENDED', 15_000);
    expect(ended.endedAt! - manifest.active.endsAt).toBeGreaterThanOrEqual(0);
    expect(ended.endedAt! - manifest.active.endsAt).toBeLessThan(REVOKED_WITHIN_MS);
    expect(h.aws.hasAssignment(manifest.standInAssignment)).toBe(false);
    expect((await h.runtime.deps.store.listLeases()).leases).toEqual([]);
    await h.slack.waitFor(() => h.dmTextsTo('carol').slice(dmsBefore).find((t) => t.includes(manifest.active.requestId) && t.includes('has ended')), 5_000, 'the ended DM');
    expect(h.dmTextsTo('carol').slice(dmsBefore).filter((t) => t.includes('is active until'))).toEqual([]);
    // Its audit trail goes on where the old release left it (with the ownership recorded at start-up).
    const audit = await h.audit(manifest.active.requestId);
    expect(audit.map((e) => e.type)).toEqual(['requested', 'auto_approved', 'grant_started', 'granted', 'reconciled', 'revoke_started', 'revoked']);
  });

  test('the pending request can be approved on its old approval message, and is granted', async () => {
    const pending = await h.request(manifest.pending.requestId);
    expect(pending.status).toBe('PENDING');
    // What v1 posted is the request's channel message (messages list, schema version 4).
    expect(messageOf(pending, 'channel')?.ref).toEqual(manifest.pending.approvalMessage);
    // The message the old release posted (this Slack stand-in is new, so only its reference is real).
    const message: SlackMessage = { channel: manifest.pending.approvalMessage.channel, ts: manifest.pending.approvalMessage.ts, history: [] };
    expect(message.channel).toBe(APPROVAL_CHANNEL);
    const response = await h.sender.blockAction(buttonClick(h.slack, PEOPLE.alice, 'timebox_approve', manifest.pending.requestId, message));
    expect(response.status).toBe(200);
    const active = await h.waitForStatus(manifest.pending.requestId, 'ACTIVE');
    expect(active.grants[0]).toMatchObject({ status: 'ACTIVE', decidedBy: { slackUserId: PEOPLE.alice.id } });
    expect(h.hasAssignment('dave', 'production', 'Admin')).toBe(true);
  });
});

describe('upgrading a store written by the previous release, then losing the store', () => {
  let h: TimeboxHarness;

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'timebox-v1-'));
    cpSync(join(__dirname, '../fixtures/v1-store/data'), dataDir, { recursive: true });
    // 5 s before carol's window ends: more than the sweep's look-ahead (2 × 500 ms) away.
    const offset = manifest.active.endsAt - 5_000 - Date.now();
    h = await TimeboxHarness.start({
      dataDir,
      clock: { now: () => Date.now() + offset },
      sweepIntervalMs: 500,
      beforeStart: (aws) => aws.addAssignment({ ...manifest.standInAssignment, principalType: 'USER' }),
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  test("at start-up the upgraded window learns from its lease that Timebox created the assignment, and its timer carries that receipt: the store lost right after, the window still ends on time", async () => {
    const stored = await h.runtime.deps.store.getRequest(manifest.active.requestId);
    expect(stored?.grants[0]).toMatchObject({ status: 'ACTIVE', timeboxOwned: true });
    expect((await h.audit(manifest.active.requestId)).filter((e) => e.type === 'reconciled')).toEqual([expect.objectContaining({ detail: expect.stringContaining('older release') })]);

    await h.replaceStore();
    expect(h.aws.hasAssignment(manifest.standInAssignment)).toBe(true);
    await eventually(async () => !h.aws.hasAssignment(manifest.standInAssignment), 15_000, 'the assignment removed at the window\'s end');
  });
});
