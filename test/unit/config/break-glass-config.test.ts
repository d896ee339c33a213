import { lintPolicy } from '../../../src/config/config-lint';
import { ConfigError, parseConfig } from '../../../src/config/load-config';
import { APPROVAL_CHANNEL, testConfigYaml } from '../../support/timebox-harness';

const problemsOf = (yaml: string): string[] => {
  try {
    parseConfig(yaml);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

const rule = (extra: string, permissionSet = 'Admin') => `
  - name: glass
    accounts: [production]
    permissionSets: [${permissionSet}]
    requesters: ["*"]
    approvers: [U0BOB00000]
    breakGlass: true
    maxDuration: 1h${extra}`;

describe('sessions-breakglass: break-glass and ticket config', () => {
  test('a break-glass rule that is also autoApprove is a config error naming the field', () => {
    expect(problemsOf(testConfigYaml(rule('\n    autoApprove: true')))).toEqual([expect.stringMatching(/^rules\[0\]\.autoApprove: a break-glass rule cannot also be autoApprove/)]);
  });

  test('an invalid ticketPattern is a config error naming the field', () => {
    expect(problemsOf(testConfigYaml(rule('\n    ticketPattern: "^(INC-\\\\d+$"')))).toEqual([expect.stringMatching(/^rules\[0\]\.ticketPattern: is not a valid regular expression/)]);
  });

  test('slack.ticketUrl must be an http(s) URL with {ticket} in it; slack.alertChannel a channel id', () => {
    const yaml = testConfigYaml().replace(`approvalChannel: ${APPROVAL_CHANNEL}`, `approvalChannel: ${APPROVAL_CHANNEL}\n  alertChannel: "#alerts"\n  ticketUrl: https://tracker.example.com/browse/`);
    expect(problemsOf(yaml)).toEqual([expect.stringMatching(/^slack\.alertChannel: must be a Slack channel id/), expect.stringMatching(/^slack\.ticketUrl: must contain \{ticket\}/)]);
  });

  test('defaults: minReasonLength 20, reviewWithin 24h; an ordinary rule carries no break-glass settings', () => {
    const [glass, staging] = parseConfig(testConfigYaml(rule(''))).policy.rules;
    expect(glass).toMatchObject({ breakGlass: true, minReasonLength: 20, reviewWithinMs: 86_400_000 });
    expect(staging?.breakGlass).toBeUndefined();
  });

  test('lint: break-glass to an Admin-like permission set without endSessions is warned about; to ReadOnly it is not', () => {
    expect(lintPolicy(parseConfig(testConfigYaml(rule(''))).policy)).toContainEqual(expect.stringContaining('rules[0] (glass): break-glass access to Admin without endSessions'));
    expect(lintPolicy(parseConfig(testConfigYaml(rule('', 'ReadOnly'))).policy).filter((w) => w.includes('endSessions'))).toEqual([]);
  });
});
