/**
 * Lambda, as far as the benchmark needs it: each bundle runs in a plain `node` process of its
 * own (no tsx, no test harness: what a Lambda sandbox runs), with the function's environment.
 *
 * - coldRun: a new process loads the bundle and handles a list of events one after another,
 *   reporting when each reply came (ms since the process started) — a cold start, then warm ones.
 * - LambdaPool: warm sandboxes for one function, frozen between invocations as Lambda freezes
 *   them. An invocation goes to an idle sandbox; with none idle a new one starts (a cold start,
 *   as Lambda would), up to `max` (the function's reserved concurrency; Infinity for a function
 *   with none, which the account's unreserved pool serves); past that it waits.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ColdResult {
  /** ms from process start to the first line of the driver (Node's own start-up). */
  bootMs: number;
  /** ms to require the bundle (module evaluation). */
  loadMs: number;
  /** Per event: ms the handler took, and ms since process start when it replied. */
  invocations: Array<{ handlerMs: number; replyAtMs: number; statusCode?: number; body?: string }>;
  /** Wall time the parent saw from spawn to the result line. */
  wallMs: number;
}

const COLD_DRIVER = `
const bootMs = performance.now();
const mod = require(process.env.BENCH_BUNDLE);
const loadMs = performance.now() - bootMs;
const events = JSON.parse(process.env.BENCH_EVENTS);
(async () => {
  const invocations = [];
  for (const event of events) {
    const started = performance.now();
    const r = await mod.handler(event, {});
    const replyAtMs = performance.now();
    invocations.push({ handlerMs: replyAtMs - started, replyAtMs, statusCode: r && r.statusCode, body: r && typeof r.body === 'string' ? r.body.slice(0, 400) : undefined });
  }
  process.stdout.write('\\nBENCH_RESULT ' + JSON.stringify({ bootMs, loadMs, invocations }) + '\\n', () => process.exit(0));
})().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
`;

/** One cold process: loads `bundle`, handles `events` in order, exits. */
export function coldRun(bundle: string, env: Record<string, string>, events: unknown[]): Promise<ColdResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['-e', COLD_DRIVER], {
      env: { ...env, BENCH_BUNDLE: bundle, BENCH_EVENTS: JSON.stringify(events) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-4000)));
    proc.once('exit', (code) => {
      const wallMs = performance.now() - started;
      const line = /^BENCH_RESULT (.*)$/m.exec(out)?.[1];
      if (code !== 0 || !line) {
        reject(new Error(`cold run of ${bundle} failed (exit ${code}): ${err || out.slice(-2000)}`));
        return;
      }
      resolve({ ...(JSON.parse(line) as Omit<ColdResult, 'wallMs'>), wallMs });
    });
  });
}

const HOST_DRIVER = `
process.on('disconnect', () => process.exit(0));
const mod = require(process.env.BENCH_BUNDLE);
let cold = true;
process.on('message', async (m) => {
  const started = performance.now();
  try {
    const result = await mod.handler(m.event, {});
    process.send({ id: m.id, ok: true, result, ms: performance.now() - started, cold });
  } catch (err) {
    process.send({ id: m.id, ok: false, error: String(err && err.stack || err), ms: performance.now() - started, cold });
  }
  cold = false;
});
`;

interface HostMessage {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
  ms: number;
  cold: boolean;
}

export interface Invocation {
  result: unknown;
  /** Handler time inside the sandbox. */
  ms: number;
  /** The sandbox's first invocation (its cold start). */
  cold: boolean;
}

/** Every sandbox process still alive: a frozen (stopped) one would outlive the benchmark, so they go with it. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const proc of live) proc.kill('SIGKILL');
});

/**
 * One sandbox. Between invocations it is frozen (SIGSTOP), as Lambda freezes a sandbox once its
 * handler has returned: work a handler leaves running after its reply does not run on here
 * either, until the next invocation thaws it (SIGCONT).
 */
class Sandbox {
  busy = false;
  private frozen = false;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (m: HostMessage) => void; reject: (e: Error) => void }>();
  readonly proc: ChildProcess;

  constructor(bundle: string, env: Record<string, string>) {
    this.proc = spawn(process.execPath, ['-e', HOST_DRIVER], { env: { ...env, BENCH_BUNDLE: bundle }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    live.add(this.proc);
    // Sending to a sandbox that has just exited (the benchmark ending under load) fails its invocation, not the benchmark.
    this.proc.on('error', (e: Error) => {
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    });
    let err = '';
    this.proc.stderr?.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-4000)));
    this.proc.on('message', (m: HostMessage) => {
      if (this.waiting.size === 1 && this.proc.exitCode === null) {
        this.proc.kill('SIGSTOP');
        this.frozen = true;
      }
      this.waiting.get(m.id)?.resolve(m);
      this.waiting.delete(m.id);
    });
    this.proc.once('exit', (code) => {
      live.delete(this.proc);
      for (const w of this.waiting.values()) w.reject(new Error(`sandbox exited (code ${code}): ${err}`));
      this.waiting.clear();
    });
  }

  invoke(event: unknown): Promise<HostMessage> {
    if (this.frozen) {
      this.proc.kill('SIGCONT');
      this.frozen = false;
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.proc.send({ id, event });
    });
  }
}

export class LambdaPool {
  private readonly sandboxes: Sandbox[] = [];
  private readonly queue: Array<() => void> = [];
  private running = 0;
  private readonly idleWaiters: Array<() => void> = [];
  invocations = 0;
  coldStarts = 0;
  errors: string[] = [];
  /** Invocations that found every sandbox busy at `max` and waited for one, and the longest wait (ms). */
  queued = 0;
  longestQueueMs = 0;

  constructor(
    readonly name: string,
    private readonly bundle: string,
    private readonly env: Record<string, string>,
    private readonly max: number,
  ) {}

  async invoke(event: unknown): Promise<Invocation> {
    this.running++;
    try {
      const asked = performance.now();
      const { sandbox, queued } = await this.acquire();
      if (queued) {
        this.queued++;
        this.longestQueueMs = Math.max(this.longestQueueMs, performance.now() - asked);
      }
      try {
        const m = await sandbox.invoke(event);
        this.invocations++;
        if (m.cold) this.coldStarts++;
        if (!m.ok) {
          this.errors.push(m.error ?? 'unknown error');
          throw new Error(`${this.name} handler threw: ${m.error ?? ''}`);
        }
        return { result: m.result, ms: m.ms, cold: m.cold };
      } finally {
        sandbox.busy = false;
        this.queue.shift()?.();
      }
    } finally {
      this.running--;
      if (this.running === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves once nothing is running or waiting. */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get busy(): boolean {
    return this.running > 0;
  }

  close(): void {
    for (const s of this.sandboxes) s.proc.kill('SIGKILL');
  }

  /** An idle sandbox, or a new one; at `max`, the next to be let go (`queued`: it had to wait for one). */
  private async acquire(): Promise<{ sandbox: Sandbox; queued: boolean }> {
    let queued = false;
    for (;;) {
      const free = this.sandboxes.find((s) => !s.busy);
      if (free) {
        free.busy = true;
        return { sandbox: free, queued };
      }
      if (this.sandboxes.length < this.max) {
        const fresh = new Sandbox(this.bundle, this.env);
        fresh.busy = true;
        this.sandboxes.push(fresh);
        return { sandbox: fresh, queued };
      }
      queued = true;
      await new Promise<void>((resolve) => this.queue.push(resolve));
    }
  }
}
