import { WebClient } from '@slack/web-api';
import { SlackDirectory } from '../../../src/adapters/slack/slack-directory';
import { SlackStandIn } from '../../support/slack-stand-in';

const ALICE = { id: 'U0ALICE000', name: 'alice', email: 'Alice@Example.com' };

describe('SlackDirectory (the real WebClient against the Slack stand-in)', () => {
  let slack: SlackStandIn;
  let now: number;
  const directory = () => new SlackDirectory(new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }), () => now);

  beforeEach(async () => {
    now = 1_000_000;
    slack = await SlackStandIn.start({ users: [ALICE], token: 'xoxb-test' });
  });
  afterEach(async () => {
    await slack.close();
  });

  it('reads the profile with the email lower-cased', async () => {
    await expect(directory().lookup(ALICE.id)).resolves.toMatchObject({ slackUserId: ALICE.id, email: 'alice@example.com', isBot: false, deleted: false });
  });

  it('answers an unknown user with undefined rather than an error', async () => {
    await expect(directory().lookup('U0NOBODY00')).resolves.toBeUndefined();
  });

  it('makes one users.info call for 50 overlapping look-ups of the same user, and one per distinct user', async () => {
    slack.addUser({ id: 'U0BOB00000', name: 'bob', email: 'bob@example.com' });
    slack.injectFault('users.info', { delayMs: 100 }, 2);
    const d = directory();
    const people = await Promise.all([...Array.from({ length: 50 }, () => d.lookup(ALICE.id)), d.lookup('U0BOB00000')]);
    expect(people.slice(0, 50).every((p) => p?.email === 'alice@example.com')).toBe(true);
    expect(people[50]?.email).toBe('bob@example.com');
    expect(slack.callsTo('users.info').map((c) => c.args.user).sort()).toEqual([ALICE.id, 'U0BOB00000']);
  });

  it('keeps a profile for a minute, then asks Slack again', async () => {
    const d = directory();
    await d.lookup(ALICE.id);
    now += 59_000;
    await d.lookup(ALICE.id);
    expect(slack.callsTo('users.info')).toHaveLength(1);
    now += 2_000;
    await d.lookup(ALICE.id);
    expect(slack.callsTo('users.info')).toHaveLength(2);
  });

  it('does not remember a failure: every waiter of the failed call sees it, and the next look-up asks again', async () => {
    slack.injectFault('users.info', { error: 'fatal_error', delayMs: 50 }, 1);
    const d = directory();
    const results = await Promise.allSettled([d.lookup(ALICE.id), d.lookup(ALICE.id)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(d.lookup(ALICE.id)).resolves.toMatchObject({ email: 'alice@example.com' });
    expect(slack.callsTo('users.info')).toHaveLength(2);
  });

  describe('findByEmail (users.lookupByEmail, for approvers listed by email)', () => {
    it('finds the Slack user with that email, whatever its case, and asks Slack once a minute', async () => {
      const d = directory();
      await expect(d.findByEmail('ALICE@example.com')).resolves.toBe(ALICE.id);
      now += 59_000;
      await expect(d.findByEmail('alice@example.com')).resolves.toBe(ALICE.id);
      expect(slack.callsTo('users.lookupByEmail')).toHaveLength(1);
      now += 2_000;
      await d.findByEmail('alice@example.com');
      expect(slack.callsTo('users.lookupByEmail')).toHaveLength(2);
    });

    it('answers an email Slack does not know (users_not_found) with undefined, and remembers that for the minute', async () => {
      const d = directory();
      await expect(d.findByEmail('nobody@example.com')).resolves.toBeUndefined();
      await expect(d.findByEmail('nobody@example.com')).resolves.toBeUndefined();
      expect(slack.callsTo('users.lookupByEmail')).toHaveLength(1);
    });

    it('throws when Slack fails, and asks again next time', async () => {
      slack.injectFault('users.lookupByEmail', { error: 'fatal_error' }, 1);
      const d = directory();
      await expect(d.findByEmail('alice@example.com')).rejects.toThrow(/fatal_error/);
      await expect(d.findByEmail('alice@example.com')).resolves.toBe(ALICE.id);
    });
  });
});
