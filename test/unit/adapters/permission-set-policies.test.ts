/**
 * The adapter's permission-set calls (ending sessions), with the real SSO Admin client, against
 * the wire-level stand-in: what AWS refuses is refused, ConflictException while a provisioning
 * runs is waited out, FAILED is a failed outcome, and SessionDuration is read as AWS writes it.
 */
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { ProvisionPermissionSetCommand, PutInlinePolicyToPermissionSetCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { IdentityCenterAdapter, parseSessionDuration } from '../../../src/adapters/identity-center/identity-center-adapter';
import { AwsStandIn } from '../../support/aws-stand-in';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
const PS = 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-2222222222222222';
const credentials = { accessKeyId: 'AKIASTANDINDUMMYKEY0', secretAccessKey: 'dummy' };

describe('sessions-breakglass: the permission-set calls against the AWS stand-in', () => {
  let standIn: AwsStandIn;
  let sso: SSOAdminClient;
  let adapter: IdentityCenterAdapter;
  beforeEach(async () => {
    standIn = await AwsStandIn.start();
    standIn.addPermissionSet({ permissionSetArn: PS, name: 'Admin', sessionDuration: 'PT2H30M' });
    const base = { endpoint: standIn.url, region: 'us-east-1', credentials, maxAttempts: 1 };
    sso = new SSOAdminClient(base);
    adapter = new IdentityCenterAdapter(sso, new IdentitystoreClient(base), { instanceArn: INSTANCE, identityStoreId: 'd-1234567890', maxCallsPerSecond: 1000, pollDelaysMs: [1], sleep: async () => undefined });
  });
  afterEach(async () => {
    sso.destroy();
    await standIn.close();
  });

  test('SessionDuration is read from DescribePermissionSet; an unknown permission set is ResourceNotFoundException', async () => {
    expect(await adapter.sessionDurationMs(PS)).toBe(2.5 * 3_600_000);
    await expect(adapter.sessionDurationMs(`${PS}9`)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(parseSessionDuration('PT12H')).toBe(12 * 3_600_000);
    expect(parseSessionDuration('nonsense')).toBe(12 * 3_600_000);
  });

  test('an inline policy over 32,768 characters, or not JSON, is refused with ValidationException and nothing is stored', async () => {
    const big = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: 'x'.repeat(32_800) }] });
    await expect(adapter.putInlinePolicy(PS, big)).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(adapter.putInlinePolicy(PS, '{not json')).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(sso.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn: INSTANCE, PermissionSetArn: PS, InlinePolicy: '' }))).rejects.toMatchObject({ name: 'ValidationException' });
    expect(await adapter.getInlinePolicy(PS)).toBeUndefined();
    await adapter.putInlinePolicy(PS, '{"Version":"2012-10-17","Statement":[]}'.replace('[]', '[{"Effect":"Deny","Action":"*","Resource":"*"}]'));
    expect(await adapter.getInlinePolicy(PS)).toContain('"Effect":"Deny"');
  });

  test('a provisioning already running gets ConflictException; the adapter waits it out and polls its own to SUCCEEDED', async () => {
    standIn.setProvisioningPolls(2);
    await sso.send(new ProvisionPermissionSetCommand({ InstanceArn: INSTANCE, PermissionSetArn: PS, TargetType: 'ALL_PROVISIONED_ACCOUNTS' }));
    await expect(sso.send(new ProvisionPermissionSetCommand({ InstanceArn: INSTANCE, PermissionSetArn: PS, TargetType: 'ALL_PROVISIONED_ACCOUNTS' }))).rejects.toMatchObject({ name: 'ConflictException' });
    await expect(sso.send(new ProvisionPermissionSetCommand({ InstanceArn: INSTANCE, PermissionSetArn: PS, TargetType: 'AWS_ACCOUNT' }))).rejects.toMatchObject({ name: 'ValidationException' });
    // The first one is still running when the adapter's first call arrives, and done by its retry.
    let attempts = 0;
    standIn.onCall((call) => {
      if (call.operation === 'ProvisionPermissionSet' && ++attempts === 2) standIn.completeProvisionings();
    });
    expect(await adapter.provision(PS)).toEqual({ ok: true });
    expect(attempts).toBe(2);
    expect(standIn.callsTo('DescribePermissionSetProvisioningStatus').length).toBeGreaterThan(0);
  });

  test('a provisioning that FAILS is a failed outcome with AWS\'s reason, and the policy does not reach the accounts', async () => {
    await adapter.putInlinePolicy(PS, '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}');
    standIn.failNextProvisioning('Received a 404 status error: Not supported policy.');
    expect(await adapter.provision(PS)).toEqual({ ok: false, reason: 'Received a 404 status error: Not supported policy.' });
    expect(standIn.provisionedPolicy(PS)).toBeUndefined();
    expect(await adapter.provision(PS)).toEqual({ ok: true });
    expect(standIn.provisionedPolicy(PS)).toContain('"Effect":"Deny"');
  });

  test('performance-2: ending sessions goes before queued grants, as a revoke does: its calls are not held behind a backlog of creations at the rate limit', async () => {
    // A slow rate (5 a second, no burst) and 4 grants queued first, each a look-up and a creation.
    const slow = new IdentityCenterAdapter(sso, new IdentitystoreClient({ endpoint: standIn.url, region: 'us-east-1', credentials, maxAttempts: 1 }), { instanceArn: INSTANCE, identityStoreId: 'd-1234567890', maxCallsPerSecond: 5, burstCalls: 1, pollDelaysMs: [1], sleep: async () => undefined });
    const account = (n: number) => ({ kind: 'account' as const, accountId: '111111111111', permissionSetArn: PS, principalId: `user-${n}` });
    const grants = Array.from({ length: 4 }, (_, n) => slow.create(account(n)).catch(() => undefined));
    const ending = slow.getInlinePolicy(PS);
    await ending;
    // The policy read went out after at most the first grant's call, not after the 8 or more calls queued before it.
    const operations = standIn.calls.filter((c) => c.service === 'sso-admin').map((c) => c.operation);
    expect(operations.indexOf('GetInlinePolicyForPermissionSet')).toBeLessThanOrEqual(1);
    await Promise.all(grants);
  }, 15_000);
});
