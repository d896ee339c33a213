import * as z from '../lib/zod';
import { ConfigError, formatIssues } from './validate-config';

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const localEnvSchema = z.object({
  SLACK_BOT_TOKEN: z.string({ error: 'is required (the bot token, xoxb-…)' }).regex(/^xox[bp]-/, 'must be a bot token starting with xoxb-'),
  SLACK_SIGNING_SECRET: z.string({ error: 'is required (Basic Information → Signing Secret)' }).min(8, 'looks too short to be a signing secret'),
  SLACK_APP_TOKEN: optionalText.pipe(z.string().regex(/^xapp-/, 'must be an app-level token starting with xapp-').optional()),
  SLACK_API_URL: optionalText.pipe(z.url({ message: 'must be a URL such as https://slack.com/api/' }).optional()),
  PORT: optionalText.pipe(z.string().regex(/^\d+$/, 'must be a port number').transform(Number).pipe(z.number().int().max(65535, 'must be a port number')).default(3000)),
  TIMEBOX_CONFIG: z.string().default('./timebox.yaml'),
  TIMEBOX_DATA_DIR: z.string().default('./.timebox'),
  TIMEBOX_TABLE: optionalText,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * The workflow thread's JavaScript heap limit (old generation, MB). Its live heap is about 60 MB
   * with 1,200 grants queued; a limit well above that keeps V8 from growing the heap to several
   * times what is live (it sizes its growth by the limit), which about halved its heap pages (the process peak fell by about a fifth).
   */
  TIMEBOX_WORKFLOW_HEAP_MB: optionalText.pipe(
    z.string().regex(/^\d+$/, 'must be a number of megabytes').transform(Number).pipe(z.number().int().min(128, 'must be at least 128 (MB)')).default(512),
  ),
});

export type LocalEnv = z.infer<typeof localEnvSchema>;

/** The only reader of process.env for the local process. Every problem is named by its variable. */
export function readLocalEnv(env: NodeJS.ProcessEnv = process.env): LocalEnv {
  const result = localEnvSchema.safeParse(env);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues), 'environment');
  const parsed = result.data;
  // WebClient joins the method name straight onto the base URL.
  if (parsed.SLACK_API_URL && !parsed.SLACK_API_URL.endsWith('/')) parsed.SLACK_API_URL += '/';
  return parsed;
}
