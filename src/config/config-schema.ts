import * as z from '../lib/zod';
import { parseDuration } from '../domain/duration';
import { DEFAULT_EXTEND_WARNING_MS, DEFAULT_MAX_EXTENSIONS } from '../domain/extension';
import { groupEntry } from '../domain/identity';
import type { Policy, Rule } from '../domain/policy';

const namesAGroup = (entry: string): boolean => groupEntry(entry.startsWith('@') ? entry.toLowerCase() : entry) !== undefined;

const durationText = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = String(value);
  try {
    return parseDuration(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : `"${text}" is not a duration` });
    return z.NEVER;
  }
});

const accountId = z.union([z.string(), z.number()]).transform((v) => String(v)).pipe(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'));
const name = z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" or "-"');
/**
 * Who a rule names among its requesters or approvers: everyone ("*"), one person (an email or a
 * Slack user id), or a group: a Slack user group (`@handle` or its `S…` id) or an Identity
 * Center group (`group:<display name>`).
 */
const slackIdOrEmail = z
  .string()
  .trim()
  .superRefine((v, ctx) => {
    if (v.startsWith('group:')) {
      const displayName = v.slice('group:'.length);
      if (displayName.trim() === '' || displayName !== displayName.trim() || displayName.length > 1024) {
        ctx.addIssue({ code: 'custom', message: 'an Identity Center group is "group:" followed by its display name, without spaces around it (e.g. "group:Platform Engineers")' });
      }
      return;
    }
    if (v.startsWith('@')) {
      if (!/^@[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/.test(v)) {
        ctx.addIssue({ code: 'custom', message: 'a Slack user group handle is "@" followed by letters, digits, ".", "_" or "-" (e.g. "@platform-oncall")' });
      }
      return;
    }
    if (v === '*' || /^[UWS][A-Z0-9]{2,}$/.test(v) || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) return;
    ctx.addIssue({
      code: 'custom',
      message: 'must be an email, a Slack user id (U…/W…), a Slack user group (@handle or its S… id), an Identity Center group (group:<display name>), or "*"',
    });
  });

const channelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel id (C…), not a name');

const ruleSchema = z.strictObject({
  name: z.string().min(1).max(64),
  // Either accounts + permissionSets or groups (checked in crossCheck, which names the field).
  accounts: z.array(z.union([z.string(), z.number()]).transform((v) => String(v))).min(1).optional(),
  permissionSets: z.array(z.string()).min(1).optional(),
  groups: z.array(z.string()).min(1).optional(),
  requesters: z.array(slackIdOrEmail).min(1),
  approvers: z.array(slackIdOrEmail).default([]),
  approvalsRequired: z.number().int().min(1).max(10).default(1),
  allowSelfApproval: z.boolean().default(false),
  autoApprove: z.boolean().default(false),
  maxDuration: durationText,
  // Overrides durations.pendingExpiry for the grants this rule covers.
  pendingExpiry: durationText.optional(),
  // How many extensions one window under this rule may get (0: none).
  maxExtensions: z.number().int().min(0).max(100).default(DEFAULT_MAX_EXTENSIONS),
  // Where its approvers are asked: the approvals channel (the default), a DM to each approver, or both.
  notify: z.enum(['channel', 'dm', 'both']).optional(),
  // Overrides slack.approvalChannel for requests with grants under this rule.
  channel: channelId.optional(),
  // End the sessions already issued when an account grant ends (a deny in the permission set's inline policy).
  endSessions: z.boolean().default(false),
  // Break-glass: granted at once with `/aws-access breakglass`, loudly, reviewed after by the approvers.
  breakGlass: z.boolean().default(false),
  minReasonLength: z.number().int().min(0).max(500).default(20),
  reviewWithin: durationText.default(86_400_000),
  // A regex one word of the reason must match (checked in crossCheck, which names the field).
  ticketPattern: z.string().min(1).max(200).optional(),
});

export const configFileSchema = z
  .strictObject({
    identityCenter: z.strictObject({
      instanceArn: z.string().regex(/^arn:aws[a-z-]*:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/, 'must be an Identity Center instance ARN (arn:aws:sso:::instance/ssoins-…)'),
      identityStoreId: z.string().regex(/^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be an identity store id (d-…)'),
      // The AWS access portal people sign in through; default https://<identityStoreId>.awsapps.com/start.
      portalUrl: z.url({ protocol: /^https?$/, error: 'must be an https:// URL (your AWS access portal)' }).optional(),
    }),
    slack: z.strictObject({
      approvalChannel: channelId,
      // Guests and people from other workspaces (Slack Connect) may request and approve only when true.
      allowGuests: z.boolean().default(false),
      // Break-glass alerts go here too (besides approvalChannel).
      alertChannel: z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel id (C…), not a name').optional(),
      // Turns a ticket into a link: {ticket} stands for its id.
      ticketUrl: z
        .url({ protocol: /^https?$/, error: 'must be an https:// URL with {ticket} in it' })
        .refine((u) => u.includes('{ticket}'), 'must contain {ticket}, where the ticket id goes (e.g. https://tracker.example.com/browse/{ticket})')
        .optional(),
    }),
    accounts: z.record(name, accountId).refine((r) => Object.keys(r).length > 0, 'list at least one account'),
    permissionSets: z
      .record(name, z.string().regex(/^arn:aws[a-z-]*:sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/, 'must be a permission set ARN'))
      .refine((r) => Object.keys(r).length > 0, 'list at least one permission set'),
    groups: z
      .record(name, z.string().regex(/^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/, 'must be an Identity Center group id'))
      .default({}),
    limits: z
      .strictObject({
        // At most 20: the approvals message shows every grant in a block of its own (Slack allows 50 blocks).
        maxGrantsPerRequest: z.number().int().min(1).max(20).default(10),
        // Requests one person may have waiting for approval at once: one person's flood cannot bury the approvals channel.
        maxPendingPerRequester: z.number().int().min(1).max(1000).default(20),
      })
      .default({ maxGrantsPerRequest: 10, maxPendingPerRequester: 20 }),
    durations: z
      .strictObject({
        default: durationText.default(3_600_000),
        min: durationText.default(900_000),
        pendingExpiry: durationText.default(86_400_000),
        // How long before a window ends its requester gets a DM with an Extend button; 0 turns it off.
        extendWarning: z.union([z.literal(0), z.literal('0')]).transform(() => 0).or(durationText).default(DEFAULT_EXTEND_WARNING_MS),
      })
      .default({ default: 3_600_000, min: 900_000, pendingExpiry: 86_400_000, extendWarning: DEFAULT_EXTEND_WARNING_MS }),
    // While a request waits, its approvers are mentioned in the approval message's thread `after`
    // its filing, then after gaps each `backoff` times the one before, at most `max` times.
    reminders: z
      .strictObject({
        after: durationText.default(900_000),
        backoff: z.number().min(1).max(10).default(2),
        max: z.number().int().min(0).max(20).default(4),
      })
      .default({ after: 900_000, backoff: 2, max: 4 }),
    rules: z.array(ruleSchema).min(1, 'a config with no rules grants nothing'),
    // A revoke still failing after this many attempts, or this long after the window's end, raises the stuck-revoke alarm.
    alerts: z
      .strictObject({
        revokeStuckAttempts: z.number().int().min(1).max(1000).default(5),
        revokeStuckAfter: durationText.default(900_000),
      })
      .default({ revokeStuckAttempts: 5, revokeStuckAfter: 900_000 }),
  })
  // Runs even when some fields are wrong, so an operator sees every problem in one go;
  // it therefore reads the parsed value defensively.
  .superRefine((config, ctx) => crossCheck(config, ctx), { when: () => true });

type Ctx = z.core.$RefinementCtx<unknown>;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function duplicateNamesIgnoringCase(record: unknown, section: string, ctx: Ctx): void {
  if (!isRecord(record)) return;
  const seen = new Map<string, string>();
  for (const key of Object.keys(record)) {
    const other = seen.get(key.toLowerCase());
    if (other !== undefined) {
      ctx.addIssue({ code: 'custom', path: [section, key], message: `"${key}" and "${other}" differ only in case; names are matched case-insensitively, so rename one` });
    }
    seen.set(key.toLowerCase(), key);
  }
}

function crossCheck(config: unknown, ctx: Ctx): void {
  if (!isRecord(config)) return;
  duplicateNamesIgnoringCase(config.accounts, 'accounts', ctx);
  duplicateNamesIgnoringCase(config.permissionSets, 'permissionSets', ctx);
  const accounts = isRecord(config.accounts) ? config.accounts : {};
  const accountNames = new Set(Object.keys(accounts).map((n) => n.toLowerCase()));
  const accountIds = new Set(Object.values(accounts).map((v) => String(v)));
  // Rules name permission sets ignoring case, as the command does (`/aws-access staging readonly 1h`).
  const permissionSets = new Set(isRecord(config.permissionSets) ? Object.keys(config.permissionSets).map((p) => p.toLowerCase()) : []);
  duplicateNamesIgnoringCase(config.groups, 'groups', ctx);
  const groups = new Set(isRecord(config.groups) ? Object.keys(config.groups).map((g) => g.toLowerCase()) : []);
  const minMs = isRecord(config.durations) && typeof config.durations.min === 'number' ? config.durations.min : undefined;
  const seen = new Set<string>();
  (Array.isArray(config.rules) ? config.rules : []).forEach((rule: unknown, i) => {
    if (!isRecord(rule)) return;
    if (typeof rule.name === 'string') {
      if (seen.has(rule.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule name "${rule.name}"` });
      seen.add(rule.name);
    }
    const hasAccounts = rule.accounts !== undefined || rule.permissionSets !== undefined;
    if (hasAccounts && rule.groups !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['rules', i, 'groups'], message: 'a rule covers either accounts + permissionSets or groups, never both' });
    } else if (!hasAccounts && rule.groups === undefined) {
      ctx.addIssue({ code: 'custom', path: ['rules', i], message: 'a rule needs accounts + permissionSets, or groups' });
    } else if (hasAccounts && rule.accounts === undefined) {
      ctx.addIssue({ code: 'custom', path: ['rules', i, 'accounts'], message: 'a rule with permissionSets needs accounts too' });
    } else if (hasAccounts && rule.permissionSets === undefined) {
      ctx.addIssue({ code: 'custom', path: ['rules', i, 'permissionSets'], message: 'a rule with accounts needs permissionSets too' });
    }
    strings(rule.groups).forEach((g, j) => {
      if (g !== '*' && !groups.has(g.toLowerCase())) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'groups', j], message: `"${g}" is not a group listed under groups` });
      }
    });
    // An unquoted id is a number here (explained where it is checked against the accounts).
    strings(Array.isArray(rule.accounts) ? rule.accounts.map((a: unknown) => (typeof a === 'number' ? String(a) : a)) : []).forEach((a, j) => {
      if (a !== '*' && !accountNames.has(a.toLowerCase()) && !accountIds.has(a)) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'accounts', j], message: `"${a}" is not an account listed under accounts` });
      }
    });
    if (isRecord(config.permissionSets)) {
      strings(rule.permissionSets).forEach((p, j) => {
        if (p !== '*' && !permissionSets.has(p.toLowerCase())) {
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'permissionSets', j], message: `"${p}" is not a permission set listed under permissionSets` });
        }
      });
    }
    const approvers = strings(rule.approvers);
    const required = typeof rule.approvalsRequired === 'number' ? rule.approvalsRequired : 1;
    // autoApprove written wrong (e.g. "yes") is reported on its own; guessing it false would add a second, misleading problem.
    if (rule.autoApprove !== undefined && typeof rule.autoApprove !== 'boolean') return;
    if (rule.autoApprove !== true && approvers.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['rules', i, 'approvers'], message: 'a rule without autoApprove needs at least one approver' });
    } else if (rule.autoApprove !== true && !approvers.includes('*') && !approvers.some(namesAGroup) && required > approvers.length) {
      // A group may hold any number of people, so only a list of people alone can be too short.
      ctx.addIssue({ code: 'custom', path: ['rules', i, 'approvalsRequired'], message: `needs ${required} approvals but only ${approvers.length} approvers are listed` });
    }
    if (rule.endSessions === true && rule.groups !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['rules', i, 'endSessions'], message: 'ends the sessions of account assignments; a group rule has none (remove it, or use an accounts + permissionSets rule)' });
    }
    if (rule.breakGlass === true && rule.autoApprove === true) {
      ctx.addIssue({ code: 'custom', path: ['rules', i, 'autoApprove'], message: 'a break-glass rule cannot also be autoApprove: break-glass access is granted at once anyway, and its approvers review it after' });
    }
    if (typeof rule.ticketPattern === 'string') {
      try {
        new RegExp(rule.ticketPattern);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'ticketPattern'], message: `is not a valid regular expression (${err instanceof Error ? err.message : String(err)})` });
      }
    }
    if (typeof rule.maxDuration === 'number' && minMs !== undefined && rule.maxDuration < minMs) {
      ctx.addIssue({ code: 'custom', path: ['rules', i, 'maxDuration'], message: 'is below durations.min, so the rule could never be used' });
    }
  });
}

export type ConfigFile = z.infer<typeof configFileSchema>;

export interface TimeboxConfig {
  identityCenter: ConfigFile['identityCenter'] & { portalUrl: string };
  slack: ConfigFile['slack'];
  alerts: ConfigFile['alerts'];
  policy: Policy;
}

/** Turns the validated file into the domain's policy: names resolved to ids, emails lower-cased. */
export function toTimeboxConfig(file: ConfigFile): TimeboxConfig {
  const byName = new Map(Object.entries(file.accounts).map(([n, id]) => [n.toLowerCase(), id]));
  // Rules name groups as the file spells them under groups:, so matching is by that name.
  const groupNames = new Map(Object.keys(file.groups).map((n) => [n.toLowerCase(), n]));
  // Rules name permission sets in any case; the domain matches the name as listed under permissionSets.
  const permissionSetNames = new Map(Object.keys(file.permissionSets).map((n) => [n.toLowerCase(), n]));
  const rules: Rule[] = file.rules.map((rule) => ({
    name: rule.name,
    accountIds: (rule.accounts ?? []).map((a) => (a === '*' ? '*' : (byName.get(a.toLowerCase()) ?? a))),
    permissionSets: (rule.permissionSets ?? []).map((p) => (p === '*' ? '*' : (permissionSetNames.get(p.toLowerCase()) ?? p))),
    groups: (rule.groups ?? []).map((g) => (g === '*' ? '*' : (groupNames.get(g.toLowerCase()) ?? g))),
    requesters: rule.requesters.map(normalisePerson),
    approvers: rule.approvers.map(normalisePerson),
    approvalsRequired: rule.approvalsRequired,
    allowSelfApproval: rule.allowSelfApproval,
    autoApprove: rule.autoApprove,
    maxDurationMs: rule.maxDuration,
    ...(rule.pendingExpiry !== undefined ? { pendingExpiryMs: rule.pendingExpiry } : {}),
    maxExtensions: rule.maxExtensions,
    ...(rule.notify !== undefined ? { notify: rule.notify } : {}),
    ...(rule.channel !== undefined ? { channel: rule.channel } : {}),
    ...(rule.endSessions ? { endSessions: true } : {}),
    // Only a break-glass rule carries its break-glass settings.
    ...(rule.breakGlass ? { breakGlass: true, minReasonLength: rule.minReasonLength, reviewWithinMs: rule.reviewWithin } : {}),
    ...(rule.ticketPattern !== undefined ? { ticketPattern: rule.ticketPattern } : {}),
  }));
  return {
    identityCenter: { ...file.identityCenter, portalUrl: file.identityCenter.portalUrl ?? `https://${file.identityCenter.identityStoreId}.awsapps.com/start` },
    slack: file.slack,
    alerts: file.alerts,
    policy: {
      accounts: Object.entries(file.accounts).map(([n, id]) => ({ name: n, id })),
      permissionSets: Object.entries(file.permissionSets).map(([n, arn]) => ({ name: n, arn })),
      groups: Object.entries(file.groups).map(([n, id]) => ({ name: n, id })),
      limits: file.limits,
      allowGuests: file.slack.allowGuests,
      durations: { defaultMs: file.durations.default, minMs: file.durations.min, pendingExpiryMs: file.durations.pendingExpiry, extendWarningMs: file.durations.extendWarning },
      reminders: { afterMs: file.reminders.after, backoff: file.reminders.backoff, max: file.reminders.max },
      rules,
      ...(file.slack.ticketUrl ? { ticketUrl: file.slack.ticketUrl } : {}),
    },
  };
}

/** Emails and Slack user group handles are matched in lower case; ids and Identity Center display names as written. */
function normalisePerson(entry: string): string {
  if (entry.startsWith('group:')) return entry;
  return entry.includes('@') ? entry.toLowerCase() : entry;
}
