/**
 * Processes the benchmark starts (the floor apps), and what it reads about any process by pid
 * from /proc: CPU time (to wait until a process has gone quiet) and peak RSS.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = join(__dirname, '..');
/** Linux clock ticks per second for /proc/<pid>/stat (USER_HZ, 100 on every mainstream kernel). */
const CLOCK_TICKS = 100;

/** User + system CPU time of a process so far, in ms (undefined once it is gone). */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Peak resident set size (VmHWM) of a process, in MB. */
export function peakRssMbOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : Number.NaN;
}

/**
 * Waits until `pid` has used less than `busyFraction` of a core over `windowMs` (the work a
 * previous block of requests left behind is done), or `maxMs` has passed.
 */
export async function settle(pid: number | undefined, options: { busyFraction?: number; windowMs?: number; maxMs?: number } = {}): Promise<number> {
  if (pid === undefined) return 0;
  const { busyFraction = 0.2, windowMs = 250, maxMs = 2_500 } = options;
  const started = Date.now();
  for (;;) {
    const before = cpuMsOf(pid);
    await sleep(windowMs);
    const after = cpuMsOf(pid);
    if (before === undefined || after === undefined) return Date.now() - started;
    if ((after - before) / windowMs < busyFraction || Date.now() - started >= maxMs) return Date.now() - started;
  }
}

/** A TypeScript entry of bench/ run as its own process (through tsx, like the Timebox child), speaking the READY protocol. */
export class BenchChild {
  private stderr = '';
  readonly exited: Promise<void>;

  private constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-8000);
    });
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  static async start(entry: string, env: Record<string, string>): Promise<{ child: BenchChild; url: string }> {
    const proc = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), join(ROOT, entry)], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const child = new BenchChild(proc);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${entry} printed no READY line within 30 s: ${child.stderr}`)), 30_000);
      proc.stdout.setEncoding('utf8');
      proc.stdout.on('data', (chunk: string) => {
        out += chunk;
        const ready = /^READY (\S+)$/m.exec(out);
        if (ready?.[1]) {
          clearTimeout(timer);
          resolve(ready[1]);
        }
      });
      void child.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${entry} exited before READY: ${child.stderr}`));
      });
    });
    return { child, url };
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}
