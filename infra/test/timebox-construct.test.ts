import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Aws, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { REPO_ROOT } from '../lib/config-source';
import { TimeboxConstruct, TimeboxPropsError, type TimeboxConstructProps } from '../lib/timebox-construct';
import { TimeboxStack } from '../lib/timebox-stack';

const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'infra', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
const EXAMPLE = join(REPO_ROOT, 'timebox.example.yaml');
type Json = Record<string, unknown>;
type Resource = { Type: string; Properties: Json };

/** Another team's CDK app: its own stack, Timebox composed into it (bundling skipped: these check properties). */
function compose(props: (stack: Stack) => Partial<TimeboxConstructProps> = () => ({})) {
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Platform');
  const timebox = new TimeboxConstruct(stack, 'Timebox', { configPath: EXAMPLE, ...props(stack) });
  return { app, stack, timebox, template: Template.fromStack(stack) };
}
const resources = (t: Template, type: string) => Object.values(t.findResources(type)) as Resource[];
const permissions = (t: Template) => resources(t, 'AWS::Lambda::Permission').map((r) => r.Properties);

describe('deploy-grade: TimeboxConstruct, composed into another CDK app', () => {
  // Every prop at once, as a platform team would set them, and cdk-nag run as bin/timebox.ts runs it.
  const everything = () =>
    compose((stack) => ({
      permissionsBoundary: iam.ManagedPolicy.fromManagedPolicyArn(stack, 'Boundary', 'arn:aws:iam::123456789012:policy/org-boundary'),
      encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
      tags: { 'cost-centre': 'platform', owner: 'iam-team' },
      logRetention: logs.RetentionDays.ONE_YEAR,
      alarmTopic: new sns.Topic(stack, 'Oncall', { enforceSSL: true }),
      slackApiUrl: 'https://slack-gov.com/api/',
    }));
  const all = everything();
  const keyArn = { 'Fn::GetAtt': [Object.keys(all.template.findResources('AWS::KMS::Key'))[0], 'Arn'] };

  test('permissionsBoundary: every role Timebox creates carries the boundary', () => {
    const roles = resources(all.template, 'AWS::IAM::Role');
    expect(roles.length).toBeGreaterThanOrEqual(4);
    for (const role of roles) expect(role.Properties.PermissionsBoundary).toBe('arn:aws:iam::123456789012:policy/org-boundary');
  });

  test('encryptionKey: the table, the Slack secret, the dead-letter queue, every log group and the functions\' environment use the customer-managed key', () => {
    all.template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn } });
    all.template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: keyArn });
    all.template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: keyArn });
    const logGroups = resources(all.template, 'AWS::Logs::LogGroup');
    expect(logGroups).toHaveLength(5); // the three functions', the API's access logs, the audit archiver's
    for (const group of logGroups) expect(group.Properties.KmsKeyId).toEqual(keyArn);
    for (const fn of resources(all.template, 'AWS::Lambda::Function')) expect(fn.Properties.KmsKeyArn).toEqual(keyArn);
  });

  test('encryptionKey: each function and the scheduler may use the key (no wildcard actions), and the key policy lets CloudWatch Logs use it', () => {
    const useKey = resources(all.template, 'AWS::IAM::Policy').flatMap((p) => (p.Properties.PolicyDocument as { Statement: Json[] }).Statement).filter((s) => s.Sid === 'UseTimeboxKey');
    expect(useKey).toHaveLength(4);
    for (const s of useKey) expect({ actions: [...(s.Action as string[])].sort(), resource: s.Resource }).toEqual({ actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'], resource: keyArn });
    all.template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'TimeboxLogGroups', Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } })]) },
    });
  });

  test('without encryptionKey: AWS-managed encryption, and no key statements', () => {
    const plain = compose();
    plain.template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true } });
    plain.template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    expect(JSON.stringify(plain.template.toJSON())).not.toContain('UseTimeboxKey');
  });

  test('tags: every table, function, role, queue, secret, log group and the API carry the tags (and app=timebox)', () => {
    const taggable = ['AWS::DynamoDB::Table', 'AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::SQS::Queue', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup'];
    for (const type of taggable) {
      for (const r of resources(all.template, type)) {
        expect({ type, tags: r.Properties.Tags }).toEqual({ type, tags: expect.arrayContaining([{ Key: 'cost-centre', Value: 'platform' }, { Key: 'owner', Value: 'iam-team' }, { Key: 'app', Value: 'timebox' }]) });
      }
    }
    all.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { Tags: { 'cost-centre': 'platform', owner: 'iam-team', app: 'timebox' } });
  });

  test('logRetention: every log group (the three functions\' and the API\'s access logs) keeps logs that long; three months by default', () => {
    for (const group of resources(all.template, 'AWS::Logs::LogGroup')) expect(group.Properties.RetentionInDays).toBe(365);
    for (const group of resources(compose().template, 'AWS::Logs::LogGroup')) expect(group.Properties.RetentionInDays).toBe(90);
  });

  test('alarmTopic: the dead-letter, stuck-revoke and failing-sweep alarms all notify it', () => {
    const alarms = resources(all.template, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(3);
    const topic = { Ref: Object.keys(all.template.findResources('AWS::SNS::Topic'))[0] };
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([topic]);
  });

  test('slackApiUrl reaches all three functions that talk to Slack (GovSlack); without it none gets SLACK_API_URL', () => {
    // The audit archiver talks to S3 only.
    const fns = resources(all.template, 'AWS::Lambda::Function').filter((fn) => !String(fn.Properties.Description).includes('audit archiver'));
    expect(fns).toHaveLength(3);
    for (const fn of fns) expect((fn.Properties.Environment as { Variables: Json }).Variables.SLACK_API_URL).toBe('https://slack-gov.com/api/');
    for (const fn of resources(compose().template, 'AWS::Lambda::Function')) expect((fn.Properties.Environment as { Variables: Json }).Variables).not.toHaveProperty('SLACK_API_URL');
  });

  test('endpoint (default apiGateway): an HTTP API, throttled, with access logs, one route to the Slack function; no Function URL', () => {
    const { template } = compose();
    template.resourceCountIs('AWS::Lambda::Url', 0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /slack/events', AuthorizationType: 'NONE' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
    const custom = compose(() => ({ throttle: { rateLimit: 5, burstLimit: 10 } }));
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 } });
  });

  test('endpoint functionUrl: a Function URL without IAM auth (Timebox checks Slack\'s signature), and no API', () => {
    const { template, timebox } = compose(() => ({ endpoint: 'functionUrl' }));
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    expect(timebox.httpApi).toBeUndefined();
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const url = Object.keys(template.findResources('AWS::Lambda::Url'))[0];
    expect(Object.values(outputs).map((o) => o.Value)).toContainEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [url, 'FunctionUrl'] }, 'slack/events']] });
  });

  test('no function\'s resource policy allows "*" without a condition; by default no function allows "*" at all', () => {
    for (const [label, template] of [['apiGateway', compose().template], ['functionUrl', compose(() => ({ endpoint: 'functionUrl' })).template]] as const) {
      const policies = permissions(template);
      expect(policies.length).toBeGreaterThan(0);
      for (const p of policies) {
        const conditioned = p.SourceArn !== undefined || p.SourceAccount !== undefined || p.FunctionUrlAuthType !== undefined || p.InvokedViaFunctionUrl !== undefined;
        expect({ label, principal: p.Principal, conditioned }).toEqual({ label, principal: p.Principal, conditioned: true });
        // A service may invoke only from its own resource (the API, the sweep's rule).
        if (p.Principal !== '*') expect(p.SourceArn).toBeDefined();
      }
      if (label === 'apiGateway') expect(policies.filter((p) => p.Principal === '*')).toEqual([]);
    }
  });

  test('cdk-nag (AWS Solutions): no unacknowledged findings with every prop set, and each acknowledgment explained', () => {
    Validations.of(all.app).addPlugins(new AwsSolutionsChecks(all.app, { verbose: true }));
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(all.app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(Annotations.fromStack(all.stack).findError('*', Match.anyValue())).toEqual([]);
    const apig4 = all.timebox.httpApi?.node.metadata.find((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    expect(JSON.stringify(apig4?.data)).toMatch(/AwsSolutions-APIG4.*signing secret/);
  });

  test('a prop that is not what it must be is refused, naming the prop and the format expected', () => {
    expect(() => compose(() => ({ slackApiUrl: 'slack-gov.com' }))).toThrow(new TimeboxPropsError('slackApiUrl must be an https:// URL such as https://slack-gov.com/api/; got "slack-gov.com"'));
    expect(() => compose(() => ({ workerConcurrency: 40 }))).toThrow(/workerConcurrency must be a whole number from 1 to 15, or 'none'; got 40/);
    expect(() => compose(() => ({ identityStoreAccount: 'management' }))).toThrow(/identityStoreAccount must be a 12-digit AWS account id/);
    expect(() => compose(() => ({ endpoint: 'alb' as 'apiGateway' }))).toThrow(/endpoint must be 'apiGateway' or 'functionUrl'/);
    // A value known only at deploy time is passed through, not refused.
    expect(() => compose(() => ({ identityStoreAccount: Aws.ACCOUNT_ID }))).not.toThrow();
  });
});

describe('deploy-grade: upgrading the stack from 0.1.0', () => {
  test('every resource the 0.1.0 stack deployed keeps its logical id (the table, retained, is the same table); only the Function URL gives way to the HTTP API, and the Slack function\'s lazy listeners add their invoke policy and async-invoke config', () => {
    const stack = new TimeboxStack(new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], config: 'timebox.example.yaml' } }), 'Timebox');
    const ids = Object.keys(Template.fromStack(stack).toJSON().Resources as Json);
    // The logical ids of 0.1.0's template, as `cdk synth` wrote them before the construct existed.
    const v010 = [
      'TableCD117FA1', 'SlackSecretEA96F13F', 'DeadLetterQueue9F481546', 'DeadLetterQueuePolicyB1FB890C', 'DeadLetterAlarmBB7AE56D', 'ScheduleGroup',
      'SchedulerRole59E73443', 'SchedulerRoleDefaultPolicy66F774B8', 'WorkerLogsC1193B08', 'WorkerRole8DD27D41', 'WorkerRoleDefaultPolicy1750E153',
      'WorkerFunctionACE6A4B0', 'WorkerFunctionEventInvokeConfigAD4239E1', 'SlackLogsCBCFC72B', 'SlackRoleCD155F24', 'SlackRoleDefaultPolicyE04F1815',
      'SlackFunctionB79AA090', 'SweepLogsD6C54147', 'SweepRole19075C26', 'SweepRoleDefaultPolicy221E6CF3', 'SweepFunctionC5ABE24A',
      'SweepFunctionEventInvokeConfig67CD6321', 'RevokeStuckAlarm92488293', 'SweepFailingAlarm81ED4F95', 'SweepSchedule80B1140B',
      'SweepScheduleAllowEventRuleTimeboxSweepFunctionE98F08E9D1537730', 'CreateAccountAssignments15B971319',
    ];
    expect(v010.filter((id) => !ids.includes(id))).toEqual([]);
    expect(ids.filter((id) => !v010.includes(id)).sort()).toEqual(
      [
        'SlackApi455BD61F', 'SlackApiAccessLogsA35B4623', 'SlackApiPOSTslackevents3A959D24', 'SlackApiPOSTslackeventsSlack903513DB', 'SlackApiPOSTslackeventsSlackPermission85649BC2', 'SlackApiStageEC4ED962',
        // The lazy listener: the Slack function invokes itself (performance-2).
        'SlackFunctionEventInvokeConfig6F3622EC', 'SlackInvokesItself76B65BA6',
        // The audit archive, added by default since explain-audit (the table gains a stream, in place).
        'AuditArchiveArchiverDynamoDBEventSourceTimeboxTableBB2CDAB3D4156C7C', 'AuditArchiveArchiverE7DD9653', 'AuditArchiveArchiverLogs90AF69D9', 'AuditArchiveArchiverRole620DA834',
        'AuditArchiveArchiverRoleDefaultPolicy8BA5639F', 'AuditArchiveBucketDB93AD31', 'AuditArchiveBucketPolicy09E9DEC6',
      ].sort(),
    );
  });
});
