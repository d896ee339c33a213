import type { WebClientOptions } from '@slack/web-api';

/**
 * The Web API client options of the client Bolt hands the listeners (views.open, postEphemeral),
 * the same on every door (local HTTP, Socket Mode, Lambda). Those calls race Slack's 3-second
 * deadline: fail fast rather than retry or wait out a rate limit. `apiUrl` is SLACK_API_URL
 * (GovSlack, or a stand-in in tests).
 */
export function listenerClientOptions(apiUrl: string | undefined): WebClientOptions {
  return {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 2500,
  };
}
