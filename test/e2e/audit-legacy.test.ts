import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startEmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import { toStoredAuditEvent, toStoredRequest } from '../../src/adapters/dynamodb/stored-records';
import { AUDIT_INDEX } from '../../src/adapters/dynamodb/table-layout';
import type { AccessRequest } from '../../src/domain/access-request';
import type { AuditEvent } from '../../src/domain/audit';
import { eventually } from '../support/eventually';
import { runTimeboxCli } from '../support/timebox-cli';
import { ACCOUNTS, APPROVAL_CHANNEL, PEOPLE, PERMISSION_SETS, TimeboxHarness } from '../support/timebox-harness';

const HOUR = 3_600_000;

/** A request as the release before the chain (schema 4) stored it: no chain head, its last write's events on the item. */
function legacyRequest(id: string, status: 'ENDED' | 'PENDING', createdAt: number, events: AuditEvent[]): Record<string, unknown> {
  const request: AccessRequest = {
    id,
    version: events.length,
    requester: { slackUserId: PEOPLE.carol.id, email: PEOPLE.carol.email },
    durationMs: HOUR,
    reason: 'filed before the audit chain',
    createdAt,
    expiresAt: status === 'PENDING' ? Date.now() + 24 * HOUR : createdAt + 1000,
    grants: [
      {
        id: '1',
        target: { kind: 'account', accountId: ACCOUNTS.production, accountName: 'production', permissionSetName: 'Admin', permissionSetArn: PERMISSION_SETS.Admin },
        ruleName: 'prod-admin',
        autoApproved: false,
        approvalsRequired: 1,
        approvals: [],
        status,
      },
    ],
    messages: [],
    updatedAt: events.at(-1)!.at,
    lastEvents: events.slice(-1),
  };
  // Schema 4 wrote no audit index attributes (and no auditLog): this mapper's item, less what schema 5 added.
  const { [AUDIT_INDEX.partitionKey]: _k, [AUDIT_INDEX.sortKey]: _at, ...item } = toStoredRequest(request);
  return { ...item, schemaVersion: 4 };
}

/** Each event its own item (AUDIT#<seq>), as schema 4 appended them. */
const legacyEventItem = (event: AuditEvent) => ({ ...toStoredAuditEvent(event), schemaVersion: 4 });

describe('explain-audit: events written before the chain (schema 4) are exported and verified too', () => {
  let h: TimeboxHarness;
  const untouched = 'R-PREV4CHA1N';
  const touched = 'R-PREV4CHA2N';
  let filedNow = '';
  const at = Date.now() - 2 * HOUR;
  const untouchedEvents: AuditEvent[] = [
    { requestId: untouched, at, seq: '00000001-0', type: 'requested', actor: PEOPLE.carol.id, to: 'PENDING' },
    { requestId: untouched, at: at + 10, seq: `decision_refused-${at + 10}-R-N0TE000001`, type: 'decision_refused', actor: PEOPLE.dave.id, detail: 'approve: not_an_approver' },
    { requestId: untouched, grantId: '1', at: at + 20, seq: '00000002-0', type: 'approved', actor: PEOPLE.alice.id, from: 'PENDING', to: 'APPROVED' },
    { requestId: untouched, grantId: '1', at: at + 30, seq: '00000003-0', type: 'granted', actor: 'timebox', from: 'GRANTING', to: 'ACTIVE' },
    { requestId: untouched, grantId: '1', at: at + 40, seq: '00000004-0', type: 'revoked', actor: 'timebox', from: 'REVOKING', to: 'ENDED' },
  ];
  const touchedEvents: AuditEvent[] = [{ requestId: touched, at: at + 50, seq: '00000001-0', type: 'requested', actor: PEOPLE.carol.id, to: 'PENDING' }];
  const env = () => ({ TIMEBOX_DATA_DIR: h.dataDir });

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'timebox-legacy-audit-'));
    const db = await startEmbeddedDynamoDb(dataDir);
    try {
      const doc = DynamoDBDocumentClient.from(db.client, { marshallOptions: { removeUndefinedValues: true } });
      const items = [legacyRequest(untouched, 'ENDED', at, untouchedEvents), ...untouchedEvents.map(legacyEventItem), legacyRequest(touched, 'PENDING', at + 50, touchedEvents), ...touchedEvents.map(legacyEventItem)];
      await doc.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: items.map((Item) => ({ PutRequest: { Item } })) } }));
    } finally {
      await db.close();
    }
    h = await TimeboxHarness.start({ dataDir });
    // The pending one is written again by this release: dave, no approver of prod-admin, clicks Approve.
    const reply = await h.nextEphemeral('dave', () => h.click('dave', 'approve', touched, { channel: APPROVAL_CHANNEL, ts: '1700000000.000100', history: [] }));
    expect(reply).toContain('Nothing was changed');
    await eventually(async () => (await h.audit(touched)).some((e) => e.type === 'decision_refused') || undefined, 10_000, 'the refusal on the pre-chain request');
    filedNow = await h.file('carol', 'production Admin 30m filed on this release');
    await h.settled();
    await h.runtime.stop();
  }, 60_000);
  afterAll(async () => {
    await h.stop();
  });

  test('audit export has every event once: a pre-chain request nothing has written since, one written since (its old events and its new), and a new one', async () => {
    const r = await runTimeboxCli(['audit', 'export', '--format', 'jsonl'], { env: env() });
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    const of = (id: string) => rows.filter((row) => row.request_id === id).map((row) => `${row.seq}:${row.event}`);
    expect(of(untouched)).toEqual(untouchedEvents.map((e) => `${e.seq}:${e.type}`));
    expect(of(touched)).toEqual(['00000001-0:requested', expect.stringMatching(/:decision_refused$/)]);
    expect(of(filedNow)).toEqual([expect.stringMatching(/:requested$/)]);
    expect(rows.filter((row) => row.request_id === untouched).every((row) => row.account_name === 'production' && row.requester_slack_id === PEOPLE.carol.id)).toBe(true);
  });

  test('audit export --since 1h leaves out the pre-chain events older than that', async () => {
    const r = await runTimeboxCli(['audit', 'export', '--since', '1h', '--format', 'jsonl'], { env: env() });
    expect(r.code).toBe(0);
    const ids = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as Record<string, string>).request_id);
    expect(ids).not.toContain(untouched);
    expect(ids).toContain(filedNow);
  });

  test('audit verify checks the chained events and counts the pre-chain ones as unchained: every chain holds', async () => {
    const r = await runTimeboxCli(['audit', 'verify'], { env: env() });
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^checked \d+ events in 3 requests \(6 unchained, from before the chain\): every chain holds$/);
    expect(r.code).toBe(0);
  });
});
