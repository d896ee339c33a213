/**
 * Shared pieces for the fault-injection tests in test/reliability: starting a harness with short
 * claims and sweeps, reading request ids, counting what AWS actually did, and watching the two
 * promises that matter most while faults are flying (never ACTIVE without the assignment, never
 * ENDED while it is still there).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestStatus } from '../../src/domain/access-request';
import { viewOf, type RequestView } from '../support/request-view';
import type { AuditEvent } from '../../src/domain/audit';
import type { AwsStandIn } from '../support/aws-stand-in';
import { eventually } from '../support/eventually';
import type { SlackMessage } from '../support/slack-stand-in';
import { ACCOUNTS, BOT_TOKEN, INSTANCE_ARN, PEOPLE, PERMISSION_SETS, TimeboxHarness, type HarnessOptions, type PersonName } from '../support/timebox-harness';
import { findRequestId } from '../../src/domain/request-id';

export type AccountName = keyof typeof ACCOUNTS;
export type PermissionSetName = keyof typeof PERMISSION_SETS;

/** One user × account × permission set: the thing an assignment (and a lease) is about. */
export interface Access {
  who: PersonName;
  account: AccountName;
  permissionSet: PermissionSetName;
}

/** dave on staging/ReadOnly: auto-approved by the test config, so no clicks are needed. */
export const DAVE_STAGING_READONLY: Access = { who: 'dave', account: 'staging', permissionSet: 'ReadOnly' };

/** Claims, revoke retries and sweeps short enough that "later, via the sweep" happens within a test. */
export const FAST_RECOVERY: HarnessOptions = {
  workflow: { claimMs: 1000, revokeRetryMs: 300 },
  sweepIntervalMs: 500,
};

export function startHarness(options: HarnessOptions = {}): Promise<TimeboxHarness> {
  return TimeboxHarness.start(options);
}

export function requestIdIn(text: string): string {
  const id = findRequestId(text);
  if (!id) throw new Error(`no request id in: ${text}`);
  return id;
}


/** Assignments AWS holds for this access (more than one would be a duplicate grant). */
export function assignmentsFor(h: TimeboxHarness, access: Access): number {
  return h.aws
    .listAssignments()
    .filter(
      (a) =>
        a.instanceArn === INSTANCE_ARN &&
        a.accountId === ACCOUNTS[access.account] &&
        a.permissionSetArn === PERMISSION_SETS[access.permissionSet] &&
        a.principalId === PEOPLE[access.who].principalId,
    ).length;
}

export function holds(h: TimeboxHarness, access: Access): boolean {
  return h.hasAssignment(access.who, access.account, access.permissionSet);
}

/** Counts the SSO Admin / Identity Store calls AWS answered successfully (faulted ones are not counted). */
export function countSuccesses(aws: AwsStandIn): (operation: string) => number {
  const counts = new Map<string, number>();
  aws.afterResponse((operation) => counts.set(operation, (counts.get(operation) ?? 0) + 1));
  return (operation) => counts.get(operation) ?? 0;
}

/**
 * Makes the next `times` DeleteAccountAssignment operations end FAILED (as AWS does when, say,
 * the role cannot be removed), each with `reason`.
 */
export function failDeletions(aws: AwsStandIn, times: number, reason: string): void {
  let left = times;
  aws.onCall((call) => {
    if (call.operation === 'DeleteAccountAssignment' && left > 0) {
      left -= 1;
      aws.failNextDeletion(reason);
    }
  });
}

/**
 * The audit trail once it contains an event of `type`. A write's events reach the log just after
 * the request item itself, so a status seen in the store can be a moment ahead of its event.
 */
export function waitForAudit(h: TimeboxHarness, requestId: string, type: AuditEvent['type'], timeoutMs = 5000): Promise<AuditEvent[]> {
  return eventually(
    async () => {
      const events = await h.audit(requestId);
      return events.some((e) => e.type === type) ? events : undefined;
    },
    timeoutMs,
    `a ${type} event for ${requestId}`,
  );
}

export async function auditTypes(h: TimeboxHarness, requestId: string): Promise<string[]> {
  return (await h.audit(requestId)).map((e) => e.type);
}

export async function auditOf(h: TimeboxHarness, requestId: string, type: AuditEvent['type']): Promise<AuditEvent[]> {
  return (await h.audit(requestId)).filter((e) => e.type === type);
}

/** Waits until the stored request satisfies `probe`, and returns it. */
export function waitForRequest(h: TimeboxHarness, requestId: string, probe: (r: RequestView) => boolean, what: string, timeoutMs = 15_000): Promise<RequestView> {
  return eventually(
    async () => {
      const stored = await h.runtime.deps.store.getRequest(requestId);
      const r = stored ? viewOf(stored) : undefined;
      return r && probe(r) ? r : undefined;
    },
    timeoutMs,
    `${requestId}: ${what}`,
  );
}

/** How many requests are open (in the due index); filing one adds one. */
export async function openRequests(h: TimeboxHarness): Promise<number> {
  return (await h.runtime.deps.store.listDue(Number.MAX_SAFE_INTEGER)).length;
}

export interface InvariantReport {
  /** Statuses seen, in order, without repeats. */
  statuses: RequestStatus[];
  violations: string[];
}

/**
 * Samples the request and AWS side by side until stopped. A violation is an instant where the
 * store said ACTIVE while AWS had no assignment (checked before and after the read, so a change
 * racing the read is not mistaken for one), or said ENDED (assignment removed) while AWS still had it.
 */
export function watchInvariants(h: TimeboxHarness, requestId: string, access: Access): { stop(): Promise<InvariantReport> } {
  const report: InvariantReport = { statuses: [], violations: [] };
  let running = true;
  const loop = (async () => {
    while (running) {
      const before = holds(h, access);
      const stored = await h.runtime.deps.store.getRequest(requestId).catch(() => undefined);
      const request = stored ? viewOf(stored) : undefined;
      const after = holds(h, access);
      if (request) {
        if (report.statuses[report.statuses.length - 1] !== request.status) report.statuses.push(request.status);
        if (request.status === 'ACTIVE' && !before && !after) report.violations.push(`ACTIVE without an assignment (version ${request.version})`);
        if (request.status === 'ENDED' && !request.keptBecause && before && after) report.violations.push(`ENDED while the assignment remains (version ${request.version})`);
      }
      await sleep(10);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return report;
    },
  };
}

/**
 * Uses up every fault still queued for a Slack Web API method by calling the stand-in directly,
 * i.e. "Slack has recovered". An unauthenticated call that reaches the real handler answers
 * invalid_auth, which is how we know the queue is empty.
 */
export async function drainSlackFaults(h: TimeboxHarness, method: string): Promise<number> {
  for (let drained = 0; drained < 10_000; drained++) {
    const response = await fetch(`${h.slack.apiUrl}${method}`, { method: 'POST' });
    const body = (await response.json().catch(() => ({}))) as { error?: string };
    if (response.status === 200 && body.error === 'invalid_auth') return drained;
  }
  throw new Error(`could not drain the faults queued for ${method}`);
}

/** The approvals-channel messages that mention a request (more than one would be a duplicate post). */
export function channelMessagesAbout(h: TimeboxHarness, channel: string, requestId: string): ReturnType<TimeboxHarness['slack']['messagesIn']> {
  return h.slack.messagesIn(channel).filter((m) => JSON.stringify(m.blocks ?? []).includes(requestId) || (m.text ?? '').includes(requestId));
}

/** Someone in the channel deletes `message` (chat.delete): from now on Slack answers chat.update on it with message_not_found. */
export async function deleteFromChannel(h: TimeboxHarness, message: SlackMessage): Promise<void> {
  const deleted = await fetch(`${h.slack.apiUrl}chat.delete`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${BOT_TOKEN}`, 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ channel: message.channel, ts: message.ts }),
  });
  const body = (await deleted.json()) as { ok: boolean; error?: string };
  if (!body.ok) throw new Error(`chat.delete failed: ${body.error ?? 'unknown error'}`);
}
