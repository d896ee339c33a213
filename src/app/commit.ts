import { requestStatus, type AccessRequest, type GrantStatus } from '../domain/access-request';
import { chain, EMPTY_CHAIN, type AuditEvent, type AuditEventType, type EventDraft } from '../domain/audit';
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

/** Chains the events of a write after the request's last one (see domain/audit.ts). */
function chained(deps: WorkflowDeps, before: AccessRequest | undefined, events: AuditEvent[]): Pick<AccessRequest, 'lastEvents' | 'auditHead'> {
  const { events: linked, head } = chain(before?.auditHead ?? EMPTY_CHAIN, events, deps.sha256);
  return { lastEvents: linked, auditHead: head };
}

/**
 * Stores a new request with its first audit events, in one write. `alongside` (handing the
 * request to the worker) runs once the request is stored.
 */
export async function commitNew(deps: WorkflowDeps, request: AccessRequest, drafts: EventDraft[], alongside?: (stored: AccessRequest) => Promise<void>): Promise<AccessRequest> {
  const now = deps.clock.now();
  const stored = { ...request, updatedAt: now, ...chained(deps, undefined, toEvents(undefined, request, request.version, drafts, now)) };
  await deps.store.createRequest(stored);
  await alongside?.(stored);
  return stored;
}

/**
 * Writes `after` over `before` (conditional on before's version) and appends what happened to
 * the request's audit log in that same write (`lastEvents`, chained after before's last event):
 * the change and its record land together or not at all. Throws StoreConflictError on a lost race.
 */
export async function commit(deps: WorkflowDeps, before: AccessRequest, after: AccessRequest, drafts: EventDraft[]): Promise<AccessRequest> {
  const now = deps.clock.now();
  const events = toEvents(before, after, before.version + 1, drafts, now);
  return deps.store.saveRequest({ ...after, version: before.version, updatedAt: now, ...chained(deps, before, events) });
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
  rounds?: number,
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
    rounds,
  );
}

/** At most this many notes go in one write of a request (a write stays far below DynamoDB's item size limit). */
const NOTES_PER_WRITE = 50;

interface WaitingNote {
  draft: EventDraft;
  written: () => void;
}

/** The notes of this process waiting for a write, per store and request (see noteOnRequest). */
const waitingNotes = new WeakMap<object, Map<string, WaitingNote[]>>();

/**
 * Logs something that happened to a request without changing it (a refused click or end, a
 * reconciler repair): a write of the request like any other, so the note joins the chain in
 * order and never forks it. There is no cap: the store moves a long log's oldest events to pages
 * of their own (see the DynamoDB store), so however many notes a request takes, none is refused
 * and its item stays small.
 *
 * Notes for one request in this process are written together: while one write is under way, the
 * notes that come meanwhile wait and go in the next one (a flood of refused clicks on one request
 * costs a write per batch, not a race of every click against every other). A write that loses
 * its race re-reads and appends again, backing off with jitter, up to `noteRetries` rounds; only
 * if it still cannot be written (or the store fails) is each of its notes logged at error level
 * with the event in full, so none is dropped unseen. Never throws: what a note records (a
 * refusal) stands and is answered either way.
 */
export async function noteOnRequest(deps: WorkflowDeps, requestId: string, type: AuditEventType, actor: string, detail: string, grantId?: string): Promise<void> {
  const draft: EventDraft = { type, actor, detail, ...(grantId ? { grantId } : {}) };
  let queues = waitingNotes.get(deps.store);
  if (!queues) waitingNotes.set(deps.store, (queues = new Map()));
  const queue = queues.get(requestId);
  await new Promise<void>((written) => {
    if (queue) queue.push({ draft, written });
    else {
      queues.set(requestId, [{ draft, written }]);
      void writeNotes(deps, queues, requestId);
    }
  });
}

/** Writes the request's waiting notes, a batch per write, until none are left. */
async function writeNotes(deps: WorkflowDeps, queues: Map<string, WaitingNote[]>, requestId: string): Promise<void> {
  const queue = queues.get(requestId)!;
  for (;;) {
    const batch = queue.splice(0, NOTES_PER_WRITE);
    if (batch.length === 0) {
      queues.delete(requestId);
      return;
    }
    try {
      await updateRequest(deps, requestId, (fresh) => ({ next: fresh, events: batch.map((n) => n.draft) }), undefined, deps.options.noteRetries);
    } catch (err) {
      const at = deps.clock.now();
      for (const { draft } of batch) {
        deps.logger.error({ requestId, event: { requestId, at, ...draft }, err: err instanceof Error ? err.message : String(err) }, 'audit note could not be written');
      }
    }
    batch.forEach((n) => n.written());
  }
}
