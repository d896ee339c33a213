import { IDENTITY_STORE_ID, TimeboxHarness, testConfigYaml } from '../support/timebox-harness';

describe('daily-use: the requester\'s DMs', () => {
  let h: TimeboxHarness;
  beforeAll(async () => {
    h = await TimeboxHarness.start({ configYaml: testConfigYaml().replace(`identityStoreId: ${IDENTITY_STORE_ID}`, `identityStoreId: ${IDENTITY_STORE_ID}\n  portalUrl: https://acme.awsapps.com/start`) });
  });
  afterAll(async () => {
    await h.stop();
  });

  test('the "access is active" DM links to the AWS access portal set in identityCenter.portalUrl', async () => {
    const id = await h.file('carol', 'staging ReadOnly 30m portal link');
    await h.waitForStatus(id, 'ACTIVE');
    const dm = await h.activeDm('carol', id);
    expect(dm.text).toContain('Sign in through your <https://acme.awsapps.com/start|AWS access portal>');
  });
});
