import { evaluate } from '../../domain/evaluate';
import { explainWhy } from '../../domain/explain';
import type { Identity } from '../../domain/identity';
import { resolveTargets, type TargetSpec } from '../../domain/rules';
import { CONFIG_HELP, CONFIG_OPTION, loadPolicyConfig } from '../config-source';
import { explanationText } from '../print-explanation';
import { required, UsageError, type OptionValues, type Subcommand } from '../subcommand';

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

/**
 * Who the requester is, offline: their email or Slack id, and no group membership (nothing here
 * can ask Slack or AWS), so every group a rule names is answered as a condition.
 */
function offlineIdentity(requester: string): Identity {
  const text = requester.trim();
  if (SLACK_USER_ID.test(text)) return { slackUserId: text };
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text)) return { slackUserId: '', email: text.toLowerCase() };
  throw new UsageError(`--requester must be an email or a Slack user id (U…/W…), not "${text.slice(0, 64)}"`);
}

function targetSpec(values: OptionValues): TargetSpec {
  const group = values.group;
  if (typeof group === 'string') {
    if (values.account !== undefined || values['permission-set'] !== undefined) throw new UsageError('give --group, or --account with --permission-set, not both');
    return { kind: 'group', groups: [group] };
  }
  return { kind: 'account', accounts: [required(values, 'account')], permissionSets: [required(values, 'permission-set')] };
}

/** `timebox policy explain`: what `/aws-access why` answers, for anyone, from the config alone. */
export const policyExplain: Subcommand = {
  path: ['policy', 'explain'],
  summary: 'which rule would decide a request, and why (the same answer as /aws-access why)',
  help: [
    'Usage: timebox policy explain --requester EMAIL_OR_ID --account A --permission-set P [--config FILE]',
    '       timebox policy explain --requester EMAIL_OR_ID --group G [--config FILE]',
    '',
    'The rule that would decide this person’s request and its outcome, or why nothing allows it:',
    'each rule in order and the first reason it did not match (the same answer as `/aws-access why`).',
    'Group membership (Slack user groups, Identity Center groups) cannot be checked offline, so an',
    'answer that depends on one says so: "if <requester> is in @oncall: …".',
    '',
    '  --requester EMAIL_OR_ID   an email, or a Slack user id (U…/W…)',
    '  --account A               an account name or id',
    '  --permission-set P        a permission set name',
    '  --group G                 an Identity Center group from the config, instead of account + permission set',
    CONFIG_HELP,
  ].join('\n'),
  options: { ...CONFIG_OPTION, requester: { type: 'string' }, account: { type: 'string' }, 'permission-set': { type: 'string' }, group: { type: 'string' } },
  async run(values, io) {
    const requester = offlineIdentity(required(values, 'requester'));
    const spec = targetSpec(values);
    const { policy } = loadPolicyConfig(values, io);
    const [target] = resolveTargets(policy, spec);
    const who = requester.email ?? requester.slackUserId;
    io.out(explanationText(explainWhy(evaluate(policy, requester, target!), who, { offline: true })));
    if (!requester.email && policy.rules.some((r) => r.requesters.some((e) => e.includes('@') && !e.startsWith('@')))) {
      io.out(`\nNote: rules that name people by email cannot be matched to a Slack id offline; give ${who}'s email to check those.`);
    }
    return 0;
  },
};
