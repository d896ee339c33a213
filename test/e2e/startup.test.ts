import { spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsStandIn } from '../support/aws-stand-in';
import { SlackStandIn } from '../support/slack-stand-in';
import { BOT_TOKEN, IDENTITY_STORE_ID, INSTANCE_ARN, testConfigYaml } from '../support/timebox-harness';

/** `npm start` refuses to run on a broken environment or config, naming every problem. */
describe('start-up checks', () => {
  const root = join(__dirname, '../..');
  const dir = mkdtempSync(join(tmpdir(), 'timebox-startup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function start(env: Record<string, string>) {
    const result = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), join(root, 'src/entrypoints/local.ts')], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { status: result.status, stderr: result.stderr };
  }

  test('missing and malformed variables: exit 1 with one line each', () => {
    const { status, stderr } = start({ PORT: 'eighty' });
    expect(status).toBe(1);
    expect(stderr).toContain('  - SLACK_BOT_TOKEN: is required');
    expect(stderr).toContain('  - SLACK_SIGNING_SECRET: is required');
    expect(stderr).toContain('  - PORT: must be a port number');
  });

  test('an invalid config file: exit 1 listing every problem with its path', () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, testConfigYaml().replace('maxDuration: 1h', 'maxDuration: 2 hours').replace('accounts: [production]', 'accounts: [prod]'));
    const { status, stderr } = start({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abcdefghijkl', TIMEBOX_CONFIG: path });
    expect(status).toBe(1);
    expect(stderr).toContain('rules[1].maxDuration: "2 hours" is not a duration (use 90m, 2h, 1h30m)');
    expect(stderr).toContain('rules[1].accounts[0]: "prod" is not an account listed under accounts');
  });

  test('no config file: exit 1 saying how to make one', () => {
    const { status, stderr } = start({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abcdefghijkl' });
    expect(status).toBe(1);
    expect(stderr).toContain('./timebox.yaml');
    expect(stderr).toContain('copy timebox.example.yaml');
  });
});

/**
 * Start-up says what is actually wrong: Slack or AWS unreachable is told apart from credentials
 * they reject, and the configured Identity Center instance is checked once, before anyone asks.
 */
describe('start-up checks of Slack and AWS', () => {
  const root = join(__dirname, '../..');
  const dir = mkdtempSync(join(tmpdir(), 'timebox-startup-reach-'));
  let slack: SlackStandIn;
  let aws: AwsStandIn;
  const configPath = join(dir, 'timebox.yaml');

  beforeAll(async () => {
    slack = await SlackStandIn.start({ users: [], token: BOT_TOKEN });
    aws = await AwsStandIn.start();
    writeFileSync(configPath, testConfigYaml());
  });
  afterAll(async () => {
    await slack.close();
    await aws.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `npm start` (the TypeScript entry point) with the stand-ins' endpoints; resolves once it exits. */
  function start(env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), join(root, 'src/entrypoints/local.ts')], {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...aws.env(),
          SLACK_BOT_TOKEN: BOT_TOKEN,
          SLACK_SIGNING_SECRET: 'abcdefghijkl',
          SLACK_API_URL: slack.apiUrl,
          TIMEBOX_CONFIG: configPath,
          PORT: '0',
          LOG_LEVEL: 'silent',
          ...env,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
      child.on('exit', (status) => {
        clearTimeout(timer);
        resolve({ status, stderr });
      });
    });
  }

  /** A loopback port nothing listens on (taken, then given back). */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  test('Slack unreachable: "cannot reach Slack", with the cause, not a rejected token', async () => {
    const { status, stderr } = await start({ SLACK_API_URL: `http://127.0.0.1:${await closedPort()}/api/` });
    expect(status).toBe(1);
    expect(stderr).toContain('cannot reach Slack');
    expect(stderr).toContain('ECONNREFUSED');
    expect(stderr).not.toContain('rejected');
  });

  test('Slack rejecting the token: "Slack rejected SLACK_BOT_TOKEN"', async () => {
    const { status, stderr } = await start({ SLACK_BOT_TOKEN: 'xoxb-not-the-one' });
    expect(status).toBe(1);
    expect(stderr).toContain('Slack rejected SLACK_BOT_TOKEN (auth.test: invalid_auth)');
  });

  test('AWS unreachable: "cannot reach AWS", with the cause', async () => {
    const { status, stderr } = await start({ AWS_ENDPOINT_URL_SSO_ADMIN: `http://127.0.0.1:${await closedPort()}` });
    expect(status).toBe(1);
    expect(stderr).toContain('cannot reach AWS IAM Identity Center');
    expect(stderr).toContain('ECONNREFUSED');
  });

  test('AWS rejecting the credentials: "AWS rejected the credentials"', async () => {
    aws.injectFault('DescribeInstance', { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' }, 10);
    try {
      const { status, stderr } = await start({});
      expect(status).toBe(1);
      expect(stderr).toContain('AWS rejected the credentials');
      expect(stderr).toContain('UnrecognizedClientException');
    } finally {
      aws.clearFaults('DescribeInstance');
    }
  });

  describe('deploy-grade: config errors that say how to fix them', () => {
    test('no AWS credentials at all: exit 1 with "no AWS credentials found" and how to set them, not "AWS rejected the credentials"', async () => {
      // Nothing for the SDK's provider chain to find: no keys, no profile files, no instance metadata.
      const { status, stderr } = await start({
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
        AWS_CONFIG_FILE: join(dir, 'no-config'),
        AWS_EC2_METADATA_DISABLED: 'true',
      });
      expect(status).toBe(1);
      expect(stderr).toContain('no AWS credentials found (set AWS_PROFILE, run aws sso login, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
      expect(stderr).not.toContain('rejected');
    });
  });

  describe('deploy-grade: Node 22', () => {
    const major = Number(process.versions.node.split('.')[0]);
    // CI runs on Node 22 (engines: >=22), where the SDK has nothing to warn about; on an older
    // Node the same start-up shows the warning, so the test can tell the two apart.
    test(`start-up on Node ${major} ${major >= 22 ? 'prints no' : 'prints the'} AWS SDK Node-version warning (none on Node 22 or newer)`, async () => {
      const { status, stderr } = await start({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '', AWS_ENDPOINT_URL_SSO_ADMIN: `http://127.0.0.1:${await closedPort()}` });
      expect(status).toBe(1);
      expect(stderr).toContain('cannot reach AWS IAM Identity Center');
      expect(stderr.includes('NodeVersionSupportWarning')).toBe(major < 22);
    });
  });

  test('a wrong instanceArn or identityStoreId: exit 1 naming the config field', async () => {
    const wrongArn = join(dir, 'wrong-arn.yaml');
    writeFileSync(wrongArn, testConfigYaml().replace(INSTANCE_ARN, 'arn:aws:sso:::instance/ssoins-ffffffffffffffff'));
    const arn = await start({ TIMEBOX_CONFIG: wrongArn });
    expect(arn.status).toBe(1);
    expect(arn.stderr).toContain('identityCenter.instanceArn');
    expect(arn.stderr).toContain('ssoins-ffffffffffffffff');

    const wrongStore = join(dir, 'wrong-store.yaml');
    writeFileSync(wrongStore, testConfigYaml().replace(`identityStoreId: ${IDENTITY_STORE_ID}`, 'identityStoreId: d-ffffffffff'));
    const store = await start({ TIMEBOX_CONFIG: wrongStore });
    expect(store.status).toBe(1);
    expect(store.stderr).toContain('identityCenter.identityStoreId is d-ffffffffff, but the instance\'s identity store is d-1234567890');
  });
});
