import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { z } from 'zod';
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

export function parseConfig(text: string, source = 'config'): TimeboxConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ConfigError([`not valid YAML: ${err instanceof Error ? err.message : String(err)}`], source);
  }
  const result = configFileSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues), source);
  return toTimeboxConfig(result.data);
}

export function loadConfigFile(path: string): TimeboxConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([code === 'ENOENT' ? `file not found (copy timebox.example.yaml to ${path}, or set TIMEBOX_CONFIG)` : `cannot read: ${String(err)}`], path);
  }
  return parseConfig(text, path);
}
