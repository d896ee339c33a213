/**
 * `npm run bench:bundles`: builds each Lambda function exactly as the CDK stack does (same
 * esbuild settings, from infra/lib/timebox-stack.ts), reports its minified size and how long a
 * fresh Node process takes to load it (the part of a cold start the bundle decides), and writes
 * reports/bundles.json. Target: the Slack handler under 1 MB, so Slack's 3 s survives a cold start.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { LAMBDA_ESBUILD } from '../infra/lib/timebox-stack';

const ROOT = join(__dirname, '..');
const FUNCTIONS = ['slack', 'worker', 'sweep'] as const;
const LOAD_RUNS = 5;
const SLACK_TARGET_BYTES = 1_000_000;

interface BundleFigures {
  function: string;
  bytes: number;
  topPackages: Array<{ name: string; bytes: number }>;
  loadMsMedian: number;
  loadMsRuns: number[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Milliseconds for a fresh `node` to require the bundle (module evaluation only, no handler call). */
function loadTimeMs(bundle: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(bundle)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } }));
}

async function measure(fn: string, outDir: string): Promise<BundleFigures> {
  const outfile = join(outDir, fn, 'index.js');
  const result = await build({
    entryPoints: [join(ROOT, 'src/entrypoints/lambda', `${fn}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    metafile: true,
    minify: LAMBDA_ESBUILD.minify,
    target: LAMBDA_ESBUILD.target,
    mainFields: [...LAMBDA_ESBUILD.mainFields],
    alias: { ...LAMBDA_ESBUILD.alias },
    logLevel: 'warning',
  });
  const output = Object.values(result.metafile.outputs)[0];
  if (!output) throw new Error(`esbuild wrote nothing for ${fn}`);
  const byPackage = new Map<string, number>();
  for (const [path, input] of Object.entries(output.inputs)) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? 'timebox (src)';
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  const loadMsRuns = Array.from({ length: LOAD_RUNS }, () => loadTimeMs(outfile));
  return {
    function: fn,
    bytes: output.bytes,
    topPackages: [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([name, bytes]) => ({ name, bytes })),
    loadMsMedian: Math.round(median(loadMsRuns)),
    loadMsRuns: loadMsRuns.map((ms) => Math.round(ms)),
  };
}

async function main(): Promise<void> {
  const outDir = mkdtempSync(join(tmpdir(), 'timebox-bundles-'));
  const figures: BundleFigures[] = [];
  for (const fn of FUNCTIONS) figures.push(await measure(fn, outDir));
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  console.log('| function | minified | load (median of 5) | largest parts |');
  console.log('| --- | --- | --- | --- |');
  for (const f of figures) {
    console.log(`| ${f.function} | ${kb(f.bytes)} | ${f.loadMsMedian} ms | ${f.topPackages.map((p) => `${p.name} ${kb(p.bytes)}`).join(', ')} |`);
  }
  mkdirSync(join(ROOT, 'reports'), { recursive: true });
  writeFileSync(join(ROOT, 'reports/bundles.json'), `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, figures }, null, 2)}\n`);
  const slack = figures.find((f) => f.function === 'slack');
  if (slack && slack.bytes > SLACK_TARGET_BYTES) {
    console.error(`Slack handler is ${kb(slack.bytes)}, over the ${kb(SLACK_TARGET_BYTES)} target`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
