import { requestStatus, type AccessRequest, type GrantStatus } from '../domain/access-request';
import type { AuditEvent, AuditEventType, EventDraft } from '../domain/audit';
import { StoreConflictError } from '../domain/errors';
import type { WorkflowDeps } from './deps';

export type { EventDraft } from '../domain/audit';

function statusOf(request: AccessRequest | undefined, grantId: string | undefined): GrantStatus | undefined {
  if (!request) return undefined;
  return grantId === undefined ? requestStatus(request) : request.grants.find((g) => g.id === grantId)?.status;
}

function toEvents(before: AccessRequest | undefined, after: AccessRequest, version: number, drafts: EventDraft[], at: number): AuditEvent[] {
  return drafts.map((draft, i) => {
    const from = statusOf(before, draft.grantId);
    const to = statusOf(after, draft.grantId);
    return {
      requestId: after.id,
      ...(draft.grantId === undefined ? {} : { grantId: draft.grantId }),
      at,
      // Deterministic per write, so appending the same event again is a no-op.
      seq: `${String(version).padStart(8, '0')}-${i}`,
      type: draft.type,
      actor: draft.actor,
      ...(from !== undefined && from !== to ? { from } : {}),
      ...(to === undefined ? {} : { to }),
      ...(draft.detail ? { detail: draft.detail } : {}),
    };
  });
}

async function appendAll(deps: WorkflowDeps, events: AuditEvent[] | undefined): Promise<void> {
  // Independent put-if-absent writes (each event has its own seq): side by side, not one after another.
  await Promise.all((events ?? []).map((event) => deps.store.appendAudit(event)));
}

/**
 * Stores a new request and its first audit events. `alongside` (handing the request to the
 * worker) runs once the request is stored. The events travel on the item, so once it is stored
 * they are durable: the log's own copy is written after, without holding up the caller (and the
 * worker's first write appends any that are not in the log yet), so whoever waits for the filing
 * is answered as soon as it is stored. A failed copy is logged, never thrown.
 */
export async function commitNew(deps: WorkflowDeps, request: AccessRequest, drafts: EventDraft[], alongside?: (stored: AccessRequest) => Promise<void>): Promise<AccessRequest> {
  const now = deps.clock.now();
  const events = toEvents(undefined, request, request.version, drafts, now);
  const stored = { ...request, updatedAt: now, lastEvents: events };
  await deps.store.createRequest(stored);
  void appendAll(deps, events).catch((err: unknown) =>
    deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not copy the filing to the audit log yet; the next write of the request appends it'),
  );
  await alongside?.(stored);
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

const MAX_RACE_RETRIES = 16;

/**
 * Runs `attempt` again each time it loses a race (StoreConflictError), up to a bound: the one
 * retry-on-conflict loop. With `pause`, it waits a growing, jittered moment between rounds, so
 * writers that collide (the grants of one request finishing together) spread out instead of
 * colliding again in lockstep.
 */
export async function retryOnConflict<T>(attempt: (round: number) => Promise<T>, pause?: (ms: number) => Promise<void>, rounds = MAX_RACE_RETRIES): Promise<T> {
  for (let round = 0; ; round++) {
    try {
      return await attempt(round);
    } catch (err) {
      if (!(err instanceof StoreConflictError) || round >= rounds) throw err;
      if (pause && round > 0) await pause(Math.random() * Math.min(5 * 2 ** round, 200));
    }
  }
}

export interface Change {
  next: AccessRequest;
  events: EventDraft[];
}

/**
 * Applies `change` to the latest stored request and writes it, re-reading and re-applying on
 * every lost race, so a grant finishing while an approver clicks never loses either write.
 * `change` returns undefined when there is nothing to do (then nothing is written). Resolves to
 * the request as written (or as read, when unchanged), or undefined if there is no such request.
 * `known`, a version the caller has just read, saves the first read (a stale one only costs a retry).
 */
export async function updateRequest(
  deps: WorkflowDeps,
  requestId: string,
  change: (fresh: AccessRequest) => Change | undefined,
  known?: AccessRequest,
): Promise<AccessRequest | undefined> {
  return retryOnConflict(
    async (round) => {
      const fresh = round === 0 && known ? known : await deps.store.getRequest(requestId);
      if (!fresh) return undefined;
      const planned = change(fresh);
      if (!planned) return fresh;
      return commit(deps, fresh, planned.next, planned.events);
    },
    (ms) => deps.sleep(ms),
  );
}

/**
 * Logs something that happened to a request without changing it (a refused click or end, a
 * reconciler repair). Its own unique seq, so it never collides with the events of a write.
 */
export async function noteOnRequest(deps: WorkflowDeps, requestId: string, type: AuditEventType, actor: string, detail: string, grantId?: string): Promise<void> {
  const at = deps.clock.now();
  await deps.store.appendAudit({ requestId, ...(grantId ? { grantId } : {}), at, seq: `${type}-${at}-${deps.newRequestId()}`, type, actor, detail });
}
