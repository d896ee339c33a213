import * as z from '../../lib/zod';
import { dueAt, GRANT_STATUSES, MESSAGE_KINDS, requestStatus, type AccessRequest, type Grant, type ShownMessage } from '../../domain/access-request';
import { AUDIT_EVENT_TYPES, type AuditEvent } from '../../domain/audit';
import { StoredItemInvalidError } from '../../domain/errors';
import type { GrantTarget, ProvisionTarget } from '../../domain/grant-target';
import { LEGACY_GENERATION, OPERATION_KINDS, type Lease } from '../../domain/lease';
import { AUDIT_INDEX, AUDIT_LOG_ATTRIBUTE, auditKey, auditPageKey, DUE_INDEX, leaseItemKey, lockItemKey, REQUESTER_INDEX, requestKey } from './table-layout';

/**
 * The stored shape is a mapping of the domain types, not a second type: the schemas are built
 * from the domain's own enums, are exact (an unknown field is an error, never silently dropped),
 * and are checked below to infer exactly the domain types, so a field added to the domain but
 * not here fails the type check. Every item carries `schemaVersion`; older items are upgraded
 * on read (upgradeRequestV1, upgradeLeaseV1, upgradeLeaseV2), newer ones are refused with a clear error.
 *
 * Version 3: a lease has a generation (which lifetime of the target's lease it is), also stored
 * as a top-level attribute that every conditional write names. Leases of versions 1 and 2 read
 * as LEGACY_GENERATION; requests and audit events kept their shape.
 *
 * Requests of versions 1 to 3 may carry `endedEarlyBy` on the request itself, a copy of the
 * last early end, which mislabelled the other grants of the request. Each grant keeps its own,
 * so the request's copy is dropped on read (upgradeRequestV3).
 *
 * Version 4: what people were shown is a list of messages (`messages`), not one field per
 * surface; v3 requests (and older) are upgraded on read (upgradeRequestV3: the approval message
 * and `notified` become the channel message, the active DM and `toldRequester` the requester's
 * DM). Leases and audit events kept their v3 shape.
 *
 * Version 5: the audit log is a list on the request item (`auditLog`), appended to by the very
 * write it records, and chained: each event carries `prev` and `hash`, the request its
 * `auditHead`. Older requests read as they are (no head: their chain starts at their next event);
 * their events stay the separate AUDIT# items they were written as.
 */
export const SCHEMA_VERSION = 5;

export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export const exactly = <T extends true>(_proof: T): void => undefined;

// A status added to the domain flows into the stored shape here (CANCELLED did). A release from
// before it refuses an item holding it as unreadable (StoredItemInvalidError: logged and skipped
// by its sweep), so rolling back past such a release is safe only once those requests are over.
const status = z.enum(GRANT_STATUSES);
const person = z.strictObject({ slackUserId: z.string(), email: z.string().optional(), name: z.string().optional() });
const messageRef = z.strictObject({ channel: z.string(), ts: z.string() });

export const auditEventSchema = z.strictObject({
  requestId: z.string(),
  grantId: z.string().optional(),
  at: z.number(),
  seq: z.string(),
  type: z.enum(AUDIT_EVENT_TYPES),
  actor: z.string(),
  from: status.optional(),
  to: status.optional(),
  detail: z.string().optional(),
  prev: z.string().optional(),
  hash: z.string().optional(),
});
exactly<Equals<z.infer<typeof auditEventSchema>, AuditEvent>>(true);

const grantTarget = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('account'), accountId: z.string(), accountName: z.string(), permissionSetName: z.string(), permissionSetArn: z.string() }),
  z.strictObject({ kind: z.literal('group'), groupId: z.string(), groupName: z.string() }),
]);
exactly<Equals<z.infer<typeof grantTarget>, GrantTarget>>(true);

const grantSchema = z.strictObject({
  id: z.string(),
  target: grantTarget,
  ruleName: z.string(),
  // Optional facts from the catalogue at filing (large-orgs): version 4 still, as break-glass's fields are.
  matchedBy: z.string().optional(),
  sessionDurationMs: z.number().optional(),
  autoApproved: z.boolean(),
  approvalsRequired: z.number().int(),
  approvals: z.array(z.strictObject({ slackUserId: z.string(), email: z.string().optional(), at: z.number() })),
  status,
  decidedBy: person.optional(),
  decidedAt: z.number().optional(),
  activeAt: z.number().optional(),
  endsAt: z.number().optional(),
  endedAt: z.number().optional(),
  keptBecause: z.string().optional(),
  failure: z.string().optional(),
  claimUntil: z.number().optional(),
  grantAttempts: z.number().optional(),
  revokeAttempts: z.number().optional(),
  stuckSince: z.number().optional(),
  lastError: z.string().optional(),
  timeboxOwned: z.boolean().optional(),
  membershipId: z.string().optional(),
  endedEarlyBy: person.optional(),
  refusedBecause: z.string().optional(),
});
exactly<Equals<z.infer<typeof grantSchema>, Grant>>(true);

export const accessRequestSchema = z.strictObject({
  id: z.string(),
  version: z.number().int(),
  requester: person,
  principalId: z.string().optional(),
  durationMs: z.number(),
  reason: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
  grants: z.array(grantSchema).min(1),
  messages: z.array(z.strictObject({ kind: z.enum(MESSAGE_KINDS), ref: messageRef.optional(), shown: z.string().optional(), to: z.string().optional(), dueAt: z.number().optional() })),
  newsAttempts: z.number().int().nonnegative().optional(),
  newsRetryAt: z.number().optional(),
  sessionEnds: z
    .array(z.strictObject({ grantId: z.string(), before: z.number(), dueAt: z.number(), attempts: z.number(), lastError: z.string().optional(), doneAt: z.number().optional() }))
    .optional(),
  updatedAt: z.number(),
  lastEvents: z.array(auditEventSchema).optional(),
  auditHead: z.strictObject({ hash: z.string(), count: z.number().int().nonnegative() }).optional(),
  extends: z.strictObject({ id: z.string(), endsAt: z.number() }).optional(),
  extensions: z.array(z.strictObject({ id: z.string(), applied: z.array(z.string()) })).optional(),
  extendWarningMs: z.number().optional(),
  // Break-glass and tickets (optional fields, so version 4 still): a release from before them
  // refuses a request holding them as unreadable, like a new status (see above); roll back past it
  // only once the break-glass requests are over and reviewed.
  breakGlass: z.boolean().optional(),
  review: z.strictObject({ dueAt: z.number(), by: person.optional(), at: z.number().optional() }).optional(),
  ticket: z.strictObject({ id: z.string(), url: z.string().optional() }).optional(),
});
exactly<Equals<z.infer<typeof accessRequestSchema>, AccessRequest>>(true);

// ---- Versions 2 and 3: one field per surface (approvalMessage, notified, activeDm, toldRequester).
const v3Request = accessRequestSchema.omit({ messages: true, auditHead: true }).extend({
  approvalMessage: messageRef.optional(),
  activeDm: messageRef.optional(),
  notified: z.string().optional(),
  toldRequester: z.string().optional(),
  // A copy of the last early end on the request itself (see above): dropped.
  endedEarlyBy: person.optional(),
});
type V3Request = z.infer<typeof v3Request>;

export function upgradeRequestV3(old: V3Request): AccessRequest {
  const { approvalMessage, notified, activeDm, toldRequester, endedEarlyBy: _copy, ...request } = old;
  const message = (kind: ShownMessage['kind'], ref: ShownMessage['ref'], shown: string | undefined): ShownMessage[] =>
    ref || shown !== undefined ? [{ kind, ...(ref ? { ref } : {}), ...(shown !== undefined ? { shown } : {}) }] : [];
  return { ...request, messages: [...message('channel', approvalMessage, notified), ...message('requester-dm', activeDm, toldRequester)] };
}

const provisionTarget = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('account'), principalId: z.string(), accountId: z.string(), permissionSetArn: z.string() }),
  z.strictObject({ kind: z.literal('group'), principalId: z.string(), groupId: z.string() }),
]);
exactly<Equals<z.infer<typeof provisionTarget>, ProvisionTarget>>(true);

export const leaseSchema = z.strictObject({
  key: z.string(),
  target: provisionTarget,
  holders: z.array(z.string()),
  createdByTimebox: z.boolean(),
  membershipId: z.string().optional(),
  operations: z.array(z.strictObject({ kind: z.enum(OPERATION_KINDS), id: z.string(), startedAt: z.number() })),
  deleting: z.boolean(),
  generation: z.string().min(1),
  version: z.number().int(),
  updatedAt: z.number(),
});
exactly<Equals<z.infer<typeof leaseSchema>, Lease>>(true);

// ---- Version 2 (releases from 5902207): leases without a generation.
const v2Lease = leaseSchema.omit({ generation: true });

export function upgradeLeaseV2(old: z.infer<typeof v2Lease>): Lease {
  return { ...old, generation: LEGACY_GENERATION };
}

// ---- Version 1 (releases up to 17bbd9a): one flat request per target, leases keyed by request id.

// v1 stored whole Slack profiles as people (isBot, deleted too) and stripped unknown fields on
// read, so its person records are read the way v1 read them; the upgrade keeps only a Person.
const v1Person = z.object({ slackUserId: z.string(), email: z.string().optional(), name: z.string().optional() });
const v1Status = z.enum(['PENDING', 'APPROVED', 'DENIED', 'EXPIRED', 'GRANTING', 'ACTIVE', 'FAILED', 'REVOKING', 'ENDED']);
const v1Request = z.strictObject({
  id: z.string(),
  version: z.number().int(),
  status: v1Status,
  requester: v1Person,
  accountId: z.string(),
  accountName: z.string(),
  permissionSetName: z.string(),
  permissionSetArn: z.string(),
  durationMs: z.number(),
  reason: z.string(),
  ruleName: z.string(),
  autoApproved: z.boolean(),
  approvalsRequired: z.number(),
  approvals: z.array(z.object({ slackUserId: z.string(), email: z.string().optional(), at: z.number() })),
  createdAt: z.number(),
  expiresAt: z.number(),
  decidedBy: v1Person.optional(),
  decidedAt: z.number().optional(),
  principalId: z.string().optional(),
  activeAt: z.number().optional(),
  endsAt: z.number().optional(),
  endedEarlyBy: v1Person.optional(),
  endedAt: z.number().optional(),
  keptBecause: z.string().optional(),
  failure: z.string().optional(),
  claimUntil: z.number().optional(),
  revokeAttempts: z.number().optional(),
  grantAttempts: z.number().optional(),
  lastError: z.string().optional(),
  approvalMessage: messageRef.optional(),
  activeDm: messageRef.optional(),
  notified: z.string().optional(),
  toldRequester: v1Status.optional(),
  updatedAt: z.number(),
  lastEvents: z.array(auditEventSchema).optional(),
});

const v1Lease = z.strictObject({
  key: z.string(),
  target: z.strictObject({ accountId: z.string(), permissionSetArn: z.string(), principalId: z.string() }),
  holders: z.array(z.string()),
  preExisting: z.boolean(),
  deleting: z.boolean(),
  version: z.number().int(),
  updatedAt: z.number(),
});

/** What a v1 record said to people, in v2 keys (so nothing is told twice after the upgrade). */
function v1ChannelKey(notified: string | undefined, grant: Grant): string | undefined {
  if (notified === undefined) return undefined;
  const [statusText, approvals, ending] = notified.split(':');
  const shown = statusText === 'GRANTING' || statusText === 'REVOKING' ? 'busy' : statusText;
  return `1=${shown}:${approvals ?? grant.approvals.length}${ending ? ':ending1' : ''}`;
}

export function upgradeRequestV1(old: z.infer<typeof v1Request>): V3Request {
  const grant: Grant = {
    id: '1',
    target: { kind: 'account', accountId: old.accountId, accountName: old.accountName, permissionSetName: old.permissionSetName, permissionSetArn: old.permissionSetArn },
    ruleName: old.ruleName,
    autoApproved: old.autoApproved,
    approvalsRequired: old.approvalsRequired,
    approvals: old.approvals,
    status: old.status,
    ...pick(old, ['decidedBy', 'decidedAt', 'activeAt', 'endsAt', 'endedAt', 'keptBecause', 'failure', 'claimUntil', 'grantAttempts', 'revokeAttempts', 'lastError', 'endedEarlyBy'] as const),
  };
  const notified = v1ChannelKey(old.notified, grant);
  return {
    id: old.id,
    version: old.version,
    requester: old.requester,
    ...(old.principalId ? { principalId: old.principalId } : {}),
    durationMs: old.durationMs,
    reason: old.reason,
    createdAt: old.createdAt,
    expiresAt: old.expiresAt,
    grants: [grant],
    ...pick(old, ['approvalMessage', 'activeDm', 'updatedAt', 'lastEvents'] as const),
    ...(notified ? { notified } : {}),
    ...(old.toldRequester ? { toldRequester: `1=${old.toldRequester}` } : {}),
    updatedAt: old.updatedAt,
  };
}

export function upgradeLeaseV1(old: z.infer<typeof v1Lease>): Lease {
  return {
    key: old.key,
    target: { kind: 'account', ...old.target },
    // v1 holders are request ids; their one grant is "1".
    holders: old.holders.map((id) => `${id}/1`),
    createdByTimebox: !old.preExisting,
    operations: [],
    deleting: old.deleting,
    generation: LEGACY_GENERATION,
    version: old.version,
    updatedAt: old.updatedAt,
  };
}

function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

function readVersioned<T>(what: string, item: Record<string, unknown>, field: string, current: z.ZodType<T>, upgrades: Record<number, (raw: unknown) => T>): T {
  // Items written before versioning (releases up to 17bbd9a) carry no schemaVersion: they are v1.
  const version = item.schemaVersion === undefined ? 1 : item.schemaVersion;
  const raw = item[field];
  try {
    if (version === SCHEMA_VERSION) return current.parse(raw);
    const upgrade = typeof version === 'number' ? upgrades[version] : undefined;
    if (!upgrade) {
      throw new Error(
        typeof version === 'number' && version > SCHEMA_VERSION
          ? `schemaVersion ${version} is newer than this Timebox understands (${SCHEMA_VERSION}); upgrade Timebox`
          : `schemaVersion ${JSON.stringify(version)} is not one Timebox ever wrote`,
      );
    }
    return current.parse(upgrade(raw));
  } catch (err) {
    throw new StoredItemInvalidError(`${what} cannot be read: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

// ---- The mapper: every attribute the store writes is computed here (keys, schema version, due
// time, index attributes); the store only puts and gets what this returns.

export type StoredItem = Record<string, unknown>;

/**
 * The request item. An attribute set to `undefined` is one the item must not have (a sparse index
 * it has left): a put leaves it out, an update removes it. The audit index attributes are set only
 * by a write that appends events (the time of its last), so a write without events keeps them.
 */
export function toStoredRequest(request: AccessRequest): StoredItem {
  const due = dueAt(request);
  const appended = request.lastEvents ?? [];
  return {
    ...requestKey(request.id),
    kind: 'request',
    schemaVersion: SCHEMA_VERSION,
    version: request.version,
    // For people reading the table: the status is derived from the grants, never read back.
    status: requestStatus(request),
    request,
    // Sparse: requests with nothing left to do drop out of the index.
    [DUE_INDEX.partitionKey]: due === undefined ? undefined : DUE_INDEX.value,
    [DUE_INDEX.sortKey]: due,
    [REQUESTER_INDEX.partitionKey]: request.requester.slackUserId,
    [REQUESTER_INDEX.sortKey]: request.createdAt,
    [REQUESTER_INDEX.awaitingApproval]: request.grants.some((g) => g.status === 'PENDING') ? 1 : undefined,
    ...(appended.length > 0 ? { [AUDIT_INDEX.partitionKey]: AUDIT_INDEX.value, [AUDIT_INDEX.sortKey]: Math.max(...appended.map((e) => e.at)) } : {}),
  };
}

/**
 * How a request's audit log is split between its item and its pages: the item keeps its newest
 * events, at most AUDIT_LOG_KEEP + AUDIT_PAGE_EVENTS - 1 of them (well under DynamoDB's 400 KB
 * item limit however many notes a request takes); the oldest move, AUDIT_PAGE_EVENTS at a time,
 * to pages of their own. Where the split lies follows from the chain's length alone, so every
 * writer of the same version moves the same events to the same page.
 */
export const AUDIT_LOG_KEEP = 100;
export const AUDIT_PAGE_EVENTS = 100;

/** How many of a chain of `count` events live on pages (the rest are on the request's item). */
export function eventsOnPages(count: number): number {
  return count < AUDIT_LOG_KEEP + AUDIT_PAGE_EVENTS ? 0 : AUDIT_PAGE_EVENTS * Math.floor((count - AUDIT_LOG_KEEP) / AUDIT_PAGE_EVENTS);
}

/** A page of a request's oldest audit events (in chain order), moved off its item. */
export function toStoredAuditPage(requestId: string, events: AuditEvent[]): StoredItem {
  return { ...auditPageKey(requestId, events[0]!.seq), kind: 'auditPage', schemaVersion: SCHEMA_VERSION, events };
}

export function readAuditPageEvents(item: Record<string, unknown>): AuditEvent[] {
  return readVersioned(`stored audit page ${String(item.pk)}/${String(item.sk)}`, item, 'events', z.array(auditEventSchema), {});
}

/**
 * A request's whole audit log, from the items of its partition that hold events: those from
 * before the chain (AUDIT#, each its own item) first, in time order, then its pages in order,
 * then its item's own log. Each event once, by seq: a page written by a write that then lost its
 * race (or crashed) repeats events its item still holds.
 */
export function joinAuditLog(auditItems: Record<string, unknown>[], requestItem: Record<string, unknown> | undefined): AuditEvent[] {
  const legacy = auditItems.filter((item) => String(item.sk).startsWith('AUDIT#')).map((item) => readAuditEvent(item));
  const pages = auditItems
    .filter((item) => String(item.sk).startsWith('AUDITPAGE#'))
    .sort((a, b) => String(a.sk).localeCompare(String(b.sk)))
    .flatMap((item) => readAuditPageEvents(item));
  const seen = new Set<string>();
  return [...legacy.sort((a, b) => a.at - b.at || a.seq.localeCompare(b.seq)), ...pages, ...(requestItem ? readAuditLog(requestItem) : [])].filter((e) => {
    if (seen.has(e.seq)) return false;
    seen.add(e.seq);
    return true;
  });
}

/** The request's audit log as stored on its item (absent on requests written before the chain). */
export function readAuditLog(item: Record<string, unknown>): AuditEvent[] {
  const log = item[AUDIT_LOG_ATTRIBUTE];
  if (log === undefined) return [];
  try {
    return z.array(auditEventSchema).parse(log);
  } catch (err) {
    throw new StoredItemInvalidError(`audit log of ${String(item.pk)} cannot be read: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

export function toStoredLease(lease: Lease): StoredItem {
  // version and generation are top-level too: every conditional write and delete names them.
  return { ...leaseItemKey(lease.key), kind: 'lease', schemaVersion: SCHEMA_VERSION, version: lease.version, generation: lease.generation, lease, [DUE_INDEX.partitionKey]: DUE_INDEX.leases, [DUE_INDEX.sortKey]: lease.updatedAt };
}

/** A lock is never read back as a record: its conditions name `owner` and `until`, which is all it holds. */
export function toStoredLock(name: string, owner: string, until: number): StoredItem {
  return { ...lockItemKey(name), kind: 'lock', schemaVersion: SCHEMA_VERSION, owner, until };
}

export function toStoredAuditEvent(event: AuditEvent): StoredItem {
  return { ...auditKey(event.requestId, event.seq), kind: 'audit', schemaVersion: SCHEMA_VERSION, event };
}

export function readRequest(item: Record<string, unknown>): AccessRequest {
  // Requests kept their v2 shape in v3 (the request's endedEarlyBy copy, dropped on read, aside).
  const fromV3 = (raw: unknown) => upgradeRequestV3(v3Request.parse(raw));
  // v4 requests are v5 requests without a chain head.
  const fromV4 = (raw: unknown) => accessRequestSchema.omit({ auditHead: true }).parse(raw);
  return readVersioned(`stored request ${String(item.pk)}`, item, 'request', accessRequestSchema, { 1: (raw) => upgradeRequestV3(upgradeRequestV1(v1Request.parse(raw))), 2: fromV3, 3: fromV3, 4: fromV4 });
}

export function readLease(item: Record<string, unknown>): Lease {
  return readVersioned(`stored lease ${String(item.pk)}`, item, 'lease', leaseSchema, {
    1: (raw) => upgradeLeaseV1(v1Lease.parse(raw)),
    2: (raw) => upgradeLeaseV2(v2Lease.parse(raw)),
    3: (raw) => leaseSchema.parse(raw),
    4: (raw) => leaseSchema.parse(raw),
  });
}

export function readAuditEvent(item: Record<string, unknown>): AuditEvent {
  // Audit events kept their shape in v2 to v5 (grantId, then prev and hash, were added as optional), so older events read as they are.
  const asTheyAre = (raw: unknown) => auditEventSchema.parse(raw);
  return readVersioned(`stored audit event ${String(item.pk)}/${String(item.sk)}`, item, 'event', auditEventSchema, { 1: asTheyAre, 2: asTheyAre, 3: asTheyAre, 4: asTheyAre });
}
