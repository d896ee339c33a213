/**
 * The real local Timebox process, run as a child process so a test can SIGKILL it at any point
 * and start it again on the same data directory (test/reliability/crash.test.ts).
 *
 * Run as: node --require tsx/cjs test/support/child-timebox.ts
 *
 * Settings come from the environment, as `npm start` reads them (SLACK_BOT_TOKEN,
 * SLACK_SIGNING_SECRET, SLACK_API_URL, PORT, TIMEBOX_CONFIG, TIMEBOX_DATA_DIR, and the AWS SDK's
 * AWS_ENDPOINT_URL_* and credentials), plus TIMEBOX_TEST_KNOBS: JSON with the short timings a
 * test needs (claimMs, sweepIntervalMs, pollDelaysMs, …), an optional pino `logLevel`, and an
 * optional `awsSendLog` file that gets the send time of every AWS call when the process stops.
 *
 * Protocol with the parent:
 * - stdout gets exactly one line, `READY <base url>`, once the HTTP server is listening.
 * - logs (when `logLevel` is set) go to stderr as JSON lines.
 * - SIGTERM stops cleanly (drains in-flight work, closes the store) and exits 0.
 * - when stdin closes (the parent went away, even by crashing) the process exits at once, so a
 *   broken test run can never leave a Timebox running.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { z } from 'zod';
import { readLocalEnv } from '../../src/config/env';
import { parseConfig } from '../../src/config/load-config';
import type { CatalogueSnapshot } from '../../src/domain/catalogue';
import { startThreadedRuntime } from '../../src/entrypoints/local-thread';

const knobsSchema = z
  .object({
    claimMs: z.number().int().positive(),
    leaseWaitMs: z.number().int().positive(),
    leasePollMs: z.number().int().positive(),
    revokeRetryMs: z.number().int().positive(),
    newsRetryMs: z.number().int().positive(),
    sweepIntervalMs: z.number().int().positive(),
    pollDelaysMs: z.array(z.number().int().nonnegative()).min(1),
    pollBudgetMs: z.number().int().positive(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    /** A file to write, on SIGTERM, when each AWS call was sent (JSON, see aws-sends.ts). */
    awsSendLog: z.string().min(1),
    /** A catalogue snapshot (JSON) to serve instead of the config's lists, as a discovering config would have it (the bench's discovered scale). */
    catalogueFile: z.string().min(1),
    /** A Slack Web API method whose first call makes the workflow thread throw an uncaught error (see thread-crash.ts). */
    crashThreadAtSlackMethod: z.string().min(1),
    /** How that crash comes: an uncaught error (the default), or the thread's heap filled until it is out of memory. */
    crashThreadBy: z.enum(['error', 'memory']),
  })
  .partial();

export type ChildKnobs = z.infer<typeof knobsSchema>;

/** The knobs this process was started with (also read by aws-sends-thread.ts, in the workflow thread). */
export function childKnobs(): ChildKnobs {
  return knobsSchema.parse(JSON.parse(process.env.TIMEBOX_TEST_KNOBS ?? '{}'));
}

async function main(): Promise<void> {
  // Exit with the parent: a test that dies must not leave a Timebox holding the data directory.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();

  const knobs = childKnobs();
  const env = readLocalEnv();
  const config = parseConfig(readFileSync(env.TIMEBOX_CONFIG, 'utf8'), env.TIMEBOX_CONFIG);
  const logger = pino({ level: knobs.logLevel ?? 'silent', base: { pid: process.pid } }, pino.destination(2));

  // As `npm start` runs over HTTP: the workflow on its own thread (src/entrypoints/local-thread.ts),
  // which is where the AWS calls are made, so that thread records their send times.
  const runtime = await startThreadedRuntime({
    env,
    config,
    logger,
    log: { level: knobs.logLevel ?? 'silent', fd: 2 },
    preload: [...(knobs.awsSendLog ? [join(__dirname, 'aws-sends-thread.ts')] : []), ...(knobs.crashThreadAtSlackMethod ? [join(__dirname, 'thread-crash.ts')] : [])],
    runtime: {
      workflow: {
        ...(knobs.claimMs !== undefined ? { claimMs: knobs.claimMs } : {}),
        ...(knobs.leaseWaitMs !== undefined ? { leaseWaitMs: knobs.leaseWaitMs } : {}),
        ...(knobs.leasePollMs !== undefined ? { leasePollMs: knobs.leasePollMs } : {}),
        ...(knobs.revokeRetryMs !== undefined ? { revokeRetryMs: knobs.revokeRetryMs } : {}),
        ...(knobs.newsRetryMs !== undefined ? { newsRetryMs: knobs.newsRetryMs } : {}),
      },
      identityCenter: {
        ...(knobs.pollDelaysMs !== undefined ? { pollDelaysMs: knobs.pollDelaysMs } : {}),
        ...(knobs.pollBudgetMs !== undefined ? { pollBudgetMs: knobs.pollBudgetMs } : {}),
      },
      ...(knobs.sweepIntervalMs !== undefined ? { sweepIntervalMs: knobs.sweepIntervalMs } : {}),
    },
    ...(knobs.catalogueFile ? { catalogueSnapshot: JSON.parse(readFileSync(knobs.catalogueFile, 'utf8')) as CatalogueSnapshot } : {}),
  });

  process.once('SIGTERM', () => {
    runtime.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`child-timebox: stop failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  });

  process.stdout.write(`READY ${runtime.url}\n`);
}

if (require.main === module) main().catch((err: unknown) => {
  process.stderr.write(`child-timebox: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
