import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { TimeboxConstructProps } from './timebox-construct';

/** A CDK context value (-c name=value) that is not what it must be: named with the format expected, without a stack trace. */
export class ContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextError';
  }
}

/** Each context value the app reads: what it must look like, said the way an operator would type it. */
const FORMATS = {
  stackName: { pattern: /^[A-Za-z][A-Za-z0-9-]{0,127}$/, format: 'a CloudFormation stack name (a letter, then letters, digits or "-"), e.g. -c stackName=Timebox' },
  config: { pattern: /./, format: 'a file path, e.g. -c config=timebox.yaml' },
  identityStoreAccount: { pattern: /^\d{12}$/, format: 'a 12-digit AWS account id, e.g. -c identityStoreAccount=123456789012' },
  workerConcurrency: { pattern: /^(none|[1-9]|1[0-5])$/, format: 'a whole number from 1 to 15, or none, e.g. -c workerConcurrency=5' },
  alarmTopicArn: { pattern: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, format: 'an SNS topic ARN, e.g. -c alarmTopicArn=arn:aws:sns:eu-west-1:123456789012:oncall' },
  endpoint: { pattern: /^(apiGateway|functionUrl)$/, format: 'apiGateway or functionUrl, e.g. -c endpoint=functionUrl' },
  slackApiUrl: { pattern: /^https:\/\/[^\s/]+(\/\S*)?$/, format: 'an https:// URL, e.g. -c slackApiUrl=https://slack-gov.com/api/' },
  permissionsBoundaryArn: { pattern: /^arn:aws[a-z-]*:iam::\d{12}:policy\/\S+$/, format: 'an IAM managed policy ARN, e.g. -c permissionsBoundaryArn=arn:aws:iam::123456789012:policy/boundary' },
  kmsKeyArn: { pattern: /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/, format: 'a KMS key ARN, e.g. -c kmsKeyArn=arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
  auditArchive: { pattern: /^(true|false)$/, format: 'true (the default) or false, e.g. -c auditArchive=false to leave the archive out' },
  auditRetention: { pattern: /^[1-9]\d{0,4}$/, format: 'a whole number of days (the audit archive\'s Object Lock retention), e.g. -c auditRetention=400' },
  logRetentionDays: { pattern: /^\d+$/, format: `one of CloudWatch Logs' retention periods in days (${Object.values(logs.RetentionDays).filter((d) => typeof d === 'number' && d > 0).join(', ')}), e.g. -c logRetentionDays=365` },
} as const;

export type ContextKey = keyof typeof FORMATS;

/** A context value, checked: undefined when not given; a ContextError naming the expected format when malformed. */
export function contextText(value: unknown, name: ContextKey): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const { pattern, format } = FORMATS[name];
  // Context from the CLI is always text; cdk.json may hold numbers.
  const text = typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  if (text === undefined || !pattern.test(text)) throw new ContextError(`context "${name}" must be ${format}; got ${JSON.stringify(value)}`);
  return text;
}

export interface ContextSettings {
  config?: string;
  alarmTopicArn?: string;
  props: Partial<TimeboxConstructProps>;
}

/** The construct's settings from CDK context (what `cdk deploy -c name=value` passes), each checked. */
export function contextSettings(scope: Construct): ContextSettings {
  const read = (name: ContextKey) => contextText(scope.node.tryGetContext(name), name);
  const workerConcurrency = read('workerConcurrency');
  const endpoint = read('endpoint');
  const boundary = read('permissionsBoundaryArn');
  const keyArn = read('kmsKeyArn');
  const retention = read('logRetentionDays');
  if (retention !== undefined && !Object.values(logs.RetentionDays).includes(Number(retention))) {
    throw new ContextError(`context "logRetentionDays" must be ${FORMATS.logRetentionDays.format}; got ${JSON.stringify(retention)}`);
  }
  const auditRetention = read('auditRetention');
  const auditArchive = read('auditArchive');
  const identityStoreAccount = read('identityStoreAccount');
  const slackApiUrl = read('slackApiUrl');
  const config = read('config');
  const alarmTopicArn = read('alarmTopicArn');
  return {
    ...(config ? { config } : {}),
    ...(alarmTopicArn ? { alarmTopicArn } : {}),
    props: {
      ...(identityStoreAccount ? { identityStoreAccount } : {}),
      ...(workerConcurrency ? { workerConcurrency: workerConcurrency === 'none' ? 'none' : Number(workerConcurrency) } : {}),
      ...(endpoint ? { endpoint: endpoint as 'apiGateway' | 'functionUrl' } : {}),
      ...(slackApiUrl ? { slackApiUrl } : {}),
      ...(boundary ? { permissionsBoundary: iam.ManagedPolicy.fromManagedPolicyArn(scope, 'PermissionsBoundary', boundary) } : {}),
      ...(keyArn ? { encryptionKey: kms.Key.fromKeyArn(scope, 'EncryptionKey', keyArn) } : {}),
      ...(retention ? { logRetention: Number(retention) as logs.RetentionDays } : {}),
      ...(auditRetention ? { auditRetention: Number(auditRetention) } : {}),
      ...(auditArchive ? { auditArchive: auditArchive === 'true' } : {}),
    },
  };
}
