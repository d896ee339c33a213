import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { REPO_ROOT } from '../lib/config-source';
import { TimeboxStack } from '../lib/timebox-stack';
import { archiveObjectOf } from '../../src/adapters/audit/archive-objects';
import { toAuditRow, toOcsfLine } from '../../src/adapters/audit/audit-rows';
import { sha256Hex } from '../../src/adapters/audit/sha256';
import { toStoredRequest } from '../../src/adapters/dynamodb/stored-records';
import type { AccessRequest } from '../../src/domain/access-request';
import { chain, EMPTY_CHAIN } from '../../src/domain/audit';

const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'infra', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
/** Synth without bundling the functions: these tests read the template only. */
const synth = (context: Record<string, unknown> = {}) =>
  Template.fromStack(new TimeboxStack(new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], config: 'timebox.example.yaml', ...context } }), 'Timebox'));

type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: unknown; Sid?: string };
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
/** Every statement of every identity policy, with the role(s) it is attached to. */
function identityStatements(t: Template): Array<{ roles: string[]; statement: Statement }> {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => {
    const props = (p as { Properties: { Roles: Array<{ Ref: string }>; PolicyDocument: { Statement: Statement[] } } }).Properties;
    return props.PolicyDocument.Statement.map((statement) => ({ roles: props.Roles.map((r) => r.Ref), statement }));
  });
}
const mayDo = (s: Statement, action: string) => s.Effect === 'Allow' && actionsOf(s).some((a) => a === action || a === '*' || a === 's3:*' || (a.endsWith('*') && action.startsWith(a.slice(0, -1))));

describe('explain-audit: the audit archive (S3 Object Lock, written from the table stream)', () => {
  let t: Template;
  let archiverRole: string;
  beforeAll(() => {
    t = synth();
    archiverRole = Object.keys(t.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('audit archiver') } }))[0]!;
  });

  test('the bucket has Object Lock in compliance mode for 400 days by default, blocks public access and is kept when the stack goes', () => {
    t.hasResource('AWS::S3::Bucket', {
      Properties: {
        ObjectLockEnabled: true,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 400 } } },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      },
      DeletionPolicy: 'Retain',
    });
  });

  test('auditRetention (CDK context) sets the retention; a value that is not a number of days is refused, naming the format', () => {
    synth({ auditRetention: '30' }).hasResourceProperties('AWS::S3::Bucket', { ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } } } });
    expect(() => synth({ auditRetention: 'forever' })).toThrow('context "auditRetention" must be a whole number of days');
  });

  test('only the archiver role may put objects: it is the one identity allowed s3:PutObject, and the bucket denies the put to every other principal', () => {
    const putters = identityStatements(t).filter(({ statement }) => mayDo(statement, 's3:PutObject'));
    expect(putters.flatMap((p) => p.roles)).toEqual([archiverRole]);
    // The archiver may do nothing else with S3.
    const archiverS3 = identityStatements(t).filter(({ roles, statement }) => roles.includes(archiverRole) && actionsOf(statement).some((a) => a.startsWith('s3:')));
    expect(archiverS3.flatMap(({ statement }) => actionsOf(statement))).toEqual(['s3:PutObject']);
    const bucketPolicy = Object.values(t.findResources('AWS::S3::BucketPolicy'))[0] as { Properties: { PolicyDocument: { Statement: Statement[] } } };
    const denyPut = bucketPolicy.Properties.PolicyDocument.Statement.find((s) => s.Sid === 'OnlyTheArchiverPuts')!;
    expect(denyPut).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:PutObject', Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [archiverRole, 'Arn'] } } } });
  });

  test('no role may delete: no identity is allowed s3:DeleteObject or s3:DeleteObjectVersion, and the bucket denies deletes and loosening the lock to everyone', () => {
    for (const action of ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:BypassGovernanceRetention']) {
      expect({ action, allowed: identityStatements(t).filter(({ statement }) => mayDo(statement, action)).flatMap((p) => p.roles) }).toEqual({ action, allowed: [] });
    }
    const bucketPolicy = Object.values(t.findResources('AWS::S3::BucketPolicy'))[0] as { Properties: { PolicyDocument: { Statement: Statement[] } } };
    const deny = bucketPolicy.Properties.PolicyDocument.Statement.find((s) => s.Sid === 'NobodyDeletesOrLoosens')!;
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' } });
    expect(actionsOf(deny)).toEqual(expect.arrayContaining(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:BypassGovernanceRetention', 's3:PutBucketObjectLockConfiguration']));
  });

  test('the Slack, worker and sweep roles are given nothing on the bucket', () => {
    const bucket = Object.keys(t.findResources('AWS::S3::Bucket'))[0]!;
    const others = identityStatements(t).filter(({ roles }) => !roles.includes(archiverRole));
    expect(others.filter(({ statement }) => JSON.stringify(statement.Resource ?? '').includes(bucket) || actionsOf(statement).some((a) => a.startsWith('s3:')))).toEqual([]);
  });

  test('the archiver reads the table stream (new images, request items only), retrying from the record that failed', () => {
    t.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_IMAGE' } });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ dynamodb: { NewImage: { kind: { S: ['request'] } } } }) }] },
    });
  });

  test('the stack adds the archive unless the operator opts out: with no auditArchive context there is the bucket, the archiver and the stream', () => {
    // t is synthesised with no auditArchive context at all.
    t.resourceCountIs('AWS::S3::Bucket', 1);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    synth({ auditArchive: 'true' }).resourceCountIs('AWS::S3::Bucket', 1);
  });

  test('with auditArchive=false (the operator opts out) there is no bucket, no archiver and no stream; a value other than true or false is refused', () => {
    const plain = synth({ auditArchive: 'false' });
    plain.resourceCountIs('AWS::S3::Bucket', 0);
    plain.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    expect(JSON.stringify(plain.findResources('AWS::DynamoDB::Table'))).not.toContain('StreamSpecification');
    expect(() => synth({ auditArchive: 'no' })).toThrow('context "auditArchive" must be true (the default) or false');
  });

  test('the table has the audit index the export queries', () => {
    t.hasResourceProperties('AWS::DynamoDB::Table', { GlobalSecondaryIndexes: Match.arrayWith([Match.objectLike({ IndexName: 'audit', KeySchema: [{ AttributeName: 'auditKey', KeyType: 'HASH' }, { AttributeName: 'auditAt', KeyType: 'RANGE' }] })]) });
  });
});

describe('explain-audit: the archiver turns a stored event into the OCSF line the export writes', () => {
  const at = Date.UTC(2026, 11, 7, 9, 30);
  const drafts = [
    { requestId: 'R-ARCHIVE001', grantId: '1', at, seq: '00000004-0', type: 'granted' as const, actor: 'timebox', from: 'GRANTING' as const, to: 'ACTIVE' as const },
    { requestId: 'R-ARCHIVE001', grantId: '1', at: at + 1, seq: '00000004-1', type: 'approval_recorded' as const, actor: 'U0ALICE000', detail: 'a "quoted", detail' },
  ];
  const { events, head } = chain(EMPTY_CHAIN, drafts, sha256Hex);
  const request: AccessRequest = {
    id: 'R-ARCHIVE001',
    version: 4,
    requester: { slackUserId: 'U0CAROL000', email: 'carol@example.com' },
    durationMs: 3_600_000,
    reason: 'deploy',
    createdAt: at - 60_000,
    expiresAt: at,
    grants: [{ id: '1', target: { kind: 'account', accountId: '222222222222', accountName: 'production', permissionSetName: 'Admin', permissionSetArn: 'arn:aws:sso:::permissionSet/x/ps-2' }, ruleName: 'prod-admin', autoApproved: false, approvalsRequired: 1, approvals: [{ slackUserId: 'U0ALICE000', email: 'alice@example.com', at }], status: 'ACTIVE' }],
    messages: [],
    updatedAt: at,
    lastEvents: events,
    auditHead: head,
  };
  // What the stream hands the function: the stored item, marshalled and back.
  const newImage = unmarshall(marshall({ ...toStoredRequest(request), auditLog: events }, { removeUndefinedValues: true }));

  test("one object per write, keyed by day, request and version, holding exactly the export's OCSF lines for that write's events", () => {
    const object = archiveObjectOf(newImage);
    expect(object?.key).toBe('audit/2026/12/07/R-ARCHIVE001/00000004.ocsf.jsonl');
    expect(object?.body).toBe(events.map((e) => toOcsfLine(toAuditRow(request, e))).join(''));
    const [granted] = object!.body.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(granted).toMatchObject({ class_uid: 3005, activity_id: 1, activity_name: 'Assign Privileges', time: at, user: { uid: 'U0CAROL000', email_addr: 'carol@example.com' } });
  });

  test('leases and writes that appended no event make no object', () => {
    expect(archiveObjectOf({ ...newImage, kind: 'lease' })).toBeUndefined();
    const quiet = unmarshall(marshall(toStoredRequest({ ...request, lastEvents: [] }), { removeUndefinedValues: true }));
    expect(archiveObjectOf(quiet)).toBeUndefined();
  });
});
