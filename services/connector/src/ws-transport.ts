// The WebSocket transport: the upgrade (origin, credentials from the Authorization header or
// the access_token query parameter, device_id, ack=1), refusals as HTTP answers before the
// handshake completes, and each socket as a Transport of the session core. JSON text frames
// only (docs/PROTOCOL.md); everything else about a session is the core's.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import { ClientAddresses, TokenBuckets, bearerOf, type Logger } from '@parley/core';
import type { Refusal, SessionCore, SessionIdentity } from './session-core';
import type { Transport } from './transport';

export interface WsListenerOptions {
  /** Origins a browser may connect from ('*': any). Clients that send no Origin are not browsers. */
  allowedOrigins: readonly string[];
  /** Largest frame read from a client (bytes); a larger one closes the socket with 1009. */
  maxFrameBytes: number;
  /** Upgrades one remote address may start per second, and its burst (past them: 429). */
  upgradesPerIpPerSec: number;
  upgradeBurstPerIp: number;
  /** CIDR ranges of the proxies whose X-Forwarded-For names the client (TRUSTED_PROXIES). */
  trustedProxies: readonly string[];
}

export interface WsMetrics {
  rejectedUpgrade(status: number): void;
}

/** One client WebSocket as the session core sees it. */
export class WsTransport implements Transport {
  constructor(private readonly socket: WebSocket) {}

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  write(frame: string): void {
    this.socket.send(frame);
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  terminate(): void {
    this.socket.terminate();
  }

  probe(): void {
    this.socket.ping();
  }
}

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="parley", error="invalid_token"' };

/** The HTTP answer to an upgrade the core refused. */
function httpRefusal(refusal: Refusal): { status: number; reason: string; headers: Record<string, string> } {
  switch (refusal.code) {
    case 'UNAVAILABLE':
      return { status: 503, reason: 'Service Unavailable', headers: { 'Retry-After': String(refusal.retryAfterS) } };
    case 'UNAUTHENTICATED':
      return { status: 401, reason: 'Unauthorized', headers: refusal.missing ? { 'WWW-Authenticate': 'Bearer realm="parley"' } : CHALLENGE };
    case 'INVALID_ARGUMENT':
      return { status: 400, reason: 'Bad Request', headers: {} };
    case 'RESOURCE_EXHAUSTED':
      return { status: 429, reason: 'Too Many Requests', headers: { 'Retry-After': String(refusal.retryAfterS) } };
  }
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

export class WsListener {
  private readonly wss: WebSocketServer;
  /** Upgrades per remote address (each connector limits what it accepts). */
  private readonly perAddress: TokenBuckets;
  private readonly addresses: ClientAddresses;

  constructor(
    private readonly core: SessionCore,
    private readonly options: WsListenerOptions,
    private readonly log: Logger,
    private readonly metrics: WsMetrics,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
    this.perAddress = new TokenBuckets(options.upgradesPerIpPerSec, options.upgradeBurstPerIp);
    this.addresses = new ClientAddresses(options.trustedProxies);
  }

  private reject(socket: Duplex, status: number, reason: string, code: string, message: string, headers: Record<string, string> = {}): void {
    this.metrics.rejectedUpgrade(status);
    const body = JSON.stringify({ error: { code, message } });
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`);
  }

  private refuse(socket: Duplex, refusal: Refusal): void {
    const http = httpRefusal(refusal);
    this.reject(socket, http.status, http.reason, refusal.code, refusal.message, http.headers);
  }

  /** The http server's 'upgrade' event. Everything is checked before the handshake completes. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A function that closes over nothing: a listener stays on the socket for its whole life,
    // and a closure here would keep this call's scope (the request, its URL, its token, the
    // head buffer) alive with it, a few KB of every idle connection.
    socket.on('error', destroySocket);
    const full = this.core.admission();
    if (full) return this.refuse(socket, full);
    // Before any work on the request: a token check costs more than this refusal.
    if (!this.perAddress.take(this.addresses.of(req.socket.remoteAddress, req.headers))) {
      return this.refuse(socket, { code: 'RESOURCE_EXHAUSTED', message: 'too many connection attempts from this address', retryAfterS: 1 });
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.options.allowedOrigins.includes('*') && !this.options.allowedOrigins.includes(origin)) {
      return this.reject(socket, 403, 'Forbidden', 'PERMISSION_DENIED', 'origin not allowed');
    }
    const url = new URL(req.url ?? '/', 'http://connector');
    // "Bearer" in any case (RFC 7235: the scheme is case-insensitive); else the query parameter for browsers.
    const header = req.headers.authorization;
    const token = bearerOf(header) ?? url.searchParams.get('access_token');
    this.core
      .authenticate(token, url.searchParams.get('device_id'))
      .then((identity) => this.accept(req, socket, head, identity, url))
      .catch((err: unknown) => {
        // Never an unhandled rejection for one client's upgrade: that client is dropped, nobody else.
        this.log.warn({ err }, 'upgrade failed');
        socket.destroy();
      });
  }

  private accept(req: IncomingMessage, socket: Duplex, head: Buffer, identity: SessionIdentity | Refusal, url: URL): void {
    // The peer may have gone while its token was checked.
    if (socket.destroyed) return;
    if ('code' in identity) return this.refuse(socket, identity);
    const ackMode = url.searchParams.get('ack') === '1';
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = this.core.open(new WsTransport(ws), identity, ackMode);
      ws.on('pong', () => session.alive());
      ws.on('message', (data, isBinary) => {
        if (isBinary) session.refuse('BAD_FRAME', 'binary frames are not supported; send JSON text frames');
        else session.frame(data.toString());
      });
      ws.on('error', (err) => this.log.debug({ err }, 'socket error'));
      ws.on('close', () => session.closed());
    });
  }
}
