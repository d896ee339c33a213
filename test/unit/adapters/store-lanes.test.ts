import { StoreLanes, ROUTINE_CALLS_AT_ONCE } from '../../../src/adapters/store-lanes';
import { heldStore } from '../../support/in-memory-ports';


describe('reliability-3: store lanes (access work ahead of routine work)', () => {
  test(`routine calls beyond ${ROUTINE_CALLS_AT_ONCE} wait their turn in order; an access call goes to the store at once`, async () => {
    const { store, started, releaseOne } = heldStore();
    const lanes = new StoreLanes(store);
    const routine = lanes.lane('routine');
    const calls = Array.from({ length: ROUTINE_CALLS_AT_ONCE + 3 }, (_, i) => routine.getRequest(`routine-${i}`));
    await Promise.resolve();
    expect(started).toHaveLength(ROUTINE_CALLS_AT_ONCE);
    expect(lanes.routineLoad).toEqual({ running: ROUTINE_CALLS_AT_ONCE, waiting: 3 });

    void lanes.lane('access').getRequest('access');
    expect(started.at(-1)).toBe('access');

    await releaseOne(); // routine-0 done: routine-4 starts
    expect(started.at(-1)).toBe(`routine-${ROUTINE_CALLS_AT_ONCE}`);
    while (started.length < calls.length + 1 || lanes.routineLoad.running > 0) await releaseOne();
    await Promise.all(calls);
    expect(started.filter((s) => s.startsWith('routine'))).toEqual(calls.map((_, i) => `routine-${i}`));
  });

  test('while access work is under way, routine calls take one place at a time; afterwards they have all their places again', async () => {
    const { store, started, releaseOne } = heldStore();
    const lanes = new StoreLanes(store);
    const routine = lanes.lane('routine');
    let finishAccess: () => void = () => undefined;
    const access = lanes.serveAccess(() => new Promise<void>((resolve) => (finishAccess = resolve)));
    const calls = Array.from({ length: ROUTINE_CALLS_AT_ONCE + 1 }, (_, i) => routine.getRequest(`routine-${i}`));
    await Promise.resolve();
    expect(started).toEqual(['routine-0']);

    finishAccess();
    await access;
    expect(started).toHaveLength(ROUTINE_CALLS_AT_ONCE);
    while (lanes.routineLoad.running > 0) await releaseOne();
    await Promise.all(calls);
    expect(started).toHaveLength(ROUTINE_CALLS_AT_ONCE + 1);
  });
});
