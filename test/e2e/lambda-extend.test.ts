import { findRequestId } from '../../src/domain/request-id';
import { LAMBDA, LambdaWorld } from '../support/lambda-world';
import { viewOf } from '../support/request-view';
import { PEOPLE } from '../support/timebox-harness';

/** Extensions on the AWS path: the moved window end is what Scheduler (and the waiter) fire for. */
describe('daily-use: extend (Lambda path)', () => {
  let w: LambdaWorld;
  beforeAll(async () => {
    w = await LambdaWorld.start();
  });
  afterAll(async () => {
    await w.stop();
  });

  const endsAt = async (id: string) => viewOf((await w.store.getRequest(id))!).endsAt!;
  const extensionOf = (reply: string | undefined) => findRequestId((reply ?? '').replace(/of `R-[^`]+`/, ''))!;

  test('a long window extended: its schedule moves to the new end (still a minute over before it, on the waiter, with the receipt)', async () => {
    const id = findRequestId((await w.command('dave', 'staging ReadOnly 3m long window')).body ?? '')!;
    await w.runHandedOverWork();
    const before = await endsAt(id);
    const first = w.schedule(id)!;
    expect(first).toMatchObject({ targetArn: LAMBDA.waiterArn, input: { requestId: id, notBefore: before } });

    const reply = await w.command('dave', `extend ${id} 5m a bit longer`);
    expect(reply.body).toContain('was approved automatically');
    await w.runHandedOverWork();
    expect(viewOf((await w.store.getRequest(extensionOf(reply.body)))!).status).toBe('APPLIED');
    const after = await endsAt(id);
    expect(after).toBe(before + 5 * 60_000);
    const moved = w.schedule(id)!;
    expect(moved.at - first.at).toBe(5 * 60_000);
    expect(moved.at + 60_000).toBeLessThanOrEqual(after);
    expect(moved).toMatchObject({ targetArn: LAMBDA.waiterArn, input: { requestId: id, notBefore: after, created: [expect.objectContaining({ grantId: '1' })] } });
    expect(w.aws.callsTo('DeleteAccountAssignment')).toHaveLength(0);
    await w.command('dave', `end ${id}`);
    await w.runHandedOverWork();
  });

  test('a short window extended: the old end fires and changes nothing, the moved end fires and the worker revokes then', async () => {
    const id = findRequestId((await w.command('carol', 'staging ReadOnly 4s short window')).body ?? '')!;
    w.takeWaiting();
    await w.runHandedOverWork();
    const before = await endsAt(id);
    const [oldJob] = w.takeWaiting();
    expect(oldJob).toMatchObject({ requestId: id, notBefore: before });

    const reply = await w.command('carol', `extend ${id} 2s nearly done`);
    await w.runHandedOverWork();
    const after = await endsAt(id);
    expect(after).toBe(before + 2_000);
    expect(viewOf((await w.store.getRequest(extensionOf(reply.body)))!).status).toBe('APPLIED');
    // The timer is armed again for the new end: the waiter gets it, and the backup schedule names the minute after it.
    const newJob = w.takeWaiting().find((j) => j.requestId === id && j.notBefore === after);
    expect(newJob).toBeDefined();
    expect(w.schedule(id)!.at).toBeGreaterThanOrEqual(after);

    // The old end comes: the waiter hands its job to the worker, which finds the window still on.
    await w.sweep(oldJob);
    await w.runHandedOverWork();
    expect(viewOf((await w.store.getRequest(id))!).status).toBe('ACTIVE');
    expect(w.aws.listAssignments().filter((a) => a.principalId === PEOPLE.carol.principalId)).toHaveLength(1);

    // The moved end comes: now it is revoked, not before.
    await w.sweep(newJob);
    await w.runHandedOverWork();
    expect(viewOf((await w.store.getRequest(id))!).status).toBe('ENDED');
    const deleted = w.aws.callsTo('DeleteAccountAssignment').filter((c) => JSON.stringify(c.input).includes(PEOPLE.carol.principalId));
    expect(deleted).toHaveLength(1);
    expect(deleted[0]!.at).toBeGreaterThanOrEqual(after);
    expect(w.aws.callsTo('CreateAccountAssignment').filter((c) => JSON.stringify(c.input).includes(PEOPLE.carol.principalId))).toHaveLength(1);
  });
});
