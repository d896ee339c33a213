import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../lib/config-source';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; peerDependencies: Record<string, string> };

/** Another team's CDK app, in plain JavaScript, using nothing of Timebox but the installed package. */
const CONSUMER_APP = `
const { App, Stack } = require('aws-cdk-lib');
const { TimeboxConstruct } = require('timebox');
const [outdir, configPath] = process.argv.slice(2);
const app = new App({ outdir });
const stack = new Stack(app, 'PlatformTools');
const timebox = new TimeboxConstruct(stack, 'Timebox', { configPath, tags: { team: 'platform' } });
app.synth();
console.log(JSON.stringify({ slackRequestUrl: typeof timebox.slackRequestUrl, httpApi: Boolean(timebox.httpApi) }));
`;

/**
 * The release a platform team pins: `npm pack` (which builds the construct and the Lambda bundles
 * first, see the prepack script), the tarball unpacked as npm installs it into a consumer's
 * node_modules (its dependencies linked from this repository's, as a registry install would
 * provide them), and a consumer CDK app that imports it and synthesises.
 */
describe('deploy-grade: the release a platform team pins', () => {
  let dir: string;
  let files: string[];
  let consumerOut: string;
  let printed: string;
  const consumerConfig = () => join(dir, 'platform-timebox.yaml');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'timebox-pack-'));
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Array<{ filename: string; files: Array<{ path: string }> }>;
    if (!packed) throw new Error('npm pack printed nothing');
    files = packed.files.map((f) => f.path).sort();
    const installed = join(dir, 'node_modules', pkg.name);
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', join(dir, packed.filename), '-C', installed, '--strip-components=1']);
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) {
      mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
      symlinkSync(join(REPO_ROOT, 'node_modules', name), join(dir, 'node_modules', name));
    }
    // The platform's own config: the example with a third account.
    writeFileSync(consumerConfig(), readFileSync(join(REPO_ROOT, 'timebox.example.yaml'), 'utf8').replace('  production: "222222222222"', '  production: "222222222222"\n  sandbox: "333333333333"'));
    writeFileSync(join(dir, 'app.js'), CONSUMER_APP);
    consumerOut = join(dir, 'cdk.out');
    printed = execFileSync(process.execPath, [join(dir, 'app.js'), consumerOut, consumerConfig()], { cwd: dir, encoding: 'utf8' });
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test(`the package is ${pkg.name}@${pkg.version}, with the construct (JavaScript and types), the four built Lambda bundles (the audit archiver's too), the licence and the changelog, and no sources or tests`, () => {
    expect(pkg.version).toMatch(/^0\.\d+\.\d+$/);
    for (const file of ['LICENSE', 'bin/timebox.js', 'CHANGELOG.md', 'package.json', 'dist/infra/lib/index.js', 'dist/infra/lib/index.d.ts', 'dist/infra/lib/timebox-construct.d.ts']) expect(files).toContain(file);
    for (const fn of ['slack', 'worker', 'sweep', 'audit-archiver']) expect(files).toEqual(expect.arrayContaining([`dist/lambda/${fn}/index.js`, `dist/lambda/${fn}/index.js.map`]));
    // The bundles carry no config of their own: each deployment bundles its own.
    expect(files.filter((f) => /timebox\.json$/.test(f) || /\.ts$/.test(f.replace(/\.d\.ts$/, '')) || /^(test|infra\/test|bench|demo)\//.test(f))).toEqual([]);
    expect(readFileSync(join(dir, 'node_modules', pkg.name, 'LICENSE'), 'utf8')).toContain('Apache License\n                           Version 2.0, January 2004');
  });

  test('a consumer CDK app imports TimeboxConstruct from the installed package and synthesises it, the HTTP API in front', () => {
    expect(JSON.parse(printed)).toEqual({ slackRequestUrl: 'string', httpApi: true });
    const template = JSON.parse(readFileSync(join(consumerOut, 'PlatformTools.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::Lambda::Function')).toHaveLength(4);
    expect(types).toContain('AWS::ApiGatewayV2::Api');
    // The audit archive comes with the package by default: the Object Lock bucket and the stream.
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::S3::Bucket').map((r) => r.Properties.ObjectLockConfiguration)).toEqual([expect.objectContaining({ Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 400 } } })]);
    expect(types).toContain('AWS::Lambda::EventSourceMapping');
    expect(types).not.toContain('AWS::Lambda::Url');
  });

  test('each function deploys the packaged bundle with the consumer\'s own config beside it', () => {
    const assets = readdirSync(consumerOut).filter((d) => d.startsWith('asset.'));
    expect(assets).toHaveLength(4);
    const packaged = ['slack', 'worker', 'sweep', 'audit-archiver'].map((fn) => readFileSync(join(dir, 'node_modules', pkg.name, 'dist', 'lambda', fn, 'index.js'), 'utf8'));
    for (const asset of assets) {
      expect(readdirSync(join(consumerOut, asset)).sort()).toEqual(['index.js', 'index.js.map', 'timebox.json']);
      expect(packaged).toContain(readFileSync(join(consumerOut, asset, 'index.js'), 'utf8'));
      expect(JSON.parse(readFileSync(join(consumerOut, asset, 'timebox.json'), 'utf8'))).toEqual(parseYaml(readFileSync(consumerConfig(), 'utf8')));
    }
  });
});
