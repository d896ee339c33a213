import type { CatalogueAccount, CatalogueSnapshot } from '../../../src/domain/catalogue';
import { isTimeboxError } from '../../../src/domain/errors';
import { resolveAccount } from '../../../src/domain/rules';
import { findAccounts, findByName } from '../../../src/domain/type-ahead';

const account = (name: string, id: string, ou: string, tags: Record<string, string> = {}): CatalogueAccount => ({ name, id, ouPath: [{ id: `ou-ab12-${id.slice(-8)}`, name: ou }], tags });
/** Sorted by name, as discovery keeps a snapshot. */
const ACCOUNTS = [
  account('api', '100000000001', 'workloads-prod', { env: 'prod' }),
  account('billing', '100000000002', 'payments', { env: 'staging' }),
  account('payments', '100000000003', 'platform', {}),
  account('payments-eu', '100000000004', 'platform', {}),
  account('prodlike', '100000000005', 'sandbox', { env: 'dev' }),
];
const SNAPSHOT: CatalogueSnapshot = { accounts: ACCOUNTS, permissionSets: [], groups: [], source: 'discovery' };
const names = (found: Array<{ name: string }>) => found.map((a) => a.name);
const refusal = (text: string) => {
  try {
    resolveAccount(SNAPSHOT, text);
  } catch (err) {
    if (isTimeboxError(err)) return err;
  }
  throw new Error(`"${text}" was resolved`);
};

describe('large-orgs: type-ahead ranking and ambiguous account names', () => {
  test('a name that begins with the text ranks above an OU or tag that does, which ranks above the text inside a word', () => {
    expect(names(findAccounts(SNAPSHOT, 'prod', () => false))).toEqual(['prodlike', 'api']);
    expect(names(findAccounts(SNAPSHOT, 'pay', () => false))).toEqual(['payments', 'payments-eu', 'billing']);
    expect(names(findAccounts(SNAPSHOT, 'rod', () => false))).toEqual(['api', 'prodlike']);
  });

  test('within each rank, what the person may request comes first; at most the limit is offered', () => {
    const mayRequest = (a: CatalogueAccount) => a.name === 'payments-eu';
    expect(names(findAccounts(SNAPSHOT, 'pay', mayRequest))).toEqual(['payments-eu', 'payments', 'billing']);
    expect(names(findAccounts(SNAPSHOT, '', mayRequest, 3))).toEqual(['payments-eu', 'api', 'billing']);
    expect(names(findByName([{ name: 'ReadOnly' }, { name: 'Admin' }, { name: 'ReadWrite' }], ' read', (p) => p.name === 'ReadWrite'))).toEqual(['ReadWrite', 'ReadOnly']);
  });

  test('an exact name wins over the longer names it begins; several prefix matches are ambiguous_account naming them; one is offered as "did you mean"', () => {
    expect(resolveAccount(SNAPSHOT, 'PAYMENTS').id).toBe('100000000003');
    const ambiguous = refusal('paym');
    expect(ambiguous.code).toBe('ambiguous_account');
    expect(ambiguous.message).toBe('"paym" matches 2 accounts by prefix and none exactly: payments (100000000003), payments-eu (100000000004). Say which with its full name or id.');
    expect(refusal('1000000000').code).toBe('ambiguous_account');
    const one = refusal('bill');
    expect(one.code).toBe('unknown_account');
    expect(one.message).toContain('Did you mean billing (100000000002)?');
  });
});
