import { ConfigError, loadConfigFile } from '../config/load-config';
import type { TimeboxConfig } from '../config/config-schema';
import type { CliIo, OptionValues } from './subcommand';

/** `--config FILE`, else TIMEBOX_CONFIG, else ./timebox.yaml (as `npm start` reads it). */
export const configPathOf = (values: OptionValues, io: CliIo): string => (typeof values.config === 'string' ? values.config : io.env.TIMEBOX_CONFIG);

export const CONFIG_OPTION = { config: { type: 'string', short: 'c' } } as const;
export const CONFIG_HELP = '  --config, -c FILE   the config file (default: $TIMEBOX_CONFIG, else ./timebox.yaml)';

/** The config as start-up loads it; an invalid one is one line pointing at `policy check`. */
export function loadPolicyConfig(values: OptionValues, io: CliIo): TimeboxConfig {
  const path = configPathOf(values, io);
  try {
    return loadConfigFile(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const n = err.problems.length;
    throw new Error(`${path} is not a valid config (${n} problem${n === 1 ? '' : 's'}, first: ${err.problems[0] ?? 'unknown'}); run \`timebox policy check --config ${path}\` to see them all`, { cause: err });
  }
}
