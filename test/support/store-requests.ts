import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** One DynamoDB request as it went on the wire: its operation, the item or index, and who sent it. */
export interface StoreRequest {
  /** e.g. `GetItem REQ`, `PutItem LEASE`, `Query index requester`. */
  call: string;
  /** The src/ functions on its stack, innermost first (the store's own left out). */
  path: string;
}

/**
 * Counts every request Timebox's DynamoDB client sends while `counting` is on, as a proxy between
 * Timebox and its table would (bench/store-cost-local.ts and the store-cost tests). Every request
 * is counted, so a test must not read the store itself while counting.
 */
export function watchStoreRequests(client: DynamoDBClient) {
  const requests: StoreRequest[] = [];
  const watch = { requests, counting: false };
  Error.stackTraceLimit = Math.max(Error.stackTraceLimit, 60);
  client.middlewareStack.add(
    (next) => async (args) => {
      if (watch.counting) {
        const request = (args as { request: { headers: Record<string, string>; body: string | Uint8Array } }).request;
        const body = JSON.parse(typeof request.body === 'string' ? request.body : Buffer.from(request.body).toString('utf8')) as { Key?: { pk?: { S?: string } }; Item?: { pk?: { S?: string } }; IndexName?: string };
        const key = body.Key?.pk?.S ?? body.Item?.pk?.S ?? `index ${body.IndexName ?? '-'}`;
        const stack = new Error().stack ?? '';
        requests.push({ call: `${request.headers['x-amz-target']?.split('.')[1] ?? '?'} ${key.replace(/#.*/, '')}`, path: codePath(stack) });
      }
      return next(args);
    },
    { step: 'build', name: 'storeRequestCounter' },
  );
  return watch;
}

/** The requests one per line, numbered, with their code paths: what a failing count shows. */
export function listStoreRequests(requests: StoreRequest[]): string {
  return requests.map((r, i) => `${String(i + 1).padStart(3)}  ${r.call.padEnd(24)} ${r.path}`).join('\n');
}

function codePath(stack: string): string {
  return stack
    .split('\n')
    .filter((line) => line.includes('/src/') && !line.includes('/src/adapters/dynamodb/') && !line.includes('store-lanes') && !line.includes('node_modules'))
    .map((line) => /at (?:async )?([^\s(/]+) \(/.exec(line)?.[1] ?? '')
    .filter((name) => name !== '' && name !== '<anonymous>' && !name.startsWith('Array.'))
    .join(' < ');
}
