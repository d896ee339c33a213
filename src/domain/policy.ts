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

export interface Rule {
  name: string;
  /** Account ids, or ['*']. */
  accountIds: string[];
  /** Permission set names, or ['*']. */
  permissionSets: string[];
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
  durations: { defaultMs: number; minMs: number; pendingExpiryMs: number };
  rules: Rule[];
}

/** Who someone is in Slack, as far as rules care. */
export interface Person {
  slackUserId: string;
  email?: string;
  name?: string;
}
