import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

type AwsSendService = 'sso-admin' | 'identitystore';

export interface AwsSend {
  service: AwsSendService;
  at: number;
}

/**
 * The race every keep-alive client runs: the server closed an idle connection just as this request
 * was written to it, so the server never read it (Node's http docs, request.reusedSocket). The SDK
 * sends it again on a new connection; AWS sees, and counts, only that one.
 */
function resetUnread(request: ClientRequest, err: Error & { code?: string }): boolean {
  return request.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
}

/**
 * Records when the SDK hands each SSO Admin / Identity Store request to Node's HTTP client, in
 * this process. These are the times Timebox actually sent them, which is what AWS would count;
 * a stand-in that shares an event loop with Timebox reads queued requests in a burst after a stall.
 * A request the server reset unread on a reused connection is taken out again: it never reached
 * AWS, and the SDK's new attempt is recorded in its place.
 */
export function recordAwsSends(): { calls: AwsSend[]; stop(): void } {
  const calls: AwsSend[] = [];
  const onRequestStart = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    const target = request.getHeader('x-amz-target');
    if (typeof target !== 'string') return;
    const service: AwsSendService | undefined = target.startsWith('SWBExternalService.') ? 'sso-admin' : target.startsWith('AWSIdentityStore.') ? 'identitystore' : undefined;
    if (!service) return;
    const send: AwsSend = { service, at: Date.now() };
    calls.push(send);
    let answered = false;
    request.once('response', () => {
      answered = true;
    });
    request.once('error', (err: Error & { code?: string }) => {
      if (answered || !resetUnread(request, err)) return;
      const at = calls.indexOf(send);
      if (at !== -1) calls.splice(at, 1);
    });
  };
  diagnostics.subscribe('http.client.request.start', onRequestStart);
  return { calls, stop: () => diagnostics.unsubscribe('http.client.request.start', onRequestStart) };
}
