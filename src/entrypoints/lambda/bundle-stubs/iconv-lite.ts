/**
 * Stands in for iconv-lite in the Lambda bundles (esbuild alias, set in infra/). raw-body loads it
 * to decode non-UTF-8 HTTP bodies; on Lambda, Bolt gets the body from the event and raw-body never
 * runs, and Slack sends UTF-8 anyway. The real package is ~0.5 MB of code pages.
 */
const refuse = (): never => {
  throw new Error('iconv-lite is not available in the Lambda bundle');
};
export const encodingExists = (encoding: string): boolean => /^utf-?8$/i.test(encoding);
export const decode = refuse;
export const encode = refuse;
export const getDecoder = refuse;
