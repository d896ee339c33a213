import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';

/** The repository root: infra/lib/ → ../.. (the same from ts-node, tsx and ts-jest). */
export const REPO_ROOT = resolve(__dirname, '..', '..');

export interface ConfigSource {
  /** Absolute path of the YAML file that is validated and bundled. */
  path: string;
  /** True when no operator config was found and the example is being deployed. */
  isExample: boolean;
}

/**
 * Which config file to deploy: the `config` context value (relative to the repository root, or
 * absolute), else `timebox.yaml` at the root, else `timebox.example.yaml`.
 */
export function resolveConfigSource(contextValue: unknown, repoRoot: string = REPO_ROOT): ConfigSource {
  if (contextValue !== undefined && contextValue !== null && contextValue !== '') {
    if (typeof contextValue !== 'string') throw new Error(`context "config" must be a file path, got ${JSON.stringify(contextValue)}`);
    const path = isAbsolute(contextValue) ? contextValue : resolve(repoRoot, contextValue);
    return { path, isExample: relative(repoRoot, path) === 'timebox.example.yaml' };
  }
  const operatorConfig = resolve(repoRoot, 'timebox.yaml');
  if (existsSync(operatorConfig)) return { path: operatorConfig, isExample: false };
  return { path: resolve(repoRoot, 'timebox.example.yaml'), isExample: true };
}
