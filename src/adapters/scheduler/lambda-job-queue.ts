import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { AdvanceJob, JobQueue } from '../../app/ports';

/**
 * Hands a job to the worker function with an asynchronous invoke (InvocationType Event), so the
 * Slack handler can ack at once. A repeated hand-off is harmless: the worker is idempotent.
 */
export class LambdaJobQueue implements JobQueue {
  constructor(
    private readonly client: LambdaClient,
    private readonly workerFunction: string,
  ) {}

  async dispatch(job: AdvanceJob): Promise<void> {
    // The job as it is (a window's end carries what Timebox created), less any wait: it is due now.
    await invokeAsync(this.client, this.workerFunction, { requestId: job.requestId, ...(job.created ? { created: job.created } : {}) });
  }
}

/** An asynchronous invoke (InvocationType Event) of `functionName` with `payload` as JSON. */
export async function invokeAsync(client: LambdaClient, functionName: string, payload: unknown): Promise<void> {
  await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) }));
}
