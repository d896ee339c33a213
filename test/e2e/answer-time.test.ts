import { findRequestId } from '../../src/domain/request-id';
import { SlackRequestSender } from '../support/slack-requests';
import { eventually } from '../support/eventually';
import { holdStoreCalls } from '../support/store-holds';
import { IDENTITY_STORE_ID, PEOPLE, SIGNING_SECRET, TimeboxHarness, testConfigYaml, type PersonName } from '../support/timebox-harness';

/**
 * What a person waits for after typing a request is the answer on the response_url ("filed",
 * or why not). It comes once the request is stored, never before, and nothing that can follow
 * it (the audit log's copy, the channel post, DMs, Homes) holds it up.
 */
describe('performance-2: the answer', () => {
  let h: TimeboxHarness;
  let quiet: SlackRequestSender;

  beforeAll(async () => {
    h = await TimeboxHarness.start();
    // Sends without waiting for the answer, so a test can look at what happened meanwhile.
    quiet = new SlackRequestSender({ url: `${h.runtime.url}/slack/events`, signingSecret: SIGNING_SECRET });
  });
  afterAll(async () => {
    await h.stop();
  });

  /** Types `/aws-access <text>` as `who` and returns the response_url the answer will come on. */
  async function type(who: PersonName, text: string): Promise<string> {
    const person = PEOPLE[who];
    const responseUrl = h.slack.responseUrl({ userId: person.id, channelId: 'C0GENERAL0' });
    const acked = await quiet.command({ userId: person.id, userName: person.name, text, channelId: 'C0GENERAL0', responseUrl });
    expect(acked.status).toBe(200);
    return responseUrl;
  }

  const answerOn = (url: string, what: string): Promise<string> =>
    h.slack.waitFor(() => h.slack.responses(url)[0]?.body.text as string | undefined, 5_000, what);

  test('the answer comes once the request is stored, and its filing is on the audit record by then (one write holds both)', async () => {
    const url = await type('carol', 'production Admin 30m answer and record together');
    const answer = await answerOn(url, 'the answer');
    expect(answer).toContain('is waiting for approval');
    const id = findRequestId(answer) as string;
    // No settling: what the person was told is already stored, its audit event with it.
    expect((await h.request(id)).status).toBe('PENDING');
    const logged = await h.runtime.deps.store.listAudit(id);
    expect(logged.map((e) => `${e.type}:${e.actor}`)).toContain(`requested:${PEOPLE.carol.id}`);
    await h.settled();
  });

  test('while Home refreshes are stuck on a slow store read, a person typing a request still gets their answer', async () => {
    // The approvers' and requesters' Homes read the requests waiting for approval (the due index).
    const slowHomes = holdStoreCalls(h.runtime.dynamo, (call) => call.command === 'QueryCommand' && JSON.stringify(call.input).includes('"IndexName":"due"'));
    try {
      // Requests waiting for approval: the Home refreshes they cause read them (one shared read per
      // batch of Homes) and are stuck on that read.
      await answerOn(await type('carol', 'production Admin 30m one for the approvers'), 'carol\'s answer');
      await answerOn(await type('dave', 'production Admin 30m another for the approvers'), 'dave\'s answer');
      await eventually(async () => slowHomes.held >= 1, 5_000, 'a Home refresh stuck on the store');
      const answer = await answerOn(await type('alice', 'production ReadOnly 30m while the Homes are stuck'), 'alice\'s answer while Home reads are held');
      expect(answer).toContain('is waiting for approval');
    } finally {
      slowHomes.release();
    }
    await h.settled();
  });
});

describe('performance-2: Identity Center look-ups on the way to the answer', () => {
  let h: TimeboxHarness;
  const ENGINEERS = '9067c0ffee-e0e0e000-0000-4000-8000-0000000000b1';
  const ONCALL = '9067c0ffee-e0e0e000-0000-4000-8000-0000000000b2';

  beforeAll(async () => {
    h = await TimeboxHarness.start({
      configYaml: testConfigYaml(`
  - name: engineers-staging-admin
    accounts: [staging]
    permissionSets: [Admin]
    requesters: ["group:Engineers", "group:Oncall Engineers"]
    autoApprove: true
    maxDuration: 1h`),
      beforeStart: (aws) => {
        aws.addGroup({ groupId: ENGINEERS, displayName: 'Engineers', identityStoreId: IDENTITY_STORE_ID });
        aws.addGroup({ groupId: ONCALL, displayName: 'Oncall Engineers', identityStoreId: IDENTITY_STORE_ID });
        aws.addMembership({ groupId: ENGINEERS, userId: PEOPLE.carol.principalId });
      },
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('while Identity Center is slow to find the user, the group look-ups are already asked; the requester in the group is granted', async () => {
    const slowUser = h.aws.hold('GetUserId');
    const filed = h.command('carol', 'staging Admin 30m groups side by side');
    await slowUser.arrived;
    await eventually(async () => h.aws.callsTo('GetGroupId').length >= 2, 5_000, 'both group look-ups while the user look-up is held');
    slowUser.release();
    const { text } = await filed;
    expect(text).toContain('was approved automatically');
    await h.waitForStatus(findRequestId(text) as string, 'ACTIVE');
    expect(h.hasAssignment('carol', 'staging', 'Admin')).toBe(true);
  });

  test('the same person asking again: their Identity Center user and the groups are known, membership is asked afresh (someone removed from the group is refused)', async () => {
    const before = { users: h.aws.callsTo('GetUserId').length, groups: h.aws.callsTo('GetGroupId').length, members: h.aws.callsTo('IsMemberInGroups').length };
    h.aws.removeMembership({ groupId: ENGINEERS, userId: PEOPLE.carol.principalId });
    const { text } = await h.command('carol', 'staging Admin 30m asked again after removal');
    expect(text).toContain(':warning:');
    expect(findRequestId(text)).toBeUndefined();
    expect(h.aws.callsTo('GetUserId').length).toBe(before.users);
    expect(h.aws.callsTo('GetGroupId').length).toBe(before.groups);
    expect(h.aws.callsTo('IsMemberInGroups').length).toBe(before.members + 1);
  });
});
