import { INTERACTIVE_CALLS_AT_ONCE, ROUTINE_CALLS_AT_ONCE, StoreLanes } from '../../../src/adapters/store-lanes';
import { heldStore } from '../../support/in-memory-ports';

describe('performance-2: store lanes (a person waiting never queues behind background work)', () => {
  test('with every routine place taken by stuck calls, calls a person waits on still go to the store, a bounded number at a time', async () => {
    const { store, started, releases } = heldStore();
    const lanes = new StoreLanes(store);
    const routine = Array.from({ length: ROUTINE_CALLS_AT_ONCE + 2 }, (_, i) => lanes.lane('routine').getRequest(`routine-${i}`));
    const interactive = Array.from({ length: INTERACTIVE_CALLS_AT_ONCE + 1 }, (_, i) => lanes.lane('interactive').getRequest(`person-${i}`));
    await Promise.resolve();
    expect(started.filter((s) => s.startsWith('person'))).toEqual(Array.from({ length: INTERACTIVE_CALLS_AT_ONCE }, (_, i) => `person-${i}`));
    expect(lanes.interactiveLoad).toEqual({ running: INTERACTIVE_CALLS_AT_ONCE, waiting: 1 });
    expect(lanes.routineLoad).toEqual({ running: ROUTINE_CALLS_AT_ONCE, waiting: 2 });
    // A freed place is handed on once the finishing call's own work has had its turn (a macrotask later).
    let done = false;
    const all = Promise.all([...routine, ...interactive]).then(() => (done = true));
    while (!done) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await all;
    expect(started).toHaveLength(routine.length + interactive.length);
  });
});
