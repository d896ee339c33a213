import type { Policy, Rule } from '../domain/policy';

/** Permission sets whose names suggest broad power; rules that hand them out loosely are flagged. */
const PRIVILEGED = /admin|poweruser|fullaccess|owner|root/i;

const isGroupRule = (rule: Rule) => rule.groups.length > 0;

function coversPrivileged(rule: Rule): string | undefined {
  if (isGroupRule(rule)) return rule.groups.includes('*') ? 'any group' : rule.groups.filter((g) => PRIVILEGED.test(g)).join(', ') || undefined;
  if (rule.permissionSets.includes('*')) return 'any permission set';
  const names = rule.permissionSets.filter((p) => PRIVILEGED.test(p));
  return names.length > 0 ? names.join(', ') : undefined;
}

function covers(outer: Rule, inner: Rule): boolean {
  const all = (list: string[], sub: string[]) => list.includes('*') || sub.every((x) => list.includes(x));
  if (isGroupRule(outer) !== isGroupRule(inner)) return false;
  return (
    all(outer.accountIds, inner.accountIds) && all(outer.permissionSets, inner.permissionSets) && all(outer.groups, inner.groups) && all(outer.requesters, inner.requesters)
  );
}

/**
 * Rule sets that are valid but probably not what was meant. Printed at start-up as warnings
 * (a config that grants nothing at all is an error, caught by the schema).
 */
export function lintPolicy(policy: Policy): string[] {
  const warnings: string[] = [];
  policy.rules.forEach((rule, i) => {
    const where = `rules[${i}] (${rule.name})`;
    const privileged = coversPrivileged(rule);
    if (rule.autoApprove && privileged && rule.requesters.includes('*')) {
      warnings.push(`${where}: anyone can grant themselves ${privileged} without approval (autoApprove with requesters "*")`);
    }
    if (!rule.autoApprove && rule.allowSelfApproval && privileged) {
      warnings.push(`${where}: an approver can approve their own access to ${privileged} (allowSelfApproval: true)`);
    }
    if (!rule.autoApprove && rule.approvers.includes('*')) {
      warnings.push(`${where}: approvers "*" lets anyone in the workspace approve${rule.allowSelfApproval ? ', including their own requests' : ''}, and end anyone's access early`);
    } else if (rule.autoApprove && rule.approvers.includes('*')) {
      warnings.push(`${where}: approvers "*" lets anyone in the workspace end anyone's access under this rule early`);
    }
    // endSessions is read defensively: the field arrives with session ending (rules[].endSessions).
    if (rule.breakGlass && privileged && (rule as Rule & { endSessions?: unknown }).endSessions !== true) {
      warnings.push(`${where}: break-glass access to ${privileged} without endSessions: AWS sessions opened during it outlive its end (set endSessions: true)`);
    }
    const shadow = policy.rules.slice(0, i).find((earlier) => covers(earlier, rule));
    if (shadow) warnings.push(`${where}: never used, because the earlier rule "${shadow.name}" matches every request it would`);
  });
  return warnings;
}
