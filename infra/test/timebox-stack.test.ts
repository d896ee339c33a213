import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { REPO_ROOT, resolveConfigSource } from '../lib/config-source';
import { buildLambdaBundles } from '../../scripts/build-lambda';
import { TimeboxStack } from '../lib/timebox-stack';

/** The same feature flags `cdk synth` runs with, so the test pins what is deployed. */
const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'infra', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
const EXAMPLE_CONFIG = readFileSync(join(REPO_ROOT, 'timebox.example.yaml'), 'utf8');
/** Skips NodejsFunction bundling, for the extra stacks that only check one property. */
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[], config: 'timebox.example.yaml' };

type Json = Record<string, unknown>;
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

let app: App;
let stack: TimeboxStack;
let template: Template;
let nagReport: ReturnType<AwsSolutionsChecks['validateScope']>;
/** CDK prints its validation report (here: the example-config warning) on every synth. */
const printed: string[] = [];
let quiet: jest.SpyInstance;

beforeAll(() => {
  quiet = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
  app = new App({ context: { ...cdkJson.context, config: 'timebox.example.yaml' } });
  stack = new TimeboxStack(app, 'Timebox');
  // Registered as `bin/timebox.ts` does: an unacknowledged finding would make this synth throw.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  template = Template.fromStack(stack);
  nagReport = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app);
});
afterAll(() => quiet.mockRestore());

const partition = { Ref: 'AWS::Partition' };
const region = { Ref: 'AWS::Region' };
const account = { Ref: 'AWS::AccountId' };
const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const schedulesInGroup = { 'Fn::Join': ['', ['arn:', partition, ':scheduler:', region, ':', account, ':schedule/Timebox-schedules/*']] };
const scheduleGroupArn = { 'Fn::Join': ['', ['arn:', partition, ':scheduler:', region, ':', account, ':schedule-group/Timebox-schedules']] };

function logicalId(type: string, props: Json, t: Template = template): string {
  const found = Object.keys(t.findResources(type, { Properties: Match.objectLike(props) }));
  expect(found).toHaveLength(1);
  return found[0] as string;
}
const functionId = (description: RegExp) => {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([, r]) => description.test(String((r as { Properties: Json }).Properties.Description)));
  expect(found).toHaveLength(1);
  return (found[0] as [string, unknown])[0];
};
const roleId = (kind: 'slack' | 'worker' | 'sweep', t: Template = template) => logicalId('AWS::IAM::Role', { Description: `Timebox ${kind} function` }, t);
const tableId = () => Object.keys(template.findResources('AWS::DynamoDB::Table'))[0] as string;
const dlqId = () => Object.keys(template.findResources('AWS::SQS::Queue'))[0] as string;
const secretId = () => Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0] as string;
const schedulerRoleId = () => logicalId('AWS::IAM::Role', { Description: Match.stringLikeRegexp('EventBridge Scheduler') });

/** Every statement of every inline policy attached to the role. */
function statementsOf(role: string, t: Template = template): Statement[] {
  const policies = Object.values(t.findResources('AWS::IAM::Policy')) as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }[];
  return policies.filter((p) => p.Properties.Roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: role }))).flatMap((p) => p.Properties.PolicyDocument.Statement);
}
function statement(role: string, sid: string, t: Template = template): Statement {
  const found = statementsOf(role, t).filter((s) => s.Sid === sid);
  expect(found).toHaveLength(1);
  return found[0] as Statement;
}
const sorted = (v: string | string[]) => [...(Array.isArray(v) ? v : [v])].sort();
/** Every statement of every inline policy in the template. */
const allStatements = (t: Template = template) =>
  Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
/** cdk-nag findings as readable lines; empty when every finding is acknowledged. */
const nagViolations = (report: ReturnType<AwsSolutionsChecks['validateScope']>) =>
  report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
/** Every acknowledgment under the stack, with the construct it sits on. */
function acknowledgmentsOf(root: IConstruct): { path: string; id: string; reason: string }[] {
  const acknowledged: { path: string; id: string; reason: string }[] = [];
  const visit = (c: IConstruct) => {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) acknowledged.push({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason });
    }
    c.node.children.forEach(visit);
  };
  visit(root);
  return acknowledged;
}
const identityStoreArn = { 'Fn::Join': ['', ['arn:', partition, ':identitystore::', account, ':identitystore/d-1234567890']] };
const allUsersArn = { 'Fn::Join': ['', ['arn:', partition, ':identitystore:::user/*']] };
const allMembershipsArn = { 'Fn::Join': ['', ['arn:', partition, ':identitystore:::membership/*']] };
const groupArn = (id: string) => ({ 'Fn::Join': ['', ['arn:', partition, `:identitystore:::group/${id}`]] });
const allGroupsArn = { 'Fn::Join': ['', ['arn:', partition, ':identitystore:::group/*']] };
/** Removing, listing and following assignments: the instance and every account and permission set of it. */
const REMOVE_ASSIGNMENTS = {
  Sid: 'RemoveAccountAssignments',
  Effect: 'Allow',
  Action: ['sso:DeleteAccountAssignment', 'sso:DescribeAccountAssignmentCreationStatus', 'sso:DescribeAccountAssignmentDeletionStatus', 'sso:ListAccountAssignments'],
  Resource: ['arn:aws:sso:::instance/ssoins-1234567890abcdef', 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/*', 'arn:aws:sso:::account/*'],
};
/** The customer managed policies that let the worker create assignments. */
function createPolicies(t: Template = template): Array<{ id: string; roles: unknown; statements: Statement[]; chars: number }> {
  return Object.entries(t.findResources('AWS::IAM::ManagedPolicy')).map(([id, r]) => {
    const props = (r as { Properties: { Roles: unknown; PolicyDocument: { Statement: Statement[] } } }).Properties;
    return { id, roles: props.Roles, statements: props.PolicyDocument.Statement, chars: JSON.stringify(props.PolicyDocument).length };
  });
}
const tableResources = () => [arnOf(tableId()), { 'Fn::Join': ['', [arnOf(tableId()), '/index/due']] }, { 'Fn::Join': ['', [arnOf(tableId()), '/index/requester']] }];

describe('functions', () => {
  const kinds = [
    { kind: 'slack', description: /^Timebox Slack endpoint/, memory: 1024, timeout: 10 },
    { kind: 'worker', description: /^Timebox worker/, memory: 512, timeout: 300 },
    { kind: 'sweep', description: /^Timebox sweep/, memory: 256, timeout: 180 },
  ] as const;

  test('exactly four functions (Slack, worker, sweep and the audit archiver), all nodejs22.x on arm64', () => {
    template.resourceCountIs('AWS::Lambda::Function', 4);
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' }, 4);
  });

  test.each(kinds)('$kind: memory, timeout, role, log group', ({ kind, description, memory, timeout }) => {
    const fn = template.toJSON().Resources[functionId(description)].Properties;
    expect(fn.MemorySize).toBe(memory);
    expect(fn.Timeout).toBe(timeout);
    expect(fn.Role).toEqual(arnOf(roleId(kind)));
    const logGroup = fn.LoggingConfig.LogGroup.Ref as string;
    expect(template.toJSON().Resources[logGroup]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 90 } });
  });

  test.each(kinds)('$kind: receives every runtime variable', ({ description }) => {
    const env = template.toJSON().Resources[functionId(description)].Properties.Environment.Variables;
    expect(Object.keys(env).sort()).toEqual(
      [
        'NODE_OPTIONS',
        'TIMEBOX_CONFIG',
        'TIMEBOX_DLQ_ARN',
        'TIMEBOX_SCHEDULER_ROLE_ARN',
        'TIMEBOX_SCHEDULE_GROUP',
        'TIMEBOX_SECRET_ARN',
        'TIMEBOX_TABLE',
        'TIMEBOX_WAITER_ARN',
        'TIMEBOX_WORKER_ARN',
        'TIMEBOX_WORKER_FUNCTION',
      ].sort(),
    );
    expect(env).toMatchObject({
      NODE_OPTIONS: '--enable-source-maps',
      TIMEBOX_CONFIG: '/var/task/timebox.json',
      TIMEBOX_TABLE: { Ref: tableId() },
      TIMEBOX_SECRET_ARN: { Ref: secretId() },
      TIMEBOX_WORKER_FUNCTION: 'Timebox-worker',
      TIMEBOX_WORKER_ARN: { 'Fn::Join': ['', ['arn:', partition, ':lambda:', region, ':', account, ':function:Timebox-worker']] },
      // Schedules fired ahead of a window's end wait in the sweep function, not in a worker slot.
      TIMEBOX_WAITER_ARN: { 'Fn::Join': ['', ['arn:', partition, ':lambda:', region, ':', account, ':function:Timebox-sweep']] },
      TIMEBOX_SCHEDULE_GROUP: 'Timebox-schedules',
      TIMEBOX_SCHEDULER_ROLE_ARN: arnOf(schedulerRoleId()),
      TIMEBOX_DLQ_ARN: arnOf(dlqId()),
    });
    expect(env).not.toHaveProperty('AWS_NODEJS_CONNECTION_REUSE_ENABLED');
  });

  test('the worker and the sweep (the waiter) are named as the environment says', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'Timebox-worker', Description: Match.stringLikeRegexp('worker') });
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'Timebox-sweep', Description: Match.stringLikeRegexp('sweep') });
  });

  test('worker async invokes: 2 retries, then the dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId(/^Timebox worker/) },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: arnOf(dlqId()) } },
    });
  });

  test('every bundle carries index.js, its source map and the validated config', () => {
    const assetDirs = readdirSync(app.outdir).filter((d) => d.startsWith('asset.'));
    expect(assetDirs).toHaveLength(4);
    for (const dir of assetDirs) {
      const files = readdirSync(join(app.outdir, dir)).sort();
      expect(files).toEqual(['index.js', 'index.js.map', 'timebox.json']);
      expect(JSON.parse(readFileSync(join(app.outdir, dir, 'timebox.json'), 'utf8'))).toEqual(parseYaml(EXAMPLE_CONFIG));
    }
  });

  test('the stack deploys exactly what npm run build:lambda writes: each function\'s index.js is byte for byte the dist/lambda bundle', async () => {
    const out = mkdtempSync(join(tmpdir(), 'timebox-dist-'));
    try {
      const built = await buildLambdaBundles(out, join(REPO_ROOT, 'timebox.example.yaml'));
      const deployed = readdirSync(app.outdir).filter((d) => d.startsWith('asset.')).map((d) => readFileSync(join(app.outdir, d, 'index.js'), 'utf8'));
      expect(deployed).toHaveLength(4);
      for (const bundle of built) {
        const text = readFileSync(bundle.file, 'utf8');
        expect({ fn: bundle.function, deployed: deployed.includes(text) }).toEqual({ fn: bundle.function, deployed: true });
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  test('the Slack function sits behind an HTTP API (POST /slack/events, payload 2.0, throttled), with no Function URL', () => {
    template.resourceCountIs('AWS::Lambda::Url', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /slack/events' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0', IntegrationUri: arnOf(functionId(/^Timebox Slack endpoint/)) });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } });
    const outputs = template.toJSON().Outputs;
    expect(outputs.SlackFunctionUrl).toBeUndefined();
    expect(JSON.stringify(outputs.SlackRequestUrl.Value)).toMatch(/execute-api.*slack\/events/);
    expect(outputs.SlackSecretArn.Value).toEqual({ Ref: secretId() });
  });

  test('the sweep runs every 5 minutes', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: arnOf(functionId(/^Timebox sweep/)) })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: functionId(/^Timebox sweep/) }, MaximumRetryAttempts: 0 });
  });
});

describe('data', () => {
  test('the table: pk/sk, the sparse due index, the requester and audit indexes, on-demand, PITR, AWS-managed encryption, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'dueKey', AttributeType: 'S' },
          { AttributeName: 'dueAt', AttributeType: 'N' },
          { AttributeName: 'requesterKey', AttributeType: 'S' },
          { AttributeName: 'filedAt', AttributeType: 'N' },
        ]),
        GlobalSecondaryIndexes: [
          {
            IndexName: 'due',
            KeySchema: [
              { AttributeName: 'dueKey', KeyType: 'HASH' },
              { AttributeName: 'dueAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: 'requester',
            KeySchema: [
              { AttributeName: 'requesterKey', KeyType: 'HASH' },
              { AttributeName: 'filedAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: 'audit',
            KeySchema: [
              { AttributeName: 'auditKey', KeyType: 'HASH' },
              { AttributeName: 'auditAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    });
  });

  test('the Slack secret starts as a placeholder with a random signing secret', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { SecretStringTemplate: Match.stringLikeRegexp('"botToken"'), GenerateStringKey: 'signingSecret', ExcludePunctuation: true, PasswordLength: 32 },
    });
  });
});

describe('scheduling and dead letters', () => {
  test('one schedule group', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'Timebox-schedules' });
  });

  test('the scheduler role trusts only Scheduler, from this account and this group', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': account },
              ArnLike: { 'aws:SourceArn': [scheduleGroupArn, schedulesInGroup] },
            },
          },
        ],
      },
    });
  });

  test('the scheduler role may invoke the worker and the waiter (the sweep) and write dead letters, nothing else', () => {
    const statements = statementsOf(schedulerRoleId());
    expect(statements).toEqual([
      { Sid: 'InvokeWorker', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [arnOf(functionId(/^Timebox sweep/)), arnOf(functionId(/^Timebox worker/))] },
      { Sid: 'SendDeadLetters', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arnOf(dlqId()) },
    ]);
    expect(template.toJSON().Resources[schedulerRoleId()].Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('the dead-letter queue: SQS-managed encryption, TLS only, 14 days', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId() }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  test('an alarm fires on the first dead letter', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId(), 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });
});

describe('least privilege', () => {
  const logs = (kind: 'slack' | 'worker' | 'sweep') => {
    const fn = template.toJSON().Resources[functionId(kind === 'slack' ? /^Timebox Slack endpoint/ : kind === 'worker' ? /^Timebox worker/ : /^Timebox sweep/)].Properties;
    return { Sid: 'WriteOwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arnOf(fn.LoggingConfig.LogGroup.Ref) };
  };
  const readWriteTable = () => ({
    Sid: 'ReadWriteTable',
    Effect: 'Allow',
    Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
    Resource: tableResources(),
  });
  const readSecret = () => ({ Sid: 'ReadSlackSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secretId() } });
  const invokeWorker = () => ({ Sid: 'InvokeWorker', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: arnOf(functionId(/^Timebox worker/)) });
  const manageSchedules = {
    Sid: 'ManageSchedulesInGroup',
    Effect: 'Allow',
    Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'],
    Resource: schedulesInGroup,
  };
  const passRole = () => ({
    Sid: 'PassSchedulerRole',
    Effect: 'Allow',
    Action: 'iam:PassRole',
    Resource: arnOf(schedulerRoleId()),
    Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
  });

  test('Slack function: table, secret, invoke worker, schedules in its group, pass the scheduler role, and invoke itself (its lazy listeners), nothing else', () => {
    const invokeItself = { Sid: 'InvokeOwnLazyListeners', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: arnOf(functionId(/^Timebox Slack endpoint/)) };
    expect(statementsOf(roleId('slack'))).toEqual([logs('slack'), readWriteTable(), readSecret(), invokeWorker(), manageSchedules, passRole(), invokeItself]);
    // Nobody else may invoke it asynchronously: no role but its own names it.
    const invokers = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, p]) => JSON.stringify(p).includes(JSON.stringify(arnOf(functionId(/^Timebox Slack endpoint/)))));
    expect(invokers.map(([, p]) => (p as { Properties: { Roles: unknown[] } }).Properties.Roles)).toEqual([[{ Ref: roleId('slack') }]]);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: functionId(/^Timebox Slack endpoint/) }, MaximumEventAgeInSeconds: 300 });
  });

  test('worker: the same, plus account assignments and user look-ups, and its dead-letter destination', () => {
    const statements = statementsOf(roleId('worker'));
    expect(statements.map((s) => s.Sid ?? `(${sorted(s.Action).join(',')})`).sort()).toEqual(
      [
        'WriteOwnLogs',
        'ReadWriteTable',
        'ReadSlackSecret',
        'ManageSchedulesInGroup',
        'PassSchedulerRole',
        'InvokeWaiter',
        'RemoveAccountAssignments',
        'LookUpIdentityStoreUsers',
        '(sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage)',
      ].sort(),
    );
    expect(statement(roleId('worker'), 'WriteOwnLogs')).toEqual(logs('worker'));
    expect(statement(roleId('worker'), 'ReadWriteTable')).toEqual(readWriteTable());
    expect(statement(roleId('worker'), 'ReadSlackSecret')).toEqual(readSecret());
    expect(statement(roleId('worker'), 'ManageSchedulesInGroup')).toEqual(manageSchedules);
    expect(statement(roleId('worker'), 'PassSchedulerRole')).toEqual(passRole());
    expect(statement(roleId('worker'), 'InvokeWaiter')).toEqual({
      Sid: 'InvokeWaiter',
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: { 'Fn::Join': ['', ['arn:', partition, ':lambda:', region, ':', account, ':function:Timebox-sweep']] },
    });
    // The on-failure destination's grant: only the dead-letter queue.
    expect(statements.find((s) => s.Sid === undefined)).toEqual({
      Effect: 'Allow',
      Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
      Resource: arnOf(dlqId()),
    });
  });

  test('worker: creates assignments only on the configured instance, permission sets and accounts', () => {
    const create = createPolicies();
    expect(create).toHaveLength(1);
    expect(create[0]?.roles).toEqual([{ Ref: roleId('worker') }]);
    const s = create[0]?.statements[0] as Statement;
    expect(create[0]?.statements).toHaveLength(1);
    expect(s.Action).toBe('sso:CreateAccountAssignment');
    expect(sorted(s.Resource as string[])).toEqual([
      'arn:aws:sso:::account/111111111111',
      'arn:aws:sso:::account/222222222222',
      'arn:aws:sso:::instance/ssoins-1234567890abcdef',
      'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1111111111111111',
      'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222',
    ]);
    expect(s.Condition).toBeUndefined();
    expect(allStatements().filter((x) => sorted(x.Action).includes('sso:CreateAccountAssignment'))).toEqual([]);
  });

  test('worker: removes, lists and follows assignments on every account and permission set of the instance, so a config edit never strands a live grant', () => {
    const { Resource, ...rest } = statement(roleId('worker'), 'RemoveAccountAssignments');
    const { Resource: expected, ...expectedRest } = REMOVE_ASSIGNMENTS;
    expect(rest).toEqual(expectedRest);
    expect(sorted(Resource as string[])).toEqual(sorted(expected));
  });

  test('worker: identity store look-ups only in the configured store', () => {
    expect(statement(roleId('worker'), 'LookUpIdentityStoreUsers')).toEqual({
      Sid: 'LookUpIdentityStoreUsers',
      Effect: 'Allow',
      Action: 'identitystore:GetUserId',
      Resource: [identityStoreArn, allUsersArn],
    });
  });

  test('no grant that no code calls: identitystore:DescribeUser and dynamodb:UpdateItem are gone', () => {
    const actions = allStatements().flatMap((s) => sorted(s.Action));
    expect(actions).toContain('identitystore:GetUserId');
    expect(actions).toContain('dynamodb:PutItem');
    expect(actions).not.toContain('identitystore:DescribeUser');
    expect(actions).not.toContain('dynamodb:UpdateItem');
  });

  test('no groups configured: no group membership statement, on any role', () => {
    expect(allStatements().filter((s) => sorted(s.Action).some((a) => /GroupMembership|IsMemberInGroups/.test(a)))).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain(':identitystore:::membership/');
    expect(JSON.stringify(template.toJSON())).not.toContain(':identitystore:::group/');
  });

  test('sweep: the table, the secret, invoke the worker, and reconcile (list, delete and follow operations, never create) assignments', () => {
    const statements = statementsOf(roleId('sweep'));
    expect(statements.filter((s) => ['WriteOwnLogs', 'ReadWriteTable', 'ReadSlackSecret', 'InvokeWorker'].includes(s.Sid ?? ''))).toEqual([logs('sweep'), readWriteTable(), readSecret(), invokeWorker()]);
    const reconcile = statement(roleId('sweep'), 'ReconcileAccountAssignments');
    expect(reconcile.Sid).toBe('ReconcileAccountAssignments');
    // Creation status: the reconciler waits for creations a lease says are outstanding (a grant given up on mid-creation).
    expect(sorted(reconcile.Action)).toEqual(['sso:DeleteAccountAssignment', 'sso:DescribeAccountAssignmentCreationStatus', 'sso:DescribeAccountAssignmentDeletionStatus', 'sso:ListAccountAssignments']);
    expect(reconcile.Action).not.toContain('sso:CreateAccountAssignment');
    expect(sorted(reconcile.Resource as string[])).toEqual(sorted(REMOVE_ASSIGNMENTS.Resource));
    // The sixth: its failure destination, the dead-letter queue.
    expect(statements.find((s) => s.Sid === undefined)).toEqual({ Effect: 'Allow', Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], Resource: arnOf(dlqId()) });
    expect(statements).toHaveLength(6);
  });

  test('worker concurrency is capped so outstanding CreateAccountAssignment calls stay under 15', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('Timebox worker'), ReservedConcurrentExecutions: 10 });
  });

  test('no AWS managed policies, no wildcard actions, no "*" resources anywhere', () => {
    for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
      expect({ id, managed: (role as { Properties: Json }).Properties.ManagedPolicyArns }).toEqual({ id, managed: undefined });
    }
    const statements = [
      ...Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement),
      ...createPolicies().flatMap((p) => p.statements),
    ];
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const action of sorted(s.Action)) expect(action).not.toMatch(/\*/);
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      // The one exception: dynamodb:ListStreams (the archiver's stream event source) authorizes on no narrower resource.
      if (sorted(s.Action).join() === 'dynamodb:ListStreams') continue;
      for (const r of resources) expect(r).not.toBe('*');
    }
  });

  test('iam:PassRole appears only for the scheduler role, always with a PassedToService condition', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
    const passRoles = statements.filter((s) => sorted(s.Action).includes('iam:PassRole'));
    expect(passRoles).toHaveLength(2); // Slack function and worker
    for (const s of passRoles) expect(s).toEqual(passRole());
  });
});

describe('group grants (a config with two groups)', () => {
  const ONCALL = '9067d4a2f1-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
  const BILLING = '1234abcd-1111-2222-3333-444455556666';
  let dir: string;
  let groupsStack: TimeboxStack;
  let groupsTemplate: Template;
  let groupsNag: ReturnType<AwsSolutionsChecks['validateScope']>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'timebox-infra-groups-'));
    const path = join(dir, 'groups.yaml');
    const withGroups = EXAMPLE_CONFIG.replace(/^durations:/m, `groups:\n  oncall: "${ONCALL}"\n  billing-admins: "${BILLING}"\ndurations:`).concat(
      ['  - name: groups', '    groups: [oncall, billing-admins]', '    requesters: ["*"]', '    approvers: [alice@example.com]', '    maxDuration: 4h', ''].join('\n'),
    );
    expect(withGroups).toContain('billing-admins');
    writeFileSync(path, withGroups);
    const groupsApp = new App({ context: { ...cdkJson.context, ...NO_BUNDLING, config: path } });
    groupsStack = new TimeboxStack(groupsApp, 'Groups');
    Validations.of(groupsApp).addPlugins(new AwsSolutionsChecks(groupsApp, { verbose: true }));
    groupsTemplate = Template.fromStack(groupsStack);
    groupsNag = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(groupsApp);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the config really has the two groups', () => {
    expect(groupsStack.config.policy.catalogue.current().groups.map((g) => g.id).sort()).toEqual([BILLING, ONCALL].sort());
  });

  // The store, each configured group, and the user/* and membership/* that cannot be named (in any order: CDK sorts them).
  const removeMembershipResources = [identityStoreArn, allGroupsArn, allUsersArn, allMembershipsArn];
  const inAnyOrder = (xs: unknown[]) => [...xs].map((x) => JSON.stringify(x)).sort();

  test('worker: adds members to the configured groups only; removes and looks up memberships of any group of the configured store (a dropped group never strands one)', () => {
    const add = statement(roleId('worker', groupsTemplate), 'AddGroupMemberships', groupsTemplate);
    expect(add.Action).toBe('identitystore:CreateGroupMembership');
    expect(inAnyOrder(add.Resource as unknown[])).toEqual(inAnyOrder([identityStoreArn, groupArn(ONCALL), groupArn(BILLING), allUsersArn]));
    const { Resource, ...rest } = statement(roleId('worker', groupsTemplate), 'RemoveGroupMemberships', groupsTemplate);
    expect(rest).toEqual({ Sid: 'RemoveGroupMemberships', Effect: 'Allow', Action: ['identitystore:DeleteGroupMembership', 'identitystore:GetGroupMembershipId'] });
    expect(inAnyOrder(Resource as unknown[])).toEqual(inAnyOrder(removeMembershipResources));
    expect(statementsOf(roleId('worker', groupsTemplate), groupsTemplate).map((s) => s.Sid ?? '(dead letters)').sort()).toEqual(
      [
        'WriteOwnLogs',
        'ReadWriteTable',
        'ReadSlackSecret',
        'ManageSchedulesInGroup',
        'PassSchedulerRole',
        'InvokeWaiter',
        'RemoveAccountAssignments',
        'LookUpIdentityStoreUsers',
        'AddGroupMemberships',
        'RemoveGroupMemberships',
        '(dead letters)',
      ].sort(),
    );
  });

  test('sweep: reconciles memberships (delete and look up, never create) on the same resources', () => {
    const sweep = statementsOf(roleId('sweep', groupsTemplate), groupsTemplate);
    expect(sweep.map((s) => s.Sid ?? '(dead letters)').sort()).toEqual(['WriteOwnLogs', 'ReadWriteTable', 'ReadSlackSecret', 'InvokeWorker', 'ReconcileAccountAssignments', 'ReconcileGroupMemberships', '(dead letters)'].sort());
    const { Resource, ...rest } = statement(roleId('sweep', groupsTemplate), 'ReconcileGroupMemberships', groupsTemplate);
    expect(rest).toEqual({ Sid: 'ReconcileGroupMemberships', Effect: 'Allow', Action: ['identitystore:DeleteGroupMembership', 'identitystore:GetGroupMembershipId'] });
    expect(inAnyOrder(Resource as unknown[])).toEqual(inAnyOrder(removeMembershipResources));
  });

  test('the Slack function gets no identity store access; no role has DescribeUser or UpdateItem', () => {
    expect(statementsOf(roleId('slack', groupsTemplate), groupsTemplate).flatMap((s) => sorted(s.Action)).filter((a) => a.startsWith('identitystore:'))).toEqual([]);
    const actions = allStatements(groupsTemplate).flatMap((s) => sorted(s.Action));
    expect(actions).not.toContain('identitystore:DescribeUser');
    expect(actions).not.toContain('dynamodb:UpdateItem');
    expect(actions.filter((a) => a === 'identitystore:CreateGroupMembership')).toHaveLength(1);
  });

  test('cdk-nag: no unacknowledged findings; the user/* and membership/* wildcards are acknowledged on the worker and sweep roles only', () => {
    expect(nagViolations(groupsNag)).toEqual([]);
    expect(groupsNag.success).toBe(true);
    expect(Annotations.fromStack(groupsStack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    const acknowledged = acknowledgmentsOf(groupsStack);
    expect(acknowledged.filter((a) => /identitystore/.test(a.id)).map((a) => `${a.path} ${a.id}`).sort()).toEqual(
      [
        'Groups/Default/WorkerRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::user/*]',
        'Groups/Default/WorkerRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::membership/*]',
        'Groups/Default/WorkerRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::group/*]',
        'Groups/Default/SweepRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::user/*]',
        'Groups/Default/SweepRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::membership/*]',
        'Groups/Default/SweepRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::group/*]',
      ].sort(),
    );
    for (const a of acknowledged) expect(a.reason.length).toBeGreaterThan(80);
    const workerUsers = acknowledged.find((a) => a.path === 'Groups/Default/WorkerRole' && a.id.endsWith('user/*]'));
    expect(workerUsers?.reason).toMatch(/GetUserId/);
    expect(workerUsers?.reason).toMatch(/CreateGroupMembership/);
  });
});

describe('cdk-nag (AWS Solutions)', () => {
  test('no unacknowledged findings, errors or warnings', () => {
    expect(nagViolations(nagReport)).toEqual([]);
    expect(nagReport.success).toBe(true);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    expect(printed.join('\n')).not.toMatch(/AwsSolutions/);
  });

  test('every acknowledgment is narrow and explained', () => {
    const acknowledged = acknowledgmentsOf(stack);
    expect(acknowledged.map((a) => `${a.path} ${a.id}`).sort()).toEqual(
      [
        'Timebox/Default/SlackSecret AwsSolutions-SMG4',
        'Timebox/Default/SlackApi AwsSolutions-APIG4',
        'Timebox/Default/DeadLetterQueue AwsSolutions-SQS3',
        'Timebox/Default/SlackFunction AwsSolutions-L1',
        'Timebox/Default/WorkerFunction AwsSolutions-L1',
        'Timebox/Default/SweepFunction AwsSolutions-L1',
        'Timebox/Default/SlackRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/Timebox-schedules/*]',
        'Timebox/Default/WorkerRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/Timebox-schedules/*]',
        'Timebox/Default/WorkerRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::user/*]',
        'Timebox/Default/WorkerRole AwsSolutions-IAM5[Resource::arn:aws:sso:::account/*]',
        'Timebox/Default/WorkerRole AwsSolutions-IAM5[Resource::arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/*]',
        'Timebox/Default/SweepRole AwsSolutions-IAM5[Resource::arn:aws:sso:::account/*]',
        'Timebox/Default/SweepRole AwsSolutions-IAM5[Resource::arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/*]',
        'Timebox/Default/AuditArchive/Archiver AwsSolutions-L1',
        'Timebox/Default/AuditArchive/ArchiverRole AwsSolutions-IAM5[Resource::*]',
        'Timebox/Default/AuditArchive/ArchiverRole AwsSolutions-IAM5[Resource::<AuditArchiveBucketDB93AD31.Arn>/audit/*]',
        'Timebox/Default/AuditArchive/Bucket AwsSolutions-S1',
      ].sort(),
    );
    for (const a of acknowledged) expect(a.reason.length).toBeGreaterThan(80);
  });

  test('the example config is deployed with a warning', () => {
    Annotations.fromStack(stack).hasWarning('/Timebox', Match.stringLikeRegexp('timebox\\.example\\.yaml'));
  });
});

describe('configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'timebox-infra-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('an invalid config fails synth, naming every bad field', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, EXAMPLE_CONFIG.replace('arn:aws:sso:::instance/ssoins-1234567890abcdef', 'not-an-arn').replace('C0APPROVALS', 'approvals'));
    const make = () => new TimeboxStack(new App({ context: { ...NO_BUNDLING, config: bad } }), 'Bad');
    expect(make).toThrow(/identityCenter\.instanceArn: must be an Identity Center instance ARN/);
    expect(make).toThrow(/slack\.approvalChannel: must be a Slack channel id/);
  });

  test('a missing config file fails synth with its path', () => {
    const missing = join(dir, 'nope.yaml');
    expect(() => new TimeboxStack(new App({ context: { ...NO_BUNDLING, config: missing } }), 'Missing')).toThrow(/file not found/);
  });

  test('IAM follows the config: a third account and a delegated-admin identity store account', () => {
    const custom = join(dir, 'custom.yaml');
    writeFileSync(custom, EXAMPLE_CONFIG.replace('  production: "222222222222"', '  production: "222222222222"\n  sandbox: "333333333333"'));
    const other = new TimeboxStack(new App({ context: { ...NO_BUNDLING, config: custom, identityStoreAccount: '999999999999' } }), 'Custom');
    const otherTemplate = Template.fromStack(other);
    const statements = otherTemplate.toJSON().Resources;
    const worker = Object.values(statements).find((r) => (r as Json).Type === 'AWS::IAM::Policy' && JSON.stringify(r).includes('RemoveAccountAssignments')) as { Properties: { PolicyDocument: { Statement: Statement[] } } };
    const byId = Object.fromEntries(worker.Properties.PolicyDocument.Statement.map((s) => [s.Sid, s]));
    expect(createPolicies(otherTemplate).flatMap((p) => p.statements.flatMap((s) => s.Resource as string[]))).toContain('arn:aws:sso:::account/333333333333');
    expect(JSON.stringify(byId.LookUpIdentityStoreUsers?.Resource)).toContain(':identitystore::999999999999:identitystore/d-1234567890');
    expect(Annotations.fromStack(other).findWarning('*', Match.stringLikeRegexp('timebox\\.example\\.yaml'))).toEqual([]);
  });

  test('context values are checked', () => {
    expect(() => new TimeboxStack(new App({ context: { ...NO_BUNDLING, identityStoreAccount: 'management' } }), 'BadAccount')).toThrow(/identityStoreAccount/);
    expect(() => new TimeboxStack(new App({ context: { ...NO_BUNDLING, alarmTopicArn: 'my-topic' } }), 'BadTopic')).toThrow(/alarmTopicArn/);
    const withTopic = new TimeboxStack(new App({ context: { ...NO_BUNDLING, alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall' } }), 'WithTopic');
    Template.fromStack(withTopic).hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:oncall'] });
  });

  test('config resolution: context, then timebox.yaml, then the example', () => {
    writeFileSync(join(dir, 'timebox.example.yaml'), 'x');
    expect(resolveConfigSource(undefined, dir)).toEqual({ path: join(dir, 'timebox.example.yaml'), isExample: true });
    writeFileSync(join(dir, 'timebox.yaml'), 'x');
    expect(resolveConfigSource(undefined, dir)).toEqual({ path: join(dir, 'timebox.yaml'), isExample: false });
    expect(resolveConfigSource('conf/prod.yaml', dir)).toEqual({ path: join(dir, 'conf', 'prod.yaml'), isExample: false });
    expect(resolveConfigSource('/etc/timebox.yaml', dir)).toEqual({ path: '/etc/timebox.yaml', isExample: false });
    expect(resolveConfigSource('timebox.example.yaml', dir).isExample).toBe(true);
    expect(() => resolveConfigSource(42, dir)).toThrow(/must be a file path/);
    expect(existsSync(join(dir, 'timebox.yaml'))).toBe(true);
  });
});

describe('alarms for access outliving its window', () => {
  test('RevokeStuck: the worker\'s embedded-format metric (Timebox/RevokeStuck, service=timebox) at 1 or more in 5 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Timebox',
      MetricName: 'RevokeStuck',
      Dimensions: [{ Name: 'service', Value: 'timebox' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('outliving its window'),
    });
  });

  test('the sweep: a failed run goes to the dead-letter queue and raises SweepFailingAlarm', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId(/^Timebox sweep/) },
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnFailure: { Destination: arnOf(dlqId()) } },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(/^Timebox sweep/) } }],
      Threshold: 1,
    });
  });

  test('with alarmTopicArn, all three alarms page it', () => {
    const paged = new TimeboxStack(new App({ context: { ...NO_BUNDLING, alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall' } }), 'Paged');
    const alarms = Object.values(Template.fromStack(paged).findResources('AWS::CloudWatch::Alarm')) as Array<{ Properties: { AlarmActions?: string[] } }>;
    expect(alarms).toHaveLength(3);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:oncall']);
  });
});

describe('IAM at scale: 1,000 accounts, 100 permission sets', () => {
  const INLINE_ROLE_POLICY_MAX = 10_240; // IAM: aggregate inline policy size per role
  const MANAGED_PER_ROLE_MAX = 10; // IAM's default quota of managed policies per role
  let dir: string;
  let bigTemplate: Template;
  let big: TimeboxStack;
  let shrunkTemplate: Template;

  /** The example config with `accounts` accounts and `sets` permission sets. */
  function configWith(accounts: number, sets: number): string {
    const accountLines = Array.from({ length: accounts }, (_, i) => `  acct-${i}: "${String(100000000000 + i)}"`).join('\n');
    const setLines = Array.from({ length: sets }, (_, i) => `  Set${i}: arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-${String(i).padStart(16, '0')}`).join('\n');
    return EXAMPLE_CONFIG.replace(/^accounts:[\s\S]*?(?=^# groups:)/m, `accounts:\n  staging: "111111111111"\n  production: "222222222222"\n${accountLines}\npermissionSets:\n  ReadOnly: arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1111111111111111\n  Admin: arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222\n${setLines}\n`);
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'timebox-infra-scale-'));
    writeFileSync(join(dir, 'big.yaml'), configWith(998, 98));
    big = new TimeboxStack(new App({ context: { ...cdkJson.context, ...NO_BUNDLING, config: join(dir, 'big.yaml') } }), 'Big');
    bigTemplate = Template.fromStack(big);
    // The same config with half the accounts and permission sets dropped (a config edit while grants are live).
    writeFileSync(join(dir, 'shrunk.yaml'), configWith(498, 48));
    shrunkTemplate = Template.fromStack(new TimeboxStack(new App({ context: { ...cdkJson.context, ...NO_BUNDLING, config: join(dir, 'shrunk.yaml') } }), 'Shrunk'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the config really has 1,000 accounts and 100 permission sets', () => {
    expect(big.config.policy.catalogue.current().accounts).toHaveLength(1000);
    expect(big.config.policy.catalogue.current().permissionSets).toHaveLength(100);
  });

  test('every policy document is within IAM\'s size limits, and no role has more managed policies than IAM allows', () => {
    const inline = Object.values(bigTemplate.findResources('AWS::IAM::Policy')) as Array<{ Properties: { PolicyDocument: unknown; Roles: unknown[] } }>;
    for (const p of inline) expect(JSON.stringify(p.Properties.PolicyDocument).length).toBeLessThanOrEqual(INLINE_ROLE_POLICY_MAX);
    const managed = createPolicies(bigTemplate);
    expect(managed.length).toBeGreaterThan(0);
    expect(managed.length).toBeLessThanOrEqual(MANAGED_PER_ROLE_MAX);
    for (const p of managed) expect(p.chars).toBeLessThanOrEqual(6_144);
  });

  test('creating still lists every configured permission set; accounts too many to list are allowed by pattern, with a synth warning', () => {
    const created = createPolicies(bigTemplate).flatMap((p) => p.statements.flatMap((s) => s.Resource as string[]));
    for (const set of big.config.policy.catalogue.current().permissionSets) expect(created).toContain(set.arn);
    expect(created).toContain('arn:aws:sso:::account/*');
    Annotations.fromStack(big).hasWarning('/Big/Default', Match.stringLikeRegexp('1000 accounts do not fit'));
  });

  test('300 accounts still fit: each is listed, packed over several policies of at most 6,144 characters', () => {
    writeFileSync(join(dir, 'mid.yaml'), configWith(298, 8));
    const mid = new TimeboxStack(new App({ context: { ...cdkJson.context, ...NO_BUNDLING, config: join(dir, 'mid.yaml') } }), 'Mid');
    const policies = createPolicies(Template.fromStack(mid));
    expect(policies.length).toBeGreaterThan(1);
    for (const p of policies) expect(p.chars).toBeLessThanOrEqual(6_144);
    const created = policies.flatMap((p) => p.statements.flatMap((st) => st.Resource as string[]));
    expect(created).not.toContain('arn:aws:sso:::account/*');
    for (const a of mid.config.policy.catalogue.current().accounts) expect(created).toContain(`arn:aws:sso:::account/${a.id}`);
  });

  test('dropping half the accounts and permission sets does not narrow removal: every live grant can still be revoked', () => {
    const removal = (t: Template, role: 'worker' | 'sweep', sid: string) => sorted(statement(roleId(role, t), sid, t).Resource as string[]);
    expect(removal(shrunkTemplate, 'worker', 'RemoveAccountAssignments')).toEqual(removal(bigTemplate, 'worker', 'RemoveAccountAssignments'));
    expect(removal(shrunkTemplate, 'sweep', 'ReconcileAccountAssignments')).toEqual(removal(bigTemplate, 'sweep', 'ReconcileAccountAssignments'));
    expect(removal(bigTemplate, 'worker', 'RemoveAccountAssignments')).toEqual(sorted(REMOVE_ASSIGNMENTS.Resource));
  });
});
