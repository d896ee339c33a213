/**
 * Stands in for thread-stream in the Lambda bundles (esbuild alias, set in infra/). pino loads it
 * for transports (log shipping on a worker thread), which Timebox never configures: its logger
 * writes JSON lines to stdout, where Lambda picks them up. Reaching this is a bug.
 */
class ThreadStream {
  constructor() {
    throw new Error('pino transports (thread-stream) are not available in the Lambda bundle; Timebox logs to stdout');
  }
}
export = ThreadStream;
