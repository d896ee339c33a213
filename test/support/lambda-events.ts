import { slackSignature } from './slack-requests';

/**
 * A Lambda Function URL event (payload format 2.0) carrying `body` signed as Slack signs it:
 * what the Slack function's handler receives. `signature` replaces the real one (a forgery).
 */
export function functionUrlEvent(body: string, options: { signingSecret: string; timestamp?: number; signature?: string; contentType?: string }): Record<string, unknown> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/slack/events',
    rawQueryString: '',
    headers: {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': options.signature ?? slackSignature(options.signingSecret, timestamp, body),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    },
    requestContext: { http: { method: 'POST', path: '/slack/events', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'Slackbot 1.0' }, requestId: 'r', stage: '$default' },
    body,
    isBase64Encoded: false,
  };
}
