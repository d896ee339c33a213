import { InProcessJobQueue } from '../../../src/adapters/scheduler/in-process-job-queue';
import type { AdvanceJob } from '../../../src/app/ports';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as never;

/** A queue whose work jobs wait until released, so the test sees what runs and what waits. */
function heldQueue(limits: { atOnce: number; queued: number }) {
  const queue = new InProcessJobQueue(silent, limits);
  const started: AdvanceJob[] = [];
  const releases = new Map<string, () => void>();
  let refills = 0;
  queue.bind({
    work: (job) => {
      started.push(job);
      return new Promise<void>((resolve) => releases.set(job.requestId, resolve));
    },
    notify: async () => undefined,
    refill: async () => {
      refills += 1;
    },
  });
  const finish = async (id: string) => {
    releases.get(id)?.();
    releases.delete(id);
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { queue, started, finish, refills: () => refills };
}

describe('performance-2: the local work queue is bounded', () => {
  test('new work beyond the places waits as request ids, beyond the bound it is turned away and the store is asked again once there is room', async () => {
    const { queue, started, finish, refills } = heldQueue({ atOnce: 2, queued: 2 });
    for (const id of ['r1', 'r2', 'r3', 'r4', 'r5', 'r6']) await queue.dispatch({ requestId: id });
    await queue.dispatch({ requestId: 'r3' }); // asked again while waiting: still one entry
    expect(started.map((j) => j.requestId)).toEqual(['r1', 'r2']);
    expect(queue.load).toEqual({ running: 2, waiting: 2, turnedAway: 2 });
    await finish('r1');
    expect(started.map((j) => j.requestId)).toEqual(['r1', 'r2', 'r3']);
    expect(refills()).toBe(1); // room again: what was turned away is read from the store's due index
  });

  test("a timer's job (a window's end) starts at once however full the queue is, keeping the targets it names", async () => {
    const { queue, started } = heldQueue({ atOnce: 1, queued: 1 });
    await queue.dispatch({ requestId: 'grant-1' });
    await queue.dispatch({ requestId: 'grant-2' });
    await queue.dispatch({ requestId: 'grant-3' });
    const created = [{ grantId: '1', target: { kind: 'account' as const, accountId: '111111111111', permissionSetArn: 'arn:ps', principalId: 'u-1' } }];
    await queue.dispatch({ requestId: 'revoke-1', created }, 'due');
    expect(started.map((j) => j.requestId)).toEqual(['grant-1', 'revoke-1']);
    expect(started[1]?.created).toEqual(created);
  });

  test('work asked for while the same request is running runs once more after it, not side by side', async () => {
    const { queue, started, finish } = heldQueue({ atOnce: 4, queued: 4 });
    await queue.dispatch({ requestId: 'r1' });
    await queue.dispatch({ requestId: 'r1' });
    await queue.dispatch({ requestId: 'r1' });
    expect(started).toHaveLength(1);
    await finish('r1');
    expect(started).toHaveLength(2);
    await finish('r1');
    expect(started).toHaveLength(2);
    await queue.drain();
  });
});
