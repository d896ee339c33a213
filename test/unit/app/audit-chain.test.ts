import { noteOnRequest } from '../../../src/app/commit';
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

  it('a note (a refused click) joins the chain in order; and a request with a long log still takes every note (no cap: the store pages long logs)', async () => {
    const world = makeDeps();
    const filed = await askForAccounts(world, ['staging'], ['ReadOnly']);
    await noteOnRequest(world.deps, filed.id, 'decision_refused', 'U0MALLORY0', 'approve: not an approver');
    const noted = await world.store.listAudit(filed.id);
    expect(noted.at(-1)).toMatchObject({ type: 'decision_refused', actor: 'U0MALLORY0', prev: noted.at(-2)!.hash });
    const stored = (await world.store.getRequest(filed.id))!;
    expect(verifyChain(filed.id, noted, stored.auditHead, sha256Hex).problems).toEqual([]);

    for (let i = 0; i < 450; i++) await noteOnRequest(world.deps, filed.id, 'decision_refused', 'U0MALLORY0', 'approve: not an approver');
    const all = await world.store.listAudit(filed.id);
    expect(all).toHaveLength(noted.length + 450);
    expect(verifyChain(filed.id, all, (await world.store.getRequest(filed.id))!.auditHead, sha256Hex).problems).toEqual([]);
  });
});
