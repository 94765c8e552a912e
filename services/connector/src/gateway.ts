// Owns the client side of the connector: WebSocket upgrade (auth, origin, limits),
// the frames of each socket, heartbeats, the session directory entries of the
// sockets it holds, and writing delivered messages to them.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { ParleyError, SpanKind, asParleyError, isValidId, randomId, withSpan, type Logger, type TokenClaims } from '@parley/core';
import type { DeliverRequest__Output, DeliverResponse, DeviceTarget, MessagesResponse__Output, SendResponse__Output } from '@parley/proto';
import type { SessionDirectory } from '@parley/sessions';
import { FrameError, ackFrame, errorFrame, msgFrame, msgsFrame, parseClientFrame, welcomeFrame, type ClientFrame } from './frames';
import { LocalSessions, type LocalSession } from './local-sessions';

/** Close codes Parley uses besides the standard ones (docs/PROTOCOL.md lists them all). */
export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  SESSION_REPLACED: 4001,
  TOO_SLOW: 4008,
  TOKEN_EXPIRED: 4401,
} as const;

export interface Upstream {
  send(req: { senderId: string; senderDeviceId: string; conversationId: string; clientMsgId: string; body: string }): Promise<SendResponse__Output>;
  sync(req: { userId: string; conversationId: string; afterSeq: number; limit: number }): Promise<MessagesResponse__Output>;
  history(req: { userId: string; conversationId: string; fromSeq: number; toSeq: number; order: 'HISTORY_ORDER_NEWEST_FIRST' | 'HISTORY_ORDER_OLDEST_FIRST'; limit: number }): Promise<MessagesResponse__Output>;
}

export interface GatewayMetrics {
  connections(delta: number): void;
  frameIn(type: string): void;
  frameError(code: string): void;
  delivered(n: number): void;
  rejectedUpgrade(status: number): void;
}

export interface GatewayOptions {
  connectorId: string;
  advertiseAddr: string;
  allowedOrigins: readonly string[];
  maxFrameBytes: number;
  maxConnections: number;
  maxInflightPerSocket: number;
  maxBufferedBytes: number;
  heartbeatIntervalMs: number;
  sessionTtlMs: number;
}

type GatewayState = 'accepting' | 'draining' | 'stopped';

interface Session extends LocalSession {
  tokenExpiresAt: number;
}

export class Gateway {
  private readonly wss: WebSocketServer;
  readonly sessions = new LocalSessions();
  private state: GatewayState = 'accepting';
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly options: GatewayOptions,
    private readonly verify: (token: string) => TokenClaims,
    private readonly directory: SessionDirectory,
    private readonly upstream: Upstream,
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
  }

  get accepting(): boolean {
    return this.state === 'accepting';
  }

  start(): void {
    this.timers.push(setInterval(() => this.heartbeat(), this.options.heartbeatIntervalMs));
    this.timers.push(
      setInterval(() => {
        const records = this.sessions.all().map((s) => this.record(s));
        this.directory.refresh(records, this.options.sessionTtlMs).catch((err: unknown) => this.log.warn({ err }, 'refreshing sessions failed'));
      }, Math.max(250, Math.floor(this.options.sessionTtlMs / 3))),
    );
  }

  private record(s: LocalSession) {
    return { userId: s.userId, deviceId: s.deviceId, sessionId: s.sessionId, connectorId: this.options.connectorId, address: this.options.advertiseAddr };
  }

  private reject(socket: Duplex, status: number, reason: string, message: string, headers: Record<string, string> = {}): void {
    this.metrics.rejectedUpgrade(status);
    const body = JSON.stringify({ error: { code: status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'PERMISSION_DENIED' : status === 400 ? 'INVALID_ARGUMENT' : 'UNAVAILABLE', message } });
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`);
  }

  /** The http server's 'upgrade' event. Everything is checked before the handshake completes. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.state !== 'accepting') return this.reject(socket, 503, 'Service Unavailable', 'connector is draining; connect to another', { 'Retry-After': '1' });
    if (this.sessions.size >= this.options.maxConnections) return this.reject(socket, 503, 'Service Unavailable', 'connector is full', { 'Retry-After': '5' });
    const origin = req.headers.origin;
    if (origin !== undefined && !this.options.allowedOrigins.includes('*') && !this.options.allowedOrigins.includes(origin)) {
      return this.reject(socket, 403, 'Forbidden', 'origin not allowed');
    }
    const url = new URL(req.url ?? '/', 'http://connector');
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : url.searchParams.get('access_token');
    const challenge = { 'WWW-Authenticate': 'Bearer realm="parley", error="invalid_token"' };
    if (!token) return this.reject(socket, 401, 'Unauthorized', 'missing token', { 'WWW-Authenticate': 'Bearer realm="parley"' });
    let claims: TokenClaims;
    try {
      claims = this.verify(token);
    } catch (err) {
      return this.reject(socket, 401, 'Unauthorized', asParleyError(err).message, challenge);
    }
    const requestedDevice = url.searchParams.get('device_id');
    if (claims.did !== undefined && requestedDevice !== null && requestedDevice !== claims.did) {
      return this.reject(socket, 401, 'Unauthorized', 'token is bound to another device', challenge);
    }
    const deviceId = claims.did ?? requestedDevice;
    if (!isValidId(deviceId)) return this.reject(socket, 400, 'Bad Request', 'a device id is required (token claim "did" or query parameter device_id)');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, claims, deviceId));
  }

  private onConnection(socket: WebSocket, claims: TokenClaims, deviceId: string): void {
    const session: Session = {
      userId: claims.sub,
      deviceId,
      sessionId: randomId('s_'),
      socket,
      connectedAt: Date.now(),
      inflight: 0,
      alive: true,
      tokenExpiresAt: claims.exp * 1000,
    };
    const previous = this.sessions.add(session);
    if (previous) previous.socket.close(CLOSE.SESSION_REPLACED, 'replaced by a newer session of this device');
    this.metrics.connections(1);
    socket.on('pong', () => {
      session.alive = true;
    });
    socket.on('message', (data, isBinary) => this.onFrame(session, data, isBinary));
    socket.on('error', (err) => this.log.debug({ err, sessionId: session.sessionId }, 'socket error'));
    socket.on('close', () => {
      this.metrics.connections(-1);
      if (this.sessions.remove(session)) {
        this.directory.unregister(this.record(session)).catch((err: unknown) => this.log.warn({ err }, 'unregistering a session failed'));
      }
    });
    this.directory.register(this.record(session), this.options.sessionTtlMs).then(
      () =>
        this.write(
          session,
          welcomeFrame({
            userId: session.userId,
            deviceId,
            sessionId: session.sessionId,
            connectorId: this.options.connectorId,
            serverTime: Date.now(),
            maxFrameBytes: this.options.maxFrameBytes,
          }),
        ),
      (err: unknown) => {
        this.log.error({ err }, 'registering a session failed');
        socket.close(CLOSE.TRY_AGAIN_LATER, 'session directory unavailable');
      },
    );
  }

  /** Writes a frame unless the socket is closed or too far behind (then it is cut: the device syncs later). */
  private write(session: LocalSession, frame: string): boolean {
    const socket = session.socket;
    if (socket.readyState !== WebSocket.OPEN) return false;
    if (socket.bufferedAmount > this.options.maxBufferedBytes) {
      socket.close(CLOSE.TOO_SLOW, 'too slow: reconnect and sync');
      return false;
    }
    socket.send(frame);
    return true;
  }

  private onFrame(session: LocalSession, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.metrics.frameError('BAD_FRAME');
      this.write(session, errorFrame({ code: 'BAD_FRAME', message: 'binary frames are not supported; send JSON text frames', retryable: false }));
      return;
    }
    let frame: ClientFrame;
    try {
      frame = parseClientFrame(data.toString());
    } catch (err) {
      const error = err instanceof FrameError ? err : new FrameError('BAD_FRAME', 'unreadable frame', {});
      this.metrics.frameError(error.code);
      this.write(session, errorFrame({ code: error.code, message: error.message, retryable: false, ...error.refs }));
      return;
    }
    this.metrics.frameIn(frame.type);
    const refs = frame.type === 'send' ? { clientMsgId: frame.clientMsgId } : frame.reqId ? { reqId: frame.reqId } : {};
    if (session.inflight >= this.options.maxInflightPerSocket) {
      this.metrics.frameError('RESOURCE_EXHAUSTED');
      this.write(session, errorFrame({ code: 'RESOURCE_EXHAUSTED', message: 'too many requests in flight on this socket', retryable: true, ...refs }));
      return;
    }
    session.inflight++;
    // Each client request starts a trace: ws -> router -> Kafka -> storage -> Kafka -> push -> connector.
    withSpan(`ws.${frame.type}`, { kind: SpanKind.SERVER, attributes: { 'parley.frame_type': frame.type } }, () => this.handle(session, frame))
      .then(
        (reply) => this.write(session, reply),
        (err: unknown) => {
          const error = asParleyError(err);
          if (error.code === 'INTERNAL') this.log.error({ err: error.cause ?? error }, 'frame handling failed');
          this.metrics.frameError(error.code);
          this.write(session, errorFrame({ code: error.code, message: error.message, retryable: error.retryable, ...refs }));
        },
      )
      .finally(() => {
        session.inflight--;
      });
  }

  private async handle(session: LocalSession, frame: ClientFrame): Promise<string> {
    switch (frame.type) {
      case 'send': {
        // The sender is who the token says, never what a frame says.
        const res = await this.upstream.send({
          senderId: session.userId,
          senderDeviceId: session.deviceId,
          conversationId: frame.conversationId,
          clientMsgId: frame.clientMsgId,
          body: frame.body,
        });
        return ackFrame({ clientMsgId: frame.clientMsgId, serverMsgId: res.serverMsgId, seq: Number(res.seq) });
      }
      case 'sync': {
        const res = await this.upstream.sync({ userId: session.userId, conversationId: frame.conversationId, afterSeq: frame.afterSeq, limit: frame.limit ?? 0 });
        return msgsFrame({ reqId: frame.reqId, conversationId: frame.conversationId, messages: res.messages, hasMore: res.hasMore });
      }
      case 'history': {
        const res = await this.upstream.history({
          userId: session.userId,
          conversationId: frame.conversationId,
          fromSeq: frame.fromSeq ?? 0,
          toSeq: frame.toSeq ?? 0,
          order: frame.order === 'oldest_first' ? 'HISTORY_ORDER_OLDEST_FIRST' : 'HISTORY_ORDER_NEWEST_FIRST',
          limit: frame.limit ?? 0,
        });
        return msgsFrame({ reqId: frame.reqId, conversationId: frame.conversationId, messages: res.messages, hasMore: res.hasMore });
      }
      default: {
        const unreachable: never = frame;
        throw new ParleyError('INTERNAL', `unhandled frame ${String(unreachable)}`);
      }
    }
  }

  /** Connector.Deliver: writes each message once per target device held here, in request order. */
  deliver(request: DeliverRequest__Output): DeliverResponse {
    let written = 0;
    const missing: DeviceTarget[] = [];
    for (const delivery of request.deliveries) {
      if (!delivery.message) continue;
      const frame = msgFrame(delivery.message);
      for (const target of delivery.targets) {
        const session = this.sessions.get(target.userId, target.deviceId);
        if (session && this.write(session, frame)) written++;
        else missing.push(target);
      }
    }
    this.metrics.delivered(written);
    return { written, missing };
  }

  private heartbeat(): void {
    const now = Date.now();
    for (const session of this.sessions.all() as Session[]) {
      if (session.tokenExpiresAt <= now) {
        session.socket.close(CLOSE.TOKEN_EXPIRED, 'token expired: reconnect with a fresh one');
        continue;
      }
      if (!session.alive) {
        // No pong since the last ping: the peer is gone without a close.
        session.socket.terminate();
        continue;
      }
      session.alive = false;
      session.socket.ping();
    }
  }

  /** Stops taking sockets, tells every client to go elsewhere, and leaves the directory. */
  async drain(): Promise<void> {
    if (this.state !== 'accepting') return;
    this.state = 'draining';
    for (const timer of this.timers) clearInterval(timer);
    const sessions = this.sessions.all();
    await Promise.allSettled(sessions.map((s) => this.directory.unregister(this.record(s))));
    for (const s of sessions) s.socket.close(CLOSE.GOING_AWAY, 'connector shutting down: reconnect');
    const until = Date.now() + 2_000;
    while (this.sessions.size > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const s of this.sessions.all()) s.socket.terminate();
    this.state = 'stopped';
  }
}
