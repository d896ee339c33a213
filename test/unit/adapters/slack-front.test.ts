import { App } from '@slack/bolt';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { boltLogger } from '../../../src/adapters/slack/bolt-logger';
import { SlackFront, type ReplyWhen } from '../../../src/adapters/slack/slack-front';
import { slackSignature } from '../../support/slack-requests';
import { eventually } from '../../support/eventually';
import { SilentLogger } from '../../support/in-memory-ports';
import { SlackStandIn } from '../../support/slack-stand-in';

const SECRET = 'unit-signing-secret';
const ROOT = join(__dirname, '../../..');

/** A Bolt App on the shared receiver, with one command whose listener `listener` is. */
function frontWith(replyWhen: ReplyWhen, listener: Parameters<App['command']>[1]): { front: SlackFront; logger: SilentLogger } {
  const logger = new SilentLogger();
  const front = new SlackFront({ signingSecret: SECRET, logger: boltLogger(logger), replyWhen });
  const app = new App({ token: 'xoxb-unit', botId: 'B0UNIT', botUserId: 'U0UNITBOT', tokenVerificationEnabled: false, receiver: front, logger: boltLogger(logger) });
  app.command('/aws-access', listener);
  return { front, logger };
}

function signedCommand(command = '/aws-access') {
  const rawBody = new URLSearchParams({ command, text: 'x', user_id: 'U0CAROL000', team_id: 'T0UNIT' }).toString();
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    rawBody,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(SECRET, Number(timestamp), rawBody) },
  };
}

describe('daily-use: one Slack front', () => {
  test('ESLint refuses a path into a Slack package (@slack/bolt/dist/...), so Bolt is reached through its public entry point only', async () => {
    // The project's own ESLint and config, in a process of its own (jest cannot load the flat config).
    const lint = (code: string, filePath: string): Array<{ ruleId: string | null }> => {
      const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/eslint/bin/eslint.js'), '--stdin', '--stdin-filename', filePath, '--format', 'json'], { cwd: ROOT, input: code, encoding: 'utf8' });
      return (JSON.parse(run.stdout) as Array<{ messages: Array<{ ruleId: string | null }> }>)[0]!.messages;
    };
    expect(lint("import App from '@slack/bolt/dist/App';\nexport const a = App;\n", 'src/entrypoints/lambda/deep-import.ts').map((m) => m.ruleId)).toContain('no-restricted-imports');
    expect(lint("import { App } from '@slack/bolt';\nexport const a = App;\n", 'src/entrypoints/lambda/public-import.ts')).toEqual([]);
  });

  test('on Lambda (reply when the listener is done) the answer waits for the listener, and carries what it acked', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let listenerDone = false;
    const { front } = frontWith('listener-done', async ({ ack }) => {
      await ack({ response_type: 'ephemeral', text: 'filed' });
      await released;
      listenerDone = true;
    });
    const answer = front.handle(signedCommand());
    const first = await Promise.race([answer.then(() => 'answered'), new Promise((resolve) => setImmediate(() => resolve('waiting')))]);
    expect(first).toBe('waiting');
    release();
    expect(await answer).toEqual({ status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', text: 'filed' }) });
    expect(listenerDone).toBe(true);
  });

  test('locally (reply at the ack) Slack is answered at the ack while the listener carries on', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let listenerDone = false;
    const { front } = frontWith('ack', async ({ ack }) => {
      await ack();
      await released;
      listenerDone = true;
    });
    expect(await front.handle(signedCommand())).toEqual({ status: 200, headers: {}, body: '' });
    expect(listenerDone).toBe(false);
    release();
  });

  test.each<ReplyWhen>(['ack', 'listener-done'])('(%s) a listener that fails after its ack: Slack gets the ack\'s answer, and the failure is logged', async (replyWhen) => {
    const { front, logger } = frontWith(replyWhen, async ({ ack }) => {
      await ack('on it');
      throw new Error('boom after the ack');
    });
    expect(await front.handle(signedCommand())).toMatchObject({ status: 200, body: 'on it' });
    await eventually(async () => JSON.stringify(logger.entries).includes('boom after the ack'), 2000, 'the failure in the log');
  });

  test.each<ReplyWhen>(['ack', 'listener-done'])('(%s) a listener that fails before acking gets a 500; a command nothing listens to gets a 404', async (replyWhen) => {
    const { front } = frontWith(replyWhen, async () => {
      throw new Error('boom before the ack');
    });
    expect((await front.handle(signedCommand())).status).toBe(500);
    expect((await front.handle(signedCommand('/something-else'))).status).toBe(404);
  });

  test('performance-2: a lazy invocation that cannot start Timebox (its config or store failing) tells the person on the response_url that nothing was done, and logs why', async () => {
    const slack = await SlackStandIn.start({ users: [], token: 'xoxb-unit' });
    try {
      const logger = new SilentLogger();
      let listened = false;
      const front = new SlackFront({
        signingSecret: SECRET,
        logger: boltLogger(logger),
        replyWhen: 'listener-done',
        prepare: () => Promise.reject(new Error('invalid Timebox config: rules.0.accounts is required')),
      });
      const app = new App({ token: 'xoxb-unit', botId: 'B0UNIT', botUserId: 'U0UNITBOT', tokenVerificationEnabled: false, receiver: front, logger: boltLogger(logger) });
      app.command('/aws-access', async ({ ack }) => {
        listened = true;
        await ack();
      });
      const responseUrl = slack.responseUrl({ userId: 'U0CAROL000' });
      const rawBody = new URLSearchParams({ command: '/aws-access', text: 'x', user_id: 'U0CAROL000', team_id: 'T0UNIT', response_url: responseUrl }).toString();
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(SECRET, Number(timestamp), rawBody) };
      expect(await front.handleLazyRequest({ headers, rawBody })).toBe(false);
      expect(listened).toBe(false);
      expect(String(slack.responses(responseUrl)[0]?.body.text)).toContain('Timebox could not handle that just now, so nothing was done');
      expect(JSON.stringify(logger.entries)).toContain('rules.0.accounts is required');
    } finally {
      await slack.close();
    }
  });
});
