import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createLogger } from '../../adapters/logger';
import { readSlackSecrets, type SlackSecrets } from '../../adapters/secrets/slack-secrets';
import { readLambdaEnv, type LambdaEnv } from '../../config/lambda-env';

export type LambdaFunctionKind = 'slack' | 'worker' | 'sweep';

/**
 * What every Timebox function needs before anything else, and all the Slack function needs to hand
 * a request over (see slack.ts): its environment, its logger, the Lambda client and the Slack
 * secrets (being read). Kept apart from lambda-runtime.ts (config, store, workflow, clients), which
 * the Slack function loads only when it runs a listener itself.
 */
export interface LambdaBasics {
  env: LambdaEnv;
  logger: ReturnType<typeof createLogger>;
  /** The Lambda client the hand-offs use. */
  lambda: LambdaClient;
  /** Read from Secrets Manager once per cold start (again after a failed read). */
  secrets: Promise<SlackSecrets>;
}

const cached = new Map<LambdaFunctionKind, LambdaBasics>();

/** Built once per cold start (one per function, as each is its own Lambda even where they share a process); a bad environment throws. */
export function lambdaBasics(kind: LambdaFunctionKind): LambdaBasics {
  let basics = cached.get(kind);
  if (!basics) {
    const env = readLambdaEnv();
    const secrets = readSlackSecrets(new SecretsManagerClient({}), env.TIMEBOX_SECRET_ARN);
    // Let the next invocation read it again (e.g. the secret was just fixed); the caller still sees this failure.
    secrets.catch(() => cached.delete(kind));
    basics = { env, logger: createLogger(env.LOG_LEVEL), lambda: new LambdaClient({}), secrets };
    cached.set(kind, basics);
  }
  return basics;
}
