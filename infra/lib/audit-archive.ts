import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { REPO_ROOT } from './config-source';

/** Days an archived audit event is locked (compliance mode) when `auditRetention` is not given. */
export const DEFAULT_AUDIT_RETENTION_DAYS = 400;

export interface AuditArchiveProps {
  /** Timebox's table, with a stream holding new images (the archiver reads it). */
  readonly table: dynamodb.Table;
  /** Days each object is locked in compliance mode: nobody, root included, can delete or shorten it. */
  readonly retentionDays?: number;
  readonly logRetention: logs.RetentionDays;
  readonly encryptionKey?: kms.IKey;
  /**
   * How the archiver is built: from a clone, bundled from src/ with these options (the stack passes
   * the other functions' own); from the package, `prebuiltCode` (its dist/lambda/audit-archiver bundle).
   */
  readonly bundling?: nodejs.BundlingOptions;
  readonly prebuiltCode?: lambda.Code;
}

/**
 * An audit trail the application cannot rewrite: every audit event, as the OCSF lines
 * `timebox audit export --format ocsf` writes, in an S3 bucket with Object Lock in compliance mode,
 * written from the table's stream by a function that may only put objects. The Slack, worker and
 * sweep roles are given nothing on the bucket, and its policy denies every principal but the
 * archiver's role the put, and every principal deletes and changes to retention.
 */
export class AuditArchive extends Construct {
  readonly bucket: s3.Bucket;
  readonly archiver: lambda.Function;
  readonly archiverRole: iam.Role;

  constructor(scope: Construct, id: string, props: AuditArchiveProps) {
    super(scope, id);
    const days = props.retentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > 36_500) throw new Error(`auditRetention must be a whole number of days from 1 to 36500; got ${JSON.stringify(props.retentionDays)}`);

    this.bucket = new s3.Bucket(this, 'Bucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(days)),
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'The archive is written by one function only and read by operators; its object-level trail is CloudTrail data events, which an organisation enables centrally.',
    });

    const logGroup = new logs.LogGroup(this, 'ArchiverLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY, ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}) });
    this.archiverRole = new iam.Role(this, 'ArchiverRole', { description: 'Timebox audit archiver: puts objects in the archive, nothing else', assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    this.archiverRole.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
    this.archiverRole.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'PutArchiveObjects', actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('audit/*')] }));
    if (props.encryptionKey) this.archiverRole.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadEncryptedStream', actions: ['kms:Decrypt'], resources: [props.encryptionKey.keyArn] }));

    // Only the archiver's role may put; nobody may delete an object or a version, or loosen its lock.
    const everyoneElse = { ArnNotEquals: { 'aws:PrincipalArn': this.archiverRole.roleArn } };
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({ sid: 'OnlyTheArchiverPuts', effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()], actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('*')], conditions: everyoneElse }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NobodyDeletesOrLoosens',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:PutObjectLegalHold', 's3:BypassGovernanceRetention', 's3:PutBucketObjectLockConfiguration'],
        resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      }),
    );

    const common = {
      description: 'Timebox audit archiver: the table stream, as OCSF, into the Object Lock bucket',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(1),
      role: this.archiverRole,
      logGroup,
      environment: { TIMEBOX_AUDIT_BUCKET: this.bucket.bucketName, NODE_OPTIONS: '--enable-source-maps' },
      ...(props.encryptionKey ? { environmentEncryption: props.encryptionKey } : {}),
    };
    // From the package: its prebuilt bundle (npm run build:lambda), as the other functions. From a clone: bundled from src/ now.
    this.archiver = props.prebuiltCode
      ? new lambda.Function(this, 'Archiver', { code: props.prebuiltCode, handler: 'index.handler', ...common })
      : new nodejs.NodejsFunction(this, 'Archiver', {
          entry: join(REPO_ROOT, 'src', 'entrypoints', 'lambda', 'audit-archiver.ts'),
          handler: 'handler',
          projectRoot: REPO_ROOT,
          depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
          bundling: props.bundling ?? { forceDockerBundling: false, sourceMap: true, sourcesContent: false, format: nodejs.OutputFormat.CJS },
          ...common,
        });
    Validations.of(this.archiver).acknowledge({ id: 'AwsSolutions-L1', reason: 'Pinned to nodejs22.x on purpose, as every Timebox function is: the runtime the bundle is built for (esbuild target node22) and tested on.' });
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(this.archiverRole).acknowledge(
      { id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/audit/*]`, reason: 'The archiver writes a new object per request write under audit/ (its keys hold the day, request and version), so the objects cannot be named in advance; it may only put, and Object Lock keeps what it put.' },
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'dynamodb:ListStreams, which the stream event source needs, authorizes on no resource narrower than *; it is read-only and lists stream ARNs only.' },
    );
    // Retried from the failed record (reportBatchItemFailures) until it lands or the stream's 24 h pass.
    this.archiver.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: -1,
        filters: [lambda.FilterCriteria.filter({ dynamodb: { NewImage: { kind: { S: lambda.FilterRule.isEqual('request') } } } })],
      }),
    );
  }
}
