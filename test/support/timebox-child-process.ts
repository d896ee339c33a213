import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import type { AwsStandIn } from './aws-stand-in';
import type { ChildKnobs } from './child-timebox';
import type { SlackStandIn } from './slack-stand-in';
import { BOT_TOKEN, SIGNING_SECRET } from './timebox-harness';

/**
 * The parent's side of test/support/child-timebox.ts: the real local Timebox as a process of its
 * own, for tests that SIGKILL it (crash.test.ts) or that must not share a CPU with the stand-ins
 * and the clients driving them (load.test.ts).
 */

const ROOT = join(__dirname, '../..');
const CHILD_ENTRY = join(ROOT, 'test/support/child-timebox.ts');

/** `entry` (a TypeScript file, absolute or from the repository root) run through tsx with `env`. */
function spawnEntry(env: Record<string, string>, entry: string): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), isAbsolute(entry) ? entry : join(ROOT, entry)], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** The environment `npm start` would get, pointed at the stand-ins. */
export function childEnv(options: { aws: AwsStandIn; slack: SlackStandIn; configPath: string; dataDir: string; knobs: ChildKnobs }): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    ...options.aws.env(),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: options.slack.apiUrl,
    PORT: '0',
    TIMEBOX_CONFIG: options.configPath,
    TIMEBOX_DATA_DIR: options.dataDir,
    LOG_LEVEL: 'silent',
    TIMEBOX_TEST_KNOBS: JSON.stringify(options.knobs),
  };
}

/** One run of the Timebox process. */
export class TimeboxChild {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderr = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-20_000);
      if (process.env.TIMEBOX_TEST_LOG) process.stderr.write(chunk);
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  /** Starts `entry` (a TypeScript file, absolute or from the repository root, through tsx; the Timebox child by default) and waits for its READY line. */
  static async start(env: Record<string, string>, entry = CHILD_ENTRY): Promise<{ child: TimeboxChild; url: string }> {
    const proc = spawnEntry(env, entry);
    const child = new TimeboxChild(proc);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`the Timebox child printed no READY line within 30 s. stderr: ${child.logs()}`));
      }, 30_000);
      proc.stdout.setEncoding('utf8');
      proc.stdout.on('data', (chunk: string) => {
        out += chunk;
        const ready = /^READY (\S+)$/m.exec(out);
        if (ready?.[1]) {
          clearTimeout(timer);
          resolve(ready[1]);
        }
      });
      void child.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`the Timebox child exited before READY (code ${code}, signal ${signal}). stderr: ${child.logs()}`));
      });
    });
    return { child, url };
  }

  /** Starts `entry` (as start() does) for a run that is expected to end by itself, e.g. a start-up that must fail: its exit code and everything it wrote to stderr. */
  static async runToExit(env: Record<string, string>, entry = CHILD_ENTRY, timeoutMs = 30_000): Promise<{ code: number | null; stderr: string }> {
    const proc = spawnEntry(env, entry);
    const child = new TimeboxChild(proc);
    const timer = setTimeout(() => child.kill(), timeoutMs);
    const { code } = await child.exited;
    clearTimeout(timer);
    return { code, stderr: child.stderr };
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  logs(): string {
    return this.stderr.slice(-4000);
  }

  /** A crash: no clean-up, no draining, nothing flushed by the process itself. */
  kill(): void {
    if (this.running) this.proc.kill('SIGKILL');
  }

  /** The last stop: SIGTERM drains in-flight work and closes the store; SIGKILL if it hangs. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

