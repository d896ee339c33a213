/**
 * The local floor: a bare Bolt app that only acks, over the same HTTP receiver and request
 * signing Timebox uses (Bolt's HTTPReceiver, processBeforeResponse false), in a process of its
 * own started the same way as the Timebox child. Whatever Timebox's ack costs beyond this is
 * Timebox's. Speaks the child protocol of test/support/child-timebox.ts: one `READY <url>`
 * line, SIGTERM stops it, and it exits when stdin closes.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

async function main(): Promise<void> {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
  const receiver = new HTTPReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET ?? '', processBeforeResponse: false, logLevel: LogLevel.ERROR });
  const app = new App({
    token: process.env.SLACK_BOT_TOKEN,
    // Given, as Timebox gives its own after one auth.test at start-up, so no request waits for one.
    botId: 'B0TIMEBOX',
    botUserId: 'U0TIMEBOXBOT',
    tokenVerificationEnabled: false,
    receiver,
    logLevel: LogLevel.ERROR,
  });
  app.command(/.*/, async ({ ack }) => {
    await ack();
  });
  app.action(/.*/, async ({ ack }) => {
    await ack();
  });
  app.options(/.*/, async ({ ack }) => {
    await ack({ options: [] });
  });
  app.view(/.*/, async ({ ack }) => {
    await ack();
  });
  const server = (await app.start(0)) as Server;
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
  process.stdout.write(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`floor-app: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
