import { formatDuration } from '../../domain/duration';
import { everyTarget, firstMatches } from '../../domain/explain';
import type { Policy } from '../../domain/policy';
import { CONFIG_HELP, CONFIG_OPTION, loadPolicyConfig } from '../config-source';
import { UsageError, type Subcommand } from '../subcommand';

const COLUMNS = ['account', 'account_id', 'permission_set', 'group', 'rule', 'requesters', 'approval', 'approvers', 'approvals_required', 'max_duration'] as const;
type Row = Record<(typeof COLUMNS)[number], string>;

/**
 * One row per target and rule that decides for someone (its requesters are those it is the first
 * match for, as `whocan` marks them); a target no rule allows gets one row with requesters "nobody".
 */
export function matrixRows(policy: Policy): Row[] {
  return everyTarget(policy).flatMap((target): Row[] => {
    const where =
      target.kind === 'account'
        ? { account: target.accountName, account_id: target.accountId, permission_set: target.permissionSetName, group: '' }
        : { account: '', account_id: '', permission_set: '', group: target.groupName };
    const deciding = firstMatches(policy, target).filter((m) => m.firstFor.length > 0);
    if (deciding.length === 0) return [{ ...where, rule: '', requesters: 'nobody', approval: '', approvers: '', approvals_required: '', max_duration: '' }];
    return deciding.map(({ rule, firstFor }) => ({
      ...where,
      rule: rule.name,
      requesters: firstFor.join('; '),
      approval: rule.autoApprove ? 'auto-approved' : 'needs approval',
      approvers: rule.autoApprove ? '' : rule.approvers.join('; '),
      approvals_required: rule.autoApprove ? '0' : String(rule.approvalsRequired),
      max_duration: formatDuration(rule.maxDurationMs),
    }));
  });
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled; lines end in CRLF. */
const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const toCsv = (rows: Row[]) => [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => csvField(r[c])).join(','))].join('\r\n');

const mdCell = (v: string) => v.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const toMarkdown = (rows: Row[]) =>
  [`| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map(() => ' --- |').join('')}`, ...rows.map((r) => `| ${COLUMNS.map((c) => mdCell(r[c])).join(' | ')} |`)].join('\n');

/** `timebox policy matrix`: every account × permission set (and group), who may request it and who approves. */
export const policyMatrix: Subcommand = {
  path: ['policy', 'matrix'],
  summary: 'every account × permission set (and group): who may request it and who approves',
  help: [
    'Usage: timebox policy matrix [--format md|csv] [--config FILE]',
    '',
    'One row per account × permission set (and per group) and rule that decides for someone: who',
    'may request under it (the requesters it is the first match for), whether it is auto-approved,',
    'who approves and how many approvals it needs, and its max duration. A target no rule allows',
    'has one row whose requesters are "nobody".',
    '',
    '  --format md|csv     a Markdown table (default) or CSV (RFC 4180)',
    CONFIG_HELP,
  ].join('\n'),
  options: { ...CONFIG_OPTION, format: { type: 'string', short: 'f' } },
  async run(values, io) {
    const format = values.format ?? 'md';
    if (format !== 'md' && format !== 'csv') throw new UsageError(`--format must be md or csv, not "${String(format).slice(0, 32)}"`);
    const rows = matrixRows(loadPolicyConfig(values, io).policy);
    io.out(format === 'csv' ? toCsv(rows) : toMarkdown(rows));
    return 0;
  },
};
