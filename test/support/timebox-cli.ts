import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** The real `timebox` bin (package.json `bin`), as `npx timebox` runs it in a clone. */
export const TIMEBOX_BIN = join(__dirname, '..', '..', 'bin', 'timebox.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `timebox <args>` in a child process; `env` replaces TIMEBOX_* (none are inherited). */
export function runTimeboxCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TIMEBOX_') && !k.startsWith('AWS_')));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [TIMEBOX_BIN, ...args], { cwd: options.cwd, env: { ...env, ...options.env }, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}
