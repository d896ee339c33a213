import fc from 'fast-check';
import { targetKey, type ProvisionTarget } from '../../../src/domain/grant-target';
import {
  holderRef,
  joinLease,
  newLease,
  parseHolderRef,
  planRelease,
  PRE_EXISTING,
  withOperation,
  withoutOperation,
  type Lease,
  type ReleasePlan,
} from '../../../src/domain/lease';
import { REQUEST_ID } from '../../../src/domain/request-id';

const PRINCIPAL = '9067000000-aaaa-bbbb-cccc-000000000001';
const ASSIGNMENT: ProvisionTarget = {
  kind: 'account',
  principalId: PRINCIPAL,
  accountId: '222222222222',
  permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222',
};
const MEMBERSHIP: ProvisionTarget = { kind: 'group', principalId: PRINCIPAL, groupId: '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000001' };
const T0 = Date.UTC(2025, 0, 1);
const NOW = T0 + 3_600_000;

const A1 = holderRef('R-AAAAAAAAAA', '1');
const A2 = holderRef('R-AAAAAAAAAA', '2');
const B1 = holderRef('R-BBBBBBBBBB', '1');
const C1 = holderRef('R-CCCCCCCCCC', '1');

function lease(overrides: Partial<Lease> = {}): Lease {
  return { ...newLease(ASSIGNMENT, A1, false, T0, 'gen-1'), version: 3, ...overrides };
}

function expectPlan<A extends ReleasePlan['action']>(plan: ReleasePlan, action: A): Extract<ReleasePlan, { action: A }> {
  expect(plan.action).toBe(action);
  return plan as Extract<ReleasePlan, { action: A }>;
}

describe('holder refs', () => {
  test('a holder is one grant of one request, and reads back as such', () => {
    expect(holderRef('R-0123456789', '2')).toBe('R-0123456789/2');
    expect(parseHolderRef('R-0123456789/2')).toEqual({ requestId: 'R-0123456789', grantId: '2' });
  });

  test('a v1 holder (a bare request id) is that request\'s one grant, "1"', () => {
    expect(parseHolderRef('R-ED468DFAT1')).toEqual({ requestId: 'R-ED468DFAT1', grantId: '1' });
    // …which is the holder ref its upgraded grant uses, so the upgraded request can let go of it.
    expect(holderRef(parseHolderRef('R-ED468DFAT1').requestId, parseHolderRef('R-ED468DFAT1').grantId)).toBe('R-ED468DFAT1/1');
  });

  test('property: every holder ref reads back as the request and grant it was made from', () => {
    fc.assert(
      fc.property(fc.stringMatching(REQUEST_ID), fc.integer({ min: 1, max: 50 }).map(String), (requestId, grantId) => {
        const parsed = parseHolderRef(holderRef(requestId, grantId));
        return parsed.requestId === requestId && parsed.grantId === grantId;
      }),
    );
  });
});

describe('newLease', () => {
  test('a target the grant found absent is created by Timebox, so Timebox may remove it', () => {
    const created = newLease(ASSIGNMENT, A1, false, NOW, 'gen-1');
    expect(created).toEqual({
      key: targetKey(ASSIGNMENT),
      target: ASSIGNMENT,
      holders: [A1],
      createdByTimebox: true,
      operations: [],
      deleting: false,
      generation: 'gen-1',
      version: 1,
      updatedAt: NOW,
    });
  });

  test('a target that was already there (a standing assignment) is not Timebox\'s to remove', () => {
    expect(newLease(ASSIGNMENT, A1, true, NOW, 'gen-1').createdByTimebox).toBe(false);
    expect(newLease(MEMBERSHIP, A1, true, NOW, 'gen-1').createdByTimebox).toBe(false);
  });

  test('one lease per user and target: an assignment, a group membership and another user never share one', () => {
    const keys = [
      targetKey(ASSIGNMENT),
      targetKey(MEMBERSHIP),
      targetKey({ ...ASSIGNMENT, principalId: 'someone-else' }),
      targetKey({ ...MEMBERSHIP, principalId: 'someone-else' }),
      targetKey({ ...ASSIGNMENT, accountId: '111111111111' }),
      targetKey({ ...ASSIGNMENT, permissionSetArn: `${ASSIGNMENT.permissionSetArn}x` }),
      targetKey({ ...MEMBERSHIP, groupId: '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000002' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(newLease({ ...ASSIGNMENT }, B1, false, NOW, 'gen-1').key).toBe(newLease(ASSIGNMENT, A1, true, T0, 'gen-1').key);
  });
});

describe('joinLease', () => {
  test('a second grant joins as a holder; the first keeps holding', () => {
    const joined = joinLease(lease(), B1, true, NOW);
    expect(joined.holders).toEqual([A1, B1]);
    expect(joined.updatedAt).toBe(NOW);
    expect(joined.createdByTimebox).toBe(true);
  });

  test('joining twice (a retried grant) holds once', () => {
    const twice = joinLease(joinLease(lease(), B1, true, NOW), B1, true, NOW + 1);
    expect(twice.holders).toEqual([A1, B1]);
  });

  test('a standing assignment still there stays not Timebox\'s', () => {
    expect(joinLease(lease({ createdByTimebox: false }), B1, true, NOW).createdByTimebox).toBe(false);
  });

  test('a standing assignment removed during a window: the grant that re-creates it takes ownership', () => {
    const standing = lease({ createdByTimebox: false });
    const joined = joinLease(standing, B1, false, NOW);
    expect(joined.createdByTimebox).toBe(true);
    expect(joined.holders).toEqual([A1, B1]);
  });

  test('joining never gives up ownership, even if AWS shows the target present', () => {
    expect(joinLease(lease({ createdByTimebox: true }), B1, true, NOW).createdByTimebox).toBe(true);
  });

  test('does not modify the lease it was given', () => {
    const before = lease({ createdByTimebox: false });
    const copy = structuredClone(before);
    joinLease(before, B1, false, NOW);
    expect(before).toEqual(copy);
  });
});

describe('planRelease', () => {
  test('other holders → keep, without this grant, naming the requests that still need it', () => {
    const plan = expectPlan(planRelease(lease({ holders: [A1, B1, C1] }), A1, NOW), 'keep');
    expect(plan.lease.holders).toEqual([B1, C1]);
    expect(plan.lease).toMatchObject({ updatedAt: NOW, deleting: false, createdByTimebox: true });
    expect(plan.reason).toContain('R-BBBBBBBBBB');
    expect(plan.reason).toContain('R-CCCCCCCCCC');
    expect(plan.reason).not.toContain('R-AAAAAAAAAA');
  });

  test('other holders → keep, even for a target that was there before Timebox', () => {
    expectPlan(planRelease(lease({ holders: [A1, B1], createdByTimebox: false }), A1, NOW), 'keep');
  });

  test('another grant of the same request still holding it → keep', () => {
    expectPlan(planRelease(lease({ holders: [A1, A2] }), A1, NOW), 'keep');
  });

  test("only that grant lets go: grant 1 of a request is not grant 10's holder", () => {
    const ten = holderRef('R-AAAAAAAAAA', '10');
    const plan = expectPlan(planRelease(lease({ holders: [A1, ten] }), A1, NOW), 'keep');
    expect(plan.lease.holders).toEqual([ten]);
  });

  test('last holder of a target that was there before → forget: it stays in AWS, and the reason says why', () => {
    const plan = expectPlan(planRelease(lease({ holders: [A1], createdByTimebox: false }), A1, NOW), 'forget');
    expect(plan.reason).toBe(PRE_EXISTING);
    expect(plan.reason).toMatch(/existed before/);
  });

  test('last holder of a target Timebox created → delete, marking the lease deleting with that holder still on it (so its own retry knows the deletion is its own)', () => {
    const plan = expectPlan(planRelease(lease({ holders: [A1] }), A1, NOW), 'delete');
    expect(plan.lease).toMatchObject({ key: targetKey(ASSIGNMENT), target: ASSIGNMENT, holders: [A1], deleting: true, updatedAt: NOW, createdByTimebox: true, version: 3 });
  });

  test('a retry of the revoke that marked the lease deleting deletes it again; any other grant is told another grant holds it now', () => {
    const deleting = expectPlan(planRelease(lease({ holders: [A1] }), A1, NOW), 'delete').lease;
    expect(expectPlan(planRelease(deleting, A1, NOW + 1), 'delete').lease).toBe(deleting);
    const other = expectPlan(planRelease(deleting, B1, NOW + 1), 'keep');
    expect(other.lease).toBe(deleting);
    expect(other.reason).toBe('another Timebox grant holds it now');
  });

  test('a lease marked deleting by an older release (no holder left on it) may be finished by any revoke', () => {
    expectPlan(planRelease(lease({ holders: [], deleting: true }), B1, NOW), 'delete');
  });

  test('a grant that is not on the lease (another lifetime of the target) changes nothing', () => {
    const l = lease({ holders: [B1] });
    expect(expectPlan(planRelease(l, A1, NOW), 'keep').lease).toBe(l);
  });

  test('a group membership Timebox created is deleted with the membership id it recorded', () => {
    const plan = expectPlan(planRelease({ ...newLease(MEMBERSHIP, A1, false, T0, 'gen-1'), membershipId: 'm-123' }, A1, NOW), 'delete');
    expect(plan.lease).toMatchObject({ target: MEMBERSHIP, membershipId: 'm-123', deleting: true });
  });

  test('a holder listed twice is released completely', () => {
    expectPlan(planRelease(lease({ holders: [A1, A1] }), A1, NOW), 'delete');
  });

  test('does not modify the lease it was given', () => {
    const before = lease({ holders: [A1, B1] });
    const copy = structuredClone(before);
    planRelease(before, A1, NOW);
    planRelease(before, B1, NOW);
    expect(before).toEqual(copy);
  });

  test('the standing assignment removed mid-window: it ends with the last window, not before', () => {
    // Carol has a standing assignment; grant A finds it there.
    let l = newLease(ASSIGNMENT, A1, true, T0, 'gen-1');
    // An admin removes the standing assignment; grant B finds it gone and re-creates it.
    l = joinLease(l, B1, false, T0 + 10);
    const first = expectPlan(planRelease(l, A1, T0 + 20), 'keep');
    expectPlan(planRelease(first.lease, B1, T0 + 30), 'delete');
    // Had nobody removed it, the last release would have left it alone.
    const untouched = expectPlan(planRelease(joinLease(newLease(ASSIGNMENT, A1, true, T0, 'gen-1'), B1, true, T0 + 10), A1, T0 + 20), 'keep');
    expectPlan(planRelease(untouched.lease, B1, T0 + 30), 'forget');
  });

  test('property: never deletes a target Timebox did not create, nor one another grant still holds', () => {
    const ids = fc.constantFrom(A1, A2, B1, C1);
    fc.assert(
      fc.property(fc.array(ids, { maxLength: 5 }), ids, fc.boolean(), (holders, releasing, createdByTimebox) => {
        const before = lease({ holders, createdByTimebox });
        const plan = planRelease(before, releasing, NOW);
        const others = holders.filter((h) => h !== releasing);
        if (!holders.includes(releasing)) return plan.action === 'keep' && plan.lease === before;
        if (plan.action === 'delete') return createdByTimebox && others.length === 0 && plan.lease.deleting && plan.lease.holders.join() === releasing;
        if (plan.action === 'keep') return others.length > 0 && !plan.lease.holders.includes(releasing) && plan.lease.holders.length === others.length;
        return !createdByTimebox && others.length === 0;
      }),
    );
  });

  test('property: whatever the joins and whether AWS had the target, the last release deletes it iff some grant found it absent', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.tuple(fc.constantFrom(A2, B1, C1), fc.boolean()), { maxLength: 4 }), (firstFound, joins) => {
        let l = newLease(ASSIGNMENT, A1, firstFound, T0, 'gen-1');
        for (const [holder, present] of joins) l = joinLease(l, holder, present, T0 + 1);
        const someoneCreated = !firstFound || joins.some(([, present]) => !present);
        let plan: ReleasePlan = { action: 'keep', reason: '', lease: l };
        for (const holder of l.holders) {
          if (plan.action !== 'keep') return false;
          plan = planRelease(plan.lease, holder, T0 + 2);
        }
        return plan.action === (someoneCreated ? 'delete' : 'forget');
      }),
    );
  });
});

describe('operations', () => {
  const create = { kind: 'create' as const, id: 'op-1', startedAt: T0 };
  const remove = { kind: 'delete' as const, id: 'op-2', startedAt: T0 + 5 };

  test('an operation Timebox starts is recorded until it is seen to finish', () => {
    const started = withOperation(lease(), create, NOW);
    expect(started.operations).toEqual([create]);
    expect(started.updatedAt).toBe(NOW);
    const both = withOperation(started, remove, NOW + 1);
    expect(both.operations).toEqual([create, remove]);
    const done = withoutOperation(both, 'op-1', NOW + 2);
    expect(done.operations).toEqual([remove]);
    expect(done.updatedAt).toBe(NOW + 2);
  });

  test('recording the same operation again (a retried write) keeps one copy, the latest', () => {
    const again = withOperation(withOperation(lease(), create, NOW), { ...create, startedAt: T0 + 9 }, NOW + 1);
    expect(again.operations).toEqual([{ ...create, startedAt: T0 + 9 }]);
  });

  test('finishing an operation that is not recorded changes nothing but the time', () => {
    const l = withOperation(lease(), create, NOW);
    expect(withoutOperation(l, 'op-unknown', NOW + 1).operations).toEqual([create]);
  });
});
