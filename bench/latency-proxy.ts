/**
 * A stand-in made slow: an HTTP proxy in front of one of the loopback stand-ins that adds a
 * service's network latency to every call (half before the request reaches it, half before the
 * answer goes back), so a call costs what it would over the internet. It can also watch every
 * request (to count DynamoDB calls per lifecycle).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class LatencyProxy {
  requests = 0;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  private constructor(
    readonly name: string,
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  /** A proxy to `target` (http://127.0.0.1:port) adding `delayMs` per call. */
  static async start(name: string, target: string, delayMs: number, onRequest?: (req: ProxiedRequest) => void): Promise<LatencyProxy> {
    const upstream = new URL(target);
    const holder: { proxy?: LatencyProxy } = {};
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const proxy = holder.proxy as LatencyProxy;
        proxy.requests++;
        onRequest?.({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body });
        void (async () => {
          await sleep(delayMs / 2);
          const out = http.request(
            { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host }, agent: proxy.agent },
            (answer) => {
              const back: Buffer[] = [];
              answer.on('data', (c: Buffer) => back.push(c));
              answer.on('end', () => {
                void sleep(delayMs / 2).then(() => {
                  if (res.destroyed) return;
                  res.writeHead(answer.statusCode ?? 502, answer.headers);
                  res.end(Buffer.concat(back));
                });
              });
            },
          );
          out.on('error', (err) => {
            if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
            res.end(`latency proxy ${name}: ${err.message}`);
          });
          out.end(body);
        })();
      });
    });
    // Idle keep-alive connections stay open (as the real endpoints keep them long enough), so a
    // sandbox thawed after a freeze does not find its connections closed by the benchmark.
    server.keepAliveTimeout = 600_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const proxy = new LatencyProxy(name, server, `http://127.0.0.1:${port}`);
    holder.proxy = proxy;
    return proxy;
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
