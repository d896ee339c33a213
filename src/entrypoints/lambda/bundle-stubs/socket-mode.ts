/**
 * Stands in for @slack/socket-mode in the Lambda bundles (esbuild alias, set in infra/). Bolt's
 * App module loads the Socket Mode receiver even when it is never used; the real package brings
 * a WebSocket client of ~0.5 MB. Lambda serves Slack over HTTP only, so reaching this is a bug.
 */
export class SocketModeClient {
  constructor() {
    throw new Error('Socket Mode is not available in the Lambda bundle; Slack reaches Lambda over HTTP');
  }
}
