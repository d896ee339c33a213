/**
 * The Lambda floor: a bare Bolt app on AwsLambdaReceiver that only acks, bundled exactly as the
 * Timebox functions are (scripts/build-lambda.ts, the stack's esbuild settings). It imports Bolt
 * the way Timebox's Slack handler does (Bolt's public index, with Express stubbed out by the
 * stack's bundle stubs), so the floor carries the same Bolt as Timebox. Its token and signing
 * secret come from the environment, as a bare Bolt app's do; Bolt checks the token with
 * auth.test at start, as it does for Timebox.
 */
import { App, AwsLambdaReceiver } from '@slack/bolt';

const receiver = new AwsLambdaReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET ?? '' });
const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  receiver,
  ...(process.env.SLACK_API_URL ? { clientOptions: { slackApiUrl: process.env.SLACK_API_URL } } : {}),
});
app.command(/.*/, async ({ ack }) => {
  await ack();
});
app.action(/.*/, async ({ ack }) => {
  await ack();
});

export const handler = receiver.toHandler();
