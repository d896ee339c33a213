import type { AccessRequest } from '../domain/access-request';
import type { AuditEvent, AuditEventType } from '../domain/audit';
import type { WorkflowDeps } from './deps';

export interface EventDraft {
  type: AuditEventType;
  actor: string;
  detail?: string;
}

function toEvents(before: AccessRequest | undefined, after: AccessRequest, version: number, drafts: EventDraft[], at: number): AuditEvent[] {
  return drafts.map((draft, i) => ({
    requestId: after.id,
    at,
    // Deterministic per write, so appending the same event again is a no-op.
    seq: `${String(version).padStart(8, '0')}-${i}`,
    type: draft.type,
    actor: draft.actor,
    ...(before && before.status !== after.status ? { from: before.status } : {}),
    to: after.status,
    ...(draft.detail ? { detail: draft.detail } : {}),
  }));
}

async function appendAll(deps: WorkflowDeps, events: AuditEvent[] | undefined): Promise<void> {
  for (const event of events ?? []) await deps.store.appendAudit(event);
}

/** Stores a new request and its first audit events. */
export async function commitNew(deps: WorkflowDeps, request: AccessRequest, drafts: EventDraft[]): Promise<AccessRequest> {
  const now = deps.clock.now();
  const events = toEvents(undefined, request, request.version, drafts, now);
  const stored = { ...request, updatedAt: now, lastEvents: events };
  await deps.store.createRequest(stored);
  await appendAll(deps, events);
  return stored;
}

/**
 * Writes `after` over `before` (conditional on before's version) and logs what happened.
 * The events travel on the item first and are appended after, so a crash in between is
 * repaired by the next write of the same request. Throws StoreConflictError on a lost race.
 */
export async function commit(deps: WorkflowDeps, before: AccessRequest, after: AccessRequest, drafts: EventDraft[]): Promise<AccessRequest> {
  await appendAll(deps, before.lastEvents);
  const now = deps.clock.now();
  const events = toEvents(before, after, before.version + 1, drafts, now);
  const saved = await deps.store.saveRequest({ ...after, version: before.version, updatedAt: now, lastEvents: events });
  await appendAll(deps, events);
  return saved;
}

/**
 * Logs something that happened to a request without changing it (a refused click or end, a
 * reconciler repair). Its own unique seq, so it never collides with the events of a write.
 */
export async function noteOnRequest(deps: WorkflowDeps, requestId: string, type: AuditEventType, actor: string, detail: string): Promise<void> {
  const at = deps.clock.now();
  await deps.store.appendAudit({ requestId, at, seq: `${type}-${at}-${deps.newRequestId()}`, type, actor, detail });
}
