/** The in-memory ports keep the promises the use cases rely on (so a green use-case test means something). */
import { StoreConflictError } from '../../../src/domain/errors';
import { AssignmentStillInProgressError } from '../../../src/domain/errors';
import { newLease } from '../../../src/domain/lease';
import type { AccessRequest } from '../../../src/domain/access-request';
import { CrashError, FakeProvisioner, InMemoryRequestStore, PRINCIPAL, REQUESTER, T0, accountTarget, groupTarget } from '../../support/in-memory-ports';

function request(id: string, overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id,
    version: 1,
    requester: { slackUserId: REQUESTER.slackUserId },
    durationMs: 3_600_000,
    reason: 'r',
    createdAt: T0,
    expiresAt: T0 + 1000,
    grants: [{ id: '1', target: { kind: 'group', groupId: 'g', groupName: 'g' }, ruleName: 'x', autoApproved: false, approvalsRequired: 1, approvals: [], status: 'PENDING' }],
    messages: [],
    updatedAt: T0,
    ...overrides,
  };
}

describe('InMemoryRequestStore', () => {
  it('writes conditionally on the version, and refuses to create an existing id', async () => {
    const store = new InMemoryRequestStore();
    await store.createRequest(request('a'));
    await expect(store.createRequest(request('a'))).rejects.toBeInstanceOf(StoreConflictError);
    const saved = await store.saveRequest({ ...request('a'), reason: 'changed' });
    expect(saved.version).toBe(2);
    await expect(store.saveRequest({ ...request('a'), reason: 'stale' })).rejects.toBeInstanceOf(StoreConflictError);
    await expect(store.saveRequest(request('missing'))).rejects.toBeInstanceOf(StoreConflictError);
    expect((await store.getRequest('a'))?.reason).toBe('changed');
  });

  it('copies on the way in and out', async () => {
    const store = new InMemoryRequestStore();
    const mine = request('a');
    await store.createRequest(mine);
    mine.grants[0]!.status = 'ACTIVE';
    const read = await store.getRequest('a');
    read!.grants[0]!.status = 'ENDED';
    expect((await store.getRequest('a'))?.grants[0]?.status).toBe('PENDING');
  });

  it('lists due requests by dueAt, oldest first, and leases conditionally', async () => {
    const store = new InMemoryRequestStore();
    await store.createRequest(request('late', { expiresAt: T0 + 5000, messages: [{ kind: 'channel', shown: '1=PENDING:0' }, { kind: 'requester-dm', shown: '1=PENDING:0' }] }));
    await store.createRequest(request('early', { expiresAt: T0 + 1000, messages: [{ kind: 'channel', shown: '1=PENDING:0' }, { kind: 'requester-dm', shown: '1=PENDING:0' }] }));
    expect((await store.listDue(T0 + 999)).map((r) => r.id)).toEqual([]);
    expect((await store.listDue(T0 + 5000)).map((r) => r.id)).toEqual(['early', 'late']);

    const lease = newLease(accountTarget('staging', 'ReadOnly'), 'a/1', false, T0, 'gen-1');
    await store.putLease(lease, undefined);
    await expect(store.putLease(lease, undefined)).rejects.toBeInstanceOf(StoreConflictError);
    await expect(store.putLease({ ...lease, version: 3 }, 2)).rejects.toBeInstanceOf(StoreConflictError);
    await expect(store.deleteLease({ ...lease, version: 7 })).rejects.toBeInstanceOf(StoreConflictError);
    // The same key and version, another lifetime: refused.
    await expect(store.deleteLease({ ...lease, generation: 'gen-2' })).rejects.toBeInstanceOf(StoreConflictError);
    await expect(store.putLease({ ...lease, generation: 'gen-2', version: 2 }, 1)).rejects.toBeInstanceOf(StoreConflictError);
    await store.deleteLease(lease);
    expect((await store.listLeases()).leases).toEqual([]);
  });

  it('injects a conflict on the Nth matching write, and a crash from a write on', async () => {
    const store = new InMemoryRequestStore();
    store.injectFault({ op: 'saveRequest', nth: 2, error: 'conflict' });
    await store.createRequest(request('a'));
    await store.saveRequest(request('a'));
    await expect(store.saveRequest(request('a', { version: 2 }))).rejects.toBeInstanceOf(StoreConflictError);
    await store.saveRequest(request('a', { version: 2 }));

    store.crashAt((w) => w.op === 'saveRequest');
    await expect(store.saveRequest(request('a', { version: 3 }))).rejects.toBeInstanceOf(CrashError);
    store.recover();
    await store.saveRequest(request('a', { version: 3 }));
  });

  it('appends the events a request write carries to its log, in that same write', async () => {
    const store = new InMemoryRequestStore();
    await store.createRequest(request('a', { lastEvents: [{ requestId: 'a', at: T0, seq: '1', type: 'requested', actor: 'first' }] }));
    await store.saveRequest(request('a', { lastEvents: [{ requestId: 'a', at: T0, seq: '2', type: 'approved', actor: 'second' }] }));
    await store.saveRequest(request('a', { version: 2, lastEvents: [] }));
    expect((await store.listAudit('a')).map((e) => e.actor)).toEqual(['first', 'second']);
  });
});

describe('FakeProvisioner', () => {
  it('runs asynchronous account operations with ids, and leaves IN_PROGRESS ones for the test to finish', async () => {
    const aws = new FakeProvisioner();
    const target = accountTarget('staging', 'ReadOnly');
    aws.onCreate({ kind: 'in_progress' });
    const started: string[] = [];
    await expect(aws.create(target, { onStarted: async (id) => void started.push(id) })).rejects.toBeInstanceOf(AssignmentStillInProgressError);
    expect(await aws.operationStatus('create', started[0] as string)).toBe('IN_PROGRESS');
    expect(aws.has(target)).toBe(false);
    aws.completeOperation(started[0] as string);
    expect(await aws.operationStatus('create', started[0] as string)).toBe('SUCCEEDED');
    expect((await aws.lookup(target)).present).toBe(true);
  });

  it('removes a group membership by its id only', async () => {
    const aws = new FakeProvisioner();
    const target = groupTarget('oncall', PRINCIPAL);
    const created = await aws.create(target);
    expect(created).toEqual({ ok: true, membershipId: expect.any(String) });
    await aws.remove(target, 'm-someone-else');
    expect(aws.has(target)).toBe(true);
    await aws.remove(target, (created as { membershipId: string }).membershipId);
    expect(aws.has(target)).toBe(false);
  });
});
