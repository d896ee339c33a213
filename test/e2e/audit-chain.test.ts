import { GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { startEmbeddedDynamoDb } from '../../src/adapters/dynamodb/embedded-dynamodb';
import type { AuditEvent } from '../../src/domain/audit';
import { runTimeboxCli } from '../support/timebox-cli';
import { TimeboxHarness } from '../support/timebox-harness';

/** The last line of a CLI's output (the AWS SDK may warn about the Node version on stderr). */
const lastLine = (text: string) => text.trim().split('\n').at(-1);

describe('explain-audit: the audit chain and audit verify', () => {
  let h: TimeboxHarness;
  const ids: Record<'edited' | 'deleted' | 'reordered' | 'cut' | 'untouched', string> = { edited: '', deleted: '', reordered: '', cut: '', untouched: '' };
  const env = () => ({ TIMEBOX_DATA_DIR: h.dataDir });
  const logs = new Map<string, AuditEvent[]>();
  /** The seq of the event at `index` in a request's log as Timebox wrote it. */
  const seqAt = (id: string, index: number) => logs.get(id)![index]!.seq;
  const total = () => [...logs.values()].reduce((n, log) => n + log.length, 0);

  /** Changes a stored request's audit log with the store closed, as someone with the table's files (or its write role) could. */
  async function tamper(requestId: string, change: (log: AttributeValue[]) => { UpdateExpression: string; ExpressionAttributeValues?: Record<string, AttributeValue> }): Promise<void> {
    const db = await startEmbeddedDynamoDb(h.dataDir);
    try {
      const Key = { pk: { S: `REQ#${requestId}` }, sk: { S: 'REQUEST' } };
      const item = await db.client.send(new GetItemCommand({ TableName: db.tableName, Key }));
      await db.client.send(new UpdateItemCommand({ TableName: db.tableName, Key, ...change(item.Item!.auditLog!.L!) }));
    } finally {
      await db.close();
    }
  }

  beforeAll(async () => {
    h = await TimeboxHarness.start();
    for (const k of Object.keys(ids) as Array<keyof typeof ids>) ids[k] = await h.file('carol', `staging ReadOnly 1s ${k}`);
    for (const id of Object.values(ids)) await h.waitForStatus(id, 'ENDED');
    await h.runtime.queue.drain();
    for (const id of Object.values(ids)) logs.set(id, await h.audit(id));
    await h.runtime.stop();
  }, 60_000);
  afterAll(async () => {
    await h.stop();
  });

  test('an untampered log: every chain holds, the count of what was checked is given, exit 0', async () => {
    const r = await runTimeboxCli(['audit', 'verify'], { env: env() });
    // Each auto-approved window: requested, auto_approved, grant_started, granted, revoke_started, revoked (and assignment_kept where windows overlapped).
    expect({ code: r.code, out: lastLine(r.stdout) }).toEqual({ code: 0, out: `checked ${total()} events in 5 requests: every chain holds` });
  });

  test('an edited, a deleted, a reordered and a cut-off event are each reported against their request, exit 1; the untouched request is not named', async () => {
    // Edited: who approved is rewritten.
    await tamper(ids.edited, () => ({ UpdateExpression: 'SET auditLog[1].actor = :x', ExpressionAttributeValues: { ':x': { S: 'U0MALLORY0' } } }));
    // Deleted: the grant_started event is gone from the middle.
    await tamper(ids.deleted, () => ({ UpdateExpression: 'REMOVE auditLog[2]' }));
    // Reordered: granted and revoke_started swap places, each unchanged.
    await tamper(ids.reordered, (log) => ({ UpdateExpression: 'SET auditLog[3] = :a, auditLog[4] = :b', ExpressionAttributeValues: { ':a': log[4]!, ':b': log[3]! } }));
    // Cut off: the last event (revoked) is gone.
    await tamper(ids.cut, (log) => ({ UpdateExpression: `REMOVE auditLog[${log.length - 1}]` }));

    const r = await runTimeboxCli(['audit', 'verify', '--since', '1d'], { env: env() });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    const about = (id: string) => lines.filter((l) => l.startsWith(`${id}: `)).map((l) => l.split(':').slice(1, 2).join('').trim());
    expect(about(ids.edited)).toEqual([`altered at ${seqAt(ids.edited, 1)}`]);
    // The event after the gap names another as its predecessor, and the log holds one event fewer than its request records.
    expect(about(ids.deleted)).toEqual([`removed or reordered at ${seqAt(ids.deleted, 3)}`, 'removed or reordered']);
    // Each of the two moved events, and the one after them, names another predecessor.
    expect(about(ids.reordered)).toEqual([4, 3, 5].map((i) => `removed or reordered at ${seqAt(ids.reordered, i)}`));
    expect(about(ids.cut)).toEqual(['truncated']);
    expect(about(ids.untouched)).toEqual([]);
    expect(lastLine(r.stdout)).toBe(`checked ${total() - 2} events in 5 requests: 7 problems in 4 requests`);
  });

  test('bad input gets one clear line and exit 2; --help exits 0', async () => {
    expect(await runTimeboxCli(['audit', 'verify', '--since', 'forever'], { env: env() })).toEqual({
      code: 2,
      stdout: '',
      stderr: 'timebox audit verify: --since must be a duration such as 7d, 12h or 90m, not "forever"; run `timebox audit verify --help`\n',
    });
    const help = await runTimeboxCli(['audit', 'verify', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: timebox audit verify [--since 7d | --from ISO [--to ISO]]');
  });
});
