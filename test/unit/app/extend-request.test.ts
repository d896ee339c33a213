/** Extensions with in-memory ports: applied once whatever crashes, refused clearly, and the warning due once per window end. */
import { advanceRequest } from '../../../src/app/advance-request';
import { endAccess } from '../../../src/app/end-access';
import { extendRequest } from '../../../src/app/extend-request';
import { sweepDueRequests } from '../../../src/app/sweep';
import { dueAt } from '../../../src/domain/access-request';
import { parseCommand } from '../../../src/domain/command';
import { extendWarningAt } from '../../../src/domain/extension';
import { parseConfig } from '../../../src/config/load-config';
import { CrashError, HOUR, MINUTE, REQUESTER, activeStagingReadOnly, grantStatuses, makeDeps, makePolicy, passTime, stored, type TestWorld } from '../../support/in-memory-ports';
import { testConfigYaml } from '../../support/timebox-harness';

const withWarning = () => makeDeps({ policy: makePolicy({ durations: { defaultMs: HOUR, minMs: 5 * MINUTE, pendingExpiryMs: 24 * HOUR, extendWarningMs: 10 * MINUTE } }) });

const extend = (world: TestWorld, requestId: string, durationMs = 30 * MINUTE, idempotencyKey?: string) =>
  extendRequest(world.deps, { requestId, requesterSlackUserId: REQUESTER.slackUserId, durationMs, reason: 'need more time', ...(idempotencyKey ? { idempotencyKey } : {}) });

describe('daily-use: extend (use case)', () => {
  it('a crash after the original moved and before the extension was marked applied: the retry marks it, and the window moves once', async () => {
    const world = makeDeps();
    const id = await activeStagingReadOnly(world);
    const endsAt = (await stored(world, id)).grants[0]!.endsAt!;
    world.store.crashAt((w) => w.op === 'saveRequest' && w.id !== id && w.item !== undefined && 'extends' in w.item);
    const filed = await extend(world, id);
    await expect(world.queue.runPending()).rejects.toBeInstanceOf(CrashError);
    expect((await stored(world, id)).grants[0]!.endsAt).toBe(endsAt + 30 * MINUTE);
    expect(grantStatuses(await stored(world, filed.request.id))).toBe('1=APPROVED');

    world.store.recover();
    await advanceRequest(world.deps, filed.request.id);
    await advanceRequest(world.deps, filed.request.id);
    expect(grantStatuses(await stored(world, filed.request.id))).toBe('1=APPLIED');
    expect((await stored(world, id)).grants[0]!.endsAt).toBe(endsAt + 30 * MINUTE);
    expect((await world.store.listAudit(id)).filter((e) => e.type === 'extended')).toHaveLength(1);
    // The window's timer moved with it.
    expect(world.scheduler.calls.filter((c) => c.op === 'scheduleAt' && c.job.requestId === id).at(-1)).toMatchObject({ at: endsAt + 30 * MINUTE });
  });

  it('an approved extension whose window was ended early in the meantime fails clearly and moves nothing', async () => {
    const world = makeDeps();
    const id = await activeStagingReadOnly(world);
    const filed = await extend(world, id);
    await endAccess(world.deps, { requestId: id, bySlackUserId: REQUESTER.slackUserId });
    await world.queue.runPending();
    const extension = await stored(world, filed.request.id);
    expect(grantStatuses(extension)).toBe('1=FAILED');
    expect(extension.grants[0]!.failure).toBe('not extended: the window was ended early before the extension was approved');
    expect(grantStatuses(await stored(world, id))).toBe('1=ENDED');
    expect((await world.store.listAudit(id)).filter((e) => e.type === 'extended')).toEqual([]);
  });

  it('the same interaction twice files one extension', async () => {
    const world = makeDeps();
    const id = await activeStagingReadOnly(world);
    const [a, b] = await Promise.all([extend(world, id, 30 * MINUTE, 'view:V1'), extend(world, id, 30 * MINUTE, 'view:V1')]);
    expect(a.request.id).toBe(b.request.id);
    expect((await stored(world, id)).extensions).toEqual([{ id: a.request.id, applied: [] }]);
  });

  it('the warning is due that long before the window ends, once per end; a moved end is due again', async () => {
    const world = withWarning();
    const id = await activeStagingReadOnly(world);
    const request = await stored(world, id);
    const endsAt = request.grants[0]!.endsAt!;
    expect(extendWarningAt(request)).toBe(endsAt - 10 * MINUTE);
    expect(dueAt(request)).toBe(endsAt - 10 * MINUTE);
    expect(world.scheduler.calls.at(-1)).toMatchObject({ op: 'scheduleAt', at: endsAt - 10 * MINUTE });

    await passTime(world, 50 * MINUTE);
    expect(world.notifier.warnings.map((w) => w.request.id)).toEqual([id]);
    expect(extendWarningAt(await stored(world, id))).toBeUndefined();
    await passTime(world, MINUTE);
    expect(world.notifier.warnings).toHaveLength(1);

    await extend(world, id, 20 * MINUTE);
    await world.queue.runPending();
    expect(extendWarningAt(await stored(world, id))).toBe(endsAt + 10 * MINUTE);
    await passTime(world, 20 * MINUTE);
    expect(world.notifier.warnings).toHaveLength(2);
  });

  it('the sweep arms a warning due within its lookahead even when the window ends after it (a restarted process has no timers)', async () => {
    const world = withWarning();
    const id = await activeStagingReadOnly(world);
    const endsAt = (await stored(world, id)).grants[0]!.endsAt!;
    world.scheduler.calls.length = 0;
    await sweepDueRequests(world.deps, 55 * MINUTE);
    expect(world.scheduler.calls).toEqual([expect.objectContaining({ op: 'scheduleAt', at: endsAt - 10 * MINUTE, job: expect.objectContaining({ requestId: id }) })]);
  });

  it('a window no longer than the warning gets none; without durations.extendWarning nothing is due for it', async () => {
    const world = withWarning();
    expect(extendWarningAt(await stored(world, await activeStagingReadOnly(world, 10 * MINUTE)))).toBeUndefined();
    const off = makeDeps();
    expect(extendWarningAt(await stored(off, await activeStagingReadOnly(off)))).toBeUndefined();
  });
});

describe('daily-use: extend (command and config)', () => {
  it('parses /aws-access extend <id> <duration> <reason…>, and names what is missing', () => {
    expect(parseCommand('extend r-0123456789 30m still on it')).toEqual({ kind: 'extend', requestId: 'R-0123456789', durationMs: 30 * MINUTE, reason: 'still on it' });
    expect(() => parseCommand('extend R-0123456789')).toThrow('Say how much longer');
    expect(() => parseCommand('extend R-0123456789 30m')).toThrow('Please give a reason');
    expect(() => parseCommand('extend R-01234 30m why')).toThrow('"R-01234" is not a request id');
    // An account named "extend" is still requested as before.
    expect(parseCommand('extend ReadOnly 2h reason')).toMatchObject({ kind: 'request', spec: { accounts: ['extend'] } });
  });

  it('durations.extendWarning defaults to 10m and 0 turns it off; rules[].maxExtensions defaults to 2 and must be a whole number from 0', () => {
    expect(parseConfig(testConfigYaml(), 't').policy.durations.extendWarningMs).toBe(10 * MINUTE);
    expect(parseConfig(testConfigYaml().replace('  min: 1s\n', '  min: 1s\n  extendWarning: 0\n'), 't').policy.durations.extendWarningMs).toBe(0);
    expect(parseConfig(testConfigYaml(), 't').policy.rules.map((r) => r.maxExtensions)).toEqual([2, 2, 2, 2]);
    expect(() => parseConfig(testConfigYaml().replace('    maxDuration: 1h\n', '    maxDuration: 1h\n    maxExtensions: -1\n'), 't')).toThrow('maxExtensions');
    expect(() => parseConfig(testConfigYaml().replace('  min: 1s\n', '  min: 1s\n  extendWarning: soon\n'), 't')).toThrow('extendWarning');
  });
});
