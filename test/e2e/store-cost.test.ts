import { eventually } from '../support/eventually';
import { listStoreRequests, watchStoreRequests } from '../support/store-requests';
import { buttonClick, PEOPLE, TimeboxHarness } from '../support/timebox-harness';

/**
 * What one grant costs in DynamoDB requests, counted on the wire between the real local process
 * and its table (dynalite), App Home refreshes and news included: each is billed, and each is a
 * round trip on the path of a grant or a revoke. A count above the bound lists every request
 * with the code path that sent it.
 */
describe('explain-audit: store cost', () => {
  let h: TimeboxHarness;

  beforeAll(async () => {
    h = await TimeboxHarness.start();
  });

  afterAll(async () => {
    await h.stop();
  });

  test('one grant from request to revoke (filed, approved, granted, revoked, its news and App Homes) takes at most 31 DynamoDB requests (54 before)', async () => {
    const watch = watchStoreRequests(h.runtime.dynamo);
    watch.counting = true;
    const id = await h.file('carol', 'production Admin 1s store cost');
    // Each step once the one before has settled, as people act, so no two writes race.
    await h.settled();
    watch.counting = false; // the test's own read of where the message is
    const message = await h.approvalMessage(id);
    watch.counting = true;
    await h.sender.blockAction(buttonClick(h.slack, PEOPLE.alice, 'timebox_approve', id, message));
    await eventually(async () => (h.dmTextsTo('carol').some((t) => t.includes(id) && t.includes('has ended')) ? true : undefined), 10_000, 'the ended DM');
    await h.settled();
    watch.counting = false;
    expect(h.hasAssignment('carol', 'production', 'Admin')).toBe(false);
    if (watch.requests.length > 31) throw new Error(`${watch.requests.length} DynamoDB requests:\n${listStoreRequests(watch.requests)}`);
  });
});
