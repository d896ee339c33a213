import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { archiveObjectOf } from '../../adapters/audit/archive-objects';

/** The part of @aws-sdk/client-s3 the archiver uses (the Lambda Node.js runtime provides the package). */
interface S3Module {
  S3Client: new (config: object) => { send(command: object): Promise<unknown> };
  PutObjectCommand: new (input: { Bucket: string; Key: string; Body: string; ContentType: string; ChecksumAlgorithm: 'SHA256' }) => object;
}

interface StreamEvent {
  Records: Array<{ eventID?: string; dynamodb?: { NewImage?: Record<string, AttributeValue>; SequenceNumber?: string } }>;
}

// Not bundled: the runtime's own SDK (see infra/lib/audit-archive.ts), loaded once per sandbox.
const S3_PACKAGE = '@aws-sdk/client-s3';
let s3: Promise<{ client: InstanceType<S3Module['S3Client']>; module: S3Module }> | undefined;
const s3Client = () => (s3 ??= (import(S3_PACKAGE) as Promise<S3Module>).then((module) => ({ module, client: new module.S3Client({}) })));

/**
 * The audit archiver: reads the table's stream and writes each request write's audit events, as
 * OCSF lines, to the Object Lock bucket (TIMEBOX_AUDIT_BUCKET). It may only put objects. A record
 * that fails is reported, so the stream retries from it (and nothing after it is skipped).
 */
export async function handler(event: StreamEvent): Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }> {
  const bucket = process.env.TIMEBOX_AUDIT_BUCKET;
  if (!bucket) throw new Error('TIMEBOX_AUDIT_BUCKET is not set');
  for (const record of event.Records) {
    const image = record.dynamodb?.NewImage;
    if (!image) continue;
    try {
      const object = archiveObjectOf(unmarshall(image));
      if (!object) continue;
      const { client, module } = await s3Client();
      await client.send(new module.PutObjectCommand({ Bucket: bucket, Key: object.key, Body: object.body, ContentType: 'application/x-ndjson', ChecksumAlgorithm: 'SHA256' }));
    } catch (err) {
      console.error(JSON.stringify({ msg: 'audit archive write failed', eventID: record.eventID, err: err instanceof Error ? err.message : String(err) }));
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? record.eventID ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
}
