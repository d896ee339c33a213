import { readLocalEnv } from '../config/env';
import { lintPolicy } from '../config/config-lint';
import { ConfigError, loadConfigFile } from '../config/load-config';
import { createLogger } from '../adapters/logger';
import { createRequire } from 'node:module';
import type * as LocalRuntimeModule from './local-runtime';
import { startThreadedRuntime } from './local-thread';
import { DiscoveryFailedError } from '../domain/catalogue';

/** `npm start`: read the environment and config, start, and stop cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let env;
  let config;
  try {
    env = readLocalEnv();
    config = loadConfigFile(env.TIMEBOX_CONFIG);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`timebox: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(env.LOG_LEVEL);
  for (const warning of lintPolicy(config.policy)) {
    process.stderr.write(`timebox: warning: ${warning}\n`);
    logger.warn({ config: env.TIMEBOX_CONFIG }, warning);
  }
  // Over HTTP the workflow runs on a thread of its own, so acks never wait behind it (local-thread.ts);
  // Socket Mode answers over its WebSocket and stays on one thread.
  // The workflow's modules are loaded only where it runs (not on the HTTP thread).
  const runtime = env.SLACK_APP_TOKEN
    ? await (createRequire(__filename)('./local-runtime') as typeof LocalRuntimeModule).startLocalRuntime({ env, config, logger })
    : await startThreadedRuntime({ env, config, logger, log: { level: env.LOG_LEVEL, fd: 1 }, runtime: {} });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'stopping');
      runtime.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

main().catch((err: unknown) => {
  // Its message is already the one line to act on (cannot start: no discovery cache … and why AWS failed).
  if (err instanceof DiscoveryFailedError) {
    process.stderr.write(`timebox: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`timebox: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
