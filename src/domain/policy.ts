/**
 * The team's rules, already validated and normalised by config/ (names resolved to ids and ARNs,
 * durations in milliseconds). The domain only reads it.
 */
export interface Account {
  name: string;
  id: string;
}

export interface PermissionSet {
  name: string;
  arn: string;
}

export interface Group {
  name: string;
  /** Identity Store group id. */
  id: string;
}

export interface Rule {
  name: string;
  /** Account ids, or ['*']. Empty for a group rule. */
  accountIds: string[];
  /** Permission set names, or ['*']. Empty for a group rule. */
  permissionSets: string[];
  /** Group names, or ['*']. Empty for an account rule: a rule covers accounts or groups, never both. */
  groups: string[];
  /** Lower-cased emails, Slack user ids, or ['*']. */
  requesters: string[];
  /** Lower-cased emails or Slack user ids. Empty when autoApprove. */
  approvers: string[];
  approvalsRequired: number;
  allowSelfApproval: boolean;
  autoApprove: boolean;
  maxDurationMs: number;
}

export interface Policy {
  accounts: Account[];
  permissionSets: PermissionSet[];
  groups: Group[];
  limits: { maxGrantsPerRequest: number };
  durations: { defaultMs: number; minMs: number; pendingExpiryMs: number };
  rules: Rule[];
}

/** Who someone is in Slack, as far as rules care. */
export interface Person {
  slackUserId: string;
  email?: string;
  name?: string;
}

/** Just the Person fields of a richer profile, for storing: nothing else about someone is kept. */
export function asPerson(p: Person): Person {
  return { slackUserId: p.slackUserId, ...(p.email ? { email: p.email } : {}), ...(p.name ? { name: p.name } : {}) };
}
