import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../../src/config/load-config';

const EXAMPLE_TEXT = readFileSync(join(__dirname, '..', '..', '..', 'timebox.example.yaml'), 'utf8');
type Yaml = Record<string, unknown> & { rules: Array<Record<string, unknown>> };

function exampleWith(edit: (doc: Yaml) => void): string {
  const doc = parse(EXAMPLE_TEXT) as Yaml;
  edit(doc);
  return stringify(doc);
}

function problemsOf(text: string): string[] {
  try {
    parseConfig(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('sessions-breakglass: rules[].endSessions in the config', () => {
  test('off by default; `endSessions: true` on an account rule turns it on for that rule only', () => {
    expect(parseConfig(EXAMPLE_TEXT).policy.rules.some((r) => r.endSessions)).toBe(false);
    const config = parseConfig(exampleWith((doc) => (doc.rules[1]!.endSessions = true)));
    expect(config.policy.rules.map((r) => r.endSessions === true)).toEqual([false, true]);
  });

  test('a value that is not true or false is refused, naming the key', () => {
    expect(problemsOf(exampleWith((doc) => (doc.rules[1]!.endSessions = 'yes please')))).toEqual([expect.stringMatching(/^rules\[1\]\.endSessions: must be true or false/)]);
  });

  test('on a group rule (which has no sessions to end) it is refused with a clear reason', () => {
    const text = exampleWith((doc) => {
      doc.groups = { oncall: '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000001' };
      doc.rules.push({ name: 'oncall', groups: ['oncall'], requesters: ['*'], autoApprove: true, maxDuration: '4h', endSessions: true });
    });
    expect(problemsOf(text)).toEqual(['rules[2].endSessions: ends the sessions of account assignments; a group rule has none (remove it, or use an accounts + permissionSets rule)']);
  });
});
