import { spawn } from 'node:child_process';
import { copyFileSync, createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_COLUMNS } from '../../src/adapters/audit/audit-rows';
import { sha256Hex } from '../../src/adapters/audit/sha256';
import { startEmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import { toStoredRequest } from '../../src/adapters/dynamodb/stored-records';
import { AUDIT_FROM_START_ATTRIBUTE, AUDIT_LOG_ATTRIBUTE } from '../../src/adapters/dynamodb/table-layout';
import type { AccessRequest } from '../../src/domain/access-request';
import { chain, EMPTY_CHAIN, type AuditEvent } from '../../src/domain/audit';
import { eventually } from '../support/eventually';
import { parseCsv } from '../support/parse-csv';
import { runTimeboxCli, TIMEBOX_BIN } from '../support/timebox-cli';
import { ACCOUNTS, PEOPLE, PERMISSION_SETS, TimeboxHarness } from '../support/timebox-harness';

/** The OCSF 1.1.0 attributes User Access Management (3005) requires of every event. */
const OCSF_REQUIRED = ['activity_id', 'category_uid', 'class_uid', 'metadata', 'privileges', 'severity_id', 'time', 'type_uid', 'user'];

describe('explain-audit: audit export from the embedded store (jsonl, csv, ocsf)', () => {
  let h: TimeboxHarness;
  let out: string;
  const logged = new Map<string, AuditEvent[]>();
  let approved = '';
  const tricky = 'fix "prod", then; check, done';
  const env = () => ({ TIMEBOX_DATA_DIR: h.dataDir });

  beforeAll(async () => {
    h = await TimeboxHarness.start();
    out = mkdtempSync(join(tmpdir(), 'timebox-export-'));
    // A scripted set: approved after a refused click, granted and revoked; denied; auto-approved with a reason CSV must quote.
    approved = await h.file('carol', 'production Admin 2s approved one');
    await h.click('dave', 'approve', approved); // refused: not an approver
    await eventually(async () => ((await h.audit(approved)).some((e) => e.type === 'decision_refused') ? true : undefined), 10_000, 'the refusal to be logged');
    await h.click('alice', 'approve', approved);
    const denied = await h.file('carol', 'production Admin 30m denied one');
    await h.click('bob', 'deny', denied);
    const auto = await h.file('dave', `staging ReadOnly 2s ${tricky}`);
    await h.waitForStatus(approved, 'ENDED');
    await h.waitForStatus(denied, 'DENIED');
    await h.waitForStatus(auto, 'ENDED');
    await h.runtime.queue.drain();
    for (const id of [approved, denied, auto]) logged.set(id, await h.audit(id));
    // The embedded store is one process's at a time: the export reads it once Timebox has stopped.
    await h.runtime.stop();
  }, 60_000);
  afterAll(async () => {
    await h.stop();
    rmSync(out, { recursive: true, force: true });
  });

  const allEvents = () => [...logged.values()].flat();

  test('jsonl: every event of every request is written exactly once, with the stable columns, and a summary on stderr', async () => {
    const r = await runTimeboxCli(['audit', 'export', '--format', 'jsonl'], { env: env() });
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(rows.map((row) => `${row.request_id}/${row.seq}`).sort()).toEqual(allEvents().map((e) => `${e.requestId}/${e.seq}`).sort());
    for (const row of rows) expect(Object.keys(row)).toEqual([...AUDIT_COLUMNS]);
    const approval = rows.find((row) => row.request_id === approved && row.event === 'approved');
    expect(approval).toMatchObject({ actor_slack_id: PEOPLE.alice.id, actor_email: PEOPLE.alice.email, account_id: ACCOUNTS.production, account_name: 'production', permission_set: 'Admin', rule: 'prod-admin', duration: '2s', requester_email: PEOPLE.carol.email });
    // The last line (the SDK may warn about the Node version before it).
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`audit export: ${rows.length} events written`);
  });

  test('csv to a file: a standard RFC 4180 parser reads it back, a header and one row per event, a reason with quotes and commas intact', async () => {
    const file = join(out, 'audit.csv');
    const r = await runTimeboxCli(['audit', 'export', '--format', 'csv', '--out', file], { env: env() });
    expect(r).toMatchObject({ code: 0, stdout: '' });
    const [header, ...rows] = parseCsv(readFileSync(file, 'utf8')).filter((row) => row.length > 1);
    expect(header).toEqual([...AUDIT_COLUMNS]);
    expect(rows).toHaveLength(allEvents().length);
    const reason = AUDIT_COLUMNS.indexOf('reason');
    expect(rows.filter((row) => row[reason] === tricky).length).toBeGreaterThan(0);
  });

  test('ocsf: one User Access Management (3005) event per line with every required attribute; access becoming active is Assign Privileges, its end Revoke Privileges', async () => {
    const r = await runTimeboxCli(['audit', 'export', '--format', 'ocsf'], { env: env() });
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { unmapped: { timebox: Record<string, string> } });
    expect(events).toHaveLength(allEvents().length);
    for (const e of events) {
      for (const attribute of OCSF_REQUIRED) expect({ attribute, present: e[attribute] !== undefined }).toEqual({ attribute, present: true });
      expect(e).toMatchObject({ class_uid: 3005, category_uid: 3, type_uid: 300500 + (e.activity_id as number), metadata: { version: '1.1.0', product: { name: 'Timebox' } } });
      expect((e.privileges as string[]).length).toBe(1);
    }
    const of = (type: string) => events.filter((e) => e.unmapped.timebox.request_id === approved && e.unmapped.timebox.event === type);
    expect(of('granted').map((e) => [e.activity_id, e.activity_name, e.privileges])).toEqual([[1, 'Assign Privileges', ['Admin on production (222222222222)']]]);
    expect(of('revoked').map((e) => [e.activity_id, e.activity_name])).toEqual([[2, 'Revoke Privileges']]);
    expect(of('requested').map((e) => [e.activity_id, e.activity_name])).toEqual([[99, 'requested']]);
    expect(of('granted')[0]?.user).toEqual({ uid: PEOPLE.carol.id, type_id: 1, email_addr: PEOPLE.carol.email });
  });

  test('--since and --from/--to select by time: a window in the future holds nothing, the last day holds everything', async () => {
    const future = await runTimeboxCli(['audit', 'export', '--from', '2999-01-01', '--to', '2999-01-02T00:00:00Z'], { env: env() });
    expect({ code: future.code, stdout: future.stdout, last: future.stderr.trim().split('\n').at(-1) }).toEqual({ code: 0, stdout: '', last: 'audit export: 0 events written' });
    const lastDay = await runTimeboxCli(['audit', 'export', '--since', '1d'], { env: env() });
    expect(lastDay.stdout.trim().split('\n')).toHaveLength(allEvents().length);
  });

  test('bad input gets one clear line and a non-zero exit, and writes nothing', async () => {
    expect(await runTimeboxCli(['audit', 'export', '--format', 'xml'], { env: env() })).toEqual({
      code: 2,
      stdout: '',
      stderr: 'timebox audit export: --format must be jsonl, csv or ocsf, not "xml"; run `timebox audit export --help`\n',
    });
    expect((await runTimeboxCli(['audit', 'export', '--since', 'a while'], { env: env() })).stderr).toBe(
      'timebox audit export: --since must be a duration such as 7d, 12h or 90m, not "a while"; run `timebox audit export --help`\n',
    );
    expect((await runTimeboxCli(['audit', 'export', '--since', '1d', '--from', '2026-01-01'], { env: env() })).stderr).toContain('give --since or --from/--to, not both');
    expect((await runTimeboxCli(['audit', 'export', '--from', '2999-01-01'], { env: env() })).stderr).toContain('--from is in the future');
    const missing = join(out, 'no-such-store');
    expect(await runTimeboxCli(['audit', 'export'], { env: { TIMEBOX_DATA_DIR: missing } })).toEqual({
      code: 1,
      stdout: '',
      stderr: `timebox audit export: no Timebox store at ${missing} (set TIMEBOX_DATA_DIR to the data dir, or TIMEBOX_TABLE to the table)\n`,
    });
  });

  test('--from-archive reads a copy of the archive back (OCSF objects, one delivered twice) into the same rows as the store, each once; an s3:// location that is not one gets one line (reading S3 itself: audit-archive-s3.test.ts)', async () => {
    const archive = join(out, 'archive');
    const day = join(archive, 'audit', '2026', '12', '07');
    mkdirSync(day, { recursive: true });
    // The archiver writes the export's own OCSF lines (infra/test/audit-archive.test.ts); a record the stream delivers twice lands twice.
    expect((await runTimeboxCli(['audit', 'export', '--format', 'ocsf', '--out', join(day, 'first.ocsf.jsonl')], { env: env() })).code).toBe(0);
    copyFileSync(join(day, 'first.ocsf.jsonl'), join(day, 'again.ocsf.jsonl'));
    const fromStore = await runTimeboxCli(['audit', 'export', '--format', 'csv'], { env: env() });
    const fromArchive = await runTimeboxCli(['audit', 'export', '--format', 'csv', '--from-archive', archive], { env: { TIMEBOX_DATA_DIR: join(out, 'no-store-needed') } });
    expect(fromArchive.code).toBe(0);
    const rows = (text: string) => parseCsv(text).filter((row) => row.length > 1);
    expect(rows(fromArchive.stdout)).toHaveLength(allEvents().length + 1);
    expect(rows(fromArchive.stdout).sort()).toEqual(rows(fromStore.stdout).sort());
    const s3 = await runTimeboxCli(['audit', 'export', '--from-archive', 's3://Not_A_Bucket/audit/'], { env: env() });
    expect({ code: s3.code, err: s3.stderr.trim().split('\n').at(-1) }).toEqual({
      code: 1,
      err: 'timebox audit export: s3://Not_A_Bucket/audit/ is not an S3 location (s3://BUCKET or s3://BUCKET/PREFIX)',
    });
  });

  test('--help describes the options and exits 0', async () => {
    const r = await runTimeboxCli(['audit', 'export', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: timebox audit export [--since 7d | --from ISO [--to ISO]] [--format jsonl|csv|ocsf] [--out FILE]');
  });
});

/**
 * The table is served by this test's process, as DynamoDB would be by AWS, and the export reaches
 * it with TIMEBOX_TABLE and the SDK's endpoint setting: the child's memory is the export's alone.
 * (From an embedded data dir the store's own engine and its mapped files share the process: about
 * 160 MB peak RSS for this log, measured by hand; see the README.)
 */
describe('explain-audit: audit export of 100,000 events', () => {
  const REQUESTS = 10_000;
  const EVENTS_EACH = 10;
  let dir: string;
  let db: Awaited<ReturnType<typeof startEmbeddedDynamoDb>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'timebox-export-volume-'));
    db = await startEmbeddedDynamoDb(join(dir, 'store'));
    const doc = DynamoDBDocumentClient.from(db.client, { marshallOptions: { removeUndefinedValues: true } });
    const at = Date.now() - 3_600_000;
    const items = function* () {
      for (let n = 0; n < REQUESTS; n++) {
        const id = `R-${String(n).padStart(10, '0')}`;
        const drafts: AuditEvent[] = Array.from({ length: EVENTS_EACH }, (_, i) => ({ requestId: id, grantId: '1', at: at + n, seq: `${String(i + 1).padStart(8, '0')}-0`, type: i === 3 ? 'granted' : i === 9 ? 'revoked' : 'approval_recorded', actor: PEOPLE.alice.id, detail: `event ${i} of a long export` }));
        const { events, head } = chain(EMPTY_CHAIN, drafts, sha256Hex);
        const request: AccessRequest = {
          id,
          version: EVENTS_EACH,
          requester: { slackUserId: PEOPLE.carol.id, email: PEOPLE.carol.email },
          durationMs: 3_600_000,
          reason: 'volume',
          createdAt: at + n,
          expiresAt: at + n + 1000,
          grants: [{ id: '1', target: { kind: 'account', accountId: ACCOUNTS.staging, accountName: 'staging', permissionSetName: 'ReadOnly', permissionSetArn: PERMISSION_SETS.ReadOnly }, ruleName: 'staging-readonly', autoApproved: true, approvalsRequired: 0, approvals: [], status: 'ENDED' }],
          messages: [],
          updatedAt: at + n,
          lastEvents: events,
          auditHead: head,
        };
        // As createRequest stores a request filed on this release (its whole log on its item).
        yield { ...toStoredRequest(request), [AUDIT_LOG_ATTRIBUTE]: events, [AUDIT_FROM_START_ATTRIBUTE]: true };
      }
    };
    let batch: Record<string, unknown>[] = [];
    const flush = async () => {
      let unprocessed: Record<string, unknown>[] | undefined = batch.map((Item) => ({ PutRequest: { Item } }));
      while (unprocessed && unprocessed.length > 0) {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: unprocessed as never } }));
        unprocessed = out.UnprocessedItems?.[db.tableName] as Record<string, unknown>[] | undefined;
      }
      batch = [];
    };
    for (const item of items()) {
      batch.push(item);
      if (batch.length === 25) await flush();
    }
    await flush();
  }, 180_000);
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('streams all 100,000 events from TIMEBOX_TABLE as OCSF, each once, with progress lines on stderr, in under 150 MB of memory (peak RSS)', async () => {
    const file = join(dir, 'audit.ocsf');
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TIMEBOX_') && !k.startsWith('AWS_')));
      const child = spawn(process.execPath, ['-r', join(__dirname, '..', 'support', 'report-max-rss.js'), TIMEBOX_BIN, 'audit', 'export', '--format', 'ocsf', '--out', file], { env: { ...env, TIMEBOX_TABLE: db.tableName, AWS_ENDPOINT_URL_DYNAMODB: db.endpoint, AWS_REGION: 'local', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('audit export: ') && l.endsWith('events so far…'))).toEqual(Array.from({ length: 10 }, (_, i) => `audit export: ${((i + 1) * 10_000).toLocaleString('en')} events so far…`));
    expect(lines).toContain(`audit export: 100,000 events written to ${file}`);
    const maxRssKib = Number(/max-rss-kib (\d+)/.exec(r.stderr)?.[1]);
    console.log(`audit export of 100,000 events: peak RSS ${(maxRssKib / 1024).toFixed(0)} MiB`);
    expect(maxRssKib * 1024).toBeLessThan(150 * 1024 * 1024);
    // Each event once: 100,000 distinct (request, seq) pairs.
    const seen = new Set<string>();
    const input = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of input) seen.add(String((JSON.parse(line) as { metadata: { uid: string } }).metadata.uid));
    expect(seen.size).toBe(REQUESTS * EVENTS_EACH);
  }, 180_000);
});
