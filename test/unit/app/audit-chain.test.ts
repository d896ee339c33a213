import { MAX_NOTED_EVENTS, noteOnRequest } from '../../../src/app/commit';
import { sha256Hex } from '../../../src/adapters/audit/sha256';
import { verifyChain } from '../../../src/domain/audit';
import { askForAccounts, makeDeps } from '../../support/in-memory-ports';

describe('explain-audit: the chain as use cases write it', () => {
  it('every write appends its events after the last one: the whole log of a granted request verifies, and the head counts it', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await world.queue.runPending();
    const log = await world.store.listAudit(filed.id);
    const request = (await world.store.getRequest(filed.id))!;
    expect(log.length).toBeGreaterThan(3);
    expect(request.auditHead).toEqual({ hash: log.at(-1)!.hash, count: log.length });
    expect(verifyChain(filed.id, log, request.auditHead, sha256Hex)).toEqual({ checked: log.length, unchained: 0, problems: [] });
  });

  it('a note (a refused click) joins the chain in order; past MAX_NOTED_EVENTS a request takes no more notes, so clicking cannot grow its item without bound', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await noteOnRequest(world.deps, filed.id, 'decision_refused', 'U0MALLORY0', 'approve: not an approver');
    const noted = await world.store.listAudit(filed.id);
    expect(noted.at(-1)).toMatchObject({ type: 'decision_refused', actor: 'U0MALLORY0', prev: noted.at(-2)!.hash });
    const stored = (await world.store.getRequest(filed.id))!;
    expect(verifyChain(filed.id, noted, stored.auditHead, sha256Hex).problems).toEqual([]);

    world.store.seedRequest({ ...stored, auditHead: { ...stored.auditHead!, count: MAX_NOTED_EVENTS } });
    await noteOnRequest(world.deps, filed.id, 'decision_refused', 'U0MALLORY0', 'approve: not an approver');
    expect(await world.store.listAudit(filed.id)).toHaveLength(noted.length);
  });
});
