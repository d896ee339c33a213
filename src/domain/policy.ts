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
  /** Lower-cased emails, Slack user ids, Slack user groups (`@handle`, `S…`), Identity Center groups (`group:<display name>`), or ['*']. */
  requesters: string[];
  /** The same forms as requesters. Empty when autoApprove. */
  approvers: string[];
  approvalsRequired: number;
  allowSelfApproval: boolean;
  autoApprove: boolean;
  maxDurationMs: number;
  /** How long its grants wait for a decision before they expire; durations.pendingExpiry when unset. */
  pendingExpiryMs?: number;
  /** How many extensions one window under this rule may get; DEFAULT_MAX_EXTENSIONS (extension.ts) when unset. */
  maxExtensions?: number;
  /** Where its approvers are asked: the approvals channel (the default), a DM to each approver, or both. */
  notify?: 'channel' | 'dm' | 'both';
  /** The channel its requests are posted to; slack.approvalChannel when unset. */
  channel?: string;
  /** When an account grant under it ends and Timebox removes the assignment, the user's sessions already issued are ended too. */
  endSessions?: boolean;
  /** Break-glass: an eligible requester grants themselves at once (`/aws-access breakglass …`), loudly, reviewed after. */
  breakGlass?: boolean;
  /** The shortest reason a break-glass request under this rule accepts (default 20). */
  minReasonLength?: number;
  /** After this long unreviewed, a break-glass request's approvers are reminded (default 24 h). */
  reviewWithinMs?: number;
  /** A regex (source) one word of the reason must match: the ticket (see domain/ticket.ts). */
  ticketPattern?: string;
}

export interface Policy {
  accounts: Account[];
  permissionSets: PermissionSet[];
  groups: Group[];
  limits: { maxGrantsPerRequest: number; maxPendingPerRequester: number };
  /** Guests and people from other workspaces may request and approve (slack.allowGuests). */
  allowGuests: boolean;
  /** extendWarningMs: how long before a window ends its requester is warned (0 or unset: never). */
  durations: { defaultMs: number; minMs: number; pendingExpiryMs: number; extendWarningMs?: number };
  /** While a request waits, its approvers are reminded `afterMs` after filing, then after gaps `backoff` times longer, at most `max` times; none when unset. */
  reminders?: Reminders;
  rules: Rule[];
  /** slack.ticketUrl: a ticket's link, `{ticket}` standing for its id. */
  ticketUrl?: string;
}

export interface Reminders {
  afterMs: number;
  backoff: number;
  max: number;
}

/** How long a grant under `rule` may wait for a decision. */
export const pendingExpiryOf = (policy: Pick<Policy, 'durations'>, rule: Pick<Rule, 'pendingExpiryMs'> | undefined): number =>
  rule?.pendingExpiryMs ?? policy.durations.pendingExpiryMs;

/** The longest any request may wait for a decision under this policy. */
export const longestPendingExpiry = (policy: Pick<Policy, 'durations' | 'rules'>): number =>
  Math.max(policy.durations.pendingExpiryMs, ...policy.rules.map((r) => pendingExpiryOf(policy, r)));

/** Who someone is in Slack, as far as rules care. */
export interface Person {
  slackUserId: string;
  email?: string;
  name?: string;
}

/**
 * Whether two Slack identities are the same person as far as AWS is concerned: the same Slack
 * user, or the same (lower-cased) email. Timebox finds the Identity Center user by that email,
 * so two Slack accounts with one email (a Slack Connect or guest account, an unconfirmed email)
 * would receive the same AWS access: one must not approve for the other, nor count twice.
 */
export function samePerson(a: Person, b: Person): boolean {
  if (a.slackUserId === b.slackUserId) return true;
  return a.email !== undefined && b.email !== undefined && a.email.toLowerCase() === b.email.toLowerCase();
}

/** Just the Person fields of a richer profile, for storing: nothing else about someone is kept. */
export function asPerson(p: Person): Person {
  return { slackUserId: p.slackUserId, ...(p.email ? { email: p.email } : {}), ...(p.name ? { name: p.name } : {}) };
}
