import { lintPolicy } from '../../config/config-lint';
import { ConfigError, loadConfigFile } from '../../config/load-config';
import { CONFIG_HELP, CONFIG_OPTION, configPathOf } from '../config-source';
import type { Subcommand } from '../subcommand';

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** `timebox policy check`: the config validated and linted exactly as start-up does, with no AWS and no Slack. */
export const policyCheck: Subcommand = {
  path: ['policy', 'check'],
  summary: 'validate the config as start-up does; print every problem and warning with its path',
  help: [
    'Usage: timebox policy check [--config FILE] [--strict]',
    '',
    'Validates the config exactly as Timebox does at start-up, and prints every problem and every',
    'warning with its path. Needs no AWS and no Slack.',
    '',
    CONFIG_HELP,
    '  --strict            exit 1 on a warning too',
    '',
    'Exit status: 0 valid, 1 a problem (or, with --strict, a warning), 2 bad usage.',
  ].join('\n'),
  options: { ...CONFIG_OPTION, strict: { type: 'boolean' } },
  async run(values, io) {
    const path = configPathOf(values, io);
    let warnings: string[];
    try {
      warnings = lintPolicy(loadConfigFile(path).policy);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const problem of err.problems) io.out(`error: ${problem}`);
      io.out(`${path}: ${count(err.problems.length, 'error')} (warnings are checked once it is valid)`);
      return 1;
    }
    for (const warning of warnings) io.out(`warning: ${warning}`);
    const strictFail = values.strict === true && warnings.length > 0;
    io.out(`${path}: valid, ${count(warnings.length, 'warning')}${strictFail ? ' (--strict: failing on warnings)' : ''}`);
    return strictFail ? 1 : 0;
  },
};
