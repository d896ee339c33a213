import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

type AwsSendService = 'sso-admin' | 'identitystore';

export interface AwsSend {
  service: AwsSendService;
  at: number;
}

/**
 * Records when the SDK hands each SSO Admin / Identity Store request to Node's HTTP client, in
 * this process. These are the times Timebox actually sent them, which is what AWS would count;
 * a stand-in that shares an event loop with Timebox reads queued requests in a burst after a stall.
 */
export function recordAwsSends(): { calls: AwsSend[]; stop(): void } {
  const calls: AwsSend[] = [];
  const onRequestStart = (message: unknown) => {
    const target = (message as { request: ClientRequest }).request.getHeader('x-amz-target');
    if (typeof target !== 'string') return;
    if (target.startsWith('SWBExternalService.')) calls.push({ service: 'sso-admin', at: Date.now() });
    if (target.startsWith('AWSIdentityStore.')) calls.push({ service: 'identitystore', at: Date.now() });
  };
  diagnostics.subscribe('http.client.request.start', onRequestStart);
  return { calls, stop: () => diagnostics.unsubscribe('http.client.request.start', onRequestStart) };
}
