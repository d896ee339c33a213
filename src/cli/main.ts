import { parseArgs } from 'node:util';
import { readCliEnv } from '../config/cli-env';
import { SUBCOMMANDS } from './commands';
import { UsageError, type CliIo, type Subcommand } from './subcommand';

const HELP_FLAGS = ['--help', '-h', 'help'];

function overview(): string {
  const width = Math.max(...SUBCOMMANDS.map((s) => s.path.join(' ').length));
  return [
    'Usage: timebox <command> <subcommand> [options]',
    '',
    'Commands:',
    ...SUBCOMMANDS.map((s) => `  ${s.path.join(' ').padEnd(width)}   ${s.summary}`),
    '',
    'Run `timebox <command> <subcommand> --help` for its options.',
  ].join('\n');
}

/** The first line of an error, bounded: errors are one clear line. */
const oneLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 500);

/** Runs `timebox …` (argv without node and the script); resolves to the exit status. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [group, name, ...rest] = argv;
  if (group === undefined || HELP_FLAGS.includes(group)) {
    io.out(overview());
    return group === undefined ? 2 : 0;
  }
  const inGroup = SUBCOMMANDS.filter((s) => s.path[0] === group);
  if (inGroup.length === 0) {
    io.err(`timebox: unknown command "${group.slice(0, 64)}"; run \`timebox --help\` for the list`);
    return 2;
  }
  const sub: Subcommand | undefined = inGroup.find((s) => s.path[1] === name);
  if (!sub) {
    const known = inGroup.map((s) => s.path[1]).join(', ');
    if (name === undefined || HELP_FLAGS.includes(name)) {
      io.out(`Usage: timebox ${group} <${known.replace(/, /g, '|')}> [options]\n\n${inGroup.map((s) => `  ${s.path[1]}   ${s.summary}`).join('\n')}`);
      return name === undefined ? 2 : 0;
    }
    io.err(`timebox ${group}: unknown subcommand "${name.slice(0, 64)}" (known: ${known}); run \`timebox ${group} --help\``);
    return 2;
  }
  const label = `timebox ${sub.path.join(' ')}`;
  if (rest.some((a) => a === '--help' || a === '-h')) {
    io.out(sub.help);
    return 0;
  }
  try {
    const { values } = parseArgs({ args: rest, options: sub.options, strict: true, allowPositionals: false });
    return await sub.run(values, io);
  } catch (err) {
    const usage = err instanceof UsageError || (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'));
    io.err(`${label}: ${oneLine(err)}${usage ? `; run \`${label} --help\`` : ''}`);
    return usage ? 2 : 1;
  }
}

/** The `timebox` bin's entry: real stdout, stderr and environment. */
export function run(argv: string[] = process.argv.slice(2)): Promise<number> {
  return main(argv, { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`), env: readCliEnv(), stdout: process.stdout });
}
