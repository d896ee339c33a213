import { DescribeInstanceCommand, SSOAdminClient, SSOAdminServiceException } from '@aws-sdk/client-sso-admin';

/** Errors that mean AWS answered and refused who we are, not that it could not be reached. */
const CREDENTIAL_ERRORS = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'ExpiredToken',
  'AccessDeniedException',
]);

export class StartupCheckError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupCheckError';
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: string }).code;
  const cause = err.cause instanceof Error ? `: ${(err.cause as { code?: string }).code ?? err.cause.message}` : '';
  return `${err.name}${code && !err.name.includes(code) ? ` ${code}` : ''}: ${err.message}${cause}`.slice(0, 300);
}

/**
 * Once, at start-up of the local process: the configured Identity Center instance exists for the
 * credentials at hand and its identity store is the configured one. Tells "cannot reach AWS" apart
 * from "AWS rejected the credentials", from "no credentials at all", and from a wrong instanceArn or identityStoreId, so a broken
 * set-up stops the process with one clear line instead of failing a user's first request.
 */
export async function checkIdentityCenterInstance(expected: { instanceArn: string; identityStoreId: string }): Promise<void> {
  const client = new SSOAdminClient({ maxAttempts: 2 });
  try {
    let out;
    try {
      out = await client.send(new DescribeInstanceCommand({ InstanceArn: expected.instanceArn }));
    } catch (err) {
      const name = err instanceof Error ? err.name : '';
      // No credentials at all never reaches AWS: the SDK's provider chain found nothing to sign with.
      if (name === 'CredentialsProviderError') {
        throw new StartupCheckError(
          `no AWS credentials found (set AWS_PROFILE, run aws sso login, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; sso:DescribeInstance: ${describe(err)})`,
          { cause: err },
        );
      }
      if (CREDENTIAL_ERRORS.has(name)) throw new StartupCheckError(`AWS rejected the credentials (sso:DescribeInstance: ${describe(err)})`, { cause: err });
      if (err instanceof SSOAdminServiceException && (name === 'ResourceNotFoundException' || name === 'ValidationException')) {
        throw new StartupCheckError(`identityCenter.instanceArn ${expected.instanceArn}: no such IAM Identity Center instance for these credentials (${describe(err)})`, { cause: err });
      }
      if (err instanceof SSOAdminServiceException) throw new StartupCheckError(`AWS IAM Identity Center refused sso:DescribeInstance (${describe(err)})`, { cause: err });
      throw new StartupCheckError(`cannot reach AWS IAM Identity Center (sso:DescribeInstance: ${describe(err)})`, { cause: err });
    }
    if (out.IdentityStoreId && out.IdentityStoreId !== expected.identityStoreId) {
      throw new StartupCheckError(`identityCenter.identityStoreId is ${expected.identityStoreId}, but the instance's identity store is ${out.IdentityStoreId}`);
    }
  } finally {
    client.destroy();
  }
}
