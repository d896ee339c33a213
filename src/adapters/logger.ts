import pino from 'pino';
import type { Logger } from '../app/ports';

/** One structured JSON logger. Tokens never reach it: only ids and states are logged. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger & pino.Logger {
  return pino(
    { level, base: { service: 'timebox' }, redact: { paths: ['token', '*.token', 'headers.authorization'], censor: '[redacted]' } },
    destination,
  );
}
