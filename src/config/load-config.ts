import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { TimeboxConfig } from './config-schema';
import { ConfigError, validateConfig } from './validate-config';

// Re-exported so callers that load YAML need one import.
export { ConfigError, formatIssues, formatPath } from './validate-config';

export function parseConfig(text: string, source = 'config'): TimeboxConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ConfigError([`not valid YAML: ${err instanceof Error ? err.message : String(err)}`], source);
  }
  return validateConfig(raw, source);
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
