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

/** What `slackUserId`'s Home shows now. */
export async function homeContent(deps: WorkflowDeps, slackUserId: string): Promise<HomeContent> {
  const now = deps.clock.now();
  const [own, toDecide] = await Promise.all([deps.store.listByRequester(slackUserId, OWN_REQUESTS_READ), waitingFor(deps, slackUserId, now)]);
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
async function waitingFor(deps: WorkflowDeps, slackUserId: string, now: number): Promise<AccessRequest[]> {
  let person;
  try {
    person = await lookUpMember(deps, slackUserId, undefined, 'decide on');
  } catch (err) {
    if (isTimeboxError(err)) return [];
    throw err;
  }
  const awaiting = await deps.store.listAwaitingApproval(AWAITING_READ);
  return awaiting.filter((r) => waitsFor(deps.policy, r, person, now));
}

/** Per process: the Home publishes under way, one per person, and whether another was asked for meanwhile. */
const publishing = new Map<string, { again: boolean; done: Promise<void> }>();

/**
 * Publishes `slackUserId`'s Home (on app_home_opened, and after a change that concerns them).
 * One publish per person at a time: a publish asked for while one is under way runs once more
 * after it, reading the store afresh, so two changes at once can never leave the older Home last.
 */
export function showHome(deps: WorkflowDeps, slackUserId: string): Promise<void> {
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
      do {
        entry.again = false;
        await home.publish(await homeContent(deps, slackUserId));
      } while (entry.again);
    } finally {
      publishing.delete(slackUserId);
    }
  })();
  publishing.set(slackUserId, entry);
  return entry.done;
}

/** What a change must alter for the Homes to be republished: each grant's status, approvals and window. */
const homeKey = (request: AccessRequest) => `${request.createdAt}|${request.grants.map((g) => `${g.status}:${g.approvals.length}:${g.endsAt ?? ''}`).join(',')}`;
/** Per process: which version of each request the Homes last showed, so a pass that changed nothing publishes nothing. */
const shown = new Map<string, string>();

/**
 * Republishes the Home of everyone a change of `request` concerns: its requester and the
 * approvers of its rules. Best effort, after the state work and the notify pass: it never throws
 * (a failure is logged and the next change or opening of Home shows the truth).
 */
export async function refreshHomes(deps: WorkflowDeps, request: AccessRequest | undefined): Promise<void> {
  if (!deps.home || !request) return;
  const key = homeKey(request);
  if (shown.get(request.id) === key) return;
  try {
    const people = new Set([request.requester.slackUserId]);
    for (const entry of approverEntries(deps.policy, request)) {
      if (people.size >= MAX_HOMES_PER_CHANGE) break;
      const id = entry.includes('@') ? await deps.home.userIdForEmail(entry).catch(() => undefined) : entry;
      if (id) people.add(id);
    }
    const delayMs = deps.options.homeRefreshDelayMs;
    if (delayMs > 0) {
      for (const id of people) refreshSoon(deps, id, delayMs);
    } else {
      const published = await Promise.allSettled([...people].map((id) => showHome(deps, id)));
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
  cancelled: boolean;
  done: Promise<void>;
}
/** Per Home tab (one per running Timebox): the people whose Home is due to be republished shortly. */
const dueSoon = new WeakMap<object, Map<string, Soon>>();

/**
 * Republishes `slackUserId`'s Home `delayMs` from now, once however many changes ask for it
 * meanwhile: it reads the store then, so it shows them all. Under a flood of requests an
 * approver's Home is read and published once per `delayMs`, not once per request (each read
 * costs every request waiting for approval). Not awaited: the worker never waits for a Home.
 */
function refreshSoon(deps: WorkflowDeps, slackUserId: string, delayMs: number): void {
  const home = deps.home;
  if (!home) return;
  let soon = dueSoon.get(home);
  if (!soon) dueSoon.set(home, (soon = new Map()));
  if (soon.has(slackUserId)) return;
  const entry: Soon = { cancelled: false, done: Promise.resolve() };
  const people = soon;
  entry.done = deps
    .sleep(delayMs)
    .then(async () => {
      people.delete(slackUserId);
      if (!entry.cancelled) await showHome(deps, slackUserId);
    })
    .catch((err: unknown) => deps.logger.warn({ slackUserId, err: String(err) }, 'could not refresh App Home; it is shown afresh when opened'));
  people.set(slackUserId, entry);
}

/** Settles the Home refreshes due soon: published now-ish (`cancel: false`, for tests), or dropped as Timebox stops. */
export async function settleHomeRefreshes(home: object | undefined, { cancel }: { cancel: boolean }): Promise<void> {
  const soon = home ? dueSoon.get(home) : undefined;
  if (!soon) return;
  const entries = [...soon.values()];
  if (cancel) {
    // Stopping: nothing waits for them (each wakes, sees it is cancelled, and publishes nothing).
    for (const entry of entries) entry.cancelled = true;
    return;
  }
  await Promise.all(entries.map((e) => e.done));
}
