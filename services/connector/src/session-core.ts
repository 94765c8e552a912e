// The connector's transport-neutral session core: who may open a session (token, device,
// capacity, drain), the sessions it holds and their session-directory entries, the frames of
// each session, the QoS 1 ledger and retransmission, coalesced positions, heartbeats and
// buffer limits, delivering messages, and the drain. It never touches a socket: each session
// writes through a Transport (transport.ts), so WebSocket, MQTT and SSE share all of this.
import { ParleyError, SpanKind, asParleyError, isValidId, randomId, retryAfterFrom, withSpan, type Logger, type TokenClaims } from '@parley/core';
import { LocalRateLimiter, type BucketLimit, type RateLimiter } from '@parley/limits';
import type { DeliverRequest__Output, DeliverResponse, DeviceTarget, ListConversationsResponse__Output, MessagesResponse__Output } from '@parley/proto';
import type { SessionDirectory } from '@parley/sessions';
import { FrameError, ackFrame, authedFrame, convListFrame, errorFrame, pongFrame, msgFrame, msgsFrame, parseClientFrame, receiptFrame, rejectedFrame, sigFrame, welcomeFrame, type ClientFrame } from './frames';
import { LocalSessions, type LocalSession } from './local-sessions';
import { SendCoalescer, errorCodeOf, type SendBatch, type SendManyAnswer } from './send-many';
import type { SessionHandle, Transport } from './transport';

/** Close codes Parley uses besides the standard ones (docs/PROTOCOL.md lists them all). */
export const CLOSE = {
  NORMAL: 1000,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  SESSION_REPLACED: 4001,
  TOO_SLOW: 4008,
  /** The connector is draining (deploy, scale-in): reconnect to another one after the delay in the reason. */
  DRAINING: 4009,
  TOKEN_EXPIRED: 4401,
} as const;

export interface Upstream {
  /** Devices' sends, each batch to one conversation in its device's order, in one call (Router.SendMany). */
  sendMany(batches: SendBatch[]): Promise<SendManyAnswer>;
  sync(req: { userId: string; conversationId: string; afterSeq: number; limit: number }): Promise<MessagesResponse__Output>;
  history(req: { userId: string; conversationId: string; fromSeq: number; toSeq: number; order: 'HISTORY_ORDER_NEWEST_FIRST' | 'HISTORY_ORDER_OLDEST_FIRST'; limit: number }): Promise<MessagesResponse__Output>;
  /** Positions of any sockets of this connector, in one call (Router.ReceiptBatch): one answer each, in order. */
  receipts(receipts: PositionReport[]): Promise<{ results: { errorCode: string; errorMessage: string; retryable: boolean }[] }>;
  signal(req: { senderId: string; senderDeviceId: string; conversationId: string; kind: string; data: string }): Promise<unknown>;
  conversations(req: { userId: string; afterConversationId: string; limit: number }): Promise<ListConversationsResponse__Output>;
}

export interface PositionReport {
  userId: string;
  deviceId: string;
  conversationId: string;
  kind: 'delivered' | 'read';
  seq: number;
}

/** Positions per Router.ReceiptBatch call (the router takes at most 1,000). */
const MAX_RECEIPT_BATCH = 500;

export interface SessionMetrics {
  connections(delta: number): void;
  frameIn(type: string): void;
  frameError(code: string): void;
  delivered(n: number): void;
  /** msg frames written again because no recv covered them in time. */
  retransmitted(n: number): void;
  /** Unacked msg frames forgotten (resends exhausted or too many): the device syncs them. */
  abandoned(n: number): void;
  /** QoS 0 frames (receipts, signals) not written because the socket was slow. */
  qos0Dropped(n: number): void;
}

export interface SessionCoreOptions {
  connectorId: string;
  advertiseAddr: string;
  /** Told to the client in its welcome frame; each transport enforces it on what it reads. */
  maxFrameBytes: number;
  maxConnections: number;
  /** Devices one user may hold at once across every connector (from the session directory). */
  maxDevicesPerUser: number;
  maxInflightPerSocket: number;
  /** Sends one connection may make per second, and its burst; past it RESOURCE_EXHAUSTED with retryAfterMs. */
  connectionSendLimit: BucketLimit;
  maxBufferedBytes: number;
  heartbeatIntervalMs: number;
  sessionTtlMs: number;
  /** First retransmission of an unacked msg after this; then doubling. */
  retransmitBaseMs: number;
  /** Resends of one msg before it is left to sync. */
  retransmitAttempts: number;
  /** Unacked msg frames kept per socket; past it the oldest are left to sync. */
  maxUnackedPerSocket: number;
  /** How often coalesced recv/read positions are sent on to the router. */
  receiptFlushMs: number;
  /** On drain, each socket is closed (4009) at a random moment within this window. */
  drainWindowMs: number;
  /** Default Math.random; tests pass their own. */
  random?: () => number;
}

/** The reconnect delay a draining connector suggests in its 4009 close reason is random below this. */
export const DRAIN_RECONNECT_JITTER_MS = 1_000;
/** A socket with requests in flight gets this long to see their answers before its 4009 close. */
const DRAIN_INFLIGHT_WAIT_MS = 1_000;
/** After the last 4009: how long close handshakes, then upstream calls in flight, may take. */
const DRAIN_CLOSE_WAIT_MS = 2_000;
const DRAIN_UPSTREAM_WAIT_MS = 5_000;

/** The close reason of a drained socket: what to do and the suggested delay (docs/PROTOCOL.md §6). */
export function drainCloseReason(retryAfterMs: number): string {
  return `draining: reconnect elsewhere; retry_after_ms=${Math.max(0, Math.floor(retryAfterMs))}`;
}

type CoreState = 'accepting' | 'draining' | 'stopped';

interface Unacked {
  seq: number;
  frame: string;
  resends: number;
  nextAt: number;
}

interface Session extends LocalSession {
  tokenExpiresAt: number;
  /** The client opened the socket with ack=1: it sends recv, we retransmit (QoS 1). */
  ackMode: boolean;
  /**
   * conversationId -> msg frames written and not yet covered by a recv, in seq order. This and
   * the two maps below exist only while they hold something: most sockets are idle, and three
   * empty maps each are a good part of an idle socket's memory.
   */
  unacked: Map<string, Unacked[]> | undefined;
  unackedCount: number;
  /** Highest recv/read per conversation not yet sent on to the router. */
  pendingPositions: Map<string, { delivered: number; read: number }> | undefined;
  /**
   * Sends per conversation, in the order the device sent them: one Router.SendBatch in
   * flight per conversation at a time, carrying everything queued behind the previous one,
   * so the seqs follow the device's order whichever router takes each call.
   */
  sendQueues: Map<string, { queued: { clientMsgId: string; body: string }[]; busy: boolean }> | undefined;
}

/** Items of one Router.SendBatch (the router's bound). */
const MAX_SEND_BATCH = 64;

/** Why a session may not open; each transport says it its own way (an HTTP status, a CONNACK code). */
export type Refusal =
  | { code: 'UNAVAILABLE'; message: string; retryAfterS: number }
  | { code: 'UNAUTHENTICATED'; message: string; missing: boolean }
  | { code: 'INVALID_ARGUMENT'; message: string }
  | { code: 'RESOURCE_EXHAUSTED'; message: string; retryAfterS: number };

/** Who a session is, once its credentials were checked (SessionCore.authenticate). */
export interface SessionIdentity {
  claims: TokenClaims;
  deviceId: string;
}

export class SessionCore {
  readonly sessions = new LocalSessions();
  private state: CoreState = 'accepting';
  private readonly timers: NodeJS.Timeout[] = [];
  /**
   * Router.Send calls in flight from every session: a drain lets them finish (the message may
   * be durable; the client resends it to another connector anyway). Reads (sync, convs,
   * history) of a closed session are not waited for: nobody is left to read the answer.
   */
  private sendsInFlight = 0;
  /** Session-directory removals not yet answered (a drain waits for them: sessions leave Redis). */
  private readonly unregistering = new Set<Promise<void>>();
  /** Batches of all devices ready in one turn go to the router in one call. */
  private readonly sends: SendCoalescer;
  /** Router.ReceiptBatch calls under way (a drain waits for them). */
  private readonly receiptCalls = new Set<Promise<void>>();
  /**
   * The sessions with unacked msgs, and those with positions to send on: the retransmission and
   * position passes walk these, not every socket (at 18,000 mostly idle sockets, a walk of all of
   * them four times a second was most of an idle connector's work and garbage).
   */
  private readonly withUnacked = new Set<Session>();
  private readonly withPositions = new Set<Session>();
  private draining: Promise<void> | undefined;
  /** One bucket per connection (by sessionId): a socket lives on one connector, so local is exact. */
  private readonly connectionLimiter: RateLimiter;

  constructor(
    private readonly options: SessionCoreOptions,
    private readonly verify: (token: string) => Promise<TokenClaims>,
    private readonly directory: SessionDirectory,
    private readonly upstream: Upstream,
    private readonly log: Logger,
    private readonly metrics: SessionMetrics,
  ) {
    this.sends = new SendCoalescer((batches) => this.upstream.sendMany(batches));
    this.connectionLimiter = new LocalRateLimiter(options.connectionSendLimit);
  }

  get accepting(): boolean {
    return this.state === 'accepting';
  }

  start(): void {
    this.timers.push(setInterval(() => this.heartbeat(), this.options.heartbeatIntervalMs));
    this.timers.push(setInterval(() => this.retransmit(), Math.max(50, Math.floor(this.options.retransmitBaseMs / 4))));
    this.timers.push(setInterval(() => this.flushPositions(), this.options.receiptFlushMs));
    this.timers.push(
      setInterval(() => {
        const records = Array.from(this.sessions.values(), (s) => this.record(s));
        this.directory.refresh(records, this.options.sessionTtlMs).catch((err: unknown) => this.log.warn({ err }, 'refreshing sessions failed'));
      }, Math.max(250, Math.floor(this.options.sessionTtlMs / 3))),
    );
  }

  private record(s: LocalSession) {
    return { userId: s.userId, deviceId: s.deviceId, sessionId: s.sessionId, connectorId: this.options.connectorId, address: this.options.advertiseAddr };
  }

  /** Whether this connector takes a new session now (not draining, not full). */
  admission(): Refusal | undefined {
    if (this.state !== 'accepting') return { code: 'UNAVAILABLE', message: 'connector is draining; connect to another', retryAfterS: 1 };
    if (this.sessions.size >= this.options.maxConnections) return { code: 'UNAVAILABLE', message: 'connector is full', retryAfterS: 5 };
    return undefined;
  }

  /**
   * Checks a device's credentials, the same for every transport: the token verified (never
   * trusted), and the device it names, or the one asked for when the token names none.
   */
  async authenticate(token: string | undefined | null, requestedDevice: string | undefined | null): Promise<SessionIdentity | Refusal> {
    if (!token) return { code: 'UNAUTHENTICATED', message: 'missing token', missing: true };
    let claims: TokenClaims;
    try {
      claims = await this.verify(token);
    } catch (err) {
      return { code: 'UNAUTHENTICATED', message: asParleyError(err).message, missing: false };
    }
    if (claims.did !== undefined && requestedDevice != null && requestedDevice !== claims.did) {
      return { code: 'UNAUTHENTICATED', message: 'token is bound to another device', missing: false };
    }
    const deviceId = claims.did ?? requestedDevice;
    if (!isValidId(deviceId)) return { code: 'INVALID_ARGUMENT', message: 'a device id is required (token claim "did" or query parameter device_id)' };
    // One token without a device claim must not open a socket per made-up device id.
    const others = new Set(((await this.directory.lookup([claims.sub]).catch(() => new Map<string, never[]>())).get(claims.sub) ?? []).map((s) => s.deviceId));
    others.delete(deviceId);
    if (others.size >= this.options.maxDevicesPerUser) {
      return { code: 'RESOURCE_EXHAUSTED', message: `this user already has ${others.size} devices connected (at most ${this.options.maxDevicesPerUser})`, retryAfterS: 30 };
    }
    return { claims, deviceId };
  }

  /**
   * Opens a session on a connection a transport accepted for an authenticated device: it
   * replaces the device's previous session (closed with 4001), enters the session directory and
   * gets its welcome frame. The transport passes what happens on its connection to the handle.
   */
  open(transport: Transport, identity: SessionIdentity, ackMode: boolean): SessionHandle {
    const { claims, deviceId } = identity;
    const session: Session = {
      ackMode,
      unacked: undefined,
      unackedCount: 0,
      pendingPositions: undefined,
      sendQueues: undefined,
      userId: claims.sub,
      deviceId,
      sessionId: randomId('s_'),
      transport,
      connectedAt: Date.now(),
      inflight: 0,
      alive: true,
      bufferedAtBeat: 0,
      tokenExpiresAt: claims.exp * 1000,
    };
    const ignored: SessionHandle = { frame: () => {}, refuse: () => {}, alive: () => {}, closed: () => {} };
    if (this.state !== 'accepting') {
      // The handshake began before the drain did.
      transport.close(CLOSE.DRAINING, drainCloseReason(this.random() * DRAIN_RECONNECT_JITTER_MS));
      return ignored;
    }
    const previous = this.sessions.add(session);
    if (previous) previous.transport.close(CLOSE.SESSION_REPLACED, 'replaced by a newer session of this device');
    this.metrics.connections(1);
    let closed = false;
    const handle: SessionHandle = {
      frame: (text) => this.onFrame(session, text),
      refuse: (code, message) => {
        this.metrics.frameError(code);
        this.write(session, errorFrame({ code, message, retryable: false }));
      },
      alive: () => {
        session.alive = true;
      },
      closed: () => {
        if (closed) return;
        closed = true;
        this.metrics.connections(-1);
        // Nothing is resent to a closed socket; its positions still go out with the next flush.
        this.withUnacked.delete(session);
        if (!this.sessions.remove(session)) return;
        const removal = this.directory.unregister(this.record(session)).then(
          () => undefined,
          (err: unknown) => this.log.warn({ err }, 'unregistering a session failed'),
        );
        this.unregistering.add(removal);
        void removal.finally(() => this.unregistering.delete(removal));
      },
    };
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
        transport.close(CLOSE.TRY_AGAIN_LATER, 'session directory unavailable');
      },
    );
    return handle;
  }

  /** Largest msgs page: a quarter of the buffer limit, so an answer never fills a socket alone. */
  private pageBytes(): number {
    return Math.max(16_384, Math.floor(this.options.maxBufferedBytes / 4));
  }

  /**
   * Writes a frame unless the socket is closed or would be too far behind with it (then it is
   * cut: the device syncs later). The frame about to be written counts: the limit bounds what
   * the socket holds, not what it held before.
   */
  private write(session: LocalSession, frame: string): boolean {
    const transport = session.transport;
    if (!transport.open) return false;
    if (transport.bufferedBytes + Buffer.byteLength(frame) > this.options.maxBufferedBytes) {
      transport.close(CLOSE.TOO_SLOW, 'too slow: reconnect and sync');
      return false;
    }
    transport.write(frame);
    return true;
  }

  private onFrame(session: LocalSession, text: string): void {
    let frame: ClientFrame;
    try {
      frame = parseClientFrame(text);
    } catch (err) {
      const error = err instanceof FrameError ? err : new FrameError('BAD_FRAME', 'unreadable frame', {});
      this.metrics.frameError(error.code);
      this.write(session, errorFrame({ code: error.code, message: error.message, retryable: false, ...error.refs }));
      return;
    }
    this.metrics.frameIn(frame.type);
    if (frame.type === 'ping') {
      // Application-level heartbeat for clients that cannot see WebSocket pings (browsers).
      this.write(session, pongFrame(frame.reqId, Date.now()));
      return;
    }
    if (frame.type === 'auth') {
      this.reauthenticate(session as Session, frame.token, frame.reqId);
      return;
    }
    if (frame.type === 'recv' || frame.type === 'read') {
      // Positions are coalesced per conversation and sent on by flushPositions; nothing to answer.
      // Distinct conversations waiting for the next flush count against the in-flight limit.
      const pending = (session as Session).pendingPositions;
      if (pending && !pending.has(frame.conversationId) && pending.size >= this.options.maxInflightPerSocket) {
        this.metrics.frameError('RESOURCE_EXHAUSTED');
        this.write(session, errorFrame({ code: 'RESOURCE_EXHAUSTED', message: 'too many conversations with positions waiting on this socket; send it again in a moment', retryable: true }));
        return;
      }
      this.notePosition(session as Session, frame.conversationId, frame.type === 'recv' ? 'delivered' : 'read', frame.seq);
      return;
    }
    const refs = frame.type === 'send' ? { clientMsgId: frame.clientMsgId } : 'reqId' in frame && frame.reqId ? { reqId: frame.reqId } : {};
    if (frame.type === 'send') {
      const admission = this.connectionLimiter.take(session.sessionId);
      if (!admission.ok) {
        this.metrics.frameError('RESOURCE_EXHAUSTED');
        this.write(session, errorFrame({ code: 'RESOURCE_EXHAUSTED', message: 'this connection is sending too fast; slow down and retry', retryable: true, retryAfterMs: admission.retryAfterMs, ...refs }));
        return;
      }
    }
    if (session.inflight >= this.options.maxInflightPerSocket) {
      this.metrics.frameError('RESOURCE_EXHAUSTED');
      this.write(session, errorFrame({ code: 'RESOURCE_EXHAUSTED', message: 'too many requests in flight on this socket', retryable: true, ...refs }));
      return;
    }
    session.inflight++;
    if (frame.type === 'send') {
      this.sendsInFlight++;
      this.enqueueSend(session as Session, frame.conversationId, { clientMsgId: frame.clientMsgId, body: frame.body });
      return;
    }
    // Each client request starts a trace: ws -> router -> Kafka -> storage -> Kafka -> push -> connector.
    withSpan(`ws.${frame.type}`, { kind: SpanKind.SERVER, attributes: { 'parley.frame_type': frame.type } }, () => this.handle(session, frame))
      .then(
        (reply) => {
          if (reply !== undefined) this.write(session, reply);
        },
        (err: unknown) => {
          const error = asParleyError(err);
          if (error.code === 'INTERNAL') this.log.error({ err: error.cause ?? error }, 'frame handling failed');
          this.metrics.frameError(error.code);
          this.write(session, errorFrame({ code: error.code, message: error.message, retryable: error.retryable, retryAfterMs: error.retryAfterMs, ...refs }));
        },
      )
      .finally(() => {
        session.inflight--;
      });
  }

  /**
   * A fresh token on a live socket: it must name the same user, and the same device when it
   * names one; then the socket's expiry (close 4401) follows the new token. A refused token
   * leaves the socket on the one it has.
   */
  private reauthenticate(session: Session, token: string, reqId: string | undefined): void {
    const refs = reqId ? { reqId } : {};
    const refuse = (message: string) => {
      this.metrics.frameError('UNAUTHENTICATED');
      this.write(session, errorFrame({ code: 'UNAUTHENTICATED', message, retryable: false, ...refs }));
    };
    if (session.inflight >= this.options.maxInflightPerSocket) {
      this.metrics.frameError('RESOURCE_EXHAUSTED');
      this.write(session, errorFrame({ code: 'RESOURCE_EXHAUSTED', message: 'too many requests in flight on this socket', retryable: true, ...refs }));
      return;
    }
    session.inflight++;
    this.verify(token)
      .then(
        (claims) => {
          if (claims.sub !== session.userId) return refuse('the new token names another user');
          if (claims.did !== undefined && claims.did !== session.deviceId) return refuse('the new token is bound to another device');
          session.tokenExpiresAt = claims.exp * 1000;
          this.write(session, authedFrame({ reqId, expiresAt: claims.exp }));
        },
        (err: unknown) => refuse(asParleyError(err).message),
      )
      .finally(() => {
        session.inflight--;
      });
  }

  private enqueueSend(session: Session, conversationId: string, item: { clientMsgId: string; body: string }): void {
    session.sendQueues ??= new Map();
    let queue = session.sendQueues.get(conversationId);
    if (!queue) session.sendQueues.set(conversationId, (queue = { queued: [], busy: false }));
    queue.queued.push(item);
    if (!queue.busy) void this.flushSends(session, conversationId, queue);
  }

  /** Sends what is queued for one conversation, one batch at a time, until nothing is left. */
  private async flushSends(session: Session, conversationId: string, queue: { queued: { clientMsgId: string; body: string }[]; busy: boolean }): Promise<void> {
    queue.busy = true;
    try {
      while (queue.queued.length > 0) {
        const items = queue.queued.splice(0, MAX_SEND_BATCH);
        const settle = (n: number) => {
          session.inflight -= n;
          this.sendsInFlight -= n;
        };
        try {
          // Each send starts a trace: ws -> router -> Kafka -> storage -> Kafka -> push -> connector.
          const res = await withSpan('ws.send', { kind: SpanKind.SERVER, attributes: { 'parley.frame_type': 'send', 'parley.batch_size': items.length } }, () =>
            // The sender is who the token says, never what a frame says.
            this.sends.send({ senderId: session.userId, senderDeviceId: session.deviceId, conversationId, items }),
          );
          items.forEach((item, i) => {
            const r = res.results[i];
            if (r && r.errorCode === '') this.write(session, ackFrame({ clientMsgId: item.clientMsgId, serverMsgId: r.serverMsgId }));
            else {
              this.metrics.frameError(r?.errorCode ?? 'INTERNAL');
              this.write(
                session,
                errorFrame({ code: r?.errorCode ?? 'INTERNAL', message: r?.errorMessage ?? 'no answer for this message', retryable: r?.retryable ?? true, retryAfterMs: retryAfterFrom(r?.retryAfterMs), clientMsgId: item.clientMsgId }),
              );
            }
          });
          settle(items.length);
        } catch (err) {
          // Nothing of this batch was made durable. What is queued behind it is refused too,
          // with the same error, so that the device resends all of it in its own order
          // instead of a later message overtaking an earlier one.
          const error = asParleyError(err);
          if (error.code === 'INTERNAL') this.log.error({ err: error.cause ?? error }, 'send failed');
          const failed = [...items, ...queue.queued.splice(0)];
          for (const item of failed) {
            this.metrics.frameError(error.code);
            this.write(session, errorFrame({ code: error.code, message: error.message, retryable: error.retryable, retryAfterMs: error.retryAfterMs, clientMsgId: item.clientMsgId }));
          }
          settle(failed.length);
        }
      }
    } finally {
      queue.busy = false;
      if (session.sendQueues?.get(conversationId) === queue && queue.queued.length === 0) {
        session.sendQueues.delete(conversationId);
        if (session.sendQueues.size === 0) session.sendQueues = undefined;
      }
    }
  }

  private async handle(session: LocalSession, frame: Exclude<ClientFrame, { type: 'recv' | 'read' | 'ping' | 'send' | 'auth' }>): Promise<string | undefined> {
    switch (frame.type) {
      case 'sync': {
        const res = await this.upstream.sync({ userId: session.userId, conversationId: frame.conversationId, afterSeq: frame.afterSeq, limit: frame.limit ?? 0 });
        return msgsFrame({ reqId: frame.reqId, conversationId: frame.conversationId, messages: res.messages, hasMore: res.hasMore }, this.pageBytes());
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
        return msgsFrame({ reqId: frame.reqId, conversationId: frame.conversationId, messages: res.messages, hasMore: res.hasMore }, this.pageBytes());
      }
      case 'signal': {
        // QoS 0: no answer on success; a refusal (not a member, too fast) is an error frame.
        await this.upstream.signal({ senderId: session.userId, senderDeviceId: session.deviceId, conversationId: frame.conversationId, kind: frame.kind, data: frame.data });
        return undefined;
      }
      case 'convs': {
        const res = await this.upstream.conversations({ userId: session.userId, afterConversationId: frame.afterConversationId, limit: frame.limit ?? 0 });
        return convListFrame({ reqId: frame.reqId, conversations: res.conversations, hasMore: res.hasMore });
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
    let dropped = 0;
    const missing: DeviceTarget[] = [];
    for (const delivery of request.deliveries) {
      const message = delivery.message;
      if (message) {
        const frame = msgFrame(message);
        const conversationId = message.conversationId;
        const seq = Number(message.seq);
        for (const target of delivery.targets) {
          const session = this.sessions.get(target.userId, target.deviceId) as Session | undefined;
          if (session && this.write(session, frame)) {
            written++;
            if (session.ackMode) this.track(session, conversationId, seq, frame);
          } else missing.push(target);
        }
        continue;
      }
      // QoS 0: receipts, signals and rejections (a rejection is not dropped early on a slow
      // socket: its sender has nothing else that tells it).
      const frame = delivery.receipt ? receiptFrame(delivery.receipt) : delivery.signal ? sigFrame(delivery.signal) : delivery.rejected ? rejectedFrame(delivery.rejected) : undefined;
      if (!frame) continue;
      for (const target of delivery.targets) {
        const session = this.sessions.get(target.userId, target.deviceId);
        if (!session) missing.push(target);
        else if (delivery.rejected ? this.write(session, frame) : this.writeQos0(session, frame)) written++;
        else dropped++;
      }
    }
    this.metrics.delivered(written);
    if (dropped > 0) this.metrics.qos0Dropped(dropped);
    return { written, missing };
  }

  /** QoS 0 goes first when a socket falls behind: it is skipped past a quarter of the buffer limit. */
  private writeQos0(session: LocalSession, frame: string): boolean {
    const transport = session.transport;
    if (!transport.open || transport.bufferedBytes + Buffer.byteLength(frame) > this.options.maxBufferedBytes / 4) return false;
    transport.write(frame);
    return true;
  }

  /** Keeps a written msg until a recv covers it (QoS 1 on ack=1 sockets). */
  private track(session: Session, conversationId: string, seq: number, frame: string): void {
    session.unacked ??= new Map();
    const list = session.unacked.get(conversationId) ?? [];
    if (list.some((u) => u.seq === seq)) return; // a replayed delivery: already tracked
    const entry: Unacked = { seq, frame, resends: 0, nextAt: Date.now() + this.options.retransmitBaseMs };
    // Deliveries arrive in seq order per conversation; keep the list sorted regardless.
    let i = list.length;
    while (i > 0 && list[i - 1]!.seq > seq) i--;
    list.splice(i, 0, entry);
    session.unacked.set(conversationId, list);
    session.unackedCount++;
    this.withUnacked.add(session);
    if (session.unackedCount > this.options.maxUnackedPerSocket) this.forgetOldest(session);
  }

  /** Drops a conversation's unacked list once empty, and the session's map once it holds none. */
  private settleUnacked(session: Session, conversationId: string, list: Unacked[]): void {
    if (list.length > 0 || !session.unacked) return;
    session.unacked.delete(conversationId);
    if (session.unacked.size === 0) {
      session.unacked = undefined;
      this.withUnacked.delete(session);
    }
  }

  private forgetOldest(session: Session): void {
    let oldest: { conversationId: string; at: number } | undefined;
    if (!session.unacked) return;
    for (const [conversationId, list] of session.unacked) {
      const first = list[0];
      if (first && (!oldest || first.nextAt < oldest.at)) oldest = { conversationId, at: first.nextAt };
    }
    if (!oldest) return;
    const list = session.unacked.get(oldest.conversationId)!;
    list.shift();
    session.unackedCount--;
    this.settleUnacked(session, oldest.conversationId, list);
    this.metrics.abandoned(1);
  }

  private notePosition(session: Session, conversationId: string, kind: 'delivered' | 'read', seq: number): void {
    if (kind === 'delivered') {
      const list = session.unacked?.get(conversationId);
      if (list) {
        let n = 0;
        while (n < list.length && list[n]!.seq <= seq) n++;
        list.splice(0, n);
        session.unackedCount -= n;
        this.settleUnacked(session, conversationId, list);
      }
    }
    this.keepPosition(session, conversationId, kind, seq);
  }

  /** Remembers the highest position per conversation until the next flush sends it on. */
  private keepPosition(session: Session, conversationId: string, kind: 'delivered' | 'read', seq: number): void {
    session.pendingPositions ??= new Map();
    const pending = session.pendingPositions.get(conversationId) ?? { delivered: 0, read: 0 };
    pending[kind] = Math.max(pending[kind], seq);
    session.pendingPositions.set(conversationId, pending);
    this.withPositions.add(session);
  }

  /**
   * Sends the coalesced positions of every socket on to the router (parley.receipts), in
   * calls of up to MAX_RECEIPT_BATCH positions: a few calls per flush, not one per position.
   */
  private flushPositions(sessions: Iterable<Session> = this.withPositions): void {
    const reports: { session: Session; report: PositionReport }[] = [];
    for (const session of [...sessions]) {
      this.withPositions.delete(session);
      if (!session.pendingPositions) continue;
      const pending = [...session.pendingPositions];
      session.pendingPositions = undefined;
      for (const [conversationId, p] of pending) {
        const report = (kind: 'delivered' | 'read', seq: number) => reports.push({ session, report: { userId: session.userId, deviceId: session.deviceId, conversationId, kind, seq } });
        // A read is also a delivered position: one receipt does for both when read covers it.
        if (p.read > 0) report('read', p.read);
        if (p.delivered > p.read) report('delivered', p.delivered);
      }
    }
    for (let i = 0; i < reports.length; i += MAX_RECEIPT_BATCH) {
      const batch = reports.slice(i, i + MAX_RECEIPT_BATCH);
      const call = this.upstream.receipts(batch.map((r) => r.report)).then(
        (res) =>
          batch.forEach((r, j) => {
            const result = res.results[j];
            if (!result) this.receiptFailed(r.session, r.report, new ParleyError('INTERNAL', 'no answer for this position'));
            else if (result.errorCode !== '') this.receiptFailed(r.session, r.report, new ParleyError(errorCodeOf(result.errorCode), result.errorMessage, { retryable: result.retryable }));
          }),
        (err: unknown) => {
          const error = asParleyError(err);
          for (const r of batch) this.receiptFailed(r.session, r.report, error);
        },
      );
      this.receiptCalls.add(call);
      void call.finally(() => this.receiptCalls.delete(call));
    }
  }

  /** A position the router did not take: kept for the next flush when retryable (unless a newer one replaced it). */
  private receiptFailed(session: Session, report: PositionReport, error: ParleyError): void {
    if (error.retryable) {
      if (this.sessions.get(session.userId, session.deviceId) === session) this.keepPosition(session, report.conversationId, report.kind, report.seq);
    } else {
      // A recv or read refused for good (not a member, no such conversation) is answered, as PROTOCOL.md says.
      this.write(session, errorFrame({ code: error.code, message: error.message, retryable: false }));
    }
  }

  /** Writes again every unacked msg whose time came; forgets those out of resends. */
  private retransmit(): void {
    const now = Date.now();
    let resent = 0;
    let abandoned = 0;
    for (const session of [...this.withUnacked]) {
      if (!session.unacked) continue;
      for (const [conversationId, list] of session.unacked) {
        for (let i = 0; i < list.length; ) {
          const u = list[i]!;
          if (u.nextAt > now) {
            i++;
            continue;
          }
          if (u.resends >= this.options.retransmitAttempts) {
            list.splice(i, 1);
            session.unackedCount--;
            abandoned++;
            continue;
          }
          if (!this.write(session, u.frame)) break;
          u.resends++;
          u.nextAt = now + this.options.retransmitBaseMs * 2 ** u.resends;
          resent++;
          i++;
        }
        this.settleUnacked(session, conversationId, list);
      }
    }
    if (resent > 0) this.metrics.retransmitted(resent);
    if (abandoned > 0) this.metrics.abandoned(abandoned);
  }

  private heartbeat(): void {
    const now = Date.now();
    for (const session of this.sessions.values() as IterableIterator<Session>) {
      if (session.tokenExpiresAt <= now) {
        session.transport.close(CLOSE.TOKEN_EXPIRED, 'token expired: reconnect with a fresh one');
        continue;
      }
      if (!session.alive) {
        // No pong since the last ping: the peer is gone without a close.
        session.transport.terminate();
        continue;
      }
      // Bytes queued at the last beat and not one drained since: a peer that stopped reading
      // (it may still answer pings, read a byte at a time). Its buffer is freed, not kept.
      const buffered = session.transport.bufferedBytes;
      if (session.bufferedAtBeat > 0 && buffered >= session.bufferedAtBeat) {
        session.transport.terminate();
        continue;
      }
      session.bufferedAtBeat = buffered;
      session.alive = false;
      session.transport.probe();
    }
  }

  private random(): number {
    return (this.options.random ?? Math.random)();
  }

  /**
   * Stops taking sockets and moves every client to another connector without a thundering
   * herd: each socket is closed with 4009 at a random moment within drainWindowMs (until then
   * it is served as usual: sends, deliveries, retransmissions), its session leaves the
   * directory, and the close reason suggests a short random reconnect delay. Resolves when
   * every socket is gone, their directory entries removed and upstream calls answered.
   */
  drain(): Promise<void> {
    this.draining ??= this.runDrain();
    return this.draining;
  }

  private async runDrain(): Promise<void> {
    this.state = 'draining';
    const started = Date.now();
    const sessions = this.sessions.all() as Session[];
    const windowMs = this.options.drainWindowMs;
    this.log.info({ sockets: sessions.length, windowMs }, 'draining: closing sockets over the window');
    await Promise.all(
      sessions.map(async (session) => {
        await sleep(Math.floor(this.random() * windowMs));
        await this.closeForDrain(session);
      }),
    );
    await waitUntil(() => this.sessions.size === 0, DRAIN_CLOSE_WAIT_MS);
    for (const s of this.sessions.all()) s.transport.terminate();
    await waitUntil(() => this.sendsInFlight === 0, DRAIN_UPSTREAM_WAIT_MS);
    for (const timer of this.timers) clearInterval(timer);
    // Positions reported by sockets that went away without their own flush.
    this.flushPositions();
    await Promise.allSettled([...this.unregistering, ...this.receiptCalls]);
    this.state = 'stopped';
    this.log.info({ sockets: sessions.length, durationMs: Date.now() - started }, 'drained');
  }

  private async closeForDrain(session: Session): Promise<void> {
    if (!session.transport.open) return;
    // Let answers to requests in flight (acks of sends) reach the client first; bounded, since a
    // busy client keeps sending until it sees the close.
    await waitUntil(() => session.inflight === 0, DRAIN_INFLIGHT_WAIT_MS);
    // Positions the client reported must not be lost with this process.
    this.flushPositions([session]);
    if (session.transport.open) session.transport.close(CLOSE.DRAINING, drainCloseReason(this.random() * DRAIN_RECONNECT_JITTER_MS));
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));


/** Polls condition every 10 ms until it holds or timeoutMs passed. */
async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition() && Date.now() < until) await sleep(10);
}
