import * as z from '../lib/zod';

const cliEnvSchema = z.object({
  TIMEBOX_CONFIG: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? './timebox.yaml' : v.trim())),
});

export type CliEnv = z.infer<typeof cliEnvSchema>;

/** The operator CLI's environment (only what it reads): where the config is when --config is not given. */
export function readCliEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  return cliEnvSchema.parse(env);
}
