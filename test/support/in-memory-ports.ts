/**
 * In-memory implementations of every port in src/app/ports.ts, for fast use-case tests that run
 * the real functions of src/app without Slack, DynamoDB or AWS. They keep the semantics the use
 * cases rely on (conditional writes, deep copies, asynchronous AWS operations with ids), and let
 * a test script faults: a conflict or an error on the Nth write, a crash from some write on, an
 * AWS call that fails, throws or stays IN_PROGRESS, a Slack call that fails.
 */
import { LoggedAlarms } from '../../src/adapters/alarms/revoke-alarms';
import { FakePermissionSets } from './fake-permission-sets';
import { advanceRequest } from '../../src/app/advance-request';
import { decideRequest } from '../../src/app/decide-request';
import { DEFAULT_WORKFLOW_OPTIONS, type WorkflowDeps, type WorkflowOptions } from '../../src/app/deps';
import { submitRequest } from '../../src/app/submit-request';
import type {
  AdvanceJob,
  AlertDestination,
  BreakGlassAlert,
  Clock,
  JobQueue,
  JobScheduler,
  Logger,
  MessageRef,
  Notifier,
  OperationStatus,
  ProvisionHooks,
  ProvisionOutcome,
  Provisioner,
  Store,
  SlackPerson,
  UserDirectory,
  LeaseListing,
  AuditPage,
  AuditRange,
} from '../../src/app/ports';
import { dueAt, type AccessRequest } from '../../src/domain/access-request';
import type { Deciders } from '../../src/domain/approvers';
import type { AuditEvent } from '../../src/domain/audit';
import { sha256Hex } from '../../src/adapters/audit/sha256';
import { AssignmentStillInProgressError, MessageGoneError, StoreConflictError } from '../../src/domain/errors';
import { targetKey, type ProvisionTarget } from '../../src/domain/grant-target';
import type { Lease } from '../../src/domain/lease';
import type { Policy, Rule } from '../../src/domain/policy';
import { snapshotOf, staticCatalogue, type Catalogue } from '../../src/domain/catalogue-view';
import type { CatalogueSnapshot } from '../../src/domain/catalogue';

const copy = <T>(value: T): T => structuredClone(value);

// ---------------------------------------------------------------- clock, logger, ids

export class ManualClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(t: number): void {
    this.t = t;
  }
}

export interface LogEntry {
  level: 'info' | 'warn' | 'error' | 'debug';
  obj: object;
  msg?: string;
}

/** Says nothing; keeps what it was told, for a test that wants to look. */
export class SilentLogger implements Logger {
  readonly entries: LogEntry[] = [];
  info(obj: object, msg?: string): void {
    this.entries.push({ level: 'info', obj, ...(msg ? { msg } : {}) });
  }
  warn(obj: object, msg?: string): void {
    this.entries.push({ level: 'warn', obj, ...(msg ? { msg } : {}) });
  }
  error(obj: object, msg?: string): void {
    this.entries.push({ level: 'error', obj, ...(msg ? { msg } : {}) });
  }
  debug(obj: object, msg?: string): void {
    this.entries.push({ level: 'debug', obj, ...(msg ? { msg } : {}) });
  }
}

// ---------------------------------------------------------------- the store

export type WriteOp = 'createRequest' | 'saveRequest' | 'putLease' | 'deleteLease';

export interface WriteAttempt {
  /** 1-based, over every write attempt since the store was made. */
  n: number;
  op: WriteOp;
  /** The request id, lease key or audit event's request id. */
  id: string;
  /** A copy of what was to be written (the request, lease or event; undefined for a delete). */
  item?: AccessRequest | Lease | AuditEvent;
}

export interface StoreFault {
  /** Which write to hit: the Nth (1-based) matching write attempted after the fault is added. Default 1. */
  nth?: number;
  /** Only writes of these kinds count. Default: every kind. */
  op?: WriteOp | WriteOp[];
  /** Only writes this accepts count. */
  when?: (write: WriteAttempt) => boolean;
  /** 'conflict' throws StoreConflictError; an Error is thrown as it is. */
  error: 'conflict' | Error;
  /** The write lands and then the error is thrown (a reply lost on the way back). Default false. */
  landed?: boolean;
  /** How many consecutive matching writes to hit from the Nth on. Default 1. */
  times?: number;
}

interface ActiveFault extends StoreFault {
  seen: number;
  hits: number;
}

/** What a process crash looks like from inside: every write from then on throws. */
export class CrashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CrashError';
  }
}

/**
 * A RequestStore with real conditional-write semantics: version checks on requests and leases
 * (a mismatch, or a missing item, is a StoreConflictError), createRequest refuses an existing id,
 * listDue reads dueAt() as the DynamoDB due index does, a request write appends its events to the
 * request's log in the same step (as the one DynamoDB update does), and
 * everything is deep-copied on the way in and out.
 */
export class InMemoryRequestStore implements Store {
  private readonly requests = new Map<string, AccessRequest>();
  private readonly leases = new Map<string, Lease>();
  private readonly audit = new Map<string, AuditEvent[]>();
  private faults: ActiveFault[] = [];
  private crashWhen: ((write: WriteAttempt) => boolean) | undefined;
  private crashed = false;
  /** Every write attempted, in order (including the ones a fault or crash refused). */
  readonly writes: WriteAttempt[] = [];

  // ---- fault injection

  /** Hits one (or `times`) upcoming write(s) with a conflict or an error. */
  injectFault(fault: StoreFault): void {
    this.faults.push({ ...fault, seen: 0, hits: 0 });
  }

  /** The process "dies" at the first write `when` accepts: it and every later write throw CrashError until recover(). */
  crashAt(when: (write: WriteAttempt) => boolean): void {
    this.crashWhen = when;
  }

  /** The process is back (a new worker): writes work again. */
  recover(): void {
    this.crashWhen = undefined;
    this.crashed = false;
  }

  get hasCrashed(): boolean {
    return this.crashed;
  }

  private beforeWrite(op: WriteOp, id: string, item: WriteAttempt['item']): { error?: Error; landed: boolean } {
    const write: WriteAttempt = { n: this.writes.length + 1, op, id, ...(item ? { item: copy(item) } : {}) };
    this.writes.push(write);
    if (this.crashed) return { error: new CrashError(`crashed: ${op} ${id} not written`), landed: false };
    if (this.crashWhen?.(write)) {
      this.crashed = true;
      return { error: new CrashError(`crash at ${op} ${id}`), landed: false };
    }
    for (const fault of this.faults) {
      const ops = fault.op === undefined ? undefined : Array.isArray(fault.op) ? fault.op : [fault.op];
      if (ops && !ops.includes(op)) continue;
      if (fault.when && !fault.when(write)) continue;
      fault.seen++;
      if (fault.seen < (fault.nth ?? 1) || fault.hits >= (fault.times ?? 1)) continue;
      fault.hits++;
      const error = fault.error === 'conflict' ? new StoreConflictError(`injected conflict on ${op} ${id}`) : fault.error;
      return { error, landed: fault.landed ?? false };
    }
    this.faults = this.faults.filter((f) => f.hits < (f.times ?? 1));
    return { landed: true };
  }

  /** Runs `write` unless a fault or crash says otherwise. */
  private guarded(op: WriteOp, id: string, item: WriteAttempt['item'], write: () => void): void {
    const { error, landed } = this.beforeWrite(op, id, item);
    if (landed) write();
    if (error) throw error;
  }

  // ---- RequestStore

  async createRequest(request: AccessRequest): Promise<void> {
    this.guarded('createRequest', request.id, request, () => {
      if (this.requests.has(request.id)) throw new StoreConflictError(`request ${request.id} exists`);
      this.requests.set(request.id, copy(request));
      this.audit.set(request.id, copy(request.lastEvents ?? []));
    });
  }

  async getRequest(id: string): Promise<AccessRequest | undefined> {
    const found = this.requests.get(id);
    return found ? copy(found) : undefined;
  }

  async saveRequest(request: AccessRequest): Promise<AccessRequest> {
    const next = { ...copy(request), version: request.version + 1 };
    this.guarded('saveRequest', request.id, next, () => {
      const stored = this.requests.get(request.id);
      if (!stored) throw new StoreConflictError(`request ${request.id} does not exist`);
      if (stored.version !== request.version) throw new StoreConflictError(`request ${request.id} changed since version ${request.version} (now ${stored.version})`);
      this.requests.set(request.id, copy(next));
      this.audit.set(request.id, [...(this.audit.get(request.id) ?? []), ...copy(next.lastEvents ?? [])]);
    });
    return copy(next);
  }

  async countAwaitingApproval(requesterSlackUserId: string, filedSince: number): Promise<number> {
    return [...this.requests.values()].filter(
      (r) => r.requester.slackUserId === requesterSlackUserId && r.createdAt >= filedSince && r.grants.some((g) => g.status === 'PENDING'),
    ).length;
  }

  async listByRequester(slackUserId: string, limit: number): Promise<AccessRequest[]> {
    return [...this.requests.values()]
      .filter((r) => r.requester.slackUserId === slackUserId)
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, limit)
      .map(copy);
  }

  async listAwaitingApproval(limit: number): Promise<AccessRequest[]> {
    return [...this.requests.values()]
      .filter((r) => r.grants.some((g) => g.status === 'PENDING'))
      .sort((a, b) => a.expiresAt - b.expiresAt)
      .slice(0, limit)
      .map(copy);
  }

  async listDue(before: number): Promise<AccessRequest[]> {
    return [...this.requests.values()]
      .map((r) => ({ r, at: dueAt(r) }))
      .filter((x): x is { r: AccessRequest; at: number } => x.at !== undefined && x.at <= before)
      .sort((a, b) => a.at - b.at)
      .map((x) => copy(x.r));
  }

  async listAudit(requestId: string): Promise<AuditEvent[]> {
    return copy(this.audit.get(requestId) ?? []);
  }

  async readAuditPage(range: AuditRange): Promise<AuditPage> {
    // One page: the in-memory store is small.
    return {
      records: [...this.requests.values()]
        .filter((r) => r.createdAt <= range.to && (this.audit.get(r.id) ?? []).some((e) => e.at >= range.from))
        .map((r) => ({ request: copy(r), events: copy(this.audit.get(r.id) ?? []) })),
    };
  }

  async getLease(key: string): Promise<Lease | undefined> {
    const found = this.leases.get(key);
    return found ? copy(found) : undefined;
  }

  async putLease(lease: Lease, expectedVersion: number | undefined): Promise<void> {
    this.guarded('putLease', lease.key, lease, () => {
      const stored = this.leases.get(lease.key);
      if (expectedVersion === undefined ? stored !== undefined : stored?.version !== expectedVersion || stored.generation !== lease.generation) {
        throw new StoreConflictError(`lease ${lease.key} changed (expected ${lease.generation}@${String(expectedVersion)}, found ${String(stored?.generation)}@${String(stored?.version)})`);
      }
      this.leases.set(lease.key, copy(lease));
    });
  }

  async deleteLease(lease: Pick<Lease, 'key' | 'generation' | 'version'>): Promise<void> {
    this.guarded('deleteLease', lease.key, undefined, () => {
      const stored = this.leases.get(lease.key);
      if (stored?.version !== lease.version || stored.generation !== lease.generation) {
        throw new StoreConflictError(`lease ${lease.key} changed (expected ${lease.generation}@${lease.version}, found ${String(stored?.generation)}@${String(stored?.version)})`);
      }
      this.leases.delete(lease.key);
    });
  }

  async listLeases(): Promise<LeaseListing> {
    return { leases: [...this.leases.values()].map(copy), unreadable: [] };
  }

  private readonly locks = new Map<string, { owner: string; until: number }>();

  async tryLock(name: string, owner: string, until: number, now: number): Promise<boolean> {
    const held = this.locks.get(name);
    if (held && held.owner !== owner && held.until >= now) return false;
    this.locks.set(name, { owner, until });
    return true;
  }

  async unlock(name: string, owner: string): Promise<void> {
    if (this.locks.get(name)?.owner === owner) this.locks.delete(name);
  }

  // ---- for tests (outside the port)

  /** The store lost this request (a restore from an older backup), leases and audit untouched. */
  forgetRequest(id: string): void {
    this.requests.delete(id);
  }

  /** The table was replaced: nothing of before is left. */
  wipe(): void {
    this.requests.clear();
    this.leases.clear();
    this.audit.clear();
  }

  /** Puts an item in place as it is (no version check), for a state no use case can reach. */
  seedRequest(request: AccessRequest): void {
    this.requests.set(request.id, copy(request));
  }

  seedLease(lease: Lease): void {
    this.leases.set(lease.key, copy(lease));
  }

  leaseOf(target: ProvisionTarget): Lease | undefined {
    const found = this.leases.get(targetKey(target));
    return found ? copy(found) : undefined;
  }

  get leaseCount(): number {
    return this.leases.size;
  }

  /** The audit trail's event types, oldest first (optionally of one grant). */
  async auditTypes(requestId: string, grantId?: string): Promise<string[]> {
    return (await this.listAudit(requestId)).filter((e) => grantId === undefined || e.grantId === grantId).map((e) => e.type);
  }
}

// ---------------------------------------------------------------- the provisioner (IAM Identity Center)

export type Behaviour =
  | { kind: 'ok' }
  /** AWS reports the operation FAILED (accounts: after onStarted). */
  | { kind: 'failed'; reason: string }
  /** The call throws. With `afterApplying`, AWS did it (and, for accounts, onStarted ran) before the caller saw the error. */
  | { kind: 'throw'; error?: Error; afterApplying?: boolean }
  /** Accounts only: onStarted(id), then AssignmentStillInProgressError; completeOperation(id) finishes it later. */
  | { kind: 'in_progress' };

interface Scripted {
  op: 'create' | 'remove';
  match?: (target: ProvisionTarget) => boolean;
  behaviour: Behaviour;
  remaining: number;
}

interface Operation {
  id: string;
  kind: 'create' | 'delete';
  target: ProvisionTarget;
  status: OperationStatus;
}

export interface RemoveCall {
  target: ProvisionTarget;
  membershipId: string | undefined;
}

const sameTarget = (a: ProvisionTarget) => (b: ProvisionTarget) => targetKey(a) === targetKey(b);

/**
 * IAM Identity Center as the port sees it: account assignments per user (asynchronous, with
 * operation ids) and group memberships (synchronous, with membership ids). Scripted outcomes
 * apply to the next matching calls; everything else succeeds.
 */
export class FakeProvisioner implements Provisioner {
  private readonly users = new Map<string, string>();
  private readonly assignments = new Set<string>();
  /** membership id → the (user, group) it puts together */
  private readonly memberships = new Map<string, { principalId: string; groupId: string }>();
  private readonly operations = new Map<string, Operation>();
  private script: Scripted[] = [];
  private lookupFaults: Array<{ match: (t: ProvisionTarget) => boolean; error: Error }> = [];
  private seq = 0;
  readonly calls = {
    findUser: [] as string[],
    lookup: [] as ProvisionTarget[],
    create: [] as ProvisionTarget[],
    remove: [] as RemoveCall[],
    operationStatus: [] as string[],
  };

  constructor(users: Record<string, string> = {}) {
    for (const [email, id] of Object.entries(users)) this.users.set(email.toLowerCase(), id);
  }

  // ---- scripting

  /** The next `times` create calls (of `target`, if given) behave so. */
  onCreate(behaviour: Behaviour, options: { times?: number; target?: ProvisionTarget } = {}): void {
    this.script.push({ op: 'create', behaviour, remaining: options.times ?? 1, ...(options.target ? { match: sameTarget(options.target) } : {}) });
  }

  onRemove(behaviour: Behaviour, options: { times?: number; target?: ProvisionTarget } = {}): void {
    this.script.push({ op: 'remove', behaviour, remaining: options.times ?? 1, ...(options.target ? { match: sameTarget(options.target) } : {}) });
  }

  /** Looking `target` up throws (AWS unreachable for it) until cleared. */
  failLookups(target: ProvisionTarget, error = new Error('ThrottlingException: Rate exceeded')): void {
    this.lookupFaults.push({ match: sameTarget(target), error });
  }

  clearLookupFaults(): void {
    this.lookupFaults = [];
  }

  /** An operation left IN_PROGRESS finishes now; SUCCEEDED applies it. */
  completeOperation(id: string, status: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED'): void {
    const op = this.operations.get(id);
    if (!op) throw new Error(`no operation ${id}`);
    if (op.status !== 'IN_PROGRESS') throw new Error(`operation ${id} is already ${op.status}`);
    op.status = status;
    if (status === 'SUCCEEDED') this.apply(op.kind, op.target);
  }

  /** Operation ids by status, e.g. to find the one left IN_PROGRESS. */
  operationIds(status?: OperationStatus): string[] {
    return [...this.operations.values()].filter((o) => status === undefined || o.status === status).map((o) => o.id);
  }

  // ---- what an administrator does outside Timebox

  addUser(email: string, principalId: string): void {
    this.users.set(email.toLowerCase(), principalId);
  }

  /** A standing assignment or membership, made by an admin. Returns the membership id for a group. */
  adminAdd(target: ProvisionTarget): string | undefined {
    return this.apply('create', target);
  }

  adminRemove(target: ProvisionTarget): void {
    this.apply('delete', target);
  }

  has(target: ProvisionTarget): boolean {
    return this.find(target).present;
  }

  membershipIdOf(target: ProvisionTarget): string | undefined {
    return this.find(target).membershipId;
  }

  /** Every assignment and membership that exists, as target keys. */
  everything(): string[] {
    return [...this.assignments, ...[...this.memberships.values()].map((m) => `${m.principalId}|group|${m.groupId}`)].sort();
  }

  createsOf(target: ProvisionTarget): number {
    return this.calls.create.filter(sameTarget(target)).length;
  }

  removesOf(target: ProvisionTarget): RemoveCall[] {
    return this.calls.remove.filter((c) => sameTarget(target)(c.target));
  }

  // ---- Provisioner

  async findUserIdByEmail(email: string): Promise<string | undefined> {
    this.calls.findUser.push(email);
    return this.users.get(email.toLowerCase());
  }

  /** Identity Center groups by display name (for rules naming `group:<display name>`). */
  readonly groupIds = new Map<string, string>();

  async findGroupIdByName(displayName: string): Promise<string | undefined> {
    return this.groupIds.get(displayName);
  }

  async memberOfGroups(userId: string, groupIds: string[]): Promise<ReadonlySet<string>> {
    const wanted = new Set(groupIds);
    return new Set([...this.memberships.values()].filter((m) => m.principalId === userId && wanted.has(m.groupId)).map((m) => m.groupId));
  }

  async lookup(target: ProvisionTarget): Promise<{ present: boolean; membershipId?: string }> {
    this.calls.lookup.push(copy(target));
    const fault = this.lookupFaults.find((f) => f.match(target));
    if (fault) throw fault.error;
    return this.find(target);
  }

  async create(target: ProvisionTarget, hooks?: ProvisionHooks): Promise<ProvisionOutcome> {
    this.calls.create.push(copy(target));
    const behaviour = this.next('create', target);
    if (target.kind === 'group') {
      if (behaviour.kind === 'in_progress') throw new Error('group memberships are synchronous: in_progress does not apply');
      if (behaviour.kind === 'failed') return { ok: false, reason: behaviour.reason };
      if (behaviour.kind === 'throw') {
        if (behaviour.afterApplying) this.apply('create', target);
        throw behaviour.error ?? new Error('InternalServerException: create membership');
      }
      // Already a member: AWS answers with a conflict, and the adapter returns that membership.
      return { ok: true, membershipId: this.apply('create', target) as string };
    }
    return this.runOperation('create', target, behaviour, hooks);
  }

  async remove(target: ProvisionTarget, membershipId: string | undefined, hooks?: ProvisionHooks): Promise<ProvisionOutcome> {
    this.calls.remove.push({ target: copy(target), membershipId });
    const behaviour = this.next('remove', target);
    if (target.kind === 'group') {
      if (!membershipId) throw new Error(`removing group ${target.groupId} membership of ${target.principalId} needs its membership id`);
      if (behaviour.kind === 'in_progress') throw new Error('group memberships are synchronous: in_progress does not apply');
      if (behaviour.kind === 'failed') return { ok: false, reason: behaviour.reason };
      if (behaviour.kind === 'throw') {
        if (behaviour.afterApplying) this.memberships.delete(membershipId);
        throw behaviour.error ?? new Error('InternalServerException: delete membership');
      }
      // Exactly that membership; one that is gone already is fine (ResourceNotFound = ok).
      this.memberships.delete(membershipId);
      return { ok: true };
    }
    return this.runOperation('delete', target, behaviour, hooks);
  }

  async operationStatus(kind: 'create' | 'delete', operationId: string): Promise<OperationStatus> {
    this.calls.operationStatus.push(operationId);
    const op = this.operations.get(operationId);
    if (!op || op.kind !== kind) throw new Error(`ResourceNotFoundException: no ${kind} operation ${operationId}`);
    return op.status;
  }

  // ---- inside

  private next(op: 'create' | 'remove', target: ProvisionTarget): Behaviour {
    const found = this.script.find((s) => s.op === op && s.remaining > 0 && (!s.match || s.match(target)));
    if (!found) return { kind: 'ok' };
    found.remaining--;
    this.script = this.script.filter((s) => s.remaining > 0);
    return found.behaviour;
  }

  private async runOperation(kind: 'create' | 'delete', target: ProvisionTarget, behaviour: Behaviour, hooks?: ProvisionHooks): Promise<ProvisionOutcome> {
    if (behaviour.kind === 'throw' && !behaviour.afterApplying) {
      // Refused before AWS accepted anything: no operation id.
      throw behaviour.error ?? new Error(`AccessDeniedException: ${kind} account assignment`);
    }
    const id = `op-${kind}-${++this.seq}`;
    const op: Operation = { id, kind, target: copy(target), status: 'IN_PROGRESS' };
    this.operations.set(id, op);
    try {
      await hooks?.onStarted?.(id);
    } catch (err) {
      // AWS has accepted the operation; it goes on whatever happens to the caller.
      if (behaviour.kind === 'failed') op.status = 'FAILED';
      else if (behaviour.kind !== 'in_progress') {
        op.status = 'SUCCEEDED';
        this.apply(kind, target);
      }
      throw err;
    }
    switch (behaviour.kind) {
      case 'in_progress':
        throw new AssignmentStillInProgressError(id);
      case 'failed':
        op.status = 'FAILED';
        return { ok: false, reason: behaviour.reason };
      case 'throw':
        op.status = 'SUCCEEDED';
        this.apply(kind, target);
        throw behaviour.error ?? new Error(`ThrottlingException: polling ${id}`);
      case 'ok':
        op.status = 'SUCCEEDED';
        this.apply(kind, target);
        return { ok: true };
    }
  }

  private find(target: ProvisionTarget): { present: boolean; membershipId?: string } {
    if (target.kind === 'account') return { present: this.assignments.has(targetKey(target)) };
    for (const [id, m] of this.memberships) {
      if (m.principalId === target.principalId && m.groupId === target.groupId) return { present: true, membershipId: id };
    }
    return { present: false };
  }

  /** Makes it so; for a group create, returns the membership id (the existing one if already a member). */
  private apply(kind: 'create' | 'delete', target: ProvisionTarget): string | undefined {
    if (target.kind === 'account') {
      if (kind === 'create') this.assignments.add(targetKey(target));
      else this.assignments.delete(targetKey(target));
      return undefined;
    }
    const existing = this.find(target).membershipId;
    if (kind === 'delete') {
      if (existing) this.memberships.delete(existing);
      return undefined;
    }
    if (existing) return existing;
    const id = `m-${++this.seq}`;
    this.memberships.set(id, { principalId: target.principalId, groupId: target.groupId });
    return id;
  }
}

// ---------------------------------------------------------------- jobs

/** Records every dispatch; runs them through advanceRequest only when a test says so. */
export class RecordingJobQueue implements JobQueue {
  readonly dispatched: AdvanceJob[] = [];
  private pending: AdvanceJob[] = [];
  private failures = 0;
  private deps: WorkflowDeps | undefined;

  bind(deps: WorkflowDeps): void {
    this.deps = deps;
  }

  /** The next `times` dispatches throw (the Lambda invoke failed). */
  failNext(times = 1): void {
    this.failures += times;
  }

  async dispatch(job: AdvanceJob): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('could not dispatch (injected)');
    }
    this.dispatched.push(copy(job));
    this.pending.push(copy(job));
  }

  get pendingJobs(): AdvanceJob[] {
    return this.pending.map(copy);
  }

  /** Forgets the jobs not run yet (a lost invoke). */
  dropPending(): void {
    this.pending = [];
  }

  /** Runs every pending job (and any they dispatch) through the worker, in order; returns how many ran. */
  async runPending(): Promise<number> {
    if (!this.deps) throw new Error('RecordingJobQueue is not bound to deps');
    let ran = 0;
    while (this.pending.length > 0) {
      const job = this.pending.shift() as AdvanceJob;
      await advanceRequest(this.deps, job);
      if (++ran > 1000) throw new Error('jobs keep dispatching jobs');
    }
    return ran;
  }
}

export interface ScheduleCall {
  op: 'scheduleAt' | 'cancel';
  job: AdvanceJob;
  at?: number;
}

/** Records scheduleAt and cancel; keeps one schedule per request (a new time replaces the old). */
export class RecordingScheduler implements JobScheduler {
  readonly calls: ScheduleCall[] = [];
  private readonly armed = new Map<string, { job: AdvanceJob; at: number }>();
  private failures = 0;

  failNext(times = 1): void {
    this.failures += times;
  }

  async scheduleAt(job: AdvanceJob, at: number): Promise<void> {
    this.calls.push({ op: 'scheduleAt', job: copy(job), at });
    if (this.failures > 0) {
      this.failures--;
      throw new Error('scheduler unavailable (injected)');
    }
    this.armed.set(job.requestId, { job: copy(job), at });
  }

  async cancel(job: AdvanceJob): Promise<void> {
    this.calls.push({ op: 'cancel', job: copy(job) });
    this.armed.delete(job.requestId);
  }

  /** The schedule armed for a request now, if any. */
  armedFor(requestId: string): { job: AdvanceJob; at: number } | undefined {
    const found = this.armed.get(requestId);
    return found ? copy(found) : undefined;
  }

  /** The jobs due at `now`, taken off (as a scheduler firing them would). */
  takeDue(now: number): AdvanceJob[] {
    const due = [...this.armed.values()].filter((a) => a.at <= now).sort((a, b) => a.at - b.at);
    for (const a of due) this.armed.delete(a.job.requestId);
    return due.map((a) => copy(a.job));
  }
}

// ---------------------------------------------------------------- Slack

export class InMemoryDirectory implements UserDirectory {
  private readonly people = new Map<string, SlackPerson>();
  constructor(people: SlackPerson[] = []) {
    for (const p of people) this.people.set(p.slackUserId, p);
  }
  add(person: SlackPerson): void {
    this.people.set(person.slackUserId, person);
  }
  async lookup(slackUserId: string): Promise<SlackPerson | undefined> {
    const found = this.people.get(slackUserId);
    return found ? copy(found) : undefined;
  }
  async findByEmail(email: string): Promise<string | undefined> {
    return [...this.people.values()].find((p) => p.email?.toLowerCase() === email.toLowerCase() && !p.deleted)?.slackUserId;
  }
  /** Slack user groups by `@handle` or id, with their members. */
  readonly userGroups = new Map<string, Set<string>>();
  async userGroupMembers(group: string): Promise<ReadonlySet<string> | undefined> {
    // By `@handle`, or by the id userGroupId gives it.
    const members = this.userGroups.get(group) ?? [...this.userGroups].find(([handle]) => `S${handle.slice(1).toUpperCase()}` === group)?.[1];
    return members ? new Set(members) : undefined;
  }
  async userGroupId(group: string): Promise<string | undefined> {
    return group.startsWith('@') ? (this.userGroups.has(group) ? `S${group.slice(1).toUpperCase()}` : undefined) : group;
  }
}

export interface Sent {
  ref: MessageRef;
  /** The request as it was when it was sent (a copy). */
  request: AccessRequest;
}

type NotifierMethod = 'postToApprovers' | 'updateApproverMessage' | 'postToApproverDm' | 'remindApprovers' | 'tellRequester' | 'closeActiveDm' | 'warnBeforeEnd' | 'postBreakGlassAlert';

/** Records every post, update, DM and closed DM; any method can be made to fail (or say the message is gone). */
export class RecordingNotifier implements Notifier {
  readonly posts: Sent[] = [];
  readonly updates: Sent[] = [];
  readonly dms: Sent[] = [];
  /** Approval copies in approvers' DMs, and reminders in approval messages' threads. */
  readonly approverDms: Sent[] = [];
  readonly reminders: Sent[] = [];
  readonly closedDms: Sent[] = [];
  readonly alerts: string[] = [];
  /** Warnings that a window ends soon (the Extend DM). */
  readonly warnings: Sent[] = [];
  private readonly failures = new Map<NotifierMethod, Array<{ error: Error; remaining: number }>>();
  private seq = 0;

  /** The next `times` calls of `method` throw `error` ('gone': MessageGoneError). */
  fail(method: NotifierMethod, error: Error | 'gone' = new Error('slack_webapi_platform_error: ratelimited'), times = 1): void {
    const list = this.failures.get(method) ?? [];
    list.push({ error: error === 'gone' ? new MessageGoneError('message_not_found') : error, remaining: times });
    this.failures.set(method, list);
  }

  /** Slack works again. */
  heal(): void {
    this.failures.clear();
  }

  private check(method: NotifierMethod): void {
    const list = this.failures.get(method) ?? [];
    const next = list.find((f) => f.remaining > 0);
    if (!next) return;
    next.remaining--;
    throw next.error;
  }

  private ts(): string {
    return `1700000000.${String(++this.seq).padStart(6, '0')}`;
  }

  async postToApprovers(request: AccessRequest, _deciders?: Deciders, channel = 'C_APPROVALS'): Promise<MessageRef> {
    this.check('postToApprovers');
    const ref = { channel, ts: this.ts() };
    this.posts.push({ ref, request: copy(request) });
    return copy(ref);
  }

  async updateApproverMessage(ref: MessageRef, request: AccessRequest): Promise<void> {
    this.check('updateApproverMessage');
    this.updates.push({ ref: copy(ref), request: copy(request) });
  }

  async postToApproverDm(slackUserId: string, request: AccessRequest): Promise<MessageRef> {
    this.check('postToApproverDm');
    const ref = { channel: `D_${slackUserId}`, ts: this.ts() };
    this.approverDms.push({ ref, request: copy(request) });
    return copy(ref);
  }

  async remindApprovers(ref: MessageRef, request: AccessRequest): Promise<MessageRef> {
    this.check('remindApprovers');
    this.reminders.push({ ref: copy(ref), request: copy(request) });
    return { channel: ref.channel, ts: this.ts() };
  }

  async tellRequester(request: AccessRequest): Promise<MessageRef> {
    this.check('tellRequester');
    const ref = { channel: `D_${request.requester.slackUserId}`, ts: this.ts() };
    this.dms.push({ ref, request: copy(request) });
    return copy(ref);
  }

  async warnBeforeEnd(request: AccessRequest): Promise<MessageRef> {
    this.check('warnBeforeEnd');
    const ref = { channel: `D_${request.requester.slackUserId}`, ts: this.ts() };
    this.warnings.push({ ref, request: copy(request) });
    return copy(ref);
  }

  async alertApprovers(text: string): Promise<void> {
    this.alerts.push(text);
  }

  readonly breakGlassAlerts: Array<{ to: AlertDestination; alert: BreakGlassAlert }> = [];

  async postBreakGlassAlert(to: AlertDestination, alert: BreakGlassAlert): Promise<MessageRef> {
    this.check('postBreakGlassAlert');
    this.breakGlassAlerts.push({ to: copy(to), alert: copy(alert) });
    return { channel: to.kind === 'dm' ? `D_${to.slackUserId}` : 'C_ALERTS', ts: this.ts() };
  }

  async closeActiveDm(ref: MessageRef, request: AccessRequest): Promise<void> {
    this.check('closeActiveDm');
    this.closedDms.push({ ref: copy(ref), request: copy(request) });
  }

  /** What each DM said, as the grants' statuses ("1=ACTIVE,2=PENDING"). */
  dmStatuses(): string[] {
    return this.dms.map((d) => d.request.grants.map((g) => `${g.id}=${g.status}`).join(','));
  }
}

// ---------------------------------------------------------------- policy and people

export const T0 = Date.UTC(2025, 5, 2, 9, 0, 0);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export const ACCOUNTS = {
  staging: { name: 'staging', id: '111111111111' },
  prod: { name: 'production', id: '222222222222' },
} as const;

export const PERMISSION_SETS = {
  ReadOnly: { name: 'ReadOnly', arn: 'arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111' },
  Admin: { name: 'Admin', arn: 'arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222' },
} as const;

export const GROUPS = { oncall: { name: 'oncall', id: 'g-0000-oncall' } } as const;

export const REQUESTER: SlackPerson = { slackUserId: 'U0REQUEST1', email: 'dana@example.com', name: 'Dana' };
export const ALICE: SlackPerson = { slackUserId: 'U0ALICE001', email: 'alice@example.com', name: 'Alice' };
export const BOB: SlackPerson = { slackUserId: 'U0BOB00001', email: 'bob@example.com', name: 'Bob' };
export const CAROL: SlackPerson = { slackUserId: 'U0CAROL001', email: 'carol@example.com', name: 'Carol' };
export const MALLORY: SlackPerson = { slackUserId: 'U0MALLORY1', email: 'mallory@example.com', name: 'Mallory' };
/** Dana's Identity Center user id. */
export const PRINCIPAL = 'idc-user-dana';

export function rule(overrides: Partial<Rule> & Pick<Rule, 'name'>): Rule {
  return {
    accountIds: [],
    permissionSets: [],
    groups: [],
    requesters: ['*'],
    approvers: [],
    approvalsRequired: 1,
    allowSelfApproval: false,
    autoApprove: false,
    maxDurationMs: 8 * HOUR,
    ...overrides,
  };
}

/** Staging ReadOnly is granted at once; anything else on an account needs one of Alice or Bob; the oncall group needs Alice. */
export const AUTO_RULE = rule({ name: 'staging-readonly', accountIds: [ACCOUNTS.staging.id], permissionSets: ['ReadOnly'], autoApprove: true, approvalsRequired: 0 });
export const APPROVAL_RULE = rule({ name: 'any-account', accountIds: ['*'], permissionSets: ['*'], approvers: [ALICE.email as string, BOB.slackUserId] });
export const GROUP_RULE = rule({ name: 'oncall-group', groups: ['oncall'], approvers: [ALICE.email as string] });

export function makePolicy(overrides: Partial<Policy> = {}): Policy {
  return {
    catalogue: staticCatalogue(snapshotOf({ accounts: Object.values(ACCOUNTS), permissionSets: Object.values(PERMISSION_SETS), groups: Object.values(GROUPS) })),
    limits: { maxGrantsPerRequest: 4, maxPendingPerRequester: 20 },
    allowGuests: false,
    durations: { defaultMs: HOUR, minMs: 5 * MINUTE, pendingExpiryMs: 24 * HOUR },
    rules: [AUTO_RULE, APPROVAL_RULE, GROUP_RULE],
    ...overrides,
  };
}

export function accountTarget(account: keyof typeof ACCOUNTS, permissionSet: keyof typeof PERMISSION_SETS, principalId = PRINCIPAL): ProvisionTarget {
  return { kind: 'account', principalId, accountId: ACCOUNTS[account].id, permissionSetArn: PERMISSION_SETS[permissionSet].arn };
}

export function groupTarget(group: keyof typeof GROUPS = 'oncall', principalId = PRINCIPAL): ProvisionTarget {
  return { kind: 'group', principalId, groupId: GROUPS[group].id };
}

/**
 * A catalogue a test refreshes by hand: `swap` stands for a discovery refresh (the next
 * `current()` returns the new snapshot), as the discovering catalogue's refresh does.
 */
export class SwappableCatalogue implements Catalogue {
  constructor(private snapshot: CatalogueSnapshot) {}
  current(): CatalogueSnapshot {
    return this.snapshot;
  }
  swap(snapshot: CatalogueSnapshot): void {
    this.snapshot = snapshot;
  }
}

// ---------------------------------------------------------------- wiring

export interface TestWorld {
  deps: WorkflowDeps;
  store: InMemoryRequestStore;
  provisioner: FakeProvisioner;
  queue: RecordingJobQueue;
  scheduler: RecordingScheduler;
  directory: InMemoryDirectory;
  notifier: RecordingNotifier;
  clock: ManualClock;
  logger: SilentLogger;
}

export type DepsOverrides = Partial<Omit<WorkflowDeps, 'options'>> & { options?: Partial<WorkflowOptions> };

/**
 * WorkflowDeps over fresh in-memory ports: the policy above, Dana (the requester, with an
 * Identity Center user), Alice, Bob, Carol and Mallory in the directory, a clock at T0 that
 * `sleep` moves on. The world's fields are the default fakes; an override replaces one in
 * `deps` only.
 */
export function makeDeps(overrides: DepsOverrides = {}): TestWorld {
  const store = new InMemoryRequestStore();
  const provisioner = new FakeProvisioner({ [REQUESTER.email as string]: PRINCIPAL });
  const queue = new RecordingJobQueue();
  const scheduler = new RecordingScheduler();
  const directory = new InMemoryDirectory([REQUESTER, ALICE, BOB, CAROL, MALLORY]);
  const notifier = new RecordingNotifier();
  const clock = new ManualClock(T0);
  const logger = new SilentLogger();
  let ids = 0;
  let generations = 0;
  const keyed = new Map<string, string>();
  const { options, ...rest } = overrides;
  const deps: WorkflowDeps = {
    policy: makePolicy(),
    store,
    provisioner,
    permissionSets: new FakePermissionSets(),
    queue,
    scheduler,
    directory,
    notifier,
    alarms: new LoggedAlarms(logger, notifier),
    clock,
    logger,
    newRequestId: () => `R-${String(++ids).padStart(10, '0')}`,
    newGeneration: () => `gen-${++generations}`,
    sha256: sha256Hex,
    requestIdFor: (key) => {
      if (!keyed.has(key)) keyed.set(key, `R-K${String(keyed.size + 1).padStart(9, '0')}`);
      return keyed.get(key) as string;
    },
    // Waiting is the clock moving on.
    sleep: async (ms) => clock.advance(ms),
    ...rest,
    options: { ...DEFAULT_WORKFLOW_OPTIONS, ...options },
  };
  queue.bind(deps);
  return { deps, store, provisioner, queue, scheduler, directory, notifier, clock, logger };
}

// ---------------------------------------------------------------- scenario helpers

/** "1=ACTIVE,2=PENDING": a request's grants at a glance. */
export function grantStatuses(request: Pick<AccessRequest, 'grants'>): string {
  return request.grants.map((g) => `${g.id}=${g.status}`).join(',');
}

/** The stored request; fails the test if there is none. */
export async function stored(world: TestWorld, requestId: string): Promise<AccessRequest> {
  const found = await world.store.getRequest(requestId);
  if (!found) throw new Error(`the store has no request ${requestId}`);
  return found;
}

/** Time passes; every schedule that comes due fires (through the worker), as EventBridge Scheduler would. */
export async function passTime(world: TestWorld, ms: number): Promise<void> {
  world.clock.advance(ms);
  for (const job of world.scheduler.takeDue(world.clock.now())) await advanceRequest(world.deps, job);
}

export interface AskOptions {
  durationMs?: number;
  reason?: string;
  idempotencyKey?: string;
  /** Slack user id of the requester; Dana by default. */
  by?: string;
}

/** Dana files a request for accounts × permission sets (names as typed); the worker has not run yet. */
export function askForAccounts(world: TestWorld, accounts: string[], permissionSets: string[], options: AskOptions = {}): Promise<AccessRequest> {
  return submitRequest(world.deps, {
    requesterSlackUserId: options.by ?? REQUESTER.slackUserId,
    spec: { kind: 'account', accounts, permissionSets },
    durationMs: options.durationMs ?? HOUR,
    reason: options.reason ?? 'investigating INC-1234',
    ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
  }).then((filed) => filed.request);
}

export function askForGroups(world: TestWorld, groups: string[], options: AskOptions = {}): Promise<AccessRequest> {
  return submitRequest(world.deps, {
    requesterSlackUserId: options.by ?? REQUESTER.slackUserId,
    spec: { kind: 'group', groups },
    durationMs: options.durationMs ?? HOUR,
    reason: options.reason ?? 'on call this week',
    ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
  }).then((filed) => filed.request);
}

/** True when `expected` appears in `actual` in this order (other entries may come between). */
export function inOrder(actual: readonly string[], expected: readonly string[]): boolean {
  let i = 0;
  for (const a of actual) if (a === expected[i]) i++;
  return i === expected.length;
}

/** staging ReadOnly (auto-approved) filed and worked on until the worker is idle; its request id. */
export async function fileStagingReadOnly(world: TestWorld, durationMs = HOUR): Promise<string> {
  const filed = await askForAccounts(world, ['staging'], ['ReadOnly'], { durationMs });
  await world.queue.runPending();
  return filed.id;
}

/** fileStagingReadOnly, which must have gone ACTIVE. */
export async function activeStagingReadOnly(world: TestWorld, durationMs = HOUR): Promise<string> {
  const id = await fileStagingReadOnly(world, durationMs);
  const statuses = grantStatuses(await stored(world, id));
  if (statuses !== '1=ACTIVE') throw new Error(`staging ReadOnly is ${statuses}, not 1=ACTIVE`);
  return id;
}

/** oncall membership filed, approved by alice, and worked on; it must have gone ACTIVE. */
export async function activeOncall(world: TestWorld, durationMs = HOUR): Promise<string> {
  const filed = await askForGroups(world, ['oncall'], { durationMs });
  await world.queue.runPending();
  await decideRequest(world.deps, { requestId: filed.id, decision: 'approve', clickerSlackUserId: ALICE.slackUserId });
  await world.queue.runPending();
  const statuses = grantStatuses(await stored(world, filed.id));
  if (statuses !== '1=ACTIVE') throw new Error(`oncall is ${statuses}, not 1=ACTIVE`);
  return filed.id;
}

/** A store whose getRequest calls wait until released, so a test sees who is let through, in which order. */
export function heldStore() {
  const store = new InMemoryRequestStore();
  const started: string[] = [];
  const releases: Array<() => void> = [];
  store.getRequest = (id: string) => {
    started.push(id);
    return new Promise((resolve) => releases.push(() => resolve(undefined)));
  };
  const releaseOne = async () => {
    releases.shift()?.();
    // Let the released call finish and the next one start.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { store, started, releases, releaseOne };
}
