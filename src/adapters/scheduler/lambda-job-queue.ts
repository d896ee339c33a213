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
    await this.client.send(
      new InvokeCommand({
        FunctionName: this.workerFunction,
        InvocationType: 'Event',
        // The job as it is (a window's end carries what Timebox created), less any wait: it is due now.
        Payload: Buffer.from(JSON.stringify({ requestId: job.requestId, ...(job.created ? { created: job.created } : {}) })),
      }),
    );
  }
}
