import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from '../../lib/zod';

export const slackSecretsSchema = z.object({
  botToken: z.string().regex(/^xox[bp]-/, 'botToken must be a Slack bot token (xoxb-…)'),
  signingSecret: z.string().min(8, 'signingSecret looks too short'),
});
export type SlackSecrets = z.infer<typeof slackSecretsSchema>;

/** Reads the Slack credentials from Secrets Manager; never from plain environment values. */
export async function readSlackSecrets(client: SecretsManagerClient, secretId: string): Promise<SlackSecrets> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  let value: unknown;
  try {
    value = JSON.parse(out.SecretString ?? '');
  } catch {
    throw new Error(`secret ${secretId} is not JSON; expected {"botToken": "xoxb-…", "signingSecret": "…"}`);
  }
  const parsed = slackSecretsSchema.safeParse(value);
  if (!parsed.success) throw new Error(`secret ${secretId}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}
