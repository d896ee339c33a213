/**
 * `npm run build:lambda [-- --config PATH] [--out DIR]`: the three deployable Lambda bundles,
 * built with the stack's own esbuild settings (LAMBDA_ESBUILD in infra/lib/timebox-stack.ts):
 *
 *   dist/lambda/slack/index.js    (+ index.js.map, timebox.json)
 *   dist/lambda/worker/index.js   (+ index.js.map, timebox.json)
 *   dist/lambda/sweep/index.js    (+ index.js.map, timebox.json)
 *   dist/lambda/audit-archiver/index.js (+ index.js.map, timebox.json: it reads no config)
 *
 * Each index.js exports `handler`. Beside it goes the config the functions read at cold start
 * (TIMEBOX_CONFIG=/var/task/timebox.json): the operator's YAML, validated here as `cdk synth`
 * validates it, and written as JSON the way the stack's bundling does. The source map is the
 * one the stack's bundling emits today (mappings only, no sources), for NODE_OPTIONS=--enable-source-maps.
 *
 * The config is `--config PATH`, else timebox.yaml at the repository root, else timebox.example.yaml.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { parse as parseYaml } from 'yaml';
import { resolveConfigSource } from '../infra/lib/config-source';
import { BUNDLED_CONFIG_NAME, LAMBDA_ESBUILD } from '../infra/lib/timebox-stack';
import { loadConfigFile } from '../src/config/load-config';

export const REPO_ROOT = resolve(__dirname, '..');
export const LAMBDA_FUNCTIONS = ['slack', 'worker', 'sweep', 'audit-archiver'] as const;
export type LambdaFunction = (typeof LAMBDA_FUNCTIONS)[number];
export const DEFAULT_LAMBDA_OUT_DIR = join(REPO_ROOT, 'dist', 'lambda');

export interface BuiltBundle {
  function: string;
  /** …/<function>/index.js */
  file: string;
  /** Minified size of index.js. */
  bytes: number;
  /** The config JSON beside it. */
  configFile: string;
}

/**
 * One entry point bundled exactly as the stack bundles a function: esbuild, CommonJS for Node,
 * LAMBDA_ESBUILD's minify/target/mainFields/alias, the SDK bundled too (nothing external).
 * `entry` is a TypeScript file; the output is `<outDir>/index.js` exporting what it exports.
 */
export async function buildLambdaEntry(entry: string, outDir: string, plugins: Plugin[] = []): Promise<{ file: string; bytes: number; inputs: string[] }> {
  const file = join(outDir, 'index.js');
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minify: LAMBDA_ESBUILD.minify,
    target: LAMBDA_ESBUILD.target,
    mainFields: [...LAMBDA_ESBUILD.mainFields],
    alias: { ...LAMBDA_ESBUILD.alias },
    external: [],
    // As the stack's bundling: a source map of mappings only (no copy of the sources).
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'warning',
    plugins,
    metafile: true,
  });
  // What index.js carries (paths as esbuild names them, e.g. node_modules/<package>/…): the inputs with code left after tree-shaking.
  const inputs = Object.entries(result.metafile.outputs).flatMap(([out, o]) => (out.endsWith('.js') ? Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([path]) => path) : []));
  return { file, bytes: statSync(file).size, inputs };
}

/** The operator's YAML, validated (a mistake fails the build, as it fails `cdk synth`), as the JSON the functions read. */
export function bundledConfigText(configPath: string): string {
  loadConfigFile(configPath);
  return JSON.stringify(parseYaml(readFileSync(configPath, 'utf8')));
}

/**
 * Builds dist/lambda/{slack,worker,sweep}/index.js (or under `outDir`) from
 * src/entrypoints/lambda/<function>.ts, each with `timebox.json` beside it made from `configPath`.
 */
export async function buildLambdaBundles(outDir: string = DEFAULT_LAMBDA_OUT_DIR, configPath?: string): Promise<BuiltBundle[]> {
  const source = resolveConfigSource(configPath);
  const configJson = bundledConfigText(source.path);
  // One file written once and copied, as the stack's afterBundling hook copies one file into each asset.
  const staging = mkdtempSync(join(tmpdir(), 'timebox-config-'));
  const staged = join(staging, BUNDLED_CONFIG_NAME);
  writeFileSync(staged, configJson);
  try {
    const built: BuiltBundle[] = [];
    for (const fn of LAMBDA_FUNCTIONS) {
      const dir = join(outDir, fn);
      rmSync(dir, { recursive: true, force: true });
      const { file, bytes } = await buildLambdaEntry(join(REPO_ROOT, 'src/entrypoints/lambda', `${fn}.ts`), dir);
      const configFile = join(dir, BUNDLED_CONFIG_NAME);
      copyFileSync(staged, configFile);
      built.push({ function: fn, file, bytes, configFile });
    }
    return built;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function argValue(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at !== -1) return args[at + 1];
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const configArg = argValue(args, '--config');
  const outArg = argValue(args, '--out');
  const source = resolveConfigSource(configArg);
  if (source.isExample) process.stderr.write('build:lambda: bundling timebox.example.yaml (no --config and no timebox.yaml): its accounts and approvers are placeholders\n');
  const outDir = outArg ? resolve(outArg) : DEFAULT_LAMBDA_OUT_DIR;
  const built = await buildLambdaBundles(outDir, source.path);
  for (const b of built) console.log(`${relative(process.cwd(), b.file)}  ${(b.bytes / 1024).toFixed(0)} KB  (config: ${relative(REPO_ROOT, source.path)})`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
