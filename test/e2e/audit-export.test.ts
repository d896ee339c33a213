import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_COLUMNS } from '../../src/adapters/audit/audit-rows';
import type { AuditEvent } from '../../src/domain/audit';
import { eventually } from '../support/eventually';
import { parseCsv } from '../support/parse-csv';
import { runTimeboxCli } from '../support/timebox-cli';
import { ACCOUNTS, PEOPLE, TimeboxHarness } from '../support/timebox-harness';

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

  test('--help describes the options and exits 0', async () => {
    const r = await runTimeboxCli(['audit', 'export', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: timebox audit export [--since 7d | --from ISO [--to ISO]] [--format jsonl|csv|ocsf] [--out FILE]');
  });
});
