import { readFileSync } from 'node:fs';
import { isScalar, parseDocument } from 'yaml';
import type { TimeboxConfig } from './config-schema';
import { ConfigError, validateConfig } from './validate-config';

// Re-exported so callers that load YAML need one import.
export { ConfigError, formatIssues, formatPath } from './validate-config';

export function parseConfig(text: string, source = 'config'): TimeboxConfig {
  const doc = parseDocument(text);
  const [error] = doc.errors;
  if (error) throw new ConfigError([`not valid YAML: ${error.message}`], source);
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    throw new ConfigError([`not valid YAML: ${err instanceof Error ? err.message : String(err)}`], source);
  }
  // The scalar as written, so a message can quote `011111111111` rather than the number YAML made of it.
  return validateConfig(raw, source, (path) => {
    const node = doc.getIn(path as unknown[], true);
    return isScalar(node) ? node.source : undefined;
  });
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
