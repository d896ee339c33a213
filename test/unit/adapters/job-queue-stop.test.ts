/** A graceful stop of the in-process queue: what was done before it is told, what was not started is left to the store. */
import { InProcessJobQueue } from '../../../src/adapters/scheduler/in-process-job-queue';
import type { AdvanceJob } from '../../../src/app/ports';
import { SilentLogger } from '../../support/in-memory-ports';

function setUp() {
  const queue = new InProcessJobQueue(new SilentLogger());
  const ran: string[] = [];
  let finishWork: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (finishWork = resolve));
  queue.bind({
    work: async (job: AdvanceJob) => {
      ran.push(`work ${job.requestId}`);
      if (job.requestId === 'held') await held;
      return undefined;
    },
    notify: async (job: AdvanceJob) => {
      ran.push(`notify ${job.requestId}`);
      return undefined;
    },
  });
  return { queue, ran, finishWork };
}

describe('reliability: a graceful stop of the local job queue', () => {
  test('work that finishes while the stop drains is still told to people before the stop returns (else a restart would DM them again)', async () => {
    const { queue, ran, finishWork } = setUp();
    await queue.dispatch({ requestId: 'held' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual(['work held']);
    const closed = queue.close();
    finishWork();
    await closed;
    expect(ran).toEqual(['work held', 'notify held']);
  });

  test('work queued behind a running job but not started by the stop is left to the store, and nothing is taken after it', async () => {
    const { queue, ran, finishWork } = setUp();
    await queue.dispatch({ requestId: 'held' });
    await queue.dispatch({ requestId: 'held' }); // queued behind the first, same request
    await new Promise((resolve) => setImmediate(resolve));
    const closed = queue.close();
    await queue.dispatch({ requestId: 'after' });
    finishWork();
    await closed;
    expect(ran).toEqual(['work held', 'notify held']);
  });
});
