/**
 * Slack's side of Socket Mode, for the Slack stand-in: `apps.connections.open` hands out a
 * single-use WebSocket URL on the stand-in's own port; a client that connects gets Slack's
 * `hello`, then envelopes (`slash_commands`, `interactive`), and must acknowledge each one with
 * `{ envelope_id, payload }` on the same socket. The stand-in pings every few seconds, as Slack
 * does, so the client's heartbeat checks run for real.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

const PING_EVERY_MS = 5_000;

export class SocketModeLink {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  private readonly sockets = new Set<WebSocket>();
  private readonly waiting = new Map<string, (payload: Record<string, unknown>) => void>();
  private readonly pinger: NodeJS.Timeout;
  private ticketCounter = 0;

  constructor(
    server: http.Server,
    private readonly wsBaseUrl: string,
    private readonly appId: string,
  ) {
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const ticket = url.searchParams.get('ticket');
      // Like Slack's, a URL from apps.connections.open is good for one connection.
      if (url.pathname !== '/link/' || ticket === null || !this.tickets.delete(ticket)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
    this.pinger = setInterval(() => {
      for (const ws of this.sockets) ws.ping();
    }, PING_EVERY_MS);
    this.pinger.unref();
  }

  /** A fresh single-use URL, as apps.connections.open returns. */
  newUrl(): string {
    this.ticketCounter += 1;
    const ticket = `ticket-${this.ticketCounter}-${randomUUID()}`;
    this.tickets.add(ticket);
    return `${this.wsBaseUrl}/link/?ticket=${encodeURIComponent(ticket)}`;
  }

  get connections(): number {
    return this.sockets.size;
  }

  /**
   * Delivers one envelope to the connected app and resolves with the payload it acknowledged
   * with (an empty object for a bare ack). Rejects if no app is connected or none acks in time.
   */
  deliver(type: EnvelopeType, payload: Record<string, unknown>, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    const ws = [...this.sockets][0];
    if (!ws) return Promise.reject(new Error('no Socket Mode connection'));
    const envelopeId = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(envelopeId);
        reject(new Error(`no ack for the ${type} envelope within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(envelopeId, (acked) => {
        clearTimeout(timer);
        resolve(acked);
      });
      // Slack lets an app answer commands and interactions in the ack, never events.
      ws.send(JSON.stringify({ envelope_id: envelopeId, payload, type, accepts_response_payload: type !== 'events_api' }));
    });
  }

  close(): void {
    clearInterval(this.pinger);
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
  }

  private accept(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: { envelope_id?: unknown; payload?: unknown };
      try {
        message = JSON.parse(String(data)) as typeof message;
      } catch {
        return; // Slack ignores what it cannot parse
      }
      if (typeof message.envelope_id !== 'string') return;
      const payload = typeof message.payload === 'object' && message.payload !== null ? (message.payload as Record<string, unknown>) : {};
      this.waiting.get(message.envelope_id)?.(payload);
      this.waiting.delete(message.envelope_id);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.size,
        debug_info: { host: 'slack-stand-in', approximate_connection_time: 18_060 },
        connection_info: { app_id: this.appId },
      }),
    );
  }
}
