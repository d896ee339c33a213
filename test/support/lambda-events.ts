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

/**
 * The same signed Slack request as API Gateway's HTTP API hands it to Lambda (payload format 2.0,
 * a POST /slack/events route on the $default stage): what differs from a Function URL event is
 * the routeKey, the requestContext (apiId, domainName, stage), a `cookies` array, API Gateway's
 * forwarding headers, and a body that arrives base64-encoded (`base64: false` sends it as text).
 */
export function httpApiEvent(body: string, options: { signingSecret: string; timestamp?: number; signature?: string | null; base64?: boolean }): Record<string, unknown> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = options.signature === undefined ? slackSignature(options.signingSecret, timestamp, body) : options.signature;
  const base64 = options.base64 ?? true;
  return {
    version: '2.0',
    routeKey: 'POST /slack/events',
    rawPath: '/slack/events',
    rawQueryString: '',
    cookies: ['b=visitor-cookie'],
    headers: {
      'content-length': String(Buffer.byteLength(body)),
      'content-type': 'application/x-www-form-urlencoded',
      host: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      'x-amzn-trace-id': 'Root=1-67890abc-0123456789abcdef01234567',
      'x-forwarded-for': '192.0.2.10',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      'x-slack-request-timestamp': String(timestamp),
      ...(signature === null ? {} : { 'x-slack-signature': signature }),
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'a1b2c3d4e5',
      domainName: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'a1b2c3d4e5',
      http: { method: 'POST', path: '/slack/events', protocol: 'HTTP/1.1', sourceIp: '192.0.2.10', userAgent: 'Slackbot 1.0 (+https://api.slack.com/robots)' },
      requestId: 'JKJaXmPLvHcESHA=',
      routeKey: 'POST /slack/events',
      stage: '$default',
      time: '07/Dec/2026:17:00:00 +0000',
      timeEpoch: Date.now(),
    },
    body: base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
    isBase64Encoded: base64,
  };
}
