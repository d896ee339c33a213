/**
 * The load test (load.test.ts) checks Identity Center's 20-calls-a-second limit on the times the
 * Timebox process sent each call (test/support/aws-sends.ts), and checks that log against what
 * the AWS stand-in received. A kept-alive connection that the server closes just as the SDK reuses
 * it (the server's idle timeout meeting a busy client) gets the request reset before the server
 * reads it; the SDK sends it again on a new connection. AWS counts that call once, and so must
 * the send log: a CI run once failed with 1,402 sends logged against 1,401 received.
 */
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { IdentityCenterAdapter } from '../../src/adapters/identity-center/identity-center-adapter';
import type { ProvisionTarget } from '../../src/domain/grant-target';
import { recordAwsSends } from '../support/aws-sends';
import { AwsStandIn } from '../support/aws-stand-in';
import { ACCOUNTS, IDENTITY_STORE_ID, INSTANCE_ARN, PERMISSION_SETS } from '../support/timebox-harness';

const USER_ID = 'ic-dave';
const readOnly: ProvisionTarget = { kind: 'account', principalId: USER_ID, accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.ReadOnly };

describe('performance-2: the load test counts AWS calls as AWS does', () => {
  let aws: AwsStandIn;
  let ssoAdmin: SSOAdminClient;
  let identityStore: IdentitystoreClient;
  let sends: ReturnType<typeof recordAwsSends>;

  beforeEach(async () => {
    aws = await AwsStandIn.start({ creationPolls: 0 });
    aws.addUser({ userId: USER_ID, email: 'dave@example.com', identityStoreId: IDENTITY_STORE_ID });
    const env = aws.env();
    // As wire-workflow.ts builds them (five attempts each), pointed at the stand-in.
    const base = {
      endpoint: aws.url,
      region: env.AWS_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID as string, secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string },
      maxAttempts: 5,
    };
    ssoAdmin = new SSOAdminClient(base);
    identityStore = new IdentitystoreClient(base);
    sends = recordAwsSends();
  });

  afterEach(async () => {
    sends.stop();
    ssoAdmin.destroy();
    identityStore.destroy();
    await aws.close();
  });

  test('the server closes the idle kept-alive connection just as the grant reuses it: the grant is made once, and the send log counts one send per SSO Admin call AWS received', async () => {
    const adapter = new IdentityCenterAdapter(ssoAdmin, identityStore, { instanceArn: INSTANCE_ARN, identityStoreId: IDENTITY_STORE_ID, pollDelaysMs: [10] });
    // The look-up leaves its connection open for the next call.
    expect(await adapter.lookup(readOnly)).toEqual({ present: false });

    // The server's idle timeout ends it in the same moment the grant goes out on it.
    aws.closeIdleConnections();
    expect(await adapter.create(readOnly)).toEqual({ ok: true });

    expect(aws.listAssignments()).toEqual([expect.objectContaining({ principalId: USER_ID, accountId: ACCOUNTS.staging, permissionSetArn: PERMISSION_SETS.ReadOnly })]);
    expect(aws.callsTo('CreateAccountAssignment')).toHaveLength(1);
    const received = aws.calls.filter((c) => c.service === 'sso-admin');
    expect(received.map((c) => c.operation)).toEqual(['ListAccountAssignments', 'CreateAccountAssignment', 'DescribeAccountAssignmentCreationStatus']);
    expect(sends.calls.filter((c) => c.service === 'sso-admin')).toHaveLength(received.length);
  });
});
