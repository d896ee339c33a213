import { readFileSync } from 'node:fs';
import type * as z from '../lib/zod';
import { configFileSchema, toTimeboxConfig, type TimeboxConfig } from './config-schema';

/** A configuration problem, with every issue already phrased as `path: message`. */
export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    readonly source: string,
  ) {
    super(`Invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** `rules[1].maxDuration` from ['rules', 1, 'maxDuration']. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const where = formatPath(issue.path);
    return where ? `${where}: ${issue.message}` : issue.message;
  });
}

/** Validates an already-parsed config document (from YAML, or the JSON the Lambda bundles carry). */
export function validateConfig(raw: unknown, source: string): TimeboxConfig {
  const result = configFileSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues), source);
  return toTimeboxConfig(result.data);
}

/**
 * The Lambda functions read the config as JSON, converted from the operator's YAML and
 * validated at synth time, so their bundles need no YAML parser. It is validated again here.
 */
export function loadJsonConfigFile(path: string): TimeboxConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([`cannot read JSON config: ${err instanceof Error ? err.message : String(err)}`], path);
  }
  return validateConfig(raw, path);
}
