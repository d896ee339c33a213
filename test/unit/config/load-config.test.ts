import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { readLocalEnv } from '../../../src/config/env';
import { ConfigError, formatPath, loadConfigFile, parseConfig } from '../../../src/config/load-config';
import { resolveAccount } from '../../../src/domain/rules';

const EXAMPLE_PATH = join(__dirname, '..', '..', '..', 'timebox.example.yaml');
const EXAMPLE_TEXT = readFileSync(EXAMPLE_PATH, 'utf8');
const M = 60_000;
const H = 60 * M;

type Yaml = Record<string, unknown> & { rules: Array<Record<string, unknown>> };

/** The example file as a plain object, edited by `edit`, written back as YAML. */
function exampleWith(edit: (doc: Yaml) => void): string {
  const doc = parse(EXAMPLE_TEXT) as Yaml;
  edit(doc);
  return stringify(doc);
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('the example configuration', () => {
  const config = parseConfig(EXAMPLE_TEXT, 'timebox.example.yaml');

  test('parses, keeping the Identity Center and Slack settings', () => {
    expect(config.identityCenter).toEqual({
      instanceArn: 'arn:aws:sso:::instance/ssoins-1234567890abcdef',
      identityStoreId: 'd-1234567890',
      portalUrl: 'https://d-1234567890.awsapps.com/start',
    });
    expect(config.slack).toEqual({ approvalChannel: 'C0APPROVALS', allowGuests: false });
    expect(config.policy.allowGuests).toBe(false);
  });

  test('lists accounts and permission sets by name', () => {
    expect(config.policy.catalogue.current().accounts).toEqual([
      { name: 'staging', id: '111111111111', ouPath: [], tags: {} },
      { name: 'production', id: '222222222222', ouPath: [], tags: {} },
    ]);
    expect(config.policy.catalogue.current().permissionSets.map((p) => p.name)).toEqual(['ReadOnly', 'Admin']);
    expect(config.policy.catalogue.current().permissionSets[1]?.arn).toBe('arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222');
  });

  test('rule account names resolve to ids', () => {
    expect(config.policy.rules.map((r) => r.accountIds)).toEqual([['111111111111'], ['222222222222']]);
  });

  test('durations are in milliseconds', () => {
    expect(config.policy.durations).toEqual({ defaultMs: H, minMs: 15 * M, pendingExpiryMs: 24 * H, extendWarningMs: 10 * M });
    expect(config.policy.rules.map((r) => r.maxDurationMs)).toEqual([8 * H, H]);
  });

  test('rules keep file order, with defaults filled in', () => {
    const [staging, prod] = config.policy.rules;
    expect(staging).toEqual({
      name: 'staging-readonly',
      accountIds: ['111111111111'],
      permissionSets: ['ReadOnly'],
      requesters: ['*'],
      approvers: [],
      groups: [],
      approvalsRequired: 1,
      allowSelfApproval: false,
      autoApprove: true,
      maxDurationMs: 8 * H,
      maxExtensions: 2,
    });
    expect(prod).toMatchObject({ name: 'prod-admin', approvers: ['alice@example.com', 'U0BOB00000'], autoApprove: false });
  });

  test('without groups or limits sections: no groups, and at most 10 grants a request', () => {
    expect(config.policy.catalogue.current().groups).toEqual([]);
    expect(config.policy.limits).toEqual({ maxGrantsPerRequest: 10, maxPendingPerRequester: 20 });
  });

  test('loadConfigFile reads the same file from disk', () => {
    expect(loadConfigFile(EXAMPLE_PATH)).toEqual(config);
  });
});

describe('normalisation and defaults', () => {
  test('emails are lower-cased; Slack ids are kept as written', () => {
    const config = parseConfig(
      exampleWith((doc) => {
        doc.rules[1]!.approvers = ['Alice@Example.COM', 'U0BOB00000'];
        doc.rules[1]!.requesters = ['  Carol@Example.com ', 'U0DAVE0000'];
      }),
    );
    expect(config.policy.rules[1]?.approvers).toEqual(['alice@example.com', 'U0BOB00000']);
    expect(config.policy.rules[1]?.requesters).toEqual(['carol@example.com', 'U0DAVE0000']);
  });

  test('approvalsRequired defaults to 1 and allowSelfApproval to false', () => {
    const config = parseConfig(
      exampleWith((doc) => {
        delete doc.rules[1]!.approvalsRequired;
        delete doc.rules[1]!.allowSelfApproval;
      }),
    );
    expect(config.policy.rules[1]).toMatchObject({ approvalsRequired: 1, allowSelfApproval: false });
  });

  test('without a durations section: default 1h, min 15m, pendingExpiry 24h', () => {
    const config = parseConfig(exampleWith((doc) => delete doc.durations));
    expect(config.policy.durations).toEqual({ defaultMs: H, minMs: 15 * M, pendingExpiryMs: 24 * H, extendWarningMs: 10 * M });
  });

  test('a partial durations section fills in the rest', () => {
    const config = parseConfig(exampleWith((doc) => (doc.durations = { min: '5s' })));
    expect(config.policy.durations).toEqual({ defaultMs: H, minMs: 5_000, pendingExpiryMs: 24 * H, extendWarningMs: 10 * M });
  });

  test('rule accounts may be given by name (any case), by id, by unquoted number, or "*"', () => {
    const text = exampleWith((doc) => {
      doc.rules[0]!.accounts = ['STAGING', 222222222222];
      doc.rules[1]!.accounts = ['*'];
    });
    expect(text).toMatch(/^ {6}- 222222222222$/m); // a YAML number, not a string
    const config = parseConfig(text);
    expect(config.policy.rules[0]?.accountIds).toEqual(['111111111111', '222222222222']);
    expect(config.policy.rules[1]?.accountIds).toEqual(['*']);
  });

  test('"*" permission sets and requesters are kept as "*"', () => {
    const config = parseConfig(exampleWith((doc) => (doc.rules[1]!.permissionSets = ['*'])));
    expect(config.policy.rules[1]?.permissionSets).toEqual(['*']);
    expect(config.policy.rules[1]?.requesters).toEqual(['*']);
  });
});

const ONCALL_ID = '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000001';
const DBA_ID = 'a1b2c3d4-0f0f-4a4a-bbbb-000000000002';

/** The example with two groups and a rule for them appended (as rules[2]). */
function withGroups(edit: (doc: Yaml) => void = () => undefined): string {
  return exampleWith((doc) => {
    doc.groups = { oncall: ONCALL_ID, DbAdmins: DBA_ID };
    doc.rules.push({ name: 'oncall', groups: ['oncall'], requesters: ['*'], approvers: ['U0DAVE0000'], maxDuration: '4h' });
    edit(doc);
  });
}

describe('groups and group rules', () => {
  test('groups are listed by name with their Identity Store ids; a group rule covers groups and no accounts', () => {
    const config = parseConfig(withGroups());
    expect(config.policy.catalogue.current().groups).toEqual([
      { name: 'oncall', id: ONCALL_ID },
      { name: 'DbAdmins', id: DBA_ID },
    ]);
    expect(config.policy.rules[2]).toEqual({
      name: 'oncall',
      accountIds: [],
      permissionSets: [],
      groups: ['oncall'],
      requesters: ['*'],
      approvers: ['U0DAVE0000'],
      approvalsRequired: 1,
      allowSelfApproval: false,
      autoApprove: false,
      maxDurationMs: 4 * H,
      maxExtensions: 2,
    });
    // Account rules cover no groups.
    expect(config.policy.rules[0]?.groups).toEqual([]);
  });

  test('a rule names groups in any case; the policy spells them as the groups section does', () => {
    const config = parseConfig(withGroups((doc) => (doc.rules[2]!.groups = ['ONCALL', 'dbadmins', '*'])));
    expect(config.policy.rules[2]?.groups).toEqual(['oncall', 'DbAdmins', '*']);
  });

  test('a group rule with autoApprove needs no approvers', () => {
    const config = parseConfig(
      withGroups((doc) => {
        doc.rules[2]!.autoApprove = true;
        delete doc.rules[2]!.approvers;
      }),
    );
    expect(config.policy.rules[2]).toMatchObject({ autoApprove: true, approvers: [] });
  });

  test('a group not listed under groups', () => {
    expect(problemsOf(() => parseConfig(withGroups((doc) => (doc.rules[2]!.groups = ['oncall', 'payments']))))).toEqual([
      'rules[2].groups[1]: "payments" is not a group listed under groups',
    ]);
  });

  test('a group rule in a config without a groups section', () => {
    const problems = problemsOf(() => parseConfig(withGroups((doc) => delete doc.groups)));
    expect(problems).toEqual(['rules[2].groups[0]: "oncall" is not a group listed under groups']);
  });

  test('two groups whose names differ only in case are refused, naming both', () => {
    const problems = problemsOf(() => parseConfig(withGroups((doc) => (doc.groups = { oncall: ONCALL_ID, OnCall: DBA_ID }))));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^groups\.OnCall: /);
    expect(problems[0]).toContain('"oncall"');
    expect(problems[0]).toContain('differ only in case');
  });

  test('the same check guards accounts and permission sets', () => {
    const problems = problemsOf(() =>
      parseConfig(
        exampleWith((doc) => {
          doc.accounts = { staging: '111111111111', Staging: '333333333333', production: '222222222222' };
          (doc.permissionSets as Record<string, unknown>).readonly = 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-3333333333333333';
        }),
      ),
    );
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^accounts\.Staging: .*differ only in case/), expect.stringMatching(/^permissionSets\.readonly: .*differ only in case/)]));
  });

  test.each(['sg-123', 'oncall', '9067a1b2c3-0f0f0f0f'])('a group id that is not an Identity Center group id (%j) is named', (id) => {
    const problems = problemsOf(() => parseConfig(withGroups((doc) => ((doc.groups as Record<string, unknown>).oncall = id))));
    expect(problems).toEqual([expect.stringMatching(/^groups\.oncall: must be an Identity Center group id/)]);
  });

  test('a group rule with an empty groups list is refused', () => {
    expect(problemsOf(() => parseConfig(withGroups((doc) => (doc.rules[2]!.groups = []))))[0]).toMatch(/^rules\[2\]\.groups: /);
  });

  test('a group rule without autoApprove still needs an approver', () => {
    expect(problemsOf(() => parseConfig(withGroups((doc) => delete doc.rules[2]!.approvers)))).toEqual([
      'rules[2].approvers: a rule without autoApprove needs at least one approver',
    ]);
  });
});

describe('a rule covers accounts + permission sets, or groups: never both, never neither', () => {
  test('both → refused at the rule\'s groups', () => {
    const problems = problemsOf(() => parseConfig(withGroups((doc) => (doc.rules[1]!.groups = ['oncall']))));
    expect(problems).toEqual(['rules[1].groups: a rule covers either accounts + permissionSets or groups, never both']);
  });

  test('groups with only one of accounts and permissionSets → still both', () => {
    expect(problemsOf(() => parseConfig(withGroups((doc) => (doc.rules[2]!.accounts = ['staging']))))).toEqual([
      'rules[2].groups: a rule covers either accounts + permissionSets or groups, never both',
    ]);
    expect(problemsOf(() => parseConfig(withGroups((doc) => (doc.rules[2]!.permissionSets = ['ReadOnly']))))).toEqual([
      'rules[2].groups: a rule covers either accounts + permissionSets or groups, never both',
    ]);
  });

  test('neither → refused at the rule', () => {
    const problems = problemsOf(() =>
      parseConfig(
        exampleWith((doc) => {
          delete doc.rules[0]!.accounts;
          delete doc.rules[0]!.permissionSets;
        }),
      ),
    );
    expect(problems).toEqual(['rules[0]: a rule needs accounts + permissionSets, or groups']);
  });

  test('accounts without permissionSets, and permissionSets without accounts, each name the missing field', () => {
    expect(problemsOf(() => parseConfig(exampleWith((doc) => delete doc.rules[0]!.permissionSets)))).toEqual([
      'rules[0].permissionSets: a rule with accounts needs permissionSets too',
    ]);
    expect(problemsOf(() => parseConfig(exampleWith((doc) => delete doc.rules[1]!.accounts)))).toEqual(['rules[1].accounts: a rule with permissionSets needs accounts too']);
  });

  test('problems in several rules are all listed', () => {
    const problems = problemsOf(() =>
      parseConfig(
        withGroups((doc) => {
          delete doc.rules[0]!.permissionSets;
          doc.rules[1]!.groups = ['oncall'];
          doc.rules[2]!.groups = ['nope'];
        }),
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'rules[0].permissionSets: a rule with accounts needs permissionSets too',
        'rules[1].groups: a rule covers either accounts + permissionSets or groups, never both',
        'rules[2].groups[0]: "nope" is not a group listed under groups',
      ]),
    );
    expect(problems).toHaveLength(3);
  });
});

describe('limits', () => {
  test('limits.maxGrantsPerRequest is read', () => {
    expect(parseConfig(exampleWith((doc) => (doc.limits = { maxGrantsPerRequest: 3 }))).policy.limits).toEqual({ maxGrantsPerRequest: 3, maxPendingPerRequester: 20 });
  });

  test('an empty limits section means the default, 10', () => {
    expect(parseConfig(exampleWith((doc) => (doc.limits = {}))).policy.limits).toEqual({ maxGrantsPerRequest: 10, maxPendingPerRequester: 20 });
  });

  test.each([0, -1, 2.5, 21, 51, '5'])('maxGrantsPerRequest %j is refused, naming limits.maxGrantsPerRequest', (value) => {
    const problems = problemsOf(() => parseConfig(exampleWith((doc) => (doc.limits = { maxGrantsPerRequest: value }))));
    expect(problems).toEqual([expect.stringMatching(/^limits\.maxGrantsPerRequest: /)]);
  });

  test('the bounds themselves, 1 and 20 (every grant gets its own block in the approvals message), are accepted', () => {
    for (const n of [1, 20]) expect(parseConfig(exampleWith((doc) => (doc.limits = { maxGrantsPerRequest: n }))).policy.limits.maxGrantsPerRequest).toBe(n);
  });

  test('limits.maxPendingPerRequester is read (default 20); 0, 2.5 and 1001 are refused naming it', () => {
    expect(parseConfig(exampleWith((doc) => (doc.limits = { maxPendingPerRequester: 5 }))).policy.limits).toEqual({ maxGrantsPerRequest: 10, maxPendingPerRequester: 5 });
    for (const value of [0, 2.5, 1001]) {
      const problems = problemsOf(() => parseConfig(exampleWith((doc) => (doc.limits = { maxPendingPerRequester: value }))));
      expect(problems).toEqual([expect.stringMatching(/^limits\.maxPendingPerRequester: /)]);
    }
  });

  test('a misspelt limits key is refused, not ignored', () => {
    const problems = problemsOf(() => parseConfig(exampleWith((doc) => (doc.limits = { maxGrants: 3 }))));
    expect(problems).toEqual(['limits.maxGrants: unknown key; did you mean "maxGrantsPerRequest"?']);
  });
});

describe('errors name their path', () => {
  test('a bad duration is reported exactly as `rules[1].maxDuration: "2 hours" is not a duration (use 90m, 2h, 1h30m)`', () => {
    const problems = problemsOf(() => parseConfig(exampleWith((doc) => (doc.rules[1]!.maxDuration = '2 hours'))));
    expect(problems).toEqual(['rules[1].maxDuration: "2 hours" is not a duration (use 90m, 2h, 1h30m)']);
  });

  test('the ConfigError message names the source and every problem', () => {
    try {
      parseConfig(exampleWith((doc) => (doc.rules[1]!.maxDuration = '2 hours')), 'team.yaml');
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.source).toBe('team.yaml');
      expect(e.message).toContain('team.yaml');
      expect(e.message).toContain('rules[1].maxDuration: "2 hours" is not a duration');
    }
  });

  test('several field problems at once are all listed', () => {
    const problems = problemsOf(() =>
      parseConfig(
        exampleWith((doc) => {
          doc.slack = { approvalChannel: '#approvals' };
          (doc.accounts as Record<string, unknown>).staging = '1234';
          doc.rules[0]!.maxDuration = 'forever';
          doc.rules[1]!.approvalsRequired = 0;
        }),
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^slack\.approvalChannel: .*channel id/),
        expect.stringMatching(/^accounts\.staging: .*12-digit/),
        'rules[0].maxDuration: "forever" is not a duration (use 90m, 2h, 1h30m)',
        expect.stringMatching(/^rules\[1\]\.approvalsRequired: /),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  test('several cross-checks at once are all listed', () => {
    const problems = problemsOf(() =>
      parseConfig(
        exampleWith((doc) => {
          doc.rules[1]!.accounts = ['prod'];
          doc.rules[1]!.permissionSets = ['Admin', 'PowerUser'];
          doc.rules[0]!.name = 'prod-admin';
        }),
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'rules[1].accounts[0]: "prod" is not an account listed under accounts',
        'rules[1].permissionSets[1]: "PowerUser" is not a permission set listed under permissionSets',
        'rules[1].name: duplicate rule name "prod-admin"',
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  test('field problems and cross-check problems are reported together', () => {
    const problems = problemsOf(() =>
      parseConfig(
        exampleWith((doc) => {
          doc.rules[1]!.maxDuration = '2 hours';
          doc.rules[1]!.accounts = ['prod'];
        }),
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'rules[1].maxDuration: "2 hours" is not a duration (use 90m, 2h, 1h30m)',
        'rules[1].accounts[0]: "prod" is not an account listed under accounts',
      ]),
    );
  });

  test('a rule naming an account grants the account that name resolves to (or the config is refused)', () => {
    const text = exampleWith((doc) => {
      doc.accounts = { Staging: '111111111111', staging: '333333333333', production: '222222222222' };
      doc.rules[0]!.accounts = ['Staging'];
    });
    let config;
    try {
      config = parseConfig(text);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return;
    }
    expect(config.policy.rules[0]?.accountIds).toEqual([resolveAccount(config.policy.catalogue.current(), 'Staging').id]);
  });

  test('an unknown account name in a rule', () => {
    const problems = problemsOf(() => parseConfig(exampleWith((doc) => (doc.rules[0]!.accounts = ['staging', 'dev']))));
    expect(problems).toEqual(['rules[0].accounts[1]: "dev" is not an account listed under accounts']);
  });

  test('an unknown account id in a rule', () => {
    const problems = problemsOf(() => parseConfig(exampleWith((doc) => (doc.rules[0]!.accounts = ['333333333333']))));
    expect(problems).toEqual(['rules[0].accounts[0]: "333333333333" is not an account listed under accounts']);
  });

  test('an unknown permission set (names in rules are matched ignoring case, as the command does)', () => {
    const problems = problemsOf(() => parseConfig(exampleWith((doc) => (doc.rules[0]!.permissionSets = ['readwrite']))));
    expect(problems).toEqual(['rules[0].permissionSets[0]: "readwrite" is not a permission set listed under permissionSets']);
  });

  test('a rule without autoApprove needs approvers', () => {
    const problems = problemsOf(() => parseConfig(exampleWith((doc) => delete doc.rules[1]!.approvers)));
    expect(problems).toContain('rules[1].approvers: a rule without autoApprove needs at least one approver');
  });

  test('approvalsRequired may not exceed the number of approvers', () => {
    const problems = problemsOf(() => parseConfig(exampleWith((doc) => (doc.rules[1]!.approvalsRequired = 3))));
    expect(problems).toEqual(['rules[1].approvalsRequired: needs 3 approvals but only 2 approvers are listed']);
  });

  test('approvalsRequired equal to the number of approvers is fine, and "*" approvers allow any number', () => {
    expect(parseConfig(exampleWith((doc) => (doc.rules[1]!.approvalsRequired = 2))).policy.rules[1]?.approvalsRequired).toBe(2);
    const star = parseConfig(
      exampleWith((doc) => {
        doc.rules[1]!.approvers = ['*'];
        doc.rules[1]!.approvalsRequired = 3;
      }),
    );
    expect(star.policy.rules[1]).toMatchObject({ approvers: ['*'], approvalsRequired: 3 });
  });

  test('duplicate rule names', () => {
    const problems = problemsOf(() => parseConfig(exampleWith((doc) => (doc.rules[1]!.name = 'staging-readonly'))));
    expect(problems).toEqual(['rules[1].name: duplicate rule name "staging-readonly"']);
  });

  test('a misspelt key is rejected, naming it and where it is', () => {
    const problems = problemsOf(() =>
      parseConfig(
        exampleWith((doc) => {
          doc.rules[0]!.maxDurration = doc.rules[0]!.maxDuration;
        }),
      ),
    );
    expect(problems).toEqual(['rules[0].maxDurration: unknown key; did you mean "maxDuration"?']);
  });

  test.each([
    ['top level', (doc: Yaml) => (doc.rule = [])],
    ['identityCenter', (doc: Yaml) => ((doc.identityCenter as Record<string, unknown>).region = 'eu-west-1')],
    ['durations', (doc: Yaml) => ((doc.durations as Record<string, unknown>).maximum = '8h')],
  ])('a misspelt key is rejected (%s)', (_where, edit) => {
    const problems = problemsOf(() => parseConfig(exampleWith(edit)));
    expect(problems.some((p) => /unknown key/.test(p))).toBe(true);
  });

  test('a misspelt autoApprove is caught (rather than silently requiring approval)', () => {
    const problems = problemsOf(() =>
      parseConfig(
        exampleWith((doc) => {
          doc.rules[0]!.autoaprove = true;
          delete doc.rules[0]!.autoApprove;
        }),
      ),
    );
    expect(problems[0]).toBe('rules[0].autoaprove: unknown key; did you mean "autoApprove"?');
  });

  test('no rules → error', () => {
    expect(problemsOf(() => parseConfig(exampleWith((doc) => (doc.rules = []))))).toEqual(['rules: a config with no rules grants nothing']);
    expect(problemsOf(() => parseConfig(exampleWith((doc) => delete (doc as Partial<Yaml>).rules)))[0]).toMatch(/^rules: /);
  });

  test('a rule whose maxDuration is below durations.min could never be used', () => {
    const problems = problemsOf(() => parseConfig(exampleWith((doc) => (doc.rules[1]!.maxDuration = '10m'))));
    expect(problems).toEqual(['rules[1].maxDuration: is below durations.min, so the rule could never be used']);
  });

  test('a duration written as a bare number is refused', () => {
    expect(problemsOf(() => parseConfig(exampleWith((doc) => (doc.rules[1]!.maxDuration = 90))))).toEqual([
      'rules[1].maxDuration: "90" is not a duration (use 90m, 2h, 1h30m)',
    ]);
  });

  test('a bad durations entry is named by its path', () => {
    expect(problemsOf(() => parseConfig(exampleWith((doc) => ((doc.durations as Record<string, unknown>).pendingExpiry = 'a day'))))).toEqual([
      'durations.pendingExpiry: "a day" is not a duration (use 90m, 2h, 1h30m)',
    ]);
  });

  test('a maxDuration above 366d is reported as too long, not as "not a duration"', () => {
    const problems = problemsOf(() => parseConfig(exampleWith((doc) => (doc.rules[0]!.maxDuration = '400d'))));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^rules\[0\]\.maxDuration: /);
    expect(problems[0]).toContain('366d');
    expect(problems[0]).not.toContain('is not a duration (use');
  });

  test('identityCenter.portalUrl: an https URL is kept (the "active" DM links to it); anything else is named', () => {
    const custom = parseConfig(exampleWith((doc) => ((doc.identityCenter as Record<string, unknown>).portalUrl = 'https://acme.awsapps.com/start')));
    expect(custom.identityCenter.portalUrl).toBe('https://acme.awsapps.com/start');
    expect(problemsOf(() => parseConfig(exampleWith((doc) => ((doc.identityCenter as Record<string, unknown>).portalUrl = 'acme portal'))))).toEqual([
      expect.stringMatching(/^identityCenter\.portalUrl: must be an https:\/\/ URL/),
    ]);
  });

  test('bad account ids, ARNs, Slack ids and emails are each named', () => {
    const problems = problemsOf(() =>
      parseConfig(
        exampleWith((doc) => {
          (doc.permissionSets as Record<string, unknown>).Admin = 'AdministratorAccess';
          (doc.identityCenter as Record<string, unknown>).identityStoreId = 'store';
          doc.rules[1]!.approvers = ['alice', 'U0BOB00000'];
        }),
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^permissionSets\.Admin: must be a permission set ARN/),
        expect.stringMatching(/^identityCenter\.identityStoreId: /),
        expect.stringMatching(/^rules\[1\]\.approvers\[0\]: must be an email, a Slack user id/),
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  test('invalid YAML → ConfigError saying so', () => {
    const problems = problemsOf(() => parseConfig('rules: [1, 2\naccounts: {', 'broken.yaml'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^not valid YAML: /);
  });

  test('an empty file → ConfigError', () => {
    expect(problemsOf(() => parseConfig('')).length).toBeGreaterThan(0);
  });
});

describe('loadConfigFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'timebox-config-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('a missing file → ConfigError mentioning the path and how to fix it', () => {
    const path = join(dir, 'nope', 'timebox.yaml');
    try {
      loadConfigFile(path);
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.source).toBe(path);
      expect(e.message).toContain(path);
      expect(e.problems[0]).toContain('file not found');
      expect(e.problems[0]).toContain('TIMEBOX_CONFIG');
    }
  });

  test('problems in a file on disk are reported against that file', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, exampleWith((doc) => (doc.rules[1]!.maxDuration = '2 hours')));
    try {
      loadConfigFile(path);
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).source).toBe(path);
      expect((err as ConfigError).problems).toEqual(['rules[1].maxDuration: "2 hours" is not a duration (use 90m, 2h, 1h30m)']);
    }
  });
});

describe('formatPath', () => {
  test.each([
    [['rules', 1, 'maxDuration'], 'rules[1].maxDuration'],
    [['rules', 0, 'accounts', 2], 'rules[0].accounts[2]'],
    [['slack', 'approvalChannel'], 'slack.approvalChannel'],
    [['PORT'], 'PORT'],
    [[], ''],
  ] as const)('%j → %j', (path, text) => {
    expect(formatPath(path)).toBe(text);
  });
});

describe('readLocalEnv', () => {
  const GOOD = { SLACK_BOT_TOKEN: 'xoxb-123-456-abc', SLACK_SIGNING_SECRET: '0123456789abcdef' };

  test('missing SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are each named on their own line', () => {
    try {
      readLocalEnv({});
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.source).toBe('environment');
      expect(e.problems).toHaveLength(2);
      expect(e.problems).toEqual(
        expect.arrayContaining([expect.stringMatching(/^SLACK_BOT_TOKEN: is required/), expect.stringMatching(/^SLACK_SIGNING_SECRET: is required/)]),
      );
      const lines = e.message.split('\n');
      expect(lines.filter((l) => l.includes('SLACK_BOT_TOKEN'))).toHaveLength(1);
      expect(lines.filter((l) => l.includes('SLACK_SIGNING_SECRET'))).toHaveLength(1);
    }
  });

  test('a token of the wrong kind is named', () => {
    expect(problemsOf(() => readLocalEnv({ ...GOOD, SLACK_BOT_TOKEN: 'xapp-1-abc' }))).toEqual([expect.stringMatching(/^SLACK_BOT_TOKEN: .*xoxb-/)]);
  });

  test.each(['abc', '70000', '-1', '80.5'])('a bad PORT (%j) is named', (port) => {
    expect(problemsOf(() => readLocalEnv({ ...GOOD, PORT: port }))).toEqual([expect.stringMatching(/^PORT: /)]);
  });

  test.each(['lots', '64', '1.5'])('performance-2: a bad TIMEBOX_WORKFLOW_HEAP_MB (%j) is named', (mb) => {
    expect(problemsOf(() => readLocalEnv({ ...GOOD, TIMEBOX_WORKFLOW_HEAP_MB: mb }))).toEqual([expect.stringMatching(/^TIMEBOX_WORKFLOW_HEAP_MB: /)]);
  });

  test('performance-2: the workflow thread heap limit is 512 MB unless TIMEBOX_WORKFLOW_HEAP_MB says otherwise', () => {
    expect(readLocalEnv(GOOD).TIMEBOX_WORKFLOW_HEAP_MB).toBe(512);
    expect(readLocalEnv({ ...GOOD, TIMEBOX_WORKFLOW_HEAP_MB: '1024' }).TIMEBOX_WORKFLOW_HEAP_MB).toBe(1024);
  });

  test('a good PORT is a number', () => {
    expect(readLocalEnv({ ...GOOD, PORT: '8080' }).PORT).toBe(8080);
  });

  test('an empty PORT means the default 3000, not port 0', () => {
    expect(readLocalEnv({ ...GOOD, PORT: '' }).PORT).toBe(3000);
  });

  test('defaults for PORT, TIMEBOX_CONFIG, TIMEBOX_DATA_DIR and LOG_LEVEL', () => {
    const env = readLocalEnv(GOOD);
    expect(env).toMatchObject({ PORT: 3000, TIMEBOX_CONFIG: './timebox.yaml', TIMEBOX_DATA_DIR: './.timebox', LOG_LEVEL: 'info' });
    expect(env.SLACK_API_URL).toBeUndefined();
    expect(env.SLACK_APP_TOKEN).toBeUndefined();
    expect(env.TIMEBOX_TABLE).toBeUndefined();
  });

  test('explicit TIMEBOX_CONFIG and TIMEBOX_DATA_DIR are used', () => {
    expect(readLocalEnv({ ...GOOD, TIMEBOX_CONFIG: '/etc/timebox.yaml', TIMEBOX_DATA_DIR: '/var/lib/timebox' })).toMatchObject({
      TIMEBOX_CONFIG: '/etc/timebox.yaml',
      TIMEBOX_DATA_DIR: '/var/lib/timebox',
    });
  });

  test('SLACK_API_URL gets a trailing slash', () => {
    expect(readLocalEnv({ ...GOOD, SLACK_API_URL: 'http://localhost:3001/api' }).SLACK_API_URL).toBe('http://localhost:3001/api/');
  });

  test('SLACK_API_URL that already ends in a slash is left alone', () => {
    expect(readLocalEnv({ ...GOOD, SLACK_API_URL: 'https://slack.com/api/' }).SLACK_API_URL).toBe('https://slack.com/api/');
  });

  test('a blank SLACK_API_URL or SLACK_APP_TOKEN counts as unset', () => {
    const env = readLocalEnv({ ...GOOD, SLACK_API_URL: '  ', SLACK_APP_TOKEN: '' });
    expect(env.SLACK_API_URL).toBeUndefined();
    expect(env.SLACK_APP_TOKEN).toBeUndefined();
  });

  test('a malformed SLACK_API_URL or SLACK_APP_TOKEN is named', () => {
    const problems = problemsOf(() => readLocalEnv({ ...GOOD, SLACK_API_URL: 'not a url', SLACK_APP_TOKEN: 'xoxb-wrong' }));
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^SLACK_API_URL: /), expect.stringMatching(/^SLACK_APP_TOKEN: .*xapp-/)]));
  });

  test('an unknown LOG_LEVEL is named', () => {
    expect(problemsOf(() => readLocalEnv({ ...GOOD, LOG_LEVEL: 'verbose' }))).toEqual([expect.stringMatching(/^LOG_LEVEL: /)]);
  });
});

describe('daily-use: reminders and who gets told (config)', () => {
  test('reminders default to 15m, backoff 2, at most 4; each can be set', () => {
    expect(parseConfig(EXAMPLE_TEXT).policy.reminders).toEqual({ afterMs: 15 * M, backoff: 2, max: 4 });
    const set = parseConfig(exampleWith((doc) => ((doc as Record<string, unknown>).reminders = { after: '5m', backoff: 3, max: 2 })));
    expect(set.policy.reminders).toEqual({ afterMs: 5 * M, backoff: 3, max: 2 });
  });

  test('a bad reminders entry is named by its path', () => {
    expect(problemsOf(() => parseConfig(exampleWith((doc) => ((doc as Record<string, unknown>).reminders = { after: 'soon', backoff: 0, max: -1 }))))).toEqual([
      'reminders.after: "soon" is not a duration (use 90m, 2h, 1h30m)',
      expect.stringMatching(/^reminders\.backoff: /),
      expect.stringMatching(/^reminders\.max: /),
    ]);
  });

  test('rules[].notify (channel, dm or both) and rules[].channel are kept; anything else is named', () => {
    const set = parseConfig(
      exampleWith((doc) => {
        Object.assign(doc.rules[1]!, { notify: 'both', channel: 'C0PRODAPPR' });
      }),
    );
    expect(set.policy.rules[1]).toMatchObject({ notify: 'both', channel: 'C0PRODAPPR' });
    expect(set.policy.rules[0]?.notify).toBeUndefined(); // the default: the channel
    expect(
      problemsOf(() =>
        parseConfig(
          exampleWith((doc) => {
            Object.assign(doc.rules[1]!, { notify: 'email', channel: '#prod-approvals' });
          }),
        ),
      ),
    ).toEqual([expect.stringMatching(/^rules\[1\]\.notify: /), 'rules[1].channel: must be a Slack channel id (C…), not a name']);
  });
});
