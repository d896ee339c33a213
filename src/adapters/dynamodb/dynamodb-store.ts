import { ConditionalCheckFailedException, ResourceNotFoundException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AccessRequest } from '../../domain/access-request';
import { LEGACY_GENERATION, type Lease } from '../../domain/lease';
import type { AuditEvent } from '../../domain/audit';
import { StoreConflictError, type AuditCursor, type AuditPage, type AuditRange, type AuditRecord, type LeaseListing, type Store } from '../../app/ports';
import { AUDIT_PAGE_EVENTS, eventsOnPages, joinAuditLog, readAuditLog, readLease, readRequest, toStoredAuditPage, toStoredLease, toStoredLock, toStoredRequest } from './stored-records';
import { AUDIT_FROM_START_ATTRIBUTE, AUDIT_INDEX, AUDIT_ITEMS_PREFIX, AUDIT_LOG_ATTRIBUTE, DUE_INDEX, REQUESTER_INDEX, leaseItemKey, lockItemKey, requestKey } from './table-layout';

/** Request items per page of an audit read: each holds its whole log, so pages stay small and memory flat. */
const AUDIT_PAGE = 100;

/**
 * The condition that a write or delete lands on the same lifetime of a lease, at the version read.
 * Items written before generations (schema versions 1 and 2) have no generation attribute: only
 * they match LEGACY_GENERATION, and a lease created since always carries its own.
 */
function sameLease(generation: string, version: number) {
  return generation === LEGACY_GENERATION
    ? { ConditionExpression: 'version = :v AND (attribute_not_exists(generation) OR generation = :g)', ExpressionAttributeValues: { ':v': version, ':g': generation } }
    : { ConditionExpression: 'version = :v AND generation = :g', ExpressionAttributeValues: { ':v': version, ':g': generation } };
}

/**
 * The one store (requests, audit log and leases in one table): single-item conditional writes
 * only, so it runs on dynalite and on DynamoDB alike. I/O only: what an item holds (keys, due
 * time, index attributes) is the mapper's (toStored* and read* in stored-records.ts).
 */
export class DynamoDbStore implements Store {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    /** Told about an item the sweep had to skip because no schema version could read it. */
    private readonly onUnreadable?: (err: unknown) => void,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async createRequest(request: AccessRequest): Promise<void> {
    // The request and its first audit events: one item, one write.
    const item = { ...toStoredRequest(request), [AUDIT_LOG_ATTRIBUTE]: request.lastEvents ?? [], [AUDIT_FROM_START_ATTRIBUTE]: true };
    await this.conditional(`request ${request.id} exists`, () => this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })));
  }

  async getRequest(id: string): Promise<AccessRequest | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: requestKey(id), ConsistentRead: true }));
    return out.Item ? readRequest(out.Item) : undefined;
  }

  async saveRequest(request: AccessRequest): Promise<AccessRequest> {
    const next = { ...request, version: request.version + 1 };
    const appended = next.lastEvents ?? [];
    const count = next.auditHead?.count ?? 0;
    // The write that takes the chain past a page boundary first moves the item's oldest events to
    // a page (see eventsOnPages), so the item never nears DynamoDB's 400 KB limit.
    const moving = eventsOnPages(count) - eventsOnPages(count - appended.length);
    const log: { replaceWith?: AuditEvent[] } = moving > 0 ? { replaceWith: await this.pageOut(request, moving) } : {};
    // One conditional update: every attribute of the request is set (or removed, when the mapper
    // says the item must not have it), and the write's events are appended to the audit log, so
    // the change and its record land together or not at all. The log is only ever appended to,
    // but for the events a page already holds, dropped from its front by a write conditional on
    // the version that page was cut from.
    const { pk: _pk, sk: _sk, ...attributes } = toStoredRequest(next);
    const names: Record<string, string> = { '#log': AUDIT_LOG_ATTRIBUTE };
    const values: Record<string, unknown> = { ':v': request.version, ...(log.replaceWith ? { ':log': log.replaceWith } : { ':appended': appended, ':none': [] }) };
    const sets = [log.replaceWith ? '#log = :log' : '#log = list_append(if_not_exists(#log, :none), :appended)'];
    const removes: string[] = [];
    Object.entries(attributes).forEach(([name, value], i) => {
      names[`#a${i}`] = name;
      if (value === undefined) removes.push(`#a${i}`);
      else {
        values[`:a${i}`] = value;
        sets.push(`#a${i} = :a${i}`);
      }
    });
    await this.conditional(`request ${request.id} changed since version ${request.version}`, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: requestKey(request.id),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: '#version = :v',
          ExpressionAttributeNames: { ...names, '#version': 'version' },
          ExpressionAttributeValues: values,
        }),
      ),
    );
    return next;
  }

  /**
   * Puts the oldest `moving` events of the request's log (as stored at `request.version`, then
   * this write's) on pages of their own, before the write that drops them from the item: a crash
   * or a lost race in between leaves them twice (readers keep each once), never nowhere. A page
   * is keyed by its first event, so a retry of the same write puts the same page (already there:
   * left as it is). Returns what the item's log is to hold after the write.
   */
  private async pageOut(request: AccessRequest, moving: number): Promise<AuditEvent[]> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: requestKey(request.id), ConsistentRead: true, ProjectionExpression: '#log, #version', ExpressionAttributeNames: { '#log': AUDIT_LOG_ATTRIBUTE, '#version': 'version' } }),
    );
    if (out.Item?.version !== request.version) throw new StoreConflictError(`request ${request.id} changed since version ${request.version}`);
    const all = [...readAuditLog(out.Item), ...(request.lastEvents ?? [])];
    for (let start = 0; start < moving; start += AUDIT_PAGE_EVENTS) {
      const page = toStoredAuditPage(request.id, all.slice(start, Math.min(start + AUDIT_PAGE_EVENTS, moving)));
      try {
        await this.doc.send(new PutCommand({ TableName: this.tableName, Item: page, ConditionExpression: 'attribute_not_exists(pk)' }));
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    }
    return all.slice(moving);
  }

  async listDue(before: number): Promise<AccessRequest[]> {
    // Every page: however many requests are due for news, an overdue window is among them.
    const items = await this.queryAll({ IndexName: DUE_INDEX.name, KeyConditionExpression: 'dueKey = :k AND dueAt <= :t', ExpressionAttributeValues: { ':k': DUE_INDEX.value, ':t': before } });
    // One unreadable item must not hide every other due request from the sweep: it is logged and skipped.
    const requests: AccessRequest[] = [];
    for (const item of items) {
      try {
        requests.push(readRequest(item));
      } catch (err) {
        this.onUnreadable?.(err);
      }
    }
    return requests;
  }

  async countAwaitingApproval(requesterSlackUserId: string, filedSince: number): Promise<number> {
    try {
      return await this.countAll({
        ExpressionAttributeNames: { '#a': REQUESTER_INDEX.awaitingApproval },
        FilterExpression: 'attribute_exists(#a)',
        IndexName: REQUESTER_INDEX.name,
        KeyConditionExpression: `${REQUESTER_INDEX.partitionKey} = :r AND ${REQUESTER_INDEX.sortKey} >= :t`,
        ExpressionAttributeValues: { ':r': requesterSlackUserId, ':t': filedSince },
      });
    } catch (err) {
      if (!isMissingIndex(err)) throw err;
      // A table from before the index (dynalite cannot add one to an existing table) or one whose
      // new index DynamoDB is still building: a request waiting for approval is due (its expiry),
      // so the open requests hold every one of them. Items written before the index have no
      // awaitingApproval mark; their stored status says PENDING instead.
      return this.countAll({
        IndexName: DUE_INDEX.name,
        KeyConditionExpression: 'dueKey = :k',
        FilterExpression: '#r.#q.#s = :r AND #r.createdAt >= :t AND (attribute_exists(#a) OR #st = :p)',
        ExpressionAttributeNames: { '#r': 'request', '#q': 'requester', '#s': 'slackUserId', '#st': 'status', '#a': REQUESTER_INDEX.awaitingApproval },
        ExpressionAttributeValues: { ':k': DUE_INDEX.value, ':r': requesterSlackUserId, ':t': filedSince, ':p': 'PENDING' },
      });
    }
  }

  // ---- RequestReads (App Home, /aws-access list)

  async listByRequester(slackUserId: string, limit: number): Promise<AccessRequest[]> {
    try {
      const items = await this.queryAll(
        {
          IndexName: REQUESTER_INDEX.name,
          KeyConditionExpression: `${REQUESTER_INDEX.partitionKey} = :r`,
          ExpressionAttributeValues: { ':r': slackUserId },
          ScanIndexForward: false,
          Limit: limit,
        },
        limit,
      );
      return this.readable(items);
    } catch (err) {
      if (!isMissingIndex(err)) throw err;
      // A table from before the index (see countAwaitingApproval): the open requests, which hold
      // everything the person can still act on.
      const items = await this.queryAll({
        IndexName: DUE_INDEX.name,
        KeyConditionExpression: 'dueKey = :k',
        FilterExpression: '#r.#q.#s = :r',
        ExpressionAttributeNames: { '#r': 'request', '#q': 'requester', '#s': 'slackUserId' },
        ExpressionAttributeValues: { ':k': DUE_INDEX.value, ':r': slackUserId },
      });
      return this.readable(items)
        .sort((a, b) => b.createdAt - a.createdAt)
        .slice(0, limit);
    }
  }

  async listAwaitingApproval(limit: number): Promise<AccessRequest[]> {
    const items = await this.queryAll(
      {
        IndexName: DUE_INDEX.name,
        KeyConditionExpression: 'dueKey = :k',
        FilterExpression: 'attribute_exists(#a) OR #st = :p',
        ExpressionAttributeNames: { '#a': REQUESTER_INDEX.awaitingApproval, '#st': 'status' },
        ExpressionAttributeValues: { ':k': DUE_INDEX.value, ':p': 'PENDING' },
      },
      limit,
    );
    return this.readable(items).filter((r) => r.grants.some((g) => g.status === 'PENDING'));
  }

  /** The items no schema version can read are reported and left out, as the sweep does. */
  private readable(items: Record<string, unknown>[]): AccessRequest[] {
    const requests: AccessRequest[] = [];
    for (const item of items) {
      try {
        requests.push(readRequest(item));
      } catch (err) {
        this.onUnreadable?.(err);
      }
    }
    return requests;
  }

  async listAudit(requestId: string): Promise<AuditEvent[]> {
    const items = await this.queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': requestKey(requestId).pk }, ConsistentRead: true });
    const request = items.find((item) => item.sk === requestKey(requestId).sk);
    return joinAuditLog(
      items.filter((item) => String(item.sk).startsWith(AUDIT_ITEMS_PREFIX)),
      request,
    );
  }

  /**
   * A request's whole log, from its item and (only when it may have any) the items of its
   * partition that hold events: its pages, and its events from before the chain.
   */
  private async wholeLog(item: Record<string, unknown>, request: AccessRequest): Promise<AuditEvent[]> {
    const onItem = readAuditLog(item);
    if (item[AUDIT_FROM_START_ATTRIBUTE] === true && (request.auditHead?.count ?? 0) <= onItem.length) return onItem;
    const auditItems = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :audit)',
      ExpressionAttributeValues: { ':pk': requestKey(request.id).pk, ':audit': AUDIT_ITEMS_PREFIX },
      ConsistentRead: true,
    });
    return joinAuditLog(auditItems, item);
  }

  async readAuditPage(range: AuditRange, cursor?: AuditCursor): Promise<AuditPage> {
    // A request whose last event is at or after `from`, filed by `to`, may hold events in range.
    const { scan, legacy, ...start } = cursor ?? {};
    const names = { '#at': AUDIT_INDEX.sortKey, '#filed': REQUESTER_INDEX.sortKey };
    const values = { ':from': range.from, ':to': range.to };
    let out: { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> } | undefined;
    let scanning = scan === true;
    const exclusiveStart = Object.keys(start).length ? start : undefined;
    if (legacy === true) return this.readLegacyAuditPage(range, exclusiveStart);
    if (!scanning) {
      try {
        out = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: AUDIT_INDEX.name,
            KeyConditionExpression: '#k = :k AND #at >= :from',
            FilterExpression: '#filed <= :to',
            ExpressionAttributeNames: { ...names, '#k': AUDIT_INDEX.partitionKey },
            ExpressionAttributeValues: { ...values, ':k': AUDIT_INDEX.value },
            Limit: AUDIT_PAGE,
            ExclusiveStartKey: exclusiveStart,
          }),
        );
      } catch (err) {
        // A table from before the index (dynalite cannot add one to an existing table): read it all, once.
        if (!isMissingIndex(err) || exclusiveStart) throw err;
        scanning = true;
      }
    }
    if (scanning) {
      out = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'kind = :kind AND (#at >= :from OR attribute_not_exists(#at))',
          ExpressionAttributeNames: { '#at': AUDIT_INDEX.sortKey },
          ExpressionAttributeValues: { ':from': range.from, ':kind': 'request' },
          Limit: AUDIT_PAGE,
          ExclusiveStartKey: exclusiveStart,
        }),
      );
    }
    const page = out!;
    const records = await this.auditRecordsOf(page.Items ?? [], range);
    if (page.LastEvaluatedKey) return { records, next: { ...page.LastEvaluatedKey, ...(scanning ? { scan: true } : {}) } };
    // The index holds every request written since the chain; those written only before it (never
    // since) are not in it: after the index, one pass over the table finds them (the scan above
    // already did).
    return scanning ? { records } : { records, next: { legacy: true } };
  }

  /** Requests from before the chain that no write has touched since (not in the audit index), with their events in range. */
  private async readLegacyAuditPage(range: AuditRange, exclusiveStart: Record<string, unknown> | undefined): Promise<AuditPage> {
    const out = await this.doc.send(
      new ScanCommand({
        TableName: this.tableName,
        FilterExpression: 'kind = :kind AND attribute_not_exists(#k)',
        ExpressionAttributeNames: { '#k': AUDIT_INDEX.partitionKey },
        ExpressionAttributeValues: { ':kind': 'request' },
        Limit: AUDIT_PAGE,
        ExclusiveStartKey: exclusiveStart,
      }),
    );
    const records = await this.auditRecordsOf(out.Items ?? [], range);
    return { records, ...(out.LastEvaluatedKey ? { next: { ...out.LastEvaluatedKey, legacy: true } } : {}) };
  }

  /** Each request item with its whole log, when the log has an event in range and the request was filed by its end. */
  private async auditRecordsOf(items: Record<string, unknown>[], range: AuditRange): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    for (const item of items) {
      if (item.kind !== 'request') continue;
      const request = readRequest(item);
      if (request.createdAt > range.to) continue;
      const events = await this.wholeLog(item, request);
      if (events.some((e) => e.at >= range.from && e.at <= range.to)) records.push({ request, events });
    }
    return records;
  }

  async getLease(key: string): Promise<Lease | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: leaseItemKey(key), ConsistentRead: true }));
    return out.Item ? readLease(out.Item) : undefined;
  }

  async putLease(lease: Lease, expectedVersion: number | undefined): Promise<void> {
    await this.conditional(`lease ${lease.key} changed`, () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toStoredLease(lease),
          ...(expectedVersion === undefined ? { ConditionExpression: 'attribute_not_exists(pk)' } : sameLease(lease.generation, expectedVersion)),
        }),
      ),
    );
  }

  async deleteLease(lease: Pick<Lease, 'key' | 'generation' | 'version'>): Promise<void> {
    await this.conditional(`lease ${lease.key} changed`, () =>
      this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: leaseItemKey(lease.key), ...sameLease(lease.generation, lease.version) })),
    );
  }

  async listLeases(): Promise<LeaseListing> {
    const items = await this.queryAll({ IndexName: DUE_INDEX.name, KeyConditionExpression: 'dueKey = :k', ExpressionAttributeValues: { ':k': DUE_INDEX.leases } });
    // One item no schema version can read must not stop the reconciler for every other lease.
    const listing: LeaseListing = { leases: [], unreadable: [] };
    for (const item of items) {
      try {
        listing.leases.push(readLease(item));
      } catch (err) {
        listing.unreadable.push({ key: String(item.pk).replace(/^LEASE#/, ''), reason: err instanceof Error ? err.message : String(err) });
      }
    }
    return listing;
  }

  async tryLock(name: string, owner: string, until: number, now: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toStoredLock(name, owner, until),
          ConditionExpression: 'attribute_not_exists(pk) OR #u < :now OR #o = :o',
          ExpressionAttributeNames: { '#u': 'until', '#o': 'owner' },
          ExpressionAttributeValues: { ':now': now, ':o': owner },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async unlock(name: string, owner: string): Promise<void> {
    try {
      await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: lockItemKey(name), ConditionExpression: '#o = :o', ExpressionAttributeNames: { '#o': 'owner' }, ExpressionAttributeValues: { ':o': owner } }));
    } catch (err) {
      // Someone else's now (ours ran out and was taken): theirs to let go of.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /** Every item a query matches, page after page (up to `limit`). */
  private async queryAll(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>, limit = Infinity): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: start }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start && items.length < limit);
    return items.slice(0, limit);
  }

  /** How many items a query matches, page after page (only the count comes back). */
  private async countAll(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Select'>): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new QueryCommand({ ...input, TableName: this.tableName, Select: 'COUNT', ExclusiveStartKey: start }));
      count += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start);
    return count;
  }

  private async conditional<T>(what: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new StoreConflictError(what, { cause: err });
      throw err;
    }
  }
}

/** DynamoDB (and dynalite) answer a query on an index the table does not have (yet) this way. */
function isMissingIndex(err: unknown): boolean {
  if (err instanceof ResourceNotFoundException) return true;
  return err instanceof Error && err.name === 'ValidationException' && /index/i.test(err.message);
}
