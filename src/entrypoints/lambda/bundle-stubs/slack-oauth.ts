/**
 * Stands in for @slack/oauth in the Lambda bundles (esbuild alias, set in infra/). Bolt's index and
 * its HTTP, Express and Socket Mode receivers load it for installing an app into many workspaces
 * (OAuth), which Timebox never does: it has one bot token and its own receiver. The real package
 * brings jsonwebtoken and semver (about 90 KB minified, semver building its regular expressions
 * at load), which every Slack cold start would parse and run for nothing. Reaching this is a bug.
 */
const refuse = (what: string) =>
  class {
    constructor() {
      throw new Error(`${what} is not available in the Lambda bundle; Timebox uses one bot token, no OAuth installation`);
    }
  };
export const InstallProvider = refuse('OAuth installation (InstallProvider)');
export const FileInstallationStore = refuse('FileInstallationStore');
export const MemoryInstallationStore = refuse('MemoryInstallationStore');
