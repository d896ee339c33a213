/**
 * What the benchmark reads about a process it started, by pid, from /proc: CPU time (to wait
 * until a process has gone quiet) and peak RSS. (Processes are started with TimeboxChild.)
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

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

/** Where a process's resident memory is now (MB), from /proc/<pid>/smaps: what a peak is made of. */
export interface RssParts {
  /** Anonymous mappings of at most 264 KB: V8's heap pages (256 KB each), of every thread. */
  v8Pages: number;
  /** The embedded store's LevelDB table files, which LevelDB maps into memory to read them. */
  storeFiles: number;
  /** Other anonymous memory (native allocations: malloc arenas, buffers, code). */
  otherAnonymous: number;
  /** Other mapped files (the node binary, shared libraries). */
  otherFiles: number;
}

export function rssPartsOf(pid: number): RssParts | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const parts: RssParts = { v8Pages: 0, storeFiles: 0, otherAnonymous: 0, otherFiles: 0 };
  let part: keyof RssParts = 'otherAnonymous';
  for (const line of text.split('\n')) {
    const mapping = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      const bytes = Number.parseInt(mapping[2] as string, 16) - Number.parseInt(mapping[1] as string, 16);
      const name = (mapping[3] ?? '').trim();
      part = name.endsWith('.ldb') ? 'storeFiles' : name.startsWith('/') ? 'otherFiles' : bytes <= 264 * 1024 ? 'v8Pages' : 'otherAnonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) parts[part] += Number(rss[1]) / 1024;
  }
  return parts;
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

