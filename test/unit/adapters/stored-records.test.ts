/**
 * Reading what the store holds: items written by this version (schemaVersion 2) and by the
 * release before it (v1, no schemaVersion: one flat request per account × permission set),
 * using the real v1 items in test/fixtures/v1-store (a Scan of the table that release wrote).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { readAuditEvent, readLease, readRequest, SCHEMA_VERSION, toStoredAuditEvent, toStoredLease, toStoredRequest } from '../../../src/adapters/dynamodb/stored-records';
import {
  channelKey,
  channelNeedsUpdate,
  decideGrant,
  dueAt,
  dueTimes,
  needsNotification,
  requesterKey,
  requesterNeedsTelling,
  messageOf,
  requestStatus,
  withGrant,
  type AccessRequest,
} from '../../../src/domain/access-request';
import { StoredItemInvalidError } from '../../../src/domain/errors';
import { targetKey } from '../../../src/domain/grant-target';
import { holderRef, LEGACY_GENERATION, planRelease, type Lease } from '../../../src/domain/lease';

type Item = Record<string, unknown>;

const FIXTURE = join(__dirname, '..', '..', 'fixtures', 'v1-store');
const ITEMS: Item[] = (JSON.parse(readFileSync(join(FIXTURE, 'items.json'), 'utf8')) as Array<Record<string, AttributeValue>>).map((i) => unmarshall(i));
const MANIFEST = JSON.parse(readFileSync(join(FIXTURE, 'manifest.json'), 'utf8')) as {
  active: { requestId: string; principalId: string; activeAt: number; endsAt: number };
  pending: { requestId: string; expiresAt: number; approvalMessage: { channel: string; ts: string } };
};

const item = (pk: string, sk: string): Item => {
  const found = ITEMS.find((i) => i.pk === pk && i.sk === sk);
  if (!found) throw new Error(`fixture has no ${pk} ${sk}`);
  return structuredClone(found);
};
const V1_ACTIVE = () => item(`REQ#${MANIFEST.active.requestId}`, 'REQUEST');
const V1_PENDING = () => item(`REQ#${MANIFEST.pending.requestId}`, 'REQUEST');
const V1_LEASE = () => ITEMS.find((i) => i.kind === 'lease') as Item;
const body = (i: Item, field = 'request') => i[field] as Record<string, unknown>;

/** The item the v2 store writes for a request (see DynamoDbStore.requestItem). */
const v2Item = (request: AccessRequest): Item => ({ pk: `REQ#${request.id}`, sk: 'REQUEST', kind: 'request', schemaVersion: SCHEMA_VERSION, version: request.version, request });
const v2LeaseItem = (lease: Lease): Item => ({ pk: `LEASE#${lease.key}`, sk: 'LEASE', kind: 'lease', schemaVersion: SCHEMA_VERSION, version: lease.version, lease });

/** A request as schema versions 2 and 3 stored it: one field per surface people were shown it on. */
function asV3({ messages, ...request }: AccessRequest): Record<string, unknown> {
  const channel = messages.find((m) => m.kind === 'channel');
  const dm = messages.find((m) => m.kind === 'requester-dm');
  return { ...request, approvalMessage: channel?.ref, notified: channel?.shown, activeDm: dm?.ref, toldRequester: dm?.shown };
}

function storedItemErrorFrom(fn: () => unknown): StoredItemInvalidError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StoredItemInvalidError);
    return err as StoredItemInvalidError;
  }
  throw new Error('expected a StoredItemInvalidError, but nothing was thrown');
}

describe('the v1 fixture', () => {
  test('is what it says: v1 items, without a schemaVersion', () => {
    expect(ITEMS.length).toBeGreaterThan(3);
    for (const i of ITEMS) expect(i.schemaVersion).toBeUndefined();
    expect(body(V1_ACTIVE()).status).toBe('ACTIVE');
    expect(body(V1_PENDING()).status).toBe('PENDING');
  });

  test('every item in it reads', () => {
    for (const i of ITEMS) {
      if (i.kind === 'request') expect(readRequest(i).id).toBe(body(i).id);
      else if (i.kind === 'lease') expect(readLease(i).key).toBe(body(i, 'lease').key);
      else expect(readAuditEvent(i).requestId).toBe(body(i, 'event').requestId);
    }
  });
});

describe('readRequest on a v1 item', () => {
  test('an active v1 request becomes one ACTIVE grant for the same account and permission set, with the same window', () => {
    const raw = V1_ACTIVE();
    const old = body(raw);
    const request = readRequest(raw);
    expect(request.grants).toHaveLength(1);
    expect(request.grants[0]).toEqual({
      id: '1',
      target: {
        kind: 'account',
        accountId: old.accountId,
        accountName: old.accountName,
        permissionSetName: old.permissionSetName,
        permissionSetArn: old.permissionSetArn,
      },
      ruleName: 'staging-readonly',
      autoApproved: true,
      approvalsRequired: 0,
      approvals: [],
      status: 'ACTIVE',
      decidedAt: old.decidedAt,
      activeAt: MANIFEST.active.activeAt,
      endsAt: MANIFEST.active.endsAt,
    });
  });

  test('keeps what belongs to the whole request: who, why, how long, its version and its Slack messages', () => {
    const raw = V1_ACTIVE();
    const old = body(raw);
    const request = readRequest(raw);
    expect(request).toMatchObject({
      id: MANIFEST.active.requestId,
      // The next write is conditional on this version: it must be the one stored.
      version: raw.version,
      requester: old.requester,
      principalId: MANIFEST.active.principalId,
      durationMs: old.durationMs,
      reason: 'v1 fixture active',
      createdAt: old.createdAt,
      expiresAt: old.expiresAt,
      updatedAt: old.updatedAt,
    });
    expect(messageOf(request, 'channel')?.ref).toEqual(old.approvalMessage);
    expect(messageOf(request, 'requester-dm')?.ref).toEqual(old.activeDm);
    expect(requestStatus(request)).toBe(raw.status);
  });

  test('what v1 had told people becomes v2 keys, so nobody is told again after the upgrade', () => {
    const request = readRequest(V1_ACTIVE());
    expect(messageOf(request, 'channel')?.shown).toBe('1=ACTIVE:0');
    expect(messageOf(request, 'requester-dm')?.shown).toBe('1=ACTIVE');
    expect(messageOf(request, 'channel')?.shown).toBe(channelKey(request));
    expect(messageOf(request, 'requester-dm')?.shown).toBe(requesterKey(request));
    expect(needsNotification(request)).toBe(false);
  });

  test('it is due when v1 had it due: the end of its window', () => {
    const raw = V1_ACTIVE();
    expect(dueAt(readRequest(raw))).toBe(raw.dueAt);
    expect(dueAt(readRequest(raw))).toBe(MANIFEST.active.endsAt);
  });

  test('a pending v1 request becomes one PENDING grant an approver can still decide, before it expires', () => {
    const raw = V1_PENDING();
    const request = readRequest(raw);
    expect(request.grants.map((g) => [g.id, g.status, g.ruleName, g.approvalsRequired])).toEqual([['1', 'PENDING', 'prod-admin', 1]]);
    expect(request.grants[0]!.target).toMatchObject({ kind: 'account', accountName: 'production', permissionSetName: 'Admin' });
    expect(request.messages).toEqual([{ kind: 'channel', ref: MANIFEST.pending.approvalMessage, shown: '1=PENDING:0' }]);
    // v1 never DMed the requester about a waiting request; from daily-use on that is news (told at its next pass).
    expect(requesterNeedsTelling(request)).toBe(true);
    expect(channelNeedsUpdate(request)).toBe(false);
    expect(dueTimes(request).filter((t) => t.kind === 'expiry').map((t) => t.at)).toEqual([raw.dueAt]);
    expect(raw.dueAt).toBe(MANIFEST.pending.expiresAt);

    const approved = withGrant(request, decideGrant(request, request.grants[0]!, 'approve', { slackUserId: 'U0BOB00000' }, request.expiresAt - 1).grant);
    expect(requestStatus(approved)).toBe('APPROVED');
    // …and the click is news for the approvals channel.
    expect(needsNotification(approved)).toBe(true);
  });

  test.each([
    ['ENDED', 'ENDED:0:ending', '1=ENDED:0:ending1', { endedEarlyBy: { slackUserId: 'U0CAROL000' }, endedAt: 1796233800000 }],
    ['APPROVED', 'APPROVED:2', '1=APPROVED:2', { approvalsRequired: 2, approvals: [{ slackUserId: 'U0ALICE000', at: 1 }, { slackUserId: 'U0BOB00000', at: 2 }] }],
    ['REVOKING', 'ACTIVE:0', '1=ACTIVE:0', { claimUntil: 1796262600000 }],
  ] as const)('a v1 %s request that showed %j reads as %j, and needs no channel update it did not need before', (status, v1Key, v2Key, extra) => {
    const raw = V1_ACTIVE();
    Object.assign(body(raw), { status, notified: v1Key, ...extra });
    const request = readRequest(raw);
    expect(messageOf(request, 'channel')?.shown).toBe(v2Key);
    expect(channelNeedsUpdate(request)).toBe(false);
    if (extra && 'endedEarlyBy' in extra) expect(request.grants[0]!.endedEarlyBy).toEqual(extra.endedEarlyBy);
  });

  test('a v1 request decided or ended early by a person reads: v1 stored their whole Slack profile (isBot, deleted), and only the Person is kept', () => {
    const profile = { slackUserId: 'U0ALICE000', email: 'alice@example.com', name: 'alice', isBot: false, deleted: false };
    const raw = V1_ACTIVE();
    Object.assign(body(raw), { autoApproved: false, approvalsRequired: 1, approvals: [{ slackUserId: 'U0ALICE000', email: 'alice@example.com', at: 1 }], decidedBy: profile, endedEarlyBy: profile });
    const request = readRequest(raw);
    expect(request.grants[0]!.decidedBy).toEqual({ slackUserId: 'U0ALICE000', email: 'alice@example.com', name: 'alice' });
    expect(request.grants[0]!.endedEarlyBy).toEqual({ slackUserId: 'U0ALICE000', email: 'alice@example.com', name: 'alice' });
    expect(request).not.toHaveProperty('endedEarlyBy');
    // What it reads as is a valid v2 request: written back and read again, it is the same.
    expect(readRequest({ ...raw, schemaVersion: SCHEMA_VERSION, request })).toEqual(request);
  });

  test('a v1 request whose requester was never told still gets told', () => {
    const raw = V1_ACTIVE();
    delete body(raw).toldRequester;
    const request = readRequest(raw);
    expect(messageOf(request, 'requester-dm')?.shown).toBeUndefined();
    expect(needsNotification(request)).toBe(true);
  });

  test('a corrupt v1 item is refused, naming the item', () => {
    const raw = V1_ACTIVE();
    delete body(raw).accountId;
    const err = storedItemErrorFrom(() => readRequest(raw));
    expect(err.message).toContain(`REQ#${MANIFEST.active.requestId}`);
    expect(err.message).toContain('accountId');
  });

  test('a v1 item with a field v1 never wrote is refused too', () => {
    const raw = V1_PENDING();
    body(raw).grants = [];
    expect(storedItemErrorFrom(() => readRequest(raw)).message).toContain('grants');
  });
});

describe('readRequest on a v2 item', () => {
  const v2Request = (): AccessRequest => ({
    ...readRequest(V1_ACTIVE()),
    grants: [
      readRequest(V1_ACTIVE()).grants[0]!,
      {
        id: '2',
        target: { kind: 'group', groupId: '9067a1b2c3-0f0f0f0f-aaaa-bbbb-cccc-000000000001', groupName: 'oncall' },
        ruleName: 'oncall',
        autoApproved: false,
        approvalsRequired: 1,
        approvals: [{ slackUserId: 'U0DAVE0000', email: 'dave@example.com', at: 1796233713500 }],
        status: 'ACTIVE',
        decidedBy: { slackUserId: 'U0DAVE0000', email: 'dave@example.com' },
        decidedAt: 1796233713500,
        activeAt: 1796233713900,
        endsAt: 1796262513900,
        timeboxOwned: true,
        membershipId: 'm-0123',
      },
    ],
  });

  test('reads back exactly what was written, account and group grants alike', () => {
    const request = v2Request();
    expect(readRequest(structuredClone(v2Item(request)))).toEqual(request);
  });

  test.each([
    ['on the request', (r: AccessRequest) => Object.assign(r, { colour: 'red' }), 'colour'],
    ['on a grant', (r: AccessRequest) => Object.assign(r.grants[1]!, { colour: 'red' }), 'colour'],
    ['on a grant target', (r: AccessRequest) => Object.assign(r.grants[1]!.target, { accountId: '111111111111' }), 'accountId'],
    ['on an approval', (r: AccessRequest) => Object.assign(r.grants[1]!.approvals[0]!, { note: 'lgtm' }), 'note'],
    ['a v1 field left on a v2 item', (r: AccessRequest) => Object.assign(r, { status: 'ACTIVE' }), 'status'],
  ])('an unknown field %s is refused with StoredItemInvalidError naming the item and the field, not silently dropped', (_where, edit, field) => {
    const request = v2Request();
    edit(request);
    const err = storedItemErrorFrom(() => readRequest(v2Item(request)));
    expect(err.code).toBe('stored_item_invalid');
    expect(err.message).toContain(`REQ#${request.id}`);
    expect(err.message).toContain(field);
  });

  test('a v2 item with no grants, or a grant in a status this version does not know, is refused', () => {
    const none = { ...v2Request(), grants: [] };
    expect(storedItemErrorFrom(() => readRequest(v2Item(none))).message).toContain(`REQ#${none.id}`);
    const odd = v2Request();
    (odd.grants[0] as { status: string }).status = 'PAUSED';
    expect(storedItemErrorFrom(() => readRequest(v2Item(odd))).message).toContain('status');
  });

  test.each([2, 3])('a schemaVersion %i item whose request carries the old endedEarlyBy copy still reads: the copy is dropped and each grant keeps its own', (schemaVersion) => {
    const request = v2Request();
    request.grants[1] = { ...request.grants[1]!, endsAt: 1796233913900, endedEarlyBy: { slackUserId: 'U0DAVE0000', email: 'dave@example.com' } };
    const read = readRequest({ ...v2Item(request), request: { ...asV3(request), endedEarlyBy: { slackUserId: 'U0DAVE0000', email: 'dave@example.com' } }, schemaVersion });
    expect(read).toEqual(request);
    expect(read).not.toHaveProperty('endedEarlyBy');
    expect(read.grants.map((g) => g.endedEarlyBy?.slackUserId)).toEqual([undefined, 'U0DAVE0000']);
  });

  test('an item from a newer Timebox (schemaVersion 6) is refused, saying it is newer and what to do', () => {
    const request = v2Request();
    const err = storedItemErrorFrom(() => readRequest({ ...v2Item(request), schemaVersion: 6 }));
    expect(err.message).toContain(`REQ#${request.id}`);
    expect(err.message).toContain('schemaVersion 6');
    expect(err.message).toMatch(/newer/);
    expect(err.message).toMatch(/upgrade Timebox/);
  });
});

describe('daily-use: messages as a list (schema version 4)', () => {
  test('a v3 item with an approval message and an active DM reads back as the messages list, so nobody is told again and the buttons still match', () => {
    const approvalMessage = { channel: 'C0APPROVALS', ts: '1796233713.000100' };
    const activeDm = { channel: 'D0CAROL000', ts: '1796233714.000200' };
    const v3 = { ...asV3(readRequest(V1_ACTIVE())), approvalMessage, activeDm, notified: '1=ACTIVE:0', toldRequester: '1=ACTIVE' };
    const request = readRequest({ ...V1_ACTIVE(), schemaVersion: 3, request: v3 });
    expect(request.messages).toEqual([
      { kind: 'channel', ref: approvalMessage, shown: '1=ACTIVE:0' },
      { kind: 'requester-dm', ref: activeDm, shown: '1=ACTIVE' },
    ]);
    expect(request).not.toHaveProperty('approvalMessage');
    expect(request).not.toHaveProperty('activeDm');
    expect(needsNotification(request)).toBe(false);
    // Written back as v4 and read again, it is the same.
    expect(readRequest({ ...V1_ACTIVE(), schemaVersion: SCHEMA_VERSION, request })).toEqual(request);
  });

  test('a v3 item whose channel refused the news (shown, but no message) keeps what it showed, with no message to update', () => {
    const v3 = { ...asV3(readRequest(V1_PENDING())), approvalMessage: undefined, notified: '1=PENDING:0' };
    const request = readRequest({ ...V1_PENDING(), schemaVersion: 3, request: JSON.parse(JSON.stringify(v3)) as unknown });
    expect(request.messages).toEqual([{ kind: 'channel', shown: '1=PENDING:0' }]);
  });

  test('a v4 item with old single fields beside the list is refused, not silently dropped', () => {
    const request = readRequest(V1_ACTIVE());
    expect(storedItemErrorFrom(() => readRequest({ ...V1_ACTIVE(), schemaVersion: SCHEMA_VERSION, request: { ...request, notified: 'x' } })).message).toContain('notified');
  });
});

describe('daily-use: one mapper computes what is stored (toStored*)', () => {
  test('a request item carries its key, version, derived status, the earliest due time and the requester index; read back it is the request', () => {
    const request = readRequest(V1_PENDING());
    const stored = toStoredRequest(request);
    expect(stored).toMatchObject({ pk: `REQ#${request.id}`, sk: 'REQUEST', kind: 'request', schemaVersion: SCHEMA_VERSION, version: request.version, status: 'PENDING', dueKey: 'DUE', dueAt: dueAt(request) });
    expect(stored).toMatchObject({ requesterKey: request.requester.slackUserId, filedAt: request.createdAt, awaitingApproval: 1 });
    expect(readRequest(structuredClone(stored))).toEqual(request);
  });

  test('a request with nothing left to do drops out of the due index; one no longer waiting for approval loses the mark', () => {
    const over = readRequest(V1_ACTIVE());
    const ended = { ...over, grants: [{ ...over.grants[0]!, status: 'ENDED' as const }], messages: [] };
    const told = { ...ended, messages: [{ kind: 'channel' as const, shown: channelKey(ended) }, { kind: 'requester-dm' as const, shown: requesterKey(ended) }] };
    const stored = toStoredRequest(told);
    expect(stored['dueKey']).toBeUndefined();
    expect(stored['dueAt']).toBeUndefined();
    expect(stored['awaitingApproval']).toBeUndefined();
  });

  test('a lease item names its generation and version at the top (every conditional write does); an audit event reads back as written', () => {
    const lease = readLease(structuredClone(V1_LEASE()));
    expect(toStoredLease(lease)).toMatchObject({ pk: `LEASE#${lease.key}`, sk: 'LEASE', generation: lease.generation, version: lease.version, dueKey: 'LEASE', dueAt: lease.updatedAt });
    expect(readLease(toStoredLease(lease))).toEqual(lease);
    const event = readAuditEvent(ITEMS.find((i) => i.kind === 'audit')!);
    expect(readAuditEvent(toStoredAuditEvent(event))).toEqual(event);
  });
});

describe('readLease', () => {
  test('a v1 lease is held by the v1 request\'s one grant, and is Timebox\'s when it was not pre-existing', () => {
    const lease = readLease(structuredClone(V1_LEASE()));
    const old = body(V1_LEASE(), 'lease');
    expect(lease).toEqual({
      key: old.key,
      target: { kind: 'account', ...(old.target as object) },
      holders: [`${MANIFEST.active.requestId}/1`],
      createdByTimebox: true,
      operations: [],
      deleting: false,
      generation: LEGACY_GENERATION,
      version: old.version,
      updatedAt: old.updatedAt,
    });
  });

  test('the upgraded lease is the one the upgraded request\'s grant finds, and its end lets go of it and removes the assignment', () => {
    const lease = readLease(structuredClone(V1_LEASE()));
    const request = readRequest(V1_ACTIVE());
    const grant = request.grants[0]!;
    expect(grant.target.kind).toBe('account');
    if (grant.target.kind !== 'account') return;
    expect(targetKey({ kind: 'account', principalId: request.principalId!, accountId: grant.target.accountId, permissionSetArn: grant.target.permissionSetArn })).toBe(lease.key);
    expect(lease.holders).toEqual([holderRef(request.id, grant.id)]);
    expect(planRelease(lease, holderRef(request.id, grant.id), Date.now()).action).toBe('delete');
  });

  test('a pre-existing v1 lease is not Timebox\'s: the last release leaves the assignment alone', () => {
    const raw = structuredClone(V1_LEASE());
    Object.assign(body(raw, 'lease'), { preExisting: true, holders: ['R-AAAAAAAAAA', 'R-BBBBBBBBBB'] });
    const lease = readLease(raw);
    expect(lease.createdByTimebox).toBe(false);
    expect(lease.holders).toEqual(['R-AAAAAAAAAA/1', 'R-BBBBBBBBBB/1']);
    const first = planRelease(lease, 'R-AAAAAAAAAA/1', 1);
    expect(first.action).toBe('keep');
    if (first.action !== 'keep') return;
    expect(planRelease(first.lease, 'R-BBBBBBBBBB/1', 2).action).toBe('forget');
  });

  test('a current lease reads back as written; an unknown field is refused, naming the item', () => {
    const lease: Lease = {
      key: 'u|group|g-1',
      target: { kind: 'group', principalId: 'u', groupId: 'g-1' },
      holders: ['R-AAAAAAAAAA/2'],
      createdByTimebox: true,
      membershipId: 'm-1',
      operations: [{ kind: 'create', id: 'op-1', startedAt: 5 }],
      deleting: false,
      generation: 'gen-1',
      version: 2,
      updatedAt: 5,
    };
    expect(readLease(structuredClone(v2LeaseItem(lease)))).toEqual(lease);
    // Written by the previous release (schemaVersion 2, no generation): it reads as the one legacy lifetime.
    const { generation: _none, ...v2 } = lease;
    expect(readLease({ ...v2LeaseItem(lease), schemaVersion: 2, lease: v2 })).toEqual({ ...lease, generation: LEGACY_GENERATION });
    const err = storedItemErrorFrom(() => readLease(v2LeaseItem({ ...lease, preExisting: false } as Lease)));
    expect(err.message).toContain('LEASE#u|group|g-1');
    expect(err.message).toContain('preExisting');
  });

  test('a lease from a newer Timebox is refused, saying so', () => {
    const err = storedItemErrorFrom(() => readLease({ ...structuredClone(V1_LEASE()), schemaVersion: 6 }));
    expect(err.message).toMatch(/schemaVersion 6 is newer/);
  });
});

describe('readAuditEvent', () => {
  test('v1 events read as they were written', () => {
    const raw = ITEMS.find((i) => i.kind === 'audit' && body(i, 'event').type === 'granted') as Item;
    expect(readAuditEvent(structuredClone(raw))).toEqual(body(raw, 'event'));
  });

  test('a v2 event may name its grant; an unknown field or a newer schemaVersion is refused', () => {
    const event = { requestId: 'R-AAAAAAAAAA', grantId: '2', at: 1, seq: '00000001-0', type: 'granted', actor: 'timebox', from: 'GRANTING', to: 'ACTIVE' };
    const raw = { pk: 'REQ#R-AAAAAAAAAA', sk: 'AUDIT#00000001-0', kind: 'audit', schemaVersion: SCHEMA_VERSION, event };
    expect(readAuditEvent(raw)).toEqual(event);
    const extra = storedItemErrorFrom(() => readAuditEvent({ ...raw, event: { ...event, by: 'x' } }));
    expect(extra.message).toContain('REQ#R-AAAAAAAAAA/AUDIT#00000001-0');
    expect(storedItemErrorFrom(() => readAuditEvent({ ...raw, schemaVersion: 6 })).message).toMatch(/newer/);
  });
});
