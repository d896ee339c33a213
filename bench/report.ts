/** The benchmark's table and docs/BENCHMARKS.md. */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

export interface Row {
  item: number;
  what: string;
  timebox: string;
  floor: string;
  target: string;
  /** undefined: reported, no target. */
  pass?: boolean;
}

export interface Machine {
  cpuCount: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  date: string;
  commit: string;
}

export function machine(): Machine {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  const commit = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const dirty = git(['status', '--porcelain']) !== '';
  return {
    cpuCount: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    commit: dirty ? `${commit} (dirty)` : commit,
  };
}

const result = (pass: boolean | undefined) => (pass === undefined ? 'reported' : pass ? 'pass' : '**MISS**');

export function markdownTable(rows: Row[]): string {
  const lines = ['| # | Measurement | Timebox | Floor | Target | Result |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) lines.push(`| ${r.item} | ${r.what} | ${r.timebox} | ${r.floor} | ${r.target} | ${result(r.pass)} |`);
  return lines.join('\n');
}

export function benchmarksDoc(options: { rows: Row[]; machine: Machine; quick: boolean; runtimeSeconds: number; details: string[]; only?: string }): string {
  const { rows, machine: m } = options;
  const missed = rows.filter((r) => r.pass === false);
  return `# Benchmarks

Written by \`npm run bench\` (bench/run.ts); do not edit by hand. The figures are from the run
below, on the machine below: rerun it to compare after a change.

- **Run:** ${m.date}, commit \`${m.commit}\`, ${options.quick ? '**--quick** (fewer samples: not a reference run)' : 'full run'}${options.only ? `, only items ${options.only}` : ''}, ${options.runtimeSeconds.toFixed(0)} s
- **Machine:** ${m.cpuCount} × ${m.cpuModel}, ${m.memoryGb} GB, ${m.platform}, Node ${m.node}
- **Result:** ${missed.length === 0 ? 'every target met' : `${missed.length} target${missed.length === 1 ? '' : 's'} missed (${[...new Set(missed.map((r) => r.item))].map((i) => `item ${i}`).join(', ')})`}

## Reproduce

\`\`\`sh
npm ci
npm run bench            # the full run (under 5 minutes on 2 cores); exits 1 if a target is missed
npm run bench -- --quick # fewer samples (still waits out the AWS path's 2-3 minute windows)
npm run bench -- --only 1,5   # some items only (1-8; 3, 4, 6 and L run the AWS-path lifecycles, about 4 minutes)
\`\`\`

Everything runs on loopback: the Slack and AWS stand-ins of test/support, dynalite, and the
processes the benchmark starts. Nothing leaves the machine.

## Figures

${markdownTable(rows)}

p50 / p99 are nearest-rank percentiles. "Floor" is the same measurement of a bare Bolt app that
only acks, taken in the same run.

## How each figure is measured

${options.details.map((d) => `- ${d}`).join('\n')}
`;
}
