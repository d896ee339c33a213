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

describe('reliability: a graceful stop does not wait on Slack for ever', () => {
  test('news not yet started when the grace is over is left to the store; the news already running finishes', async () => {
    const queue = new InProcessJobQueue(new SilentLogger());
    const told: string[] = [];
    let releaseSlack: () => void = () => undefined;
    const slack = new Promise<void>((resolve) => (releaseSlack = resolve));
    queue.bind({
      work: async () => undefined,
      notify: async (job: AdvanceJob) => {
        told.push(`start ${job.requestId}`);
        if (job.requestId === 'slow') await slack; // Slack answering slowly
        told.push(`done ${job.requestId}`);
        return undefined;
      },
    });
    await queue.dispatch({ requestId: 'slow' });
    await new Promise((resolve) => setImmediate(resolve));
    await queue.dispatch({ requestId: 'slow' }); // its next news queued behind the running one
    await new Promise((resolve) => setImmediate(resolve));
    const closed = queue.close(50);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the grace is over
    releaseSlack();
    await closed;
    expect(told).toEqual(['start slow', 'done slow']);
  });
});
