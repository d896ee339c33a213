import fc from 'fast-check';
import { leaseKey, planRelease, type AssignmentLease, type AssignmentTarget } from '../../../src/domain/assignment-lease';

const TARGET: AssignmentTarget = {
  accountId: '222222222222',
  permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222',
  principalId: '9067000000-aaaa-bbbb',
};
const T0 = Date.UTC(2025, 0, 1);
const NOW = T0 + 3_600_000;

function lease(overrides: Partial<AssignmentLease> = {}): AssignmentLease {
  return { key: leaseKey(TARGET), target: TARGET, holders: ['req-1'], preExisting: false, deleting: false, version: 3, updatedAt: T0, ...overrides };
}

describe('leaseKey', () => {
  test('is one key per user × account × permission set', () => {
    expect(leaseKey(TARGET)).toBe(leaseKey({ ...TARGET }));
    expect(leaseKey(TARGET)).not.toBe(leaseKey({ ...TARGET, accountId: '111111111111' }));
    expect(leaseKey(TARGET)).not.toBe(leaseKey({ ...TARGET, principalId: 'someone-else' }));
    expect(leaseKey(TARGET)).not.toBe(leaseKey({ ...TARGET, permissionSetArn: `${TARGET.permissionSetArn}x` }));
  });
});

describe('planRelease', () => {
  test('other holders → keep, without this request, naming who still needs it', () => {
    const plan = planRelease(lease({ holders: ['req-1', 'req-2', 'req-3'] }), 'req-1', NOW);
    expect(plan.action).toBe('keep');
    if (plan.action !== 'keep') return;
    expect(plan.lease.holders).toEqual(['req-2', 'req-3']);
    expect(plan.lease.updatedAt).toBe(NOW);
    expect(plan.lease.deleting).toBe(false);
    expect(plan.reason).toContain('req-2');
    expect(plan.reason).toContain('req-3');
  });

  test('other holders → keep, even when the assignment was pre-existing', () => {
    expect(planRelease(lease({ holders: ['req-1', 'req-2'], preExisting: true }), 'req-1', NOW).action).toBe('keep');
  });

  test('last holder and preExisting → forget: the assignment that was there before stays', () => {
    const plan = planRelease(lease({ holders: ['req-1'], preExisting: true }), 'req-1', NOW);
    expect(plan.action).toBe('forget');
    if (plan.action !== 'forget') return;
    expect(plan.reason).toMatch(/existed before/);
  });

  test('last holder and not preExisting → delete, marking the lease deleting with no holders', () => {
    const plan = planRelease(lease({ holders: ['req-1'] }), 'req-1', NOW);
    expect(plan.action).toBe('delete');
    if (plan.action !== 'delete') return;
    expect(plan.lease).toMatchObject({ holders: [], deleting: true, updatedAt: NOW, preExisting: false, target: TARGET, key: leaseKey(TARGET) });
  });

  test('a request listed twice is released completely', () => {
    expect(planRelease(lease({ holders: ['req-1', 'req-1'] }), 'req-1', NOW).action).toBe('delete');
  });

  test('does not modify the lease it was given', () => {
    const before = lease({ holders: ['req-1', 'req-2'] });
    const copy = structuredClone(before);
    planRelease(before, 'req-1', NOW);
    planRelease(before, 'req-2', NOW);
    expect(before).toEqual(copy);
  });

  test('property: never deletes a pre-existing assignment, nor one another request still holds', () => {
    const ids = fc.constantFrom('req-1', 'req-2', 'req-3', 'req-4');
    fc.assert(
      fc.property(fc.array(ids, { maxLength: 5 }), ids, fc.boolean(), (holders, releasing, preExisting) => {
        const plan = planRelease(lease({ holders, preExisting }), releasing, NOW);
        const others = holders.filter((h) => h !== releasing);
        if (plan.action === 'delete') return !preExisting && others.length === 0 && plan.lease.deleting && plan.lease.holders.length === 0;
        if (plan.action === 'keep') return others.length > 0 && !plan.lease.holders.includes(releasing);
        return preExisting && others.length === 0;
      }),
    );
  });
});
