import { readFileSync } from 'node:fs';
import type * as z from '../lib/zod';
import { closestName } from './closest-name';
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

/**
 * The text of the value at a path as the operator wrote it (YAML keeps it: `011111111111` is the
 * number 11111111111 once parsed, but its source still has the zero). Undefined where unknown.
 */
export type SourceText = (path: readonly PropertyKey[]) => string | undefined;

/** Validates an already-parsed config document (from YAML, or the JSON the Lambda bundles carry). */
export function validateConfig(raw: unknown, source: string, sourceText: SourceText = () => undefined): TimeboxConfig {
  if (raw === null || raw === undefined) {
    throw new ConfigError(['(top level): the file is empty; it needs identityCenter, slack, accounts, permissionSets and rules (start from a copy of timebox.example.yaml)'], source);
  }
  const result = configFileSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(result.error.issues.flatMap((issue) => explainIssue(issue, raw, sourceText)), source);
  return toTimeboxConfig(result.data);
}

/**
 * One validator issue as an operator can act on it: the path always, an unknown key with the
 * known key it is closest to, a wrong type named with the type expected and what was written,
 * an account id YAML read as a number with the quoted form to write instead.
 */
function explainIssue(issue: z.core.$ZodIssue, raw: unknown, sourceText: SourceText): string[] {
  const where = formatPath(issue.path) || '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(configFileSchema, issue.path);
    return issue.keys.map((key) => {
      const near = closestName(key, known);
      const hint = near ? `did you mean "${near}"?` : known.length > 0 ? `the keys allowed here are ${known.join(', ')}` : 'remove it';
      return `${formatPath([...issue.path, key])}: unknown key; ${hint}`;
    });
  }
  const value = valueAt(raw, issue.path);
  if (issue.code === 'invalid_type' && (issue.expected === 'boolean' || issue.expected === 'number')) {
    const expected = issue.expected === 'boolean' ? 'true or false' : 'a number';
    if (value === undefined) return [`${where}: is required (${expected})`];
    const written = typeof value === 'string' ? `the text ${JSON.stringify(value)}` : JSON.stringify(value);
    return [`${where}: must be ${expected}, written without quotes; got ${written}`];
  }
  if (typeof value === 'number' && issue.path.includes('accounts')) {
    // YAML reads unquoted digits as a number and drops leading zeros: the id as written is in the source.
    const digits = sourceText(issue.path) ?? String(value);
    if (/^\d+$/.test(digits)) return [`${where}: ${issue.message}; YAML read ${digits} as the number ${value}, so quote it: "${digits}"`];
  }
  return [`${where}: ${issue.message}`];
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const part of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

interface SchemaDef {
  type: string;
  shape?: Record<string, { _zod: { def: SchemaDef } }>;
  innerType?: { _zod: { def: SchemaDef } };
  in?: { _zod: { def: SchemaDef } };
  element?: { _zod: { def: SchemaDef } };
  valueType?: { _zod: { def: SchemaDef } };
}

/** The keys the schema allows at a path (empty where it does not say), for "did you mean". */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const unwrap = (def: SchemaDef | undefined): SchemaDef | undefined => {
    let d = def;
    for (let i = 0; d && i < 10; i++) {
      const next = d.innerType ?? d.in;
      if (!next) break;
      d = next._zod.def;
    }
    return d;
  };
  let def = unwrap((schema as unknown as { _zod: { def: SchemaDef } })._zod.def);
  for (const part of path) {
    if (!def) return [];
    const next = typeof part === 'number' ? def.element : def.shape?.[String(part)] ?? def.valueType;
    def = unwrap(next?._zod.def);
  }
  return def?.shape ? Object.keys(def.shape) : [];
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
