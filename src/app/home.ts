import { isRequestOver, type AccessRequest } from '../domain/access-request';
import { isTimeboxError } from '../domain/errors';
import { approverEntries, waitsFor } from '../domain/who-decides';
import type { WorkflowDeps } from './deps';
import { OWN_REQUESTS_READ } from './list-requests';
import { lookUpMember } from './members';
import type { HomeContent } from './ports';

/** Finished requests shown on Home. */
export const FINISHED_SHOWN = 10;
/** Requests waiting for approval read for an approver's Home (the due index; see RequestReads). */
export const AWAITING_READ = 200;
/** At most this many people's Homes are republished for one change. */
const MAX_HOMES_PER_CHANGE = 25;

/** The requests waiting for approval, read once for every Home published together (see sharedAwaiting). */
export type AwaitingRead = () => Promise<AccessRequest[]>;

/** One read of the requests waiting for approval, shared by the Homes published together, made only if one of them needs it. */
export function sharedAwaiting(deps: WorkflowDeps): AwaitingRead {
  let read: Promise<AccessRequest[]> | undefined;
  return () => (read ??= deps.store.listAwaitingApproval(AWAITING_READ));
}

/** What `slackUserId`'s Home shows now. */
export async function homeContent(deps: WorkflowDeps, slackUserId: string, awaiting: AwaitingRead = sharedAwaiting(deps)): Promise<HomeContent> {
  const now = deps.clock.now();
  const [own, toDecide] = await Promise.all([deps.store.listByRequester(slackUserId, OWN_REQUESTS_READ), waitingFor(deps, slackUserId, now, awaiting)]);
  const holdsOrGets = (r: AccessRequest) => r.grants.some((g) => ['APPROVED', 'GRANTING', 'ACTIVE', 'REVOKING'].includes(g.status));
  return {
    slackUserId,
    now,
    active: own.filter(holdsOrGets),
    pending: own.filter((r) => r.grants.some((g) => g.status === 'PENDING')),
    finished: own.filter(isRequestOver).slice(0, FINISHED_SHOWN),
    toDecide,
  };
}

/** The requests waiting for this person's decision; none for someone who may not decide here (a guest, a bot). */
async function waitingFor(deps: WorkflowDeps, slackUserId: string, now: number, awaiting: AwaitingRead): Promise<AccessRequest[]> {
  let person;
  try {
    person = await lookUpMember(deps, slackUserId, undefined, 'decide on');
  } catch (err) {
    if (isTimeboxError(err)) return [];
    throw err;
  }
  return (await awaiting()).filter((r) => waitsFor(deps.policy, r, person, now));
}

/** Per process: the Home publishes under way, one per person, and whether another was asked for meanwhile. */
const publishing = new Map<string, { again: boolean; done: Promise<void> }>();

/**
 * Publishes `slackUserId`'s Home (on app_home_opened, and after a change that concerns them).
 * One publish per person at a time: a publish asked for while one is under way runs once more
 * after it, reading the store afresh, so two changes at once can never leave the older Home last.
 * `awaiting` is a read shared with the other Homes published together (the first publish only).
 */
export function showHome(deps: WorkflowDeps, slackUserId: string, awaiting?: AwaitingRead): Promise<void> {
  const home = deps.home;
  if (!home) return Promise.resolve();
  const running = publishing.get(slackUserId);
  if (running) {
    running.again = true;
    return running.done;
  }
  const entry = { again: false, done: Promise.resolve() };
  entry.done = (async () => {
    try {
      let shared = awaiting;
      do {
        entry.again = false;
        await home.publish(await homeContent(deps, slackUserId, shared));
        shared = undefined;
      } while (entry.again);
    } finally {
      publishing.delete(slackUserId);
    }
  })();
  publishing.set(slackUserId, entry);
  return entry.done;
}

/**
 * What a change must alter for the Homes to be republished: for the requester's, each grant's
 * status, approvals and window; for the approvers', only what waits for a decision (an approver's
 * Home shows someone else's request only while a grant of it waits for approval).
 */
const homeKey = (request: AccessRequest) => ({
  requester: `${request.createdAt}|${request.grants.map((g) => `${g.status}:${g.approvals.length}:${g.endsAt ?? ''}`).join(',')}`,
  approvers: `${request.createdAt}|${request.grants.map((g) => (g.status === 'PENDING' ? `PENDING:${g.approvals.length}` : '-')).join(',')}`,
});
/** Per process: which version of each request the Homes last showed, so a pass that changed nothing publishes nothing. */
const shown = new Map<string, ReturnType<typeof homeKey>>();

/**
 * Republishes the Home of everyone a change of `request` concerns: its requester and the
 * approvers of its rules. Best effort, after the state work and the notify pass: it never throws
 * (a failure is logged and the next change or opening of Home shows the truth).
 */
export async function refreshHomes(deps: WorkflowDeps, request: AccessRequest | undefined): Promise<void> {
  if (!deps.home || !request) return;
  const key = homeKey(request);
  const before = shown.get(request.id);
  if (before?.requester === key.requester) return;
  try {
    const people = new Set([request.requester.slackUserId]);
    // Unknown here (another process showed it, or this one started since): the approvers' too.
    const approversConcerned = before?.approvers !== key.approvers;
    for (const entry of approversConcerned ? approverEntries(deps.policy, request) : []) {
      if (people.size >= MAX_HOMES_PER_CHANGE) break;
      const id = entry.includes('@') ? await deps.home.userIdForEmail(entry).catch(() => undefined) : entry;
      if (id) people.add(id);
    }
    const delayMs = deps.options.homeRefreshDelayMs;
    if (delayMs > 0) {
      refreshSoon(deps, people, delayMs);
    } else {
      const awaiting = sharedAwaiting(deps);
      const published = await Promise.allSettled([...people].map((id) => showHome(deps, id, awaiting)));
      const failed = published.filter((p): p is PromiseRejectedResult => p.status === 'rejected');
      if (failed.length > 0) throw failed[0]!.reason;
    }
    shown.delete(request.id);
    shown.set(request.id, key);
    if (shown.size > 1000) shown.delete(shown.keys().next().value as string);
  } catch (err) {
    deps.logger.warn({ requestId: request.id, err: String(err) }, 'could not refresh App Home; it is shown afresh when opened');
  }
}

interface Soon {
  people: Set<string>;
  cancelled: boolean;
  done: Promise<void>;
}
/** Per Home tab (one per running Timebox): the next batch of Homes due to be republished shortly. */
const dueSoon = new WeakMap<object, Soon>();
/** Per Home tab: batches already publishing (reading the store), which a stop waits for before the store closes. */
const batchesPublishing = new WeakMap<object, Set<Promise<void>>>();

/**
 * Republishes these people's Homes `delayMs` from now, once however many changes ask for them
 * meanwhile: the batch reads the store then, so it shows them all. Under a flood of requests an
 * approver's Home is read and published once per `delayMs`, not once per request, and the
 * requests waiting for approval (each read costs every one of them) are read once per batch, not
 * once per Home. Not awaited: the worker never waits for a Home.
 */
function refreshSoon(deps: WorkflowDeps, people: Set<string>, delayMs: number): void {
  const home = deps.home;
  if (!home) return;
  const due = dueSoon.get(home);
  if (due) {
    for (const id of people) due.people.add(id);
    return;
  }
  const batch: Soon = { people: new Set(people), cancelled: false, done: Promise.resolve() };
  batch.done = deps.sleep(delayMs).then(async () => {
    if (dueSoon.get(home) === batch) dueSoon.delete(home);
    if (batch.cancelled) return;
    const awaiting = sharedAwaiting(deps);
    const running = Promise.allSettled([...batch.people].map((id) => showHome(deps, id, awaiting)));
    const inFlight = batchesPublishing.get(home) ?? new Set<Promise<void>>();
    batchesPublishing.set(home, inFlight);
    const done = running.then(() => undefined);
    inFlight.add(done);
    const published = await running.finally(() => inFlight.delete(done));
    for (const failed of published.filter((p): p is PromiseRejectedResult => p.status === 'rejected')) {
      deps.logger.warn({ err: String(failed.reason) }, 'could not refresh App Home; it is shown afresh when opened');
    }
  });
  dueSoon.set(home, batch);
}

/**
 * Settles the Home refreshes due soon: published now-ish (`cancel: false`, for tests), or dropped
 * as Timebox stops (`cancel: true`). Either way a batch already publishing is waited for: it reads
 * the store, which closes next.
 */
export async function settleHomeRefreshes(home: object | undefined, { cancel }: { cancel: boolean }): Promise<void> {
  const batch = home ? dueSoon.get(home) : undefined;
  if (batch && cancel) {
    // Stopping: nothing waits for it (it wakes, sees it is cancelled, and publishes nothing).
    batch.cancelled = true;
  } else if (batch) {
    await batch.done;
  }
  await Promise.all([...((home && batchesPublishing.get(home)) ?? [])]);
}
