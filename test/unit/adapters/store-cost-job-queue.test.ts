/** The in-process queue hands each job what this process already knows of its request, so the job need not read it again, and never an older version than it knows. */
import { InProcessJobQueue } from '../../../src/adapters/scheduler/in-process-job-queue';
import type { AccessRequest } from '../../../src/domain/access-request';
import type { AdvanceJob } from '../../../src/app/ports';
import { askForAccounts, makeDeps, SilentLogger } from '../../support/in-memory-ports';

type Seen = { lane: 'work' | 'notify'; version: number | undefined };

async function setUp() {
  const world = makeDeps();
  const filed = await askForAccounts(world, ['production'], ['Admin']);
  const at = (version: number): AccessRequest => ({ ...filed, version });
  const queue = new InProcessJobQueue(new SilentLogger());
  const seen: Seen[] = [];
  // What each run leaves behind, in order: a version, or an error.
  const outcomes: Array<AccessRequest | Error> = [];
  const run = (lane: Seen['lane']) => async (_job: AdvanceJob, known?: AccessRequest) => {
    seen.push({ lane, version: known?.version });
    const next = outcomes.shift();
    if (next instanceof Error) throw next;
    return next;
  };
  queue.bind({ work: run('work'), notify: run('notify') });
  return { queue, seen, outcomes, at, id: filed.id };
}

describe('explain-audit: store cost, what the in-process queue hands on', () => {
  test('the work starts from the version its door wrote, and the news from what the work left (no read for either)', async () => {
    const { queue, seen, outcomes, at, id } = await setUp();
    outcomes.push(at(3), at(4));
    await queue.dispatch({ requestId: id }, at(2));
    await queue.drain();
    expect(seen).toEqual([
      { lane: 'work', version: 2 },
      { lane: 'notify', version: 3 },
    ]);
  });

  test('a work run that read the request before a news pass wrote it never takes that pass\'s place: the next news starts from the newer one (else people would be told again)', async () => {
    const { queue, seen, outcomes, at, id } = await setUp();
    outcomes.push(at(3), at(4)); // work leaves v3, its news writes v4
    await queue.dispatch({ requestId: id });
    await queue.drain();
    outcomes.push(at(3), at(4)); // a later run read v3 before the news wrote v4
    await queue.dispatch({ requestId: id });
    await queue.drain();
    expect(seen.at(-1)).toEqual({ lane: 'notify', version: 4 });
  });

  test('after a job that failed, the next news reads the store (nothing known is handed on)', async () => {
    const { queue, seen, outcomes, at, id } = await setUp();
    outcomes.push(at(3), at(4));
    await queue.dispatch({ requestId: id });
    await queue.drain();
    outcomes.push(new Error('the store is down'), at(5));
    await queue.dispatch({ requestId: id });
    await queue.drain();
    expect(seen.slice(2)).toEqual([
      { lane: 'work', version: undefined },
      { lane: 'notify', version: undefined },
    ]);
  });
});
