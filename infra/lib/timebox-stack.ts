import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Annotations, ArnFormat, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DUE_INDEX, TABLE_KEYS } from '../../src/adapters/dynamodb/table-layout';
import type { TimeboxConfig } from '../../src/config/config-schema';
import { loadConfigFile } from '../../src/config/load-config';
import { REPO_ROOT, resolveConfigSource } from './config-source';

export interface TimeboxStackProps extends StackProps {
  /**
   * The Timebox YAML config to validate and bundle. Defaults to the `config` context value,
   * then `timebox.yaml` at the repository root, then `timebox.example.yaml` (with a warning).
   */
  readonly configPath?: string;
  /**
   * The account that owns the Identity Center identity store (its ARN names that account).
   * Defaults to the `identityStoreAccount` context value, then this stack's account: right when
   * Timebox runs in the management account; set it when Timebox runs in a delegated
   * administrator account.
   */
  readonly identityStoreAccount?: string;
  /** An SNS topic to notify when the dead-letter queue holds a message (context `alarmTopicArn`). */
  readonly alarmTopicArn?: string;
}

/** Where the config file lands inside every bundle, and so inside /var/task at run time. */
export const BUNDLED_CONFIG_NAME = 'timebox.json';
const LAMBDA_TASK_ROOT = '/var/task';

type FunctionKind = 'slack' | 'worker' | 'sweep';

/**
 * Timebox on AWS: a Slack-facing function behind a Function URL, a worker that grants and
 * revokes, a sweeper that catches anything overdue, one DynamoDB table, an EventBridge Scheduler
 * group for the one-time revoke/expiry schedules, and one dead-letter queue for every async path.
 */
export class TimeboxStack extends Stack {
  readonly config: TimeboxConfig;
  readonly table: dynamodb.Table;
  readonly slackFunction: nodejs.NodejsFunction;
  readonly workerFunction: nodejs.NodejsFunction;
  readonly sweepFunction: nodejs.NodejsFunction;
  readonly scheduleGroupName: string;
  readonly schedulerRole: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  readonly slackSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: TimeboxStackProps = {}) {
    super(scope, id, props);
    Tags.of(this).add('app', 'timebox');

    // ---- Configuration: validated now, so a mistake fails `cdk synth`, not the first request.
    const source = resolveConfigSource(props.configPath ?? this.node.tryGetContext('config'));
    this.config = loadConfigFile(source.path);
    if (source.isExample) {
      Annotations.of(this).addWarningV2(
        'timebox:example-config',
        `Deploying timebox.example.yaml: its accounts, permission sets and approvers are placeholders. Copy it to timebox.yaml (or pass -c config=PATH) and edit it before a real deployment.`,
      );
    }
    const identityStoreAccount = optionalText(props.identityStoreAccount ?? this.node.tryGetContext('identityStoreAccount'), 'identityStoreAccount', /^\d{12}$/) ?? this.account;
    // `-c workerConcurrency=none` for accounts whose Lambda concurrency limit is too low to reserve 10.
    const workerConcurrencyText = optionalText(this.node.tryGetContext('workerConcurrency'), 'workerConcurrency', /^(none|[1-9]|1[0-5])$/) ?? '10';
    const workerConcurrency = workerConcurrencyText === 'none' ? undefined : Number(workerConcurrencyText);
    const alarmTopicArn = optionalText(props.alarmTopicArn ?? this.node.tryGetContext('alarmTopicArn'), 'alarmTopicArn', /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/);

    // ---- Data: one table (see src/adapters/dynamodb/table-layout.ts and docs/DEPLOY.md).
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // The audit trail lives here: deleting the stack must not delete it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: DUE_INDEX.name,
      partitionKey: { name: DUE_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: DUE_INDEX.sortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    const tableResources = [this.table.tableArn, `${this.table.tableArn}/index/${DUE_INDEX.name}`];

    // ---- Slack credentials. The generated signing secret is a random placeholder (so nothing
    // verifies against a guessable default) and the bot token placeholder fails validation with a
    // clear message until the operator puts the real value.
    this.slackSecret = new secretsmanager.Secret(this, 'SlackSecret', {
      description: 'Timebox Slack credentials: {"botToken":"xoxb-…","signingSecret":"…"}. Put the real value with aws secretsmanager put-secret-value.',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ botToken: 'REPLACE_ME (put the xoxb- bot token here)' }),
        generateStringKey: 'signingSecret',
        excludePunctuation: true,
        passwordLength: 32,
      },
    });
    Validations.of(this.slackSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret holds a Slack bot token and signing secret, which only Slack can issue or rotate (app settings → regenerate); a rotation Lambda has no API to call. Operators rotate in Slack and put the new value; the functions re-read the secret on every cold start.',
    });

    // ---- Dead letters from every asynchronous path: worker invocations that failed all retries
    // (Lambda on-failure destination) and schedules Scheduler could not deliver.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue: the worker function\'s on-failure destination and the Scheduler schedules\' DeadLetterConfig point at it. Nothing consumes it automatically; its alarm pages an operator, and a dead letter of a dead letter would have no reader.',
    });
    const deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'A Timebox grant, revoke or expiry failed every retry and landed in the dead-letter queue. The sweep retries overdue requests every 5 minutes; read the message and the worker logs.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (alarmTopicArn) deadLetterAlarm.addAlarmAction(new cloudwatchActions.SnsAction(sns.Topic.fromTopicArn(this, 'AlarmTopic', alarmTopicArn)));

    // ---- EventBridge Scheduler: one group for Timebox's one-time schedules. Deleting the group
    // (with the stack) deletes its schedules.
    this.scheduleGroupName = `${this.stackName}-schedules`.slice(0, 64);
    const scheduleGroup = new scheduler.CfnScheduleGroup(this, 'ScheduleGroup', { name: this.scheduleGroupName });
    const scheduleGroupArn = this.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: this.scheduleGroupName });
    const schedulesInGroupArn = this.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.scheduleGroupName}/*` });

    // The worker's physical name is fixed so its own environment can name it (a reference to its
    // own ARN would be a circular dependency).
    const workerFunctionName = `${this.stackName}-worker`;
    if (workerFunctionName.length > 64) throw new Error(`stack name "${this.stackName}" is too long: "${workerFunctionName}" exceeds Lambda's 64-character function names`);
    const workerArn = this.formatArn({ service: 'lambda', resource: 'function', resourceName: workerFunctionName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to invoke the Timebox worker from schedules in its group.',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          // Scheduler documents the group ARN as the source; the schedules-in-group pattern is
          // kept for older behaviour. Both name only this stack's group.
          ArnLike: { 'aws:SourceArn': [scheduleGroupArn, schedulesInGroupArn] },
        },
      }),
    });

    // ---- The three functions.
    const shared = {
      TIMEBOX_TABLE: this.table.tableName,
      TIMEBOX_SECRET_ARN: this.slackSecret.secretArn,
      TIMEBOX_CONFIG: `${LAMBDA_TASK_ROOT}/${BUNDLED_CONFIG_NAME}`,
      TIMEBOX_WORKER_FUNCTION: workerFunctionName,
      TIMEBOX_WORKER_ARN: workerArn,
      TIMEBOX_SCHEDULE_GROUP: this.scheduleGroupName,
      TIMEBOX_SCHEDULER_ROLE_ARN: this.schedulerRole.roleArn,
      TIMEBOX_DLQ_ARN: this.deadLetterQueue.queueArn,
      NODE_OPTIONS: '--enable-source-maps',
    };
    const makeFunction = (kind: FunctionKind, options: { description: string; memorySize: number; timeout: Duration; functionName?: string } & Partial<nodejs.NodejsFunctionProps>) => {
      const logGroup = new logs.LogGroup(this, `${pascal(kind)}Logs`, {
        retention: logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // An explicit role with a policy naming its own log group, instead of the
      // AWSLambdaBasicExecutionRole managed policy (which allows every log group).
      const role = new iam.Role(this, `${pascal(kind)}Role`, {
        description: `Timebox ${kind} function`,
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      });
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
      );
      const fn = new nodejs.NodejsFunction(this, `${pascal(kind)}Function`, {
        entry: join(REPO_ROOT, 'src', 'entrypoints', 'lambda', `${kind}.ts`),
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        role,
        logGroup,
        environment: shared,
        bundling: bundlingFor(source.path),
        ...options,
      });
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'Pinned to nodejs22.x on purpose: a supported LTS runtime that the bundle is built for (esbuild target node22) and tested on. Moving to the newest runtime is a deliberate one-line change, not something a synth should do silently.',
      });
      return fn;
    };

    this.workerFunction = makeFunction('worker', {
      functionName: workerFunctionName,
      description: 'Timebox worker: grants, revokes and expiries for one request at a time',
      memorySize: 512,
      timeout: Duration.minutes(5),
      // Each running worker holds at most one CreateAccountAssignment at a time (the Lambda runtime
      // caps its adapter at one outstanding create, even for a request of several grants); AWS allows
      // 15 outstanding per instance, so at most 10 workers run at once, leaving room for people
      // and other tools. (Needs 10 of the account's unreserved concurrency; see DEPLOY.md.)
      ...(workerConcurrency === undefined ? {} : { reservedConcurrentExecutions: workerConcurrency }),
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
    this.slackFunction = makeFunction('slack', {
      description: 'Timebox Slack endpoint: slash command, buttons, modals (acks within 3 s)',
      memorySize: 1024,
      timeout: Duration.seconds(10),
    });
    this.sweepFunction = makeFunction('sweep', {
      description: 'Timebox sweep: hands every overdue request to the worker and reconciles assignments',
      memorySize: 256,
      timeout: Duration.minutes(2),
      // The next sweep is 5 minutes away; retrying a failed one would only overlap it.
      retryAttempts: 0,
    });

    // Schedules are created in the group by name: make sure it exists before anything runs.
    this.slackFunction.node.addDependency(scheduleGroup);
    this.workerFunction.node.addDependency(scheduleGroup);

    // ---- Triggers.
    const functionUrl = this.slackFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    new events.Rule(this, 'SweepSchedule', {
      description: 'Runs the Timebox sweep every 5 minutes',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new eventTargets.LambdaFunction(this.sweepFunction)],
    });

    // ---- Permissions, written out (docs/DEPLOY.md explains each).
    const readWriteTable = new iam.PolicyStatement({
      sid: 'ReadWriteTable',
      // The store writes whole items (conditional PutItem) and never updates in place, so no UpdateItem.
      actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      resources: tableResources,
    });
    const readSecret = new iam.PolicyStatement({ sid: 'ReadSlackSecret', actions: ['secretsmanager:GetSecretValue'], resources: [this.slackSecret.secretArn] });
    const invokeWorker = new iam.PolicyStatement({ sid: 'InvokeWorker', actions: ['lambda:InvokeFunction'], resources: [this.workerFunction.functionArn] });
    const manageSchedules = new iam.PolicyStatement({
      sid: 'ManageSchedulesInGroup',
      actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'],
      resources: [schedulesInGroupArn],
    });
    const passSchedulerRole = new iam.PolicyStatement({
      sid: 'PassSchedulerRole',
      actions: ['iam:PassRole'],
      resources: [this.schedulerRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    const ssoPartition = (arn: string) => arn.split(':')[1] ?? 'aws';
    const manageAssignments = new iam.PolicyStatement({
      sid: 'ManageAccountAssignments',
      actions: [
        'sso:CreateAccountAssignment',
        'sso:DeleteAccountAssignment',
        'sso:DescribeAccountAssignmentCreationStatus',
        'sso:DescribeAccountAssignmentDeletionStatus',
        'sso:ListAccountAssignments',
      ],
      // Identity Center ARNs carry no region or account; the partition comes from the
      // configured instance ARN so GovCloud/China configs stay consistent.
      resources: [
        this.config.identityCenter.instanceArn,
        ...this.config.policy.permissionSets.map((p) => p.arn),
        ...this.config.policy.accounts.map((a) => `arn:${ssoPartition(this.config.identityCenter.instanceArn)}:sso:::account/${a.id}`),
      ],
    });
    // The reconciler (in the sweep) may list assignments and remove an orphan Timebox created; it never creates.
    const reconcileAssignments = new iam.PolicyStatement({
      sid: 'ReconcileAccountAssignments',
      // DescribeAccountAssignmentCreationStatus: a lease keeps the ids of creations Timebox started
      // and has not seen finish; the reconciler forgets it only once they have.
      actions: ['sso:ListAccountAssignments', 'sso:DeleteAccountAssignment', 'sso:DescribeAccountAssignmentCreationStatus', 'sso:DescribeAccountAssignmentDeletionStatus'],
      resources: manageAssignments.resources,
    });
    const identityStoreArn = `arn:${this.partition}:identitystore::${identityStoreAccount}:identitystore/${this.config.identityCenter.identityStoreId}`;
    const allUsersArn = `arn:${this.partition}:identitystore:::user/*`;
    const allMembershipsArn = `arn:${this.partition}:identitystore:::membership/*`;
    const lookUpUsers = new iam.PolicyStatement({
      sid: 'LookUpIdentityStoreUsers',
      actions: ['identitystore:GetUserId'],
      resources: [identityStoreArn, allUsersArn],
    });
    // Group grants: temporary membership of a configured group. The service authorization
    // reference lists, per action: CreateGroupMembership → Identitystore, Group, User;
    // DeleteGroupMembership and GetGroupMembershipId → Identitystore, Group, GroupMembership, User.
    // (IsMemberInGroups is not granted: Timebox looks memberships up with GetGroupMembershipId.) Groups are
    // named one by one; users and memberships cannot be (see the acknowledgments below). IAM
    // matches each action only against the resource types it authorizes, so membership/* in the
    // same statement gives CreateGroupMembership nothing more. No groups configured: no statement.
    const groupArns = this.config.policy.groups.map((g) => `arn:${this.partition}:identitystore:::group/${g.id}`);
    const hasGroups = groupArns.length > 0;
    const membershipResources = [identityStoreArn, ...groupArns, allUsersArn, allMembershipsArn];
    const manageMemberships = new iam.PolicyStatement({
      sid: 'ManageGroupMemberships',
      actions: [
        'identitystore:CreateGroupMembership',
        'identitystore:DeleteGroupMembership',
        'identitystore:GetGroupMembershipId',
      ],
      resources: membershipResources,
    });
    // The reconciler (in the sweep) looks memberships up and removes an orphan Timebox created; it
    // never adds anyone to a group, so no CreateGroupMembership. The lease already holds the user
    // id, so it needs no GetUserId either.
    const reconcileMemberships = new iam.PolicyStatement({
      sid: 'ReconcileGroupMemberships',
      actions: ['identitystore:DeleteGroupMembership', 'identitystore:GetGroupMembershipId'],
      resources: membershipResources,
    });

    for (const statement of [readWriteTable, readSecret, invokeWorker, manageSchedules, passSchedulerRole]) this.slackFunction.addToRolePolicy(statement);
    for (const statement of [readWriteTable, readSecret, manageSchedules, passSchedulerRole, manageAssignments, lookUpUsers, ...(hasGroups ? [manageMemberships] : [])]) {
      this.workerFunction.addToRolePolicy(statement);
    }
    // The sweep builds the same runtime as the others (it reads the secret at cold start), hands
    // overdue work to the worker, and reconciles leases with Identity Center (lease and audit writes).
    for (const statement of [readWriteTable, readSecret, invokeWorker, reconcileAssignments, ...(hasGroups ? [reconcileMemberships] : [])]) {
      this.sweepFunction.addToRolePolicy(statement);
    }

    this.schedulerRole.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'InvokeWorker', actions: ['lambda:InvokeFunction'], resources: [this.workerFunction.functionArn] }));
    this.schedulerRole.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'SendDeadLetters', actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }));

    const schedulesFinding = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${this.scheduleGroupName}/*]`;
    const schedulesReason =
      'Schedule names are per request (timebox-R-…), created and deleted at run time, so they cannot be listed in advance. The wildcard is confined to this stack\'s own schedule group, and the PassRole statement allows only the scheduler role.';
    // Acknowledged on the roles: their DefaultPolicy is where the statements land.
    Validations.of(roleOf(this.slackFunction)).acknowledge({ id: schedulesFinding, reason: schedulesReason });
    const usersFinding = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::user/*]';
    const membershipsFinding = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::membership/*]';
    const membershipUsersReason =
      'The group membership actions (CreateGroupMembership, DeleteGroupMembership, GetGroupMembershipId) authorize against the user resource too, and the member is whoever asked for access, so the user id cannot be known in advance. The same statement names the one configured identity store and each configured group by id, so only memberships of those groups are reachable.';
    const membershipsReason =
      'DeleteGroupMembership and GetGroupMembershipId authorize against the membership resource, whose id Identity Store assigns when the membership is created, so it cannot be named in advance. The same statement names the one configured identity store and each configured group by id.';
    Validations.of(roleOf(this.workerFunction)).acknowledge(
      { id: schedulesFinding, reason: schedulesReason },
      {
        id: usersFinding,
        reason:
          'identitystore:GetUserId authorizes against the user resource as well as the store, and the user id is what the call looks up, so it cannot be known in advance; the statement also names the one configured identity store, and the action is read-only.' +
          (hasGroups ? ` ${membershipUsersReason}` : ''),
      },
      ...(hasGroups ? [{ id: membershipsFinding, reason: membershipsReason }] : []),
    );
    if (hasGroups) {
      Validations.of(roleOf(this.sweepFunction)).acknowledge({ id: usersFinding, reason: membershipUsersReason }, { id: membershipsFinding, reason: membershipsReason });
    }

    // ---- Outputs.
    new CfnOutput(this, 'SlackFunctionUrl', { value: functionUrl.url, description: 'The Slack function URL' });
    new CfnOutput(this, 'SlackRequestUrl', {
      value: Fn.join('', [functionUrl.url, 'slack/events']),
      description: 'Paste into the Slack app: slash command Request URL, Interactivity Request URL, and Options Load URL',
    });
    new CfnOutput(this, 'SlackSecretArn', { value: this.slackSecret.secretArn, description: 'Put {"botToken":"xoxb-…","signingSecret":"…"} here' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'ScheduleGroupName', { value: scheduleGroup.ref });
    new CfnOutput(this, 'WorkerFunctionName', { value: workerFunctionName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
  }
}

/**
 * esbuild on this machine (Docker only if esbuild is missing), then the validated config file
 * copied next to index.js so the function reads exactly what synth checked.
 */
/** Modules the Lambda path never runs, replaced by small stand-ins to keep cold starts short. */
const BUNDLE_STUBS: Record<string, string> = {
  '@slack/socket-mode': join(REPO_ROOT, 'src/entrypoints/lambda/bundle-stubs/socket-mode.ts'),
  'iconv-lite': join(REPO_ROOT, 'src/entrypoints/lambda/bundle-stubs/iconv-lite.ts'),
};

/** The esbuild settings for the three functions; scripts/bundle-report.ts measures the same. */
export const LAMBDA_ESBUILD = {
  minify: true,
  target: 'node22',
  // The ESM builds of the AWS SDK and zod tree-shake; their CommonJS builds do not.
  mainFields: ['module', 'main'],
  alias: BUNDLE_STUBS,
} as const;

/**
 * The operator's YAML, validated at synth, goes into each bundle as JSON, so the functions need
 * no YAML parser (they validate it again at cold start).
 */
function bundledConfigJson(configPath: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'timebox-config-'));
  const path = join(dir, BUNDLED_CONFIG_NAME);
  writeFileSync(path, JSON.stringify(parseYaml(readFileSync(configPath, 'utf8'))));
  return path;
}

function bundlingFor(configPath: string): nodejs.BundlingOptions {
  const configJson = bundledConfigJson(configPath);
  return {
    forceDockerBundling: false,
    minify: LAMBDA_ESBUILD.minify,
    sourceMap: true,
    // Stack traces need the mappings, not a copy of every source file: a smaller map is
    // faster to load under --enable-source-maps.
    sourcesContent: false,
    target: LAMBDA_ESBUILD.target,
    format: nodejs.OutputFormat.CJS,
    mainFields: [...LAMBDA_ESBUILD.mainFields],
    esbuildArgs: Object.fromEntries(Object.entries(BUNDLE_STUBS).map(([from, to]) => [`--alias:${from}`, to])),
    // Bundle the AWS SDK too: the versions tested are the versions deployed.
    externalModules: [],
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir: string, outputDir: string) => [`cp ${shellQuote(configJson)} ${shellQuote(`${outputDir}/${BUNDLED_CONFIG_NAME}`)}`],
    },
  };
}

/** A context value that must match `pattern` when given; context from the CLI is always text. */
function optionalText(value: unknown, name: string, pattern: RegExp): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const text = String(value);
  if (!pattern.test(text)) throw new Error(`context "${name}" is not valid: ${JSON.stringify(value)}`);
  return text;
}

function roleOf(fn: lambda.IFunction): iam.IRole {
  if (!fn.role) throw new Error(`${fn.node.path} has no role`);
  return fn.role;
}

function shellQuote(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`;
}

function pascal(kind: FunctionKind): string {
  return kind.charAt(0).toUpperCase() + kind.slice(1);
}
