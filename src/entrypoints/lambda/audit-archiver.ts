import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { archiveObjectOf } from '../../adapters/audit/archive-objects';

interface StreamEvent {
  Records: Array<{ eventID?: string; dynamodb?: { NewImage?: Record<string, AttributeValue>; SequenceNumber?: string } }>;
}

// One client per sandbox, made on first use.
let s3: S3Client | undefined;

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
      s3 ??= new S3Client({});
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: object.key, Body: object.body, ContentType: 'application/x-ndjson', ChecksumAlgorithm: 'SHA256' }));
    } catch (err) {
      console.error(JSON.stringify({ msg: 'audit archive write failed', eventID: record.eventID, err: err instanceof Error ? err.message : String(err) }));
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? record.eventID ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
}
