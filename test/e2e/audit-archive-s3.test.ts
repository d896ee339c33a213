import { marshall } from '@aws-sdk/util-dynamodb';
import { join } from 'node:path';
import { handler as archiver } from '../../src/entrypoints/lambda/audit-archiver';
import { eventually } from '../support/eventually';
import { parseCsv } from '../support/parse-csv';
import { S3StandIn } from '../support/s3-stand-in';
import { runTimeboxCli } from '../support/timebox-cli';
import { TimeboxHarness } from '../support/timebox-harness';

const BUCKET = 'timebox-audit-archive';

interface Captured {
  command: string;
  input: { Key?: Record<string, unknown>; Item?: Record<string, unknown>; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> };
}

/**
 * The new image a write of a request item leaves, as the table's stream would carry it (without
 * the audit log, which the archiver does not read): a put's item, or the key and every attribute
 * an update sets.
 */
function newImageOf({ command, input }: Captured): Record<string, unknown> | undefined {
  if (command === 'PutItemCommand') return input.Item?.kind === 'request' ? input.Item : undefined;
  if (command !== 'UpdateItemCommand' || input.Key?.sk !== 'REQUEST') return undefined;
  const image: Record<string, unknown> = { ...input.Key };
  for (const [placeholder, name] of Object.entries(input.ExpressionAttributeNames ?? {})) {
    const value = input.ExpressionAttributeValues?.[placeholder.replace('#', ':')];
    if (/^#a\d+$/.test(placeholder) && value !== undefined) image[name] = value;
  }
  return image;
}

describe('explain-audit: audit export --from-archive s3:// reads the archive from S3 itself', () => {
  let h: TimeboxHarness;
  let s3: S3StandIn;
  const writes: Captured[] = [];

  beforeAll(async () => {
    // Two keys per listing page, so the export has to follow continuation tokens.
    s3 = await S3StandIn.start({ pageSize: 2 });
    s3.createBucket(BUCKET);
    h = await TimeboxHarness.start();
    // Every successful write of the table, as its stream would deliver it to the archiver.
    h.runtime.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        writes.push({ command: (context as { commandName?: string }).commandName ?? '', input: (args as { input: Captured['input'] }).input });
        return out;
      },
      { step: 'initialize', name: 'tableStream' },
    );
    const approved = await h.file('carol', 'production Admin 1s approved after a refusal');
    await h.click('dave', 'approve', approved); // refused: not an approver
    await eventually(async () => (await h.audit(approved)).some((e) => e.type === 'decision_refused') || undefined, 10_000, 'the refusal on record');
    await h.click('alice', 'approve', approved);
    const auto = await h.file('dave', 'staging ReadOnly 1s auto-approved');
    await h.waitForStatus(approved, 'ENDED');
    await h.waitForStatus(auto, 'ENDED');
    await h.settled();
    await h.runtime.stop();

    // The archiver function, reaching S3 (the stand-in) through AWS_ENDPOINT_URL_S3 as on AWS through its own endpoint.
    Object.assign(process.env, s3.env(), { TIMEBOX_AUDIT_BUCKET: BUCKET });
    const records = writes
      .map(newImageOf)
      .filter((image): image is Record<string, unknown> => image !== undefined)
      .map((image, i) => ({ eventID: `e${i}`, dynamodb: { SequenceNumber: String(i), NewImage: marshall(image, { removeUndefinedValues: true }) as never } }));
    // The stream delivers at least once: the second batch repeats the first's last record.
    const half = Math.ceil(records.length / 2);
    expect(await archiver({ Records: records.slice(0, half) })).toEqual({ batchItemFailures: [] });
    expect(await archiver({ Records: records.slice(half - 1) })).toEqual({ batchItemFailures: [] });
  }, 60_000);
  afterAll(async () => {
    await h.stop();
    await s3.close();
  });

  test('the real bin exports from S3 (ListObjectsV2 page by page, GetObject) exactly the rows the store exports, each event once', async () => {
    expect(s3.keys(BUCKET).length).toBeGreaterThan(4);
    const fromStore = await runTimeboxCli(['audit', 'export', '--format', 'csv'], { env: { TIMEBOX_DATA_DIR: h.dataDir } });
    const fromS3 = await runTimeboxCli(['audit', 'export', '--format', 'csv', '--from-archive', `s3://${BUCKET}/audit/`], { env: { ...s3.env(), TIMEBOX_DATA_DIR: join(h.dataDir, 'not-needed') } });
    expect(fromS3.stderr).not.toMatch(/Error|not supported/);
    expect(fromS3.code).toBe(0);
    const rows = (text: string) => parseCsv(text).filter((row) => row.length > 1);
    expect(rows(fromS3.stdout).length).toBeGreaterThan(10);
    expect(rows(fromS3.stdout).sort()).toEqual(rows(fromStore.stdout).sort());
    // It followed the listing's continuation tokens to the end.
    const calls = s3.listCalls.filter((c) => c.bucket === BUCKET && c.prefix === 'audit/');
    expect(calls.length).toBe(Math.ceil(s3.keys(BUCKET).length / 2));
    expect(calls.slice(1).every((c) => c.continuationToken)).toBe(true);
  });

  test('a bucket that does not exist gets one line naming it and exit 1', async () => {
    const r = await runTimeboxCli(['audit', 'export', '--from-archive', 's3://no-such-archive/audit/'], { env: { ...s3.env(), TIMEBOX_DATA_DIR: join(h.dataDir, 'not-needed') } });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('timebox audit export: cannot read s3://no-such-archive/audit/: The specified bucket does not exist');
  });
});
