import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../../src/config/load-config';

const EXAMPLE_TEXT = readFileSync(join(__dirname, '..', '..', '..', 'timebox.example.yaml'), 'utf8');
type Yaml = Record<string, unknown> & { rules: Array<Record<string, unknown>> };

/** The example config with rule 1 (prod-admin, approval needed) naming these requesters and approvers. */
function withPeople(requesters: unknown[], approvers: unknown[], approvalsRequired = 1): string {
  const doc = parse(EXAMPLE_TEXT) as Yaml;
  Object.assign(doc.rules[1]!, { requesters, approvers, approvalsRequired });
  return stringify(doc);
}

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'test');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  return [];
}

describe('daily-use: groups as requesters and approvers (config)', () => {
  test('requesters and approvers accept Slack user groups (@handle, S… id) and Identity Center groups (group:<display name>); handles are lower-cased, display names kept', () => {
    const config = parseConfig(withPeople(['@Platform-Oncall', 'S0DEVS0000', 'group:Platform Engineers'], ['@sre', 'group:DBA', 'alice@example.com']), 'test');
    const rule = config.policy.rules[1]!;
    expect(rule.requesters).toEqual(['@platform-oncall', 'S0DEVS0000', 'group:Platform Engineers']);
    expect(rule.approvers).toEqual(['@sre', 'group:DBA', 'alice@example.com']);
  });

  test('a malformed group is refused with a message saying what the form is', () => {
    expect(problemsOf(withPeople(['group:'], ['@ sre']))).toEqual([
      expect.stringMatching(/^rules\[1\]\.requesters\[0\]: an Identity Center group is "group:" followed by its display name/),
      expect.stringMatching(/^rules\[1\]\.approvers\[0\]: a Slack user group handle is "@" followed by letters, digits/),
    ]);
    expect(problemsOf(withPeople(['oncall-team'], ['U0BOB00000']))).toEqual([
      expect.stringMatching(/^rules\[1\]\.requesters\[0\]: must be an email, a Slack user id \(U…\/W…\), a Slack user group \(@handle or its S… id\), an Identity Center group \(group:<display name>\), or "\*"/),
    ]);
  });

  test('approvalsRequired above the number of listed approvers is fine when a group is among them (a group may hold many people), and refused when only people are listed', () => {
    expect(problemsOf(withPeople(['*'], ['@sre'], 3))).toEqual([]);
    expect(problemsOf(withPeople(['*'], ['group:DBA', 'U0BOB00000'], 3))).toEqual([]);
    expect(problemsOf(withPeople(['*'], ['alice@example.com', 'U0BOB00000'], 3))).toEqual([expect.stringMatching(/needs 3 approvals but only 2 approvers are listed/)]);
  });
});
