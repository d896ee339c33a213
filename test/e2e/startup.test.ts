import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfigYaml } from '../support/timebox-harness';

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
