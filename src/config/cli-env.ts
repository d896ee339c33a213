import * as z from '../lib/zod';

const cliEnvSchema = z.object({
  TIMEBOX_CONFIG: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? './timebox.yaml' : v.trim())),
  /** The store `audit export` and `audit verify` read: the embedded data dir (as `npm start` keeps it) … */
  TIMEBOX_DATA_DIR: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? './.timebox' : v.trim())),
  /** … or, when set, this DynamoDB table (with the SDK's usual region, credentials and endpoint settings). */
  TIMEBOX_TABLE: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim())),
  /** An S3 endpoint of the operator's (S3-compatible storage, a VPC endpoint by URL, a local stand-in): the archive is then read path-style. */
  AWS_ENDPOINT_URL_S3: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim())),
});

export type CliEnv = z.infer<typeof cliEnvSchema>;

/** The operator CLI's environment (only what it reads): where the config is when --config is not given, and the store the audit commands read. */
export function readCliEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  return cliEnvSchema.parse(env);
}
