import type { AccessRequest, Grant } from '../../domain/access-request';
import { SYSTEM_ACTOR, type AuditEvent } from '../../domain/audit';
import { formatDuration } from '../../domain/duration';

/**
 * The audit export's one shape: a row per event, with the request's context resolved (who the
 * actor is by email, which account and permission set or group, the rule, the duration). The
 * column set is stable: new columns are added at the end, none is renamed or removed.
 */
export const AUDIT_COLUMNS = [
  'time',
  'request_id',
  'grant',
  'event',
  'actor_slack_id',
  'actor_email',
  'account_id',
  'account_name',
  'permission_set',
  'group',
  'duration',
  'reason',
  'rule',
  'detail',
  'requester_slack_id',
  'requester_email',
  'status_from',
  'status_to',
  'seq',
  'hash',
] as const;

export type AuditRow = Record<(typeof AUDIT_COLUMNS)[number], string>;

/** The email Timebox knows for a Slack user, from the people the request itself records. */
function emailOf(request: AccessRequest, slackUserId: string): string {
  if (slackUserId === SYSTEM_ACTOR) return '';
  if (request.requester.slackUserId === slackUserId) return request.requester.email ?? '';
  for (const g of request.grants) {
    for (const p of [...g.approvals, g.decidedBy, g.endedEarlyBy]) if (p?.slackUserId === slackUserId && p.email) return p.email;
  }
  return '';
}

/** The grant an event concerns: its own, or the only one of a one-grant request. */
function grantOf(request: AccessRequest, event: AuditEvent): Grant | undefined {
  if (event.grantId !== undefined) return request.grants.find((g) => g.id === event.grantId);
  return request.grants.length === 1 ? request.grants[0] : undefined;
}

export function toAuditRow(request: AccessRequest, event: AuditEvent): AuditRow {
  const grant = grantOf(request, event);
  const target = grant?.target;
  return {
    time: new Date(event.at).toISOString(),
    request_id: request.id,
    grant: event.grantId ?? '',
    event: event.type,
    actor_slack_id: event.actor,
    actor_email: emailOf(request, event.actor),
    account_id: target?.kind === 'account' ? target.accountId : '',
    account_name: target?.kind === 'account' ? target.accountName : '',
    permission_set: target?.kind === 'account' ? target.permissionSetName : '',
    group: target?.kind === 'group' ? target.groupName : '',
    duration: formatDuration(request.durationMs),
    reason: request.reason,
    rule: grant?.ruleName ?? '',
    detail: event.detail ?? '',
    requester_slack_id: request.requester.slackUserId,
    requester_email: request.requester.email ?? '',
    status_from: event.from ?? '',
    status_to: event.to ?? '',
    seq: event.seq,
    hash: event.hash ?? '',
  };
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled; lines end in CRLF. */
const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
export const CSV_HEADER = `${AUDIT_COLUMNS.join(',')}\r\n`;
export const toCsvLine = (row: AuditRow): string => `${AUDIT_COLUMNS.map((c) => csvField(row[c])).join(',')}\r\n`;
export const toJsonLine = (row: AuditRow): string => `${JSON.stringify(row)}\n`;

/** The OCSF schema version the `ocsf` format follows. */
export const OCSF_VERSION = '1.1.0';
const USER_ACCESS_MANAGEMENT = { class_uid: 3005, class_name: 'User Access Management', category_uid: 3, category_name: 'Identity & Access Management' } as const;
const ACTIVITIES = { assign: { id: 1, name: 'Assign Privileges' }, revoke: { id: 2, name: 'Revoke Privileges' }, other: { id: 99, name: 'Other' } } as const;
const FAILED = new Set(['grant_failed', 'revoke_failed', 'revoke_stuck', 'grant_stalled', 'news_undeliverable', 'news_given_up']);

/**
 * The row as one OCSF User Access Management event (class 3005): Assign Privileges when access
 * becomes active (granted), Revoke Privileges when Timebox removes it (revoked), Other (99, the
 * Timebox event type as activity_name) for everything else. The row itself travels in
 * `unmapped.timebox`, so an archive of OCSF lines reads back into every other format.
 */
export function toOcsf(row: AuditRow): Record<string, unknown> {
  const activity = row.event === 'granted' ? ACTIVITIES.assign : row.event === 'revoked' ? ACTIVITIES.revoke : ACTIVITIES.other;
  const what = row.group ? `member of ${row.group}` : row.permission_set ? `${row.permission_set} on ${row.account_name} (${row.account_id})` : `request ${row.request_id}`;
  const failed = FAILED.has(row.event);
  return {
    ...USER_ACCESS_MANAGEMENT,
    activity_id: activity.id,
    activity_name: activity.id === ACTIVITIES.other.id ? row.event : activity.name,
    type_uid: USER_ACCESS_MANAGEMENT.class_uid * 100 + activity.id,
    type_name: `${USER_ACCESS_MANAGEMENT.class_name}: ${activity.id === ACTIVITIES.other.id ? row.event : activity.name}`,
    time: Date.parse(row.time),
    severity_id: failed ? 3 : 1,
    severity: failed ? 'Medium' : 'Informational',
    status_id: failed ? 2 : 1,
    status: failed ? 'Failure' : 'Success',
    message: `${row.event}: ${what}${row.detail ? ` (${row.detail})` : ''}`,
    metadata: { version: OCSF_VERSION, uid: `${row.request_id}/${row.seq}`, product: { name: 'Timebox', vendor_name: 'Timebox' } },
    actor: { user: { uid: row.actor_slack_id, type_id: row.actor_slack_id === SYSTEM_ACTOR ? 3 : 1, ...(row.actor_email ? { email_addr: row.actor_email } : {}) } },
    // The person whose access it is: the requester (the user whose privileges change).
    user: { uid: row.requester_slack_id, type_id: 1, ...(row.requester_email ? { email_addr: row.requester_email } : {}) },
    privileges: [what],
    ...(row.group || row.account_id ? { resource: { uid: row.group || row.account_id, name: row.group || row.account_name, type: row.group ? 'Identity Center group' : 'AWS account' } } : {}),
    unmapped: { timebox: row },
  };
}

export const toOcsfLine = (row: AuditRow): string => `${JSON.stringify(toOcsf(row))}\n`;

/** A row back from an OCSF line this module wrote (an archive's object). */
export function rowFromOcsf(line: string): AuditRow {
  const parsed = JSON.parse(line) as { unmapped?: { timebox?: Partial<AuditRow> } };
  const row = parsed.unmapped?.timebox;
  if (!row || typeof row.request_id !== 'string' || typeof row.seq !== 'string') throw new Error('not an OCSF line Timebox wrote (no unmapped.timebox)');
  return Object.fromEntries(AUDIT_COLUMNS.map((c) => [c, typeof row[c] === 'string' ? row[c] : ''])) as AuditRow;
}
