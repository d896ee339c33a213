import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Annotations, ArnFormat, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUDIT_INDEX, DUE_INDEX, REQUESTER_INDEX, TABLE_KEYS } from '../../src/adapters/dynamodb/table-layout';
import { AuditArchive } from './audit-archive';
import type { TimeboxConfig } from '../../src/config/config-schema';
import { STUCK_REVOKE_METRIC } from '../../src/adapters/alarms/revoke-alarms';
import { loadConfigFile } from '../../src/config/load-config';
import { SWEEP_TIMEOUT_MS } from '../../src/entrypoints/lambda/lambda-catalogue';
import { REPO_ROOT } from './config-source';

/** How Slack reaches the Slack function. */
export type TimeboxEndpoint = 'apiGateway' | 'functionUrl';

export interface TimeboxConstructProps {
  /** The Timebox YAML config to validate (now, at synth) and bundle with the functions. */
  readonly configPath: string;
  /**
   * Prefix of the physical names: the worker and sweep functions (`<name>-worker`, `<name>-sweep`)
   * and the schedule group (`<name>-schedules`). Default: the stack's name. Set it to put two
   * Timeboxes in one stack.
   */
  readonly name?: string;
  /**
   * The account that owns the Identity Center identity store (its ARN names that account).
   * Default: this stack's account, right when Timebox runs in the management account; set it
   * when Timebox runs in a delegated administrator account.
   */
  readonly identityStoreAccount?: string;
  /** Reserved concurrency of the worker (1–15; default 10), or 'none' where the account's Lambda limit is too low to reserve. */
  readonly workerConcurrency?: number | 'none';
  /** The permissions boundary every role Timebox creates gets (the organisation's, often required by SCPs). */
  readonly permissionsBoundary?: iam.IManagedPolicy;
  /**
   * A customer-managed KMS key for the table, the Slack secret, the dead-letter queue, the log
   * groups and the functions' environment. Default: AWS-managed encryption. Its key policy must
   * let CloudWatch Logs use it (added here when the key is in the same app; see docs/DEPLOY.md).
   */
  readonly encryptionKey?: kms.IKey;
  /** Tags for every resource Timebox creates (on top of app=timebox). */
  readonly tags?: Record<string, string>;
  /** How long the functions' (and the API's access) logs are kept. Default: three months. */
  readonly logRetention?: logs.RetentionDays;
  /** An SNS topic every alarm (dead letters, stuck revokes, a failing sweep) notifies. */
  readonly alarmTopic?: sns.ITopic;
  /**
   * 'apiGateway' (default): an HTTP API with throttling in front of the Slack function, so no
   * function can be invoked by anyone else. 'functionUrl': a Lambda Function URL without IAM auth
   * (Timebox checks Slack's signature itself), which posture checks such as Security Hub
   * Lambda.1 flag as publicly invocable.
   */
  readonly endpoint?: TimeboxEndpoint;
  /** Throttling of the HTTP API (requests per second, and the burst). Default 50 and 100. */
  readonly throttle?: { rateLimit: number; burstLimit: number };
  /** Slack's Web API base URL, for GovSlack (https://slack-gov.com/api/). Default: Slack's. */
  readonly slackApiUrl?: string;
  /**
   * The audit archive (AuditArchive): every audit event, as OCSF, in an S3 bucket with Object Lock,
   * written from the table's stream. Default true; false (context `auditArchive=false`) leaves it
   * out, and with it the only copy of the audit trail Timebox's own roles cannot change.
   */
  readonly auditArchive?: boolean;
  /** Days each archived audit event is locked (S3 Object Lock, compliance mode). Default 400. */
  readonly auditRetention?: number;
}

/** Where the config file lands inside every bundle, and so inside /var/task at run time. */
export const BUNDLED_CONFIG_NAME = 'timebox.json';
const LAMBDA_TASK_ROOT = '/var/task';

type FunctionKind = 'slack' | 'worker' | 'sweep' | 'audit-archiver';

/**
 * Where the packaged construct finds its prebuilt Lambda bundles (npm run build:lambda writes
 * them to dist/lambda; in the package this file is dist/infra/lib, so REPO_ROOT is dist/). From
 * a clone, the functions are bundled from src/ at synth instead.
 */
const PREBUILT_BUNDLES = join(REPO_ROOT, 'lambda');

/**
 * Timebox on AWS: a Slack-facing function behind an HTTP API (or a Function URL), a worker that
 * grants and revokes, a sweeper that catches anything overdue, one DynamoDB table, an EventBridge
 * Scheduler group for the one-time revoke/expiry schedules, and one dead-letter queue for every
 * async path. Compose it into any stack; infra/bin/timebox.ts is the app that deploys it alone.
 */
export class TimeboxConstruct extends Construct {
  readonly config: TimeboxConfig;
  readonly table: dynamodb.Table;
  readonly slackFunction: lambda.Function;
  readonly workerFunction: lambda.Function;
  readonly sweepFunction: lambda.Function;
  /** The URL to paste into the Slack app (slash command, interactivity, options load). */
  readonly slackRequestUrl: string;
  /** The HTTP API in front of the Slack function (endpoint 'apiGateway'). */
  readonly httpApi: apigwv2.HttpApi | undefined;
  readonly scheduleGroupName: string;
  readonly schedulerRole: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  readonly slackSecret: secretsmanager.Secret;
  readonly auditArchive: AuditArchive | undefined;

  constructor(scope: Construct, id: string, props: TimeboxConstructProps) {
    super(scope, id);
    const stack = Stack.of(this);
    Tags.of(this).add('app', 'timebox');
    for (const [key, value] of Object.entries(props.tags ?? {})) Tags.of(this).add(key, value);
    if (props.permissionsBoundary) iam.PermissionsBoundary.of(this).apply(props.permissionsBoundary);
    const key = props.encryptionKey;
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const endpoint = props.endpoint ?? 'apiGateway';
    const baseName = props.name ?? stack.stackName;

    // ---- Configuration: validated now, so a mistake fails `cdk synth`, not the first request.
    const configPath = props.configPath;
    this.config = loadConfigFile(configPath);
    const identityStoreAccount = checkedProp(props.identityStoreAccount, 'identityStoreAccount', /^\d{12}$/, 'a 12-digit AWS account id') ?? stack.account;
    const workerConcurrency = props.workerConcurrency ?? 10;
    if (workerConcurrency !== 'none' && !(Number.isInteger(workerConcurrency) && workerConcurrency >= 1 && workerConcurrency <= 15)) {
      throw new TimeboxPropsError(`workerConcurrency must be a whole number from 1 to 15, or 'none'; got ${JSON.stringify(workerConcurrency)}`);
    }
    if (props.endpoint !== undefined && props.endpoint !== 'apiGateway' && props.endpoint !== 'functionUrl') {
      throw new TimeboxPropsError(`endpoint must be 'apiGateway' or 'functionUrl'; got ${JSON.stringify(props.endpoint)}`);
    }
    const slackApiUrl = checkedProp(props.slackApiUrl, 'slackApiUrl', /^https:\/\/[^\s/]+(\/[^\s]*)?$/, 'an https:// URL such as https://slack-gov.com/api/');

    // ---- Data: one table (see src/adapters/dynamodb/table-layout.ts and docs/DEPLOY.md).
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(key ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: key } : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      // The audit trail lives here: deleting the stack must not delete it.
      removalPolicy: RemovalPolicy.RETAIN,
      // Every write's new image, for the audit archiver (AuditArchive).
      ...(props.auditArchive !== false ? { stream: dynamodb.StreamViewType.NEW_IMAGE } : {}),
    });
    this.table.addGlobalSecondaryIndex({
      indexName: DUE_INDEX.name,
      partitionKey: { name: DUE_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: DUE_INDEX.sortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: REQUESTER_INDEX.name,
      partitionKey: { name: REQUESTER_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: REQUESTER_INDEX.sortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    // Requests by the time of their last audit event: the audit export reads it (operators' credentials; no function needs it).
    this.table.addGlobalSecondaryIndex({
      indexName: AUDIT_INDEX.name,
      partitionKey: { name: AUDIT_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: AUDIT_INDEX.sortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    const tableResources = [this.table.tableArn, `${this.table.tableArn}/index/${DUE_INDEX.name}`, `${this.table.tableArn}/index/${REQUESTER_INDEX.name}`];

    // ---- Slack credentials. The generated signing secret is a random placeholder (so nothing
    // verifies against a guessable default) and the bot token placeholder fails validation with a
    // clear message until the operator puts the real value.
    this.slackSecret = new secretsmanager.Secret(this, 'SlackSecret', {
      description: 'Timebox Slack credentials: {"botToken":"xoxb-…","signingSecret":"…"}. Put the real value with aws secretsmanager put-secret-value.',
      ...(key ? { encryptionKey: key } : {}),
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
      ...(key ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key } : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
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


    // ---- EventBridge Scheduler: one group for Timebox's one-time schedules. Deleting the group
    // (with the stack) deletes its schedules.
    this.scheduleGroupName = `${baseName}-schedules`.slice(0, 64);
    const scheduleGroup = new scheduler.CfnScheduleGroup(this, 'ScheduleGroup', { name: this.scheduleGroupName });
    const scheduleGroupArn = stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: this.scheduleGroupName });
    const schedulesInGroupArn = stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.scheduleGroupName}/*` });

    // The worker's physical name is fixed so its own environment can name it (a reference to its
    // own ARN would be a circular dependency).
    const workerFunctionName = `${baseName}-worker`;
    if (workerFunctionName.length > 64) throw new TimeboxPropsError(`name "${baseName}" is too long: "${workerFunctionName}" exceeds Lambda's 64-character function names`);
    const workerArn = stack.formatArn({ service: 'lambda', resource: 'function', resourceName: workerFunctionName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    // The sweep is also the waiter schedules fired ahead of a window's end invoke (see fireTime):
    // named the same way, so the functions that create schedules can name it.
    const sweepFunctionName = `${baseName}-sweep`;
    const sweepArn = stack.formatArn({ service: 'lambda', resource: 'function', resourceName: sweepFunctionName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to invoke the Timebox worker from schedules in its group.',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
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
      TIMEBOX_WAITER_ARN: sweepArn,
      TIMEBOX_SCHEDULE_GROUP: this.scheduleGroupName,
      TIMEBOX_SCHEDULER_ROLE_ARN: this.schedulerRole.roleArn,
      TIMEBOX_DLQ_ARN: this.deadLetterQueue.queueArn,
      NODE_OPTIONS: '--enable-source-maps',
      ...(slackApiUrl ? { SLACK_API_URL: slackApiUrl } : {}),
    };
    const configJson = bundledConfigJson(configPath);
    const makeFunction = (kind: FunctionKind, options: { description: string; memorySize: number; timeout: Duration; functionName?: string } & Partial<lambda.FunctionProps>) => {
      const logGroup = new logs.LogGroup(this, `${pascal(kind)}Logs`, {
        retention: logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
        ...(key ? { encryptionKey: key } : {}),
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
      if (key) role.addToPrincipalPolicy(useKey(key));
      const common = {
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        role,
        logGroup,
        environment: shared,
        ...(key ? { environmentEncryption: key } : {}),
        ...options,
      };
      // From a clone: bundled from src/ now. From the package: its prebuilt bundle, with this config beside it.
      const entry = join(REPO_ROOT, 'src', 'entrypoints', 'lambda', `${kind}.ts`);
      const fn = existsSync(entry)
        ? new nodejs.NodejsFunction(this, `${pascal(kind)}Function`, {
            entry,
            handler: 'handler',
            projectRoot: REPO_ROOT,
            depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
            bundling: bundlingFor(configJson),
            ...common,
          })
        : new lambda.Function(this, `${pascal(kind)}Function`, { code: lambda.Code.fromAsset(prebuiltBundle(kind, configJson)), handler: 'index.handler', ...common });
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
      ...(workerConcurrency === 'none' ? {} : { reservedConcurrentExecutions: workerConcurrency }),
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
    this.slackFunction = makeFunction('slack', {
      description: 'Timebox Slack endpoint: slash command, buttons, modals (acks within 3 s)',
      memorySize: 1024,
      timeout: Duration.seconds(10),
      // Its lazy listeners (requests it hands to itself): a request older than Slack's 5-minute
      // signature window would be refused anyway, so Lambda need not keep one longer.
      maxEventAge: Duration.minutes(5),
    });
    this.sweepFunction = makeFunction('sweep', {
      functionName: sweepFunctionName,
      description: 'Timebox sweep: hands every overdue request to the worker and reconciles assignments',
      memorySize: 256,
      // A sweep takes well under a minute; a schedule fired ahead waits up to 150 s before handing over.
      // With discovery it also reads the organisation when the cache is stale (about 219 s at 1,000
      // accounts, at 5 calls a second), after its own work: see SWEEP_TIMEOUT_MS.
      timeout: this.config.discovery ? Duration.millis(SWEEP_TIMEOUT_MS) : Duration.minutes(3),
      // The next sweep is 5 minutes away; retrying a failed one would only overlap it. A failed
      // run lands in the dead-letter queue (and so its alarm), and raises SweepFailingAlarm.
      retryAttempts: 0,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });

    // ---- Alarms: access outliving its window, and the safety net failing.
    const alarmTopic = props.alarmTopic;
    const revokeStuckAlarm = new cloudwatch.Alarm(this, 'RevokeStuckAlarm', {
      alarmDescription:
        'A Timebox revoke has kept failing (alerts.revokeStuckAttempts attempts, or alerts.revokeStuckAfter past the window\'s end): access is outliving its window. The worker logs and the approvals channel name the grant and the error (often AccessDenied after an IAM change). Timebox keeps retrying.',
      metric: new cloudwatch.Metric({ namespace: STUCK_REVOKE_METRIC.namespace, metricName: STUCK_REVOKE_METRIC.name, dimensionsMap: { service: 'timebox' }, statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const sweepFailingAlarm = new cloudwatch.Alarm(this, 'SweepFailingAlarm', {
      alarmDescription: 'The Timebox sweep (the safety net that hands overdue revokes to the worker) failed. Read the sweep function\'s logs.',
      metric: this.sweepFunction.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (alarmTopic) for (const alarm of [deadLetterAlarm, revokeStuckAlarm, sweepFailingAlarm]) alarm.addAlarmAction(new cloudwatchActions.SnsAction(alarmTopic));

    // Schedules are created in the group by name: make sure it exists before anything runs.
    this.slackFunction.node.addDependency(scheduleGroup);
    this.workerFunction.node.addDependency(scheduleGroup);

    // ---- Triggers.
    const front = endpoint === 'functionUrl' ? { api: undefined, url: this.addFunctionUrl() } : this.addHttpApi(props.throttle ?? { rateLimit: 50, burstLimit: 100 }, logRetention, key);
    this.httpApi = front.api;
    const slackBase = front.url;
    this.slackRequestUrl = Fn.join('', [slackBase, 'slack/events']);
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
    // The worker hands a window ending too soon to schedule ahead straight to the waiter (the sweep).
    const invokeWaiter = new iam.PolicyStatement({ sid: 'InvokeWaiter', actions: ['lambda:InvokeFunction'], resources: [sweepArn] });
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
    const { instanceArn } = this.config.identityCenter;
    const instanceId = instanceArn.split('/').pop() ?? '';
    // Identity Center ARNs carry no region or account; the partition comes from the configured
    // instance ARN so GovCloud/China configs stay consistent.
    const ssoArn = (resource: string) => `arn:${ssoPartition(instanceArn)}:sso:::${resource}`;
    // Removing, listing and following operations never shrink below what a live grant needs:
    // a config edit that drops an account or permission set must not strand an active window
    // (its revoke would get AccessDenied). They reach every account and permission set of the
    // one configured instance; creating stays limited to the config (createAssignmentPolicies).
    const removeAssignmentActions = ['sso:DeleteAccountAssignment', 'sso:DescribeAccountAssignmentCreationStatus', 'sso:DescribeAccountAssignmentDeletionStatus', 'sso:ListAccountAssignments'];
    const removeAssignmentResources = [instanceArn, ssoArn(`permissionSet/${instanceId}/*`), ssoArn('account/*')];
    const removeAssignments = new iam.PolicyStatement({ sid: 'RemoveAccountAssignments', actions: removeAssignmentActions, resources: removeAssignmentResources });
    // The reconciler (in the sweep) may list assignments and remove an orphan Timebox created; it never creates.
    // DescribeAccountAssignmentCreationStatus: a lease keeps the ids of creations Timebox started
    // and has not seen finish; the reconciler forgets it only once they have.
    const reconcileAssignments = new iam.PolicyStatement({ sid: 'ReconcileAccountAssignments', actions: removeAssignmentActions, resources: removeAssignmentResources });
    const identityStoreArn = `arn:${stack.partition}:identitystore::${identityStoreAccount}:identitystore/${this.config.identityCenter.identityStoreId}`;
    const allUsersArn = `arn:${stack.partition}:identitystore:::user/*`;
    const allMembershipsArn = `arn:${stack.partition}:identitystore:::membership/*`;
    const allGroupsArn = `arn:${stack.partition}:identitystore:::group/*`;
    const lookUpUsers = new iam.PolicyStatement({
      sid: 'LookUpIdentityStoreUsers',
      actions: ['identitystore:GetUserId'],
      resources: [identityStoreArn, allUsersArn],
    });
    // Group grants: temporary membership of a configured group. The service authorization
    // reference lists, per action: CreateGroupMembership → Identitystore, Group, User;
    // DeleteGroupMembership and GetGroupMembershipId → Identitystore, Group, GroupMembership, User.
    // (The worker is not granted IsMemberInGroups: it looks memberships up with GetGroupMembershipId.
    // Only the Slack function checks membership of the groups rules name; see below.)
    // Users and memberships cannot be named in advance (see the acknowledgments below). No groups
    // configured: no membership statement at all.
    const groupArns = this.config.policy.catalogue.current().groups.map((g) => `arn:${stack.partition}:identitystore:::group/${g.id}`);
    const hasGroups = groupArns.length > 0;
    // Adding someone to a group: only the configured groups. Removing and looking up: any group
    // of the configured store, so dropping a group from the config never strands a membership.
    const addMembership = new iam.PolicyStatement({ sid: 'AddGroupMemberships', actions: ['identitystore:CreateGroupMembership'], resources: [identityStoreArn, ...groupArns, allUsersArn] });
    const removeMembershipActions = ['identitystore:DeleteGroupMembership', 'identitystore:GetGroupMembershipId'];
    const removeMembershipResources = [identityStoreArn, allGroupsArn, allUsersArn, allMembershipsArn];
    const removeMemberships = new iam.PolicyStatement({ sid: 'RemoveGroupMemberships', actions: removeMembershipActions, resources: removeMembershipResources });
    // The reconciler (in the sweep) looks memberships up and removes an orphan Timebox created; it
    // never adds anyone to a group. The lease already holds the user id, so it needs no GetUserId either.
    const reconcileMemberships = new iam.PolicyStatement({ sid: 'ReconcileGroupMemberships', actions: removeMembershipActions, resources: removeMembershipResources });

    // Rules naming Identity Center groups (group:<display name>) as requesters or approvers: the
    // Slack function checks membership at each request and click (find the user, find the group
    // by display name, IsMemberInGroups); read-only, and only when a rule names such a group.
    const namesIdentityCenterGroups = this.config.policy.rules.some((r) => [...r.requesters, ...r.approvers].some((e) => e.startsWith('group:')));
    const checkGroupMembership = new iam.PolicyStatement({
      sid: 'CheckIdentityCenterGroupMembership',
      actions: ['identitystore:GetGroupId', 'identitystore:GetUserId', 'identitystore:IsMemberInGroups'],
      resources: [identityStoreArn, allGroupsArn, allUsersArn],
    });

    for (const statement of [readWriteTable, readSecret, invokeWorker, manageSchedules, passSchedulerRole, ...(namesIdentityCenterGroups ? [checkGroupMembership] : [])]) {
      this.slackFunction.addToRolePolicy(statement);
    }
    // Lazy listeners: the Slack function replies to Slack at once and hands the request to an
    // asynchronous invocation of itself (never the worker's reserved slots). Only its own role may
    // invoke it that way (the HTTP API and the Function URL can only pass a body), and that
    // invocation checks Slack's signature again. A policy of its own, not the role's default one:
    // the function depends on that, and naming the function's ARN there would make a cycle.
    new iam.Policy(this, 'SlackInvokesItself', {
      roles: [roleOf(this.slackFunction)],
      statements: [new iam.PolicyStatement({ sid: 'InvokeOwnLazyListeners', actions: ['lambda:InvokeFunction'], resources: [this.slackFunction.functionArn] })],
    });
    for (const statement of [readWriteTable, readSecret, manageSchedules, passSchedulerRole, invokeWaiter, removeAssignments, lookUpUsers, ...(hasGroups ? [addMembership, removeMemberships] : [])]) {
      this.workerFunction.addToRolePolicy(statement);
    }
    createAssignmentPolicies(this, this.config, roleOf(this.workerFunction));
    // The sweep builds the same runtime as the others (it reads the secret at cold start), hands
    // overdue work to the worker, and reconciles leases with Identity Center (lease and audit writes).
    for (const statement of [readWriteTable, readSecret, invokeWorker, reconcileAssignments, ...(hasGroups ? [reconcileMemberships] : [])]) {
      this.sweepFunction.addToRolePolicy(statement);
    }

    // Discovery (accounts: discover / permissionSets: discover): only the sweep reads AWS for it
    // (the Slack function and the worker read the cache in the table), and only the read-only calls
    // AwsOrganizationReader makes. ListRoots names no resource; the rest are limited to the roots, OUs
    // and accounts of an organisation (its id is not known at synth) and to the one instance.
    const discovery = this.config.discovery;
    if (discovery?.accounts) {
      const orgArn = (resource: string) => `arn:${stack.partition}:organizations::*:${resource}`;
      this.sweepFunction.addToRolePolicy(new iam.PolicyStatement({ sid: 'DiscoverOrganizationRoots', actions: ['organizations:ListRoots'], resources: ['*'] }));
      this.sweepFunction.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'DiscoverOrganizationAccounts',
          actions: ['organizations:ListOrganizationalUnitsForParent', 'organizations:ListAccountsForParent', 'organizations:ListTagsForResource'],
          resources: [orgArn('root/o-*/r-*'), orgArn('ou/o-*/ou-*'), orgArn('account/o-*/*')],
        }),
      );
    }
    if (discovery?.permissionSets) {
      this.sweepFunction.addToRolePolicy(
        new iam.PolicyStatement({ sid: 'DiscoverPermissionSets', actions: ['sso:ListPermissionSets', 'sso:DescribePermissionSet'], resources: [instanceArn, ssoArn(`permissionSet/${instanceId}/*`)] }),
      );
    }
    this.schedulerRole.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'InvokeWorker', actions: ['lambda:InvokeFunction'], resources: [this.workerFunction.functionArn, this.sweepFunction.functionArn] }));
    this.schedulerRole.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'SendDeadLetters', actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }));
    if (key) {
      this.schedulerRole.addToPrincipalPolicy(useKey(key));
      // CloudWatch Logs encrypts the log groups with the key only if its key policy allows it (a
      // key imported from elsewhere keeps its own policy: docs/DEPLOY.md gives the statement).
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'TimeboxLogGroups',
          principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
          actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
          resources: ['*'],
          conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } },
        }),
      );
    }

    const schedulesFinding = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${this.scheduleGroupName}/*]`;
    const schedulesReason =
      'Schedule names are per request (timebox-R-…), created and deleted at run time, so they cannot be listed in advance. The wildcard is confined to this stack\'s own schedule group, and the PassRole statement allows only the scheduler role.';
    // Acknowledged on the roles: their DefaultPolicy is where the statements land.
    const usersFinding = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::user/*]';
    const membershipsFinding = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::membership/*]';
    const groupsFinding = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::group/*]';
    const membershipCheckReason =
      'Rules name Identity Center groups by display name and the people asking or clicking are found at run time, so neither the group nor the user id can be named in advance (GetGroupId, GetUserId and IsMemberInGroups authorize against them); the actions are read-only and the statement names the one configured identity store.';
    Validations.of(roleOf(this.slackFunction)).acknowledge(
      { id: schedulesFinding, reason: schedulesReason },
      ...(namesIdentityCenterGroups
        ? [
            { id: usersFinding, reason: membershipCheckReason },
            { id: groupsFinding, reason: membershipCheckReason },
          ]
        : []),
    );
    const membershipUsersReason =
      'The group membership actions (CreateGroupMembership, DeleteGroupMembership, GetGroupMembershipId) authorize against the user resource too, and the member is whoever asked for access, so the user id cannot be known in advance. CreateGroupMembership is limited to the configured groups by id; every statement names the one configured identity store.';
    const membershipsReason =
      'DeleteGroupMembership and GetGroupMembershipId authorize against the membership resource, whose id Identity Store assigns when the membership is created, so it cannot be named in advance. The statement names the one configured identity store.';
    const groupsReason =
      'Removing and looking up memberships reaches every group of the configured identity store, so that dropping a group from the config can never strand a membership Timebox created: its revoke would otherwise be denied. Adding members (CreateGroupMembership) stays limited to the configured groups by id.';
    const removeReason =
      'Removing, listing and following account assignments reaches every account and permission set of the one configured Identity Center instance, so that dropping an account or permission set from the config can never strand an assignment a live grant made (its revoke would be denied, and access would outlive its window). Creating assignments stays limited to the configured accounts and permission sets.';
    const removeFindings = [`AwsSolutions-IAM5[Resource::${ssoArn('account/*')}]`, `AwsSolutions-IAM5[Resource::${ssoArn(`permissionSet/${instanceId}/*`)}]`].map((id) => ({ id, reason: removeReason }));
    const groupFindings = hasGroups
      ? [
          { id: membershipsFinding, reason: membershipsReason },
          { id: groupsFinding, reason: groupsReason },
        ]
      : [];
    Validations.of(roleOf(this.workerFunction)).acknowledge(
      { id: schedulesFinding, reason: schedulesReason },
      {
        id: usersFinding,
        reason:
          'identitystore:GetUserId authorizes against the user resource as well as the store, and the user id is what the call looks up, so it cannot be known in advance; the statement also names the one configured identity store, and the action is read-only.' +
          (hasGroups ? ` ${membershipUsersReason}` : ''),
      },
      ...removeFindings,
      ...groupFindings,
    );
    Validations.of(roleOf(this.sweepFunction)).acknowledge(...removeFindings, ...(hasGroups ? [{ id: usersFinding, reason: membershipUsersReason }, ...groupFindings] : []));
    if (this.config.discovery?.accounts) {
      const discoveryReason =
        'Discovery reads the whole organisation (accounts: discover): ListRoots authorizes against no resource, and the roots, OUs and accounts it then lists are what it is discovering, under an organisation id not known at synth. Only the sweep has these read-only List actions; it never changes the organisation.';
      Validations.of(roleOf(this.sweepFunction)).acknowledge(
        { id: 'AwsSolutions-IAM5[Resource::*]', reason: discoveryReason },
        ...['root/o-*/r-*', 'ou/o-*/ou-*', 'account/o-*/*'].map((r) => ({ id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:organizations::*:${r}]`, reason: discoveryReason })),
      );
    }

    // ---- Ending sessions already issued (rules[].endSessions; src/app/end-sessions.ts). Only when
    // a rule sets it: the worker reads the permission set (its SessionDuration), edits its inline
    // policy (Timebox's deny statements) and provisions it to the accounts. Limited to the
    // permission sets those rules cover; provisioning reaches every account the set is in.
    const endSessionsRules = this.config.policy.rules.filter((r) => r.endSessions);
    if (endSessionsRules.length > 0) {
      const covered = new Set(endSessionsRules.flatMap((r) => r.permissionSets));
      // Discovered permission sets are unknown at synth, and a hundred listed ones (7,600 characters)
      // would not fit one policy (CDK moved the statement whole into a managed policy of 7,918, over
      // IAM's 6,144): past END_SESSIONS_LISTED_MAX_CHARS, every permission set of the instance.
      const listed = this.config.policy.catalogue.current().permissionSets.filter((p) => covered.has('*') || covered.has(p.name)).map((p) => p.arn);
      const permissionSetArns = this.config.discovery?.permissionSets || JSON.stringify(listed).length > END_SESSIONS_LISTED_MAX_CHARS ? [ssoArn(`permissionSet/${instanceId}/*`)] : listed;
      this.workerFunction.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'EndSessionsInPermissionSets',
          actions: ['sso:DescribePermissionSet', 'sso:GetInlinePolicyForPermissionSet', 'sso:PutInlinePolicyToPermissionSet', 'sso:ProvisionPermissionSet', 'sso:DescribePermissionSetProvisioningStatus'],
          resources: [instanceArn, ...permissionSetArns, ssoArn('account/*')],
        }),
      );
    }
    if (key) {
      // The worker's and the sweep's on-failure destination (SqsDestination) grants them sending to
      // the dead-letter queue, which CDK writes, for a KMS-encrypted queue, with these two patterns.
      const keyReason =
        'Sending a dead letter to the KMS-encrypted dead-letter queue (the Lambda on-failure destination) needs the key\'s data-key and re-encrypt actions, which CDK\'s SqsDestination grants as kms:GenerateDataKey* and kms:ReEncrypt*; the statement names the one Timebox key, nothing else.';
      for (const fn of [this.workerFunction, this.sweepFunction]) {
        Validations.of(roleOf(fn)).acknowledge({ id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason: keyReason }, { id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', reason: keyReason });
      }
    }

    // ---- The audit archive (infra/lib/audit-archive.ts): the table's stream, as OCSF, in an Object Lock bucket.
    this.auditArchive =
      props.auditArchive !== false
        ? new AuditArchive(this, 'AuditArchive', {
            table: this.table,
            logRetention,
            ...(props.auditRetention !== undefined ? { retentionDays: props.auditRetention } : {}),
            ...(key ? { encryptionKey: key } : {}),
            // Built as the other functions are: from src/ in a clone, the package's prebuilt bundle otherwise.
            ...(existsSync(join(REPO_ROOT, 'src', 'entrypoints', 'lambda', 'audit-archiver.ts'))
              ? { bundling: bundlingFor(configJson) }
              : { prebuiltCode: lambda.Code.fromAsset(prebuiltBundle('audit-archiver', configJson)) }),
          })
        : undefined;
    if (this.auditArchive) new CfnOutput(this, 'AuditArchiveBucket', { value: this.auditArchive.bucket.bucketName, description: 'timebox audit export --from-archive s3://<this>/audit/ reads it' });

    // ---- Outputs.
    new CfnOutput(this, 'SlackRequestUrl', {
      value: this.slackRequestUrl,
      description: 'Paste into the Slack app: slash command Request URL, Interactivity Request URL, and Options Load URL',
    });
    new CfnOutput(this, 'SlackSecretArn', { value: this.slackSecret.secretArn, description: 'Put {"botToken":"xoxb-…","signingSecret":"…"} here' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'ScheduleGroupName', { value: scheduleGroup.ref });
    new CfnOutput(this, 'WorkerFunctionName', { value: workerFunctionName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
  }

  /** A Function URL without IAM auth (Timebox checks Slack's signature on every request). Returns its base URL. */
  private addFunctionUrl(): string {
    const functionUrl = this.slackFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    new CfnOutput(this, 'SlackFunctionUrl', { value: functionUrl.url, description: 'The Slack function URL' });
    return functionUrl.url;
  }

  /**
   * An HTTP API (payload format 2.0, the Function URL's event shape) with one route, POST
   * /slack/events, throttled, with access logs; API Gateway alone may invoke the function, and
   * only from this API. Returns its base URL.
   */
  private addHttpApi(throttle: { rateLimit: number; burstLimit: number }, retention: logs.RetentionDays, key: kms.IKey | undefined): { api: apigwv2.HttpApi; url: string } {
    const api = new apigwv2.HttpApi(this, 'SlackApi', {
      description: 'Timebox Slack endpoint: slash command, buttons, modals',
      createDefaultStage: false,
    });
    api.addRoutes({ path: '/slack/events', methods: [apigwv2.HttpMethod.POST], integration: new HttpLambdaIntegration('Slack', this.slackFunction, { payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0 }) });
    const accessLogs = new logs.LogGroup(this, 'SlackApiAccessLogs', { retention, removalPolicy: RemovalPolicy.DESTROY, ...(key ? { encryptionKey: key } : {}) });
    const stage = new apigwv2.HttpStage(this, 'SlackApiStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs), format: AccessLogFormat.jsonWithStandardFields() },
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Slack cannot send IAM, JWT or Lambda-authorizer credentials: it signs every request with the app\'s signing secret instead (HMAC-SHA256 over the timestamp and body), and the Slack function refuses any request whose signature or timestamp does not verify before anything reads it. The route is the only one, and the stage is throttled.',
    });
    return { api, url: stage.url };
  }
}

/** A prop of TimeboxConstruct that is not what it must be; the message names the prop and the format. */
export class TimeboxPropsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeboxPropsError';
  }
}

function checkedProp(value: string | undefined, name: string, pattern: RegExp, format: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  // A value known only at deploy time (a token, e.g. Aws.ACCOUNT_ID) cannot be checked now.
  if (Token.isUnresolved(value)) return value;
  if (!pattern.test(value)) throw new TimeboxPropsError(`${name} must be ${format}; got ${JSON.stringify(value)}`);
  return value;
}

/** What a role needs of the customer-managed key: no wildcard actions. */
function useKey(key: kms.IKey): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid: 'UseTimeboxKey', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [key.keyArn] });
}

/** The packaged bundle of one function, with the validated config beside it, staged for the asset. */
function prebuiltBundle(kind: FunctionKind, configJson: string): string {
  const dir = mkdtempSync(join(tmpdir(), `timebox-${kind}-`));
  for (const file of ['index.js', 'index.js.map']) copyFileSync(join(PREBUILT_BUNDLES, kind, file), join(dir, file));
  copyFileSync(configJson, join(dir, BUNDLED_CONFIG_NAME));
  return dir;
}

/**
 * esbuild on this machine (Docker only if esbuild is missing), then the validated config file
 * copied next to index.js so the function reads exactly what synth checked.
 */
/** Modules the Lambda path never runs, replaced by small stand-ins to keep cold starts short. */
const BUNDLE_STUBS: Record<string, string> = {
  '@slack/socket-mode': join(REPO_ROOT, 'src/entrypoints/lambda/bundle-stubs/socket-mode.ts'),
  'iconv-lite': join(REPO_ROOT, 'src/entrypoints/lambda/bundle-stubs/iconv-lite.ts'),
  express: join(REPO_ROOT, 'src/entrypoints/lambda/bundle-stubs/express.ts'),
  '@slack/oauth': join(REPO_ROOT, 'src/entrypoints/lambda/bundle-stubs/slack-oauth.ts'),
  'thread-stream': join(REPO_ROOT, 'src/entrypoints/lambda/bundle-stubs/thread-stream.ts'),
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

function bundlingFor(configJson: string): nodejs.BundlingOptions {
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

/** Past this many characters of permission set ARNs, the end-sessions statement names every permission set of the instance instead. */
const END_SESSIONS_LISTED_MAX_CHARS = 2_000;

/** IAM's limit on a customer managed policy document, in characters without whitespace. */
export const MANAGED_POLICY_MAX_CHARS = 6_144;
/** Past this many policies, accounts are not listed one by one (a role takes at most 10 managed policies by default). */
const MAX_CREATE_POLICIES = 4;

/**
 * Creating account assignments: the configured instance, permission sets and accounts only. A
 * config of hundreds of accounts does not fit one policy, so the ARNs are packed into customer
 * managed policies of at most 6,144 characters each (IAM evaluates each resource of the request
 * on its own, so they may sit in different statements). A config too large for
 * MAX_CREATE_POLICIES lists its permission sets and allows any account, with a synth warning.
 */
function createAssignmentPolicies(stack: Construct, config: TimeboxConfig, role: iam.IRole): iam.ManagedPolicy[] {
  const { instanceArn } = config.identityCenter;
  const partition = instanceArn.split(':')[1] ?? 'aws';
  // Discovered accounts and permission sets are unknown at synth: any of the instance (see docs/DEPLOY.md).
  const instanceId = instanceArn.split('/').pop() ?? '';
  const permissionSets = config.discovery?.permissionSets ? [`arn:${partition}:sso:::permissionSet/${instanceId}/*`] : config.policy.catalogue.current().permissionSets.map((p) => p.arn);
  const accounts = config.discovery?.accounts ? [`arn:${partition}:sso:::account/*`] : config.policy.catalogue.current().accounts.map((a) => `arn:${partition}:sso:::account/${a.id}`);
  const actions = ['sso:CreateAccountAssignment'];
  const pack = (resources: string[]): string[][] => {
    // The document's own characters, measured as IAM counts them (no whitespace), resources aside.
    const frame = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'CreateAccountAssignments', Effect: 'Allow', Action: actions[0], Resource: [] }] }).length;
    const budget = MANAGED_POLICY_MAX_CHARS - frame;
    const chunks: string[][] = [[]];
    let used = 0;
    for (const arn of resources) {
      const size = JSON.stringify(arn).length + 1;
      if (used + size > budget) {
        chunks.push([]);
        used = 0;
      }
      chunks[chunks.length - 1]?.push(arn);
      used += size;
    }
    return chunks.filter((c) => c.length > 0);
  };
  let chunks = pack([instanceArn, ...permissionSets, ...accounts]);
  if (chunks.length > MAX_CREATE_POLICIES) {
    Annotations.of(stack).addWarningV2(
      'timebox:create-any-account',
      `${accounts.length} accounts do not fit ${MAX_CREATE_POLICIES} IAM policies: CreateAccountAssignment is limited to the ${permissionSets.length} configured permission sets on any account of the instance (Timebox itself only grants configured accounts).`,
    );
    chunks = pack([instanceArn, ...permissionSets, `arn:${partition}:sso:::account/*`]);
  }
  return chunks.map((resources, i) => {
    const policy = new iam.ManagedPolicy(stack, `CreateAccountAssignments${i + 1}`, {
      description: `Timebox worker: create account assignments (${i + 1} of ${chunks.length}) on the configured instance, permission sets and accounts`,
      roles: [role],
      statements: [new iam.PolicyStatement({ sid: 'CreateAccountAssignments', actions, resources })],
    });
    if (config.discovery) {
      const reason =
        'The config discovers accounts or permission sets from AWS Organizations and Identity Center, so they are not known at synth: creating is limited to the one configured instance, and Timebox only ever creates assignments its rules allow on what it discovered (docs/DEPLOY.md explains the trade-off).';
      for (const r of resources.filter((r) => r.endsWith('/*'))) Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${r}]`, reason });
    } else if (resources.includes(`arn:${partition}:sso:::account/*`)) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:${partition}:sso:::account/*]`,
        reason: 'The configured accounts are too many to list within IAM policy size limits; the statement still lists each configured permission set, and Timebox only ever creates assignments on configured accounts.',
      });
    }
    return policy;
  });
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
