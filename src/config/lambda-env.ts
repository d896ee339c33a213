import * as z from '../lib/zod';
import { ConfigError, formatIssues } from './validate-config';

const required = (what: string) => z.string({ error: `is required (${what}; set by the CDK stack)` }).min(1, `is required (${what})`);

const lambdaEnvSchema = z.object({
  TIMEBOX_TABLE: required('the DynamoDB table name'),
  TIMEBOX_SECRET_ARN: required('the Secrets Manager secret holding botToken and signingSecret'),
  TIMEBOX_CONFIG: z.string().default('/var/task/timebox.json'),
  TIMEBOX_WORKER_FUNCTION: required('the worker function name'),
  TIMEBOX_SCHEDULE_GROUP: required('the EventBridge Scheduler group'),
  TIMEBOX_SCHEDULER_ROLE_ARN: required('the role Scheduler uses to invoke the worker'),
  TIMEBOX_WORKER_ARN: required('the worker function ARN'),
  TIMEBOX_DLQ_ARN: z.string().optional(),
  /** The function a schedule fired ahead of its time invokes, to wait out the rest (the sweep). */
  TIMEBOX_WAITER_ARN: z.string().optional(),
  SLACK_API_URL: z.url().optional(),
  /** Set by Lambda itself: the Slack function hands requests to itself under this name (lazy listeners). */
  AWS_LAMBDA_FUNCTION_NAME: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type LambdaEnv = z.infer<typeof lambdaEnvSchema>;

/** The only reader of process.env in the Lambda functions. */
export function readLambdaEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  const result = lambdaEnvSchema.safeParse(env);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues), 'Lambda environment');
  const parsed = result.data;
  if (parsed.SLACK_API_URL && !parsed.SLACK_API_URL.endsWith('/')) parsed.SLACK_API_URL += '/';
  return parsed;
}
