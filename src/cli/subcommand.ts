import type { ParseArgsConfig } from 'node:util';
import type { CliEnv } from '../config/cli-env';

/** Where a subcommand writes: stdout for its answer, stderr for problems and progress. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: CliEnv;
  /** The real stdout, for output too long to hold (audit export streams to it, minding backpressure). */
  stdout?: NodeJS.WritableStream;
}

export type OptionValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

/**
 * One `timebox <group> <name>` subcommand: its own options (node:util parseArgs) and help. Adding
 * a subcommand is one module exporting this, and one line in commands/index.ts.
 */
export interface Subcommand {
  /** e.g. ['policy', 'check']. */
  path: [string, string];
  summary: string;
  /** The usage line(s) and option descriptions, printed by --help. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Resolves to the exit code. Throws UsageError for bad input (exit 2); anything else is one line and exit 1. */
  run(values: OptionValues, io: CliIo): Promise<number>;
}

/** Bad command-line input: printed as one line with a pointer to --help, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A value an option must have. */
export function required(values: OptionValues, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value;
}
