import { LogLevel, type Logger as BoltLogger } from '@slack/logger';
import type { Logger } from '../../app/ports';

/** Bolt's own messages (e.g. a rejected signature) go to the same structured log as Timebox's. */
export function boltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const text = (parts: unknown[]) => parts.map((p) => (p instanceof Error ? p.message : typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  return {
    debug: (...msg: unknown[]) => logger.debug({ source: 'bolt' }, text(msg)),
    info: (...msg: unknown[]) => logger.info({ source: 'bolt' }, text(msg)),
    warn: (...msg: unknown[]) => logger.warn({ source: 'bolt' }, text(msg)),
    error: (...msg: unknown[]) => logger.error({ source: 'bolt' }, text(msg)),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
