import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLambdaEntry, REPO_ROOT } from '../../scripts/build-lambda';

/** The packages a bundle carries, from what esbuild says went into it. */
const packagesIn = (inputs: string[]): Set<string> =>
  new Set(inputs.flatMap((path) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? []));

/** Never run on Lambda: OAuth installation (and what it brings), pino's transports. */
const NEVER_ON_LAMBDA = ['@slack/oauth', 'jsonwebtoken', 'semver', 'thread-stream'];
/** CloudWatchAlarms' metrics library: only the functions that revoke raise the stuck-revoke alarm. */
const METRICS = '@aws-lambda-powertools/metrics';

describe('performance-2: lean Lambda bundles (each function carries what it runs)', () => {
  let dir: string;
  const built = (fn: 'slack' | 'worker' | 'sweep') => buildLambdaEntry(join(REPO_ROOT, 'src/entrypoints/lambda', `${fn}.ts`), join(dir, fn));

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'timebox-lean-bundles-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the Slack function, built as the stack builds it, is under 1 MB and carries neither OAuth (jsonwebtoken, semver), pino transports nor the stuck-revoke metrics it never raises', async () => {
    const slack = await built('slack');
    const packages = packagesIn(slack.inputs);
    expect({ bytes: slack.bytes, underOneMegabyte: slack.bytes < 1_000_000 }).toEqual({ bytes: slack.bytes, underOneMegabyte: true });
    expect(NEVER_ON_LAMBDA.concat(METRICS).filter((p) => packages.has(p))).toEqual([]);
    // What it does run is still there.
    expect(['@slack/bolt', '@aws-sdk/client-lambda', '@aws-sdk/client-secrets-manager'].filter((p) => !packages.has(p))).toEqual([]);
  }, 60_000);

  test('the worker and the sweep, which revoke, still carry the stuck-revoke alarm\'s metrics, and neither OAuth nor pino transports', async () => {
    for (const fn of ['worker', 'sweep'] as const) {
      const packages = packagesIn((await built(fn)).inputs);
      expect({ fn, metrics: packages.has(METRICS), neverOnLambda: NEVER_ON_LAMBDA.filter((p) => packages.has(p)) }).toEqual({ fn, metrics: true, neverOnLambda: [] });
    }
  }, 60_000);
});
