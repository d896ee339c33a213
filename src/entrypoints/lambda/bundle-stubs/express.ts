/**
 * Stands in for express in the Lambda bundles (esbuild alias, set in infra/). Bolt's index loads
 * its Express receiver, which Timebox never constructs (its own receiver, slack-front.ts, serves
 * both doors); the real package brings ~300 KB (mime-db, qs, router…). Reaching this is a bug.
 */
const refuse = (): never => {
  throw new Error('express is not available in the Lambda bundle; Timebox serves Slack with its own receiver');
};
export default refuse;
export const Router = refuse;
