// Owns one device's connection to Parley (docs/PROTOCOL.md): it keeps a socket open
// (backoff, close codes, token refresh, dead-socket detection), holds unacknowledged sends in
// an outbox until the server acks them, and hands the app every message of every
// conversation exactly once and in seq order, filling gaps with sync (ConversationStream
// does the ordering; this class does the I/O around it).
import { ParleyError, SDK_ERROR_CODES } from './errors';
import { FrameDecodeError, decodeServerFrame, encodeClientFrame, type AckFrame, type ClientFrame, type ConvListFrame, type ErrorFrame, type MsgsFrame, type WelcomeFrame } from './frames';
import { ConversationStream } from './stream';
import { MAX_TIMER_MS, Timers, type TimerId } from './timers';
import { backoffDelay, tokenExpiresAt, tokenRefreshDelay, type BackoffOptions } from './timing';
import type { ConnectionState, ConvState, ParleyMessage, ParleyReceipt, ParleyRejection, ParleySignal, ParleyWelcome, SendResult, WebSocketConstructor, WebSocketLike } from './types';

export interface ParleyClientOptions {
  /**
   * A connector's WebSocket URL, e.g. ws://127.0.0.1:8080/ (existing query parameters are kept),
   * or several: after a lost or failed socket the client moves on to the next one.
   */
  url: string | readonly string[];
  /** Called at every (re)connect. The client reconnects with a fresh token ~60 s before the current one's `exp`. */
  token: () => string | Promise<string>;
  /** Sent as the device_id query parameter (needed when the token has no `did` claim). */
  deviceId?: string;
  /** Default: globalThis.WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect and retry backoff: exponential from initialMs (500) up to maxMs (30 000), full jitter. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Resend an unacknowledged send on the same socket after this long (10 000). */
  resendAfterMs?: number;
  /** At most one device ack (`recv`) per conversation per this many ms (200). */
  recvCoalesceMs?: number;
  /** Close and reconnect when nothing at all arrived for this long (75 000); a probe goes out at 60 % of it. */
  idleTimeoutMs?: number;
  /**
   * While open, walk `convs` this often (300 000, ±10 %; 0 = only after each welcome) and sync
   * what moved: it finds messages whose live delivery was lost in a conversation that has
   * been quiet since (no later message reveals the gap).
   */
  catchUpIntervalMs?: number;
  random?: () => number;
  now?: () => number;
}

/** What each event of ParleyClient.on carries. */
export interface ParleyEvents {
  state: ConnectionState;
  /** Per conversation: strictly in seq order, never a duplicate, no gaps. */
  message: ParleyMessage;
  receipt: ParleyReceipt;
  signal: ParleySignal;
  /** An acked message that storage refused (the sender was removed first): it never gets a seq. */
  rejected: ParleyRejection;
  /** Errors not tied to a send() (those reject its promise). */
  error: ParleyError;
  welcome: ParleyWelcome;
}

type Listener<E extends keyof ParleyEvents> = (value: ParleyEvents[E]) => void;

const ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;
const SIGNAL_KIND_PATTERN = /^[a-z0-9_.-]{1,32}$/;
/** Unanswered sends per socket; the server allows 256 unanswered requests of all kinds. */
const MAX_INFLIGHT_SENDS = 64;
/** Conversations syncing at once (a reconnect after a long absence may need hundreds). */
const MAX_INFLIGHT_SYNCS = 8;
const PAGE_LIMIT = 100;
/** A sync or convs request unanswered this long on a live socket is sent again. */
const REQUEST_TIMEOUT_MS = 30_000;
/** A socket open this long resets the reconnect backoff (PROTOCOL.md §6). */
const STABLE_AFTER_MS = 60_000;
/** Close code 1001 (going away, e.g. a proxy restarting): reconnect after a random delay up to this. */
const GOING_AWAY_SPREAD_MS = 5_000;
/** Longest server-suggested wait (retryAfterMs) a send honours before retrying. */
const MAX_RETRY_AFTER_MS = 60_000;
/** Close code 4009 (connector draining) without a usable retry_after_ms: reconnect after a random delay up to this. */
const DRAIN_SPREAD_MS = 1_000;
/** A server-suggested reconnect delay is capped at this. */
const MAX_DRAIN_DELAY_MS = 30_000;
/** close() waits this long at most for the socket's close event. */
const CLOSE_WAIT_MS = 3_000;
const PROBE_AT = 0.6;

const CLOSE_SESSION_REPLACED = 4001;
const CLOSE_TOKEN_EXPIRED = 4401;
const CLOSE_GOING_AWAY = 1001;
const CLOSE_DRAINING = 4009;

interface Settings {
  urls: readonly string[];
  token: () => string | Promise<string>;
  deviceId: string | undefined;
  WebSocket: WebSocketConstructor;
  backoff: BackoffOptions;
  resendAfterMs: number;
  recvCoalesceMs: number;
  idleTimeoutMs: number;
  catchUpIntervalMs: number;
  random: () => number;
  now: () => number;
}

/** One socket, from creation to its close. */
interface Link {
  readonly socket: WebSocketLike;
  readonly token: string;
  welcomed: boolean;
  openedAt: number;
  maxFrameBytes: number;
  clockSkewMs: number;
  lastActivity: number;
  probed: boolean;
  idleTimer: TimerId | undefined;
  refreshTimer: TimerId | undefined;
  catchUpTimer: TimerId | undefined;
}

interface OutboxEntry {
  readonly clientMsgId: string;
  readonly conversationId: string;
  readonly body: string;
  readonly frame: string;
  readonly waiters: { resolve: (result: SendResult) => void; reject: (err: ParleyError) => void }[];
  /** queued: not on the current socket yet; inflight: sent, unanswered; backoff: waiting to retry after a retryable error. */
  state: 'queued' | 'inflight' | 'backoff';
  attempt: number;
  /** Resends on the current socket for want of any answer; each waits twice as long. */
  resends: number;
  timer: TimerId | undefined;
}

interface ConvEntry {
  readonly stream: ConversationStream;
  /** One sync run at a time per conversation; a run pages until hasMore is false. */
  sync: 'idle' | 'queued' | 'inflight' | 'backoff';
  syncAttempt: number;
  syncProgressed: boolean;
  syncTimer: TimerId | undefined;
}

interface ConvsFetch {
  /** catchup: the convs walk after each welcome; app: a conversations() call. */
  readonly purpose: 'catchup' | 'app';
  collected: ConvState[];
  after: string;
  attempt: number;
  retryTimer: TimerId | undefined;
  readonly resolve?: (conversations: ConvState[]) => void;
  readonly reject?: (err: ParleyError) => void;
}

type PendingRequest = { kind: 'sync'; conv: ConvEntry; timer: TimerId | undefined } | { kind: 'convs'; fetch: ConvsFetch; timer: TimerId | undefined } | { kind: 'probe' };

interface GlobalsWeUse {
  WebSocket?: WebSocketConstructor;
  crypto?: { randomUUID?: () => string };
}

export class ParleyClient {
  private readonly settings: Settings;
  private readonly timers = new Timers();
  private readonly listeners: { [E in keyof ParleyEvents]: Set<Listener<E>> } = {
    state: new Set(),
    message: new Set(),
    receipt: new Set(),
    signal: new Set(),
    rejected: new Set(),
    error: new Set(),
    welcome: new Set(),
  };
  private current: ConnectionState = 'idle';
  /** Between connect() and close() (or a 4001): keep a socket open. */
  private running = false;
  private closedByApp = false;
  private closing: Promise<void> | undefined;
  private dialSeq = 0;
  private link: Link | undefined;
  private reconnectAttempt = 0;
  /** Which of settings.urls the next socket goes to. */
  private urlIndex = 0;
  private readonly closeWaiters = new Map<WebSocketLike, () => void>();

  private readonly outbox = new Map<string, OutboxEntry>();
  private sendWindow = 0;
  private readonly convs = new Map<string, ConvEntry>();
  private readonly syncQueue: ConvEntry[] = [];
  private inflightSyncs = 0;
  private readonly requests = new Map<string, PendingRequest>();
  private readonly fetches = new Set<ConvsFetch>();
  private readonly recvDirty = new Set<string>();
  private recvTimer: TimerId | undefined;
  private readonly pendingReads = new Map<string, number>();
  private counter = 0;

  constructor(options: ParleyClientOptions) {
    this.settings = resolveSettings(options);
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** Sends not yet acknowledged by the server. */
  get pendingSends(): number {
    return this.outbox.size;
  }

  on<E extends keyof ParleyEvents>(event: E, fn: Listener<E>): () => void {
    const set = this.listeners[event] as Set<Listener<E>> | undefined;
    if (!set) throw new TypeError(`unknown event "${String(event)}"`);
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  /** Starts connecting, and keeps reconnecting until close() (or close code 4001). */
  connect(): void {
    if (this.running) return;
    this.running = true;
    this.closedByApp = false;
    this.closing = undefined;
    this.setState('connecting');
    this.dial();
  }

  /** Stops for good: closes the socket, clears every timer, rejects pending sends and conversations() with CLOSED. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.running = false;
    this.closedByApp = true;
    this.dialSeq++;
    const link = this.link;
    this.dropLink();
    this.timers.clearAll();
    for (const entry of [...this.outbox.values()]) {
      this.settle(
        entry,
        new ParleyError(SDK_ERROR_CODES.CLOSED, 'the client was closed before the send was acknowledged; it may be stored: resend with the same clientMsgId', {
          retryable: true,
          clientMsgId: entry.clientMsgId,
          conversationId: entry.conversationId,
        }),
      );
    }
    for (const fetch of this.fetches) fetch.reject?.(closedError());
    this.fetches.clear();
    this.setState('closed');
    this.closing = link ? this.closeSocket(link.socket) : Promise.resolve();
    return this.closing;
  }

  /**
   * Queues a message in the outbox and resolves when the server acks it (it is durable).
   * Retryable errors are retried with backoff; unacked sends are resent, with the same
   * clientMsgId, after every reconnect. Rejects with a ParleyError on a non-retryable error.
   */
  send(conversationId: string, body: string, clientMsgId?: string): Promise<SendResult> {
    if (this.closedByApp) return Promise.reject(closedError());
    if (!ID_PATTERN.test(conversationId)) return Promise.reject(invalid('conversationId: must match [A-Za-z0-9_.:@-]{1,128}'));
    if (typeof body !== 'string' || body === '') return Promise.reject(invalid('body: must be a non-empty string'));
    if (clientMsgId !== undefined && !ID_PATTERN.test(clientMsgId)) return Promise.reject(invalid('clientMsgId: must match [A-Za-z0-9_.:@-]{1,128}'));
    const id = clientMsgId ?? this.newClientMsgId();
    return new Promise<SendResult>((resolve, reject) => {
      const existing = this.outbox.get(id);
      if (existing) {
        // The same send again (an app retry): it rides on the pending one.
        if (existing.conversationId === conversationId && existing.body === body) existing.waiters.push({ resolve, reject });
        else reject(invalid(`clientMsgId ${id} is already used by another pending send`));
        return;
      }
      const frame = encodeClientFrame({ type: 'send', clientMsgId: id, conversationId, body });
      this.outbox.set(id, { clientMsgId: id, conversationId, body, frame, waiters: [{ resolve, reject }], state: 'queued', attempt: 0, resends: 0, timer: undefined });
      this.pumpOutbox();
    });
  }

  /** The app already holds conversationId up to lastSeq (e.g. from its database): start after it. Never moves back. */
  track(conversationId: string, lastSeq: number): void {
    if (!ID_PATTERN.test(conversationId)) throw invalid('conversationId: must match [A-Za-z0-9_.:@-]{1,128}');
    if (!Number.isSafeInteger(lastSeq) || lastSeq < 0) throw invalid('lastSeq: must be a non-negative integer');
    const existing = this.convs.get(conversationId);
    if (!existing) {
      this.convs.set(conversationId, newConv(conversationId, lastSeq));
      return;
    }
    const out = existing.stream.advanceTo(lastSeq);
    if (existing.stream.hasGap) this.requestSync(existing);
    this.emitMessages(out);
  }

  /** The highest seq emitted in order for conversationId (0 when none). */
  position(conversationId: string): number {
    return this.convs.get(conversationId)?.stream.position ?? 0;
  }

  /** The user has read conversationId up to seq. Cumulative; kept until a socket is open. 0 reads nothing. */
  read(conversationId: string, seq: number): void {
    if (!ID_PATTERN.test(conversationId)) throw invalid('conversationId: must match [A-Za-z0-9_.:@-]{1,128}');
    if (!Number.isSafeInteger(seq) || seq < 0) throw invalid('seq: must be a non-negative integer');
    // The connector refuses a read position of 0 (INVALID_ARGUMENT); it would mean nothing anyway.
    if (seq > (this.pendingReads.get(conversationId) ?? 0)) this.pendingReads.set(conversationId, seq);
    this.flushReads();
  }

  /** A QoS 0 signal (typing, ...): sent if a socket is open, dropped otherwise. */
  signal(conversationId: string, kind: string, data = ''): void {
    if (!ID_PATTERN.test(conversationId)) throw invalid('conversationId: must match [A-Za-z0-9_.:@-]{1,128}');
    if (!SIGNAL_KIND_PATTERN.test(kind)) throw invalid('kind: must match [a-z0-9_.-]{1,32}');
    this.write({ type: 'signal', conversationId, kind, data });
  }

  /** Every conversation of the user with its positions (all pages of convs). Waits for a socket. */
  conversations(): Promise<ConvState[]> {
    if (this.closedByApp) return Promise.reject(closedError());
    return new Promise((resolve, reject) => this.startFetch(newFetch('app', resolve, reject)));
  }

  // ---- connection ----

  private dial(): void {
    const dial = ++this.dialSeq;
    let token: string | Promise<string>;
    try {
      token = this.settings.token();
    } catch (err) {
      this.connectFailed(SDK_ERROR_CODES.TOKEN_UNAVAILABLE, `token() threw: ${describe(err)}`, err);
      return;
    }
    if (typeof token === 'string') {
      this.open(token);
      return;
    }
    Promise.resolve(token).then(
      (value) => {
        if (dial === this.dialSeq && this.running) this.open(value);
      },
      (err: unknown) => {
        if (dial === this.dialSeq && this.running) this.connectFailed(SDK_ERROR_CODES.TOKEN_UNAVAILABLE, `token() rejected: ${describe(err)}`, err);
      },
    );
  }

  private open(token: unknown): void {
    if (typeof token !== 'string' || token === '') {
      this.connectFailed(SDK_ERROR_CODES.TOKEN_UNAVAILABLE, 'token() gave no token', undefined);
      return;
    }
    let socket: WebSocketLike;
    try {
      const base = this.settings.urls[this.urlIndex % this.settings.urls.length] ?? '';
      socket = new this.settings.WebSocket(connectUrl(base, token, this.settings.deviceId));
    } catch (err) {
      this.connectFailed(SDK_ERROR_CODES.CONNECTION_FAILED, `cannot open a WebSocket: ${describe(err)}`, err);
      return;
    }
    const link: Link = {
      socket,
      token,
      welcomed: false,
      openedAt: 0,
      maxFrameBytes: 0,
      clockSkewMs: 0,
      lastActivity: this.settings.now(),
      probed: false,
      idleTimer: undefined,
      refreshTimer: undefined,
      catchUpTimer: undefined,
    };
    this.link = link;
    socket.addEventListener('message', (event) => {
      if (this.link === link) this.onData(link, event.data);
    });
    socket.addEventListener('close', (event) => this.onSocketClose(socket, event.code, event.reason));
    // A close event follows every error; `ws` throws on an error nobody listens to.
    socket.addEventListener('error', () => undefined);
    socket.on?.('ping', () => {
      if (this.link === link) this.touch(link);
    });
    this.armIdle(link);
  }

  private connectFailed(code: string, message: string, cause: unknown): void {
    this.emit('error', new ParleyError(code, message, { retryable: true, cause }));
    if (this.running) this.scheduleReconnect(this.nextBackoff(), code === SDK_ERROR_CODES.CONNECTION_FAILED);
  }

  private onSocketClose(socket: WebSocketLike, code: number, reason: string | undefined): void {
    const waiter = this.closeWaiters.get(socket);
    if (waiter) waiter();
    const link = this.link;
    if (link?.socket !== socket) return;
    this.dropLink();
    if (!this.running) return;
    if (code === CLOSE_SESSION_REPLACED) {
      this.running = false;
      this.setState('closed');
      this.emit(
        'error',
        new ParleyError(SDK_ERROR_CODES.SESSION_REPLACED, 'another connection of this user and device replaced this one (close code 4001); call connect() to take over again', {
          retryable: false,
        }),
      );
      return;
    }
    this.noteStable(link);
    // The connector is fine when only the token expired; otherwise try the next one.
    if (code === CLOSE_TOKEN_EXPIRED) this.scheduleReconnect(0, false);
    else if (code === CLOSE_DRAINING) this.scheduleReconnect(drainDelay(reason, this.settings.random), true);
    else if (code === CLOSE_GOING_AWAY) this.scheduleReconnect(Math.floor(this.settings.random() * GOING_AWAY_SPREAD_MS), true);
    else this.scheduleReconnect(this.nextBackoff(), true);
  }

  /** We give up on a socket ourselves (idle, token refresh): do not wait for its close event. */
  private abandon(link: Link, reason: string, immediately: boolean): void {
    if (this.link !== link) return;
    this.dropLink();
    try {
      link.socket.close(1000, reason);
    } catch {
      // Already closing.
    }
    this.noteStable(link);
    if (immediately) this.scheduleReconnect(0, false);
    else this.scheduleReconnect(this.nextBackoff(), true);
  }

  private noteStable(link: Link): void {
    if (link.welcomed && this.settings.now() - link.openedAt >= STABLE_AFTER_MS) this.reconnectAttempt = 0;
  }

  private nextBackoff(): number {
    return backoffDelay(this.reconnectAttempt++, this.settings.backoff, this.settings.random);
  }

  private scheduleReconnect(delayMs: number, nextUrl: boolean): void {
    if (nextUrl) this.urlIndex = (this.urlIndex + 1) % this.settings.urls.length;
    this.setState('reconnecting');
    this.timers.set(delayMs, () => {
      if (this.running && !this.link) this.dial();
    });
  }

  private closeSocket(socket: WebSocketLike): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.closeWaiters.delete(socket);
        resolve();
      };
      // Not in this.timers: a later connect()/close() must not cancel it.
      const timer = setTimeout(done, CLOSE_WAIT_MS);
      this.closeWaiters.set(socket, done);
      try {
        socket.close(1000, 'client closed');
      } catch {
        done();
      }
    });
  }

  /** Forgets the current socket and everything that lived on it; what must survive is re-queued. */
  private dropLink(): void {
    const link = this.link;
    if (!link) return;
    this.link = undefined;
    this.timers.clear(link.idleTimer);
    this.timers.clear(link.refreshTimer);
    this.timers.clear(link.catchUpTimer);
    for (const entry of this.outbox.values()) {
      entry.timer = this.timers.clear(entry.timer);
      entry.state = 'queued';
      entry.resends = 0;
    }
    this.sendWindow = 0;
    for (const req of this.requests.values()) if (req.kind !== 'probe') this.timers.clear(req.timer);
    this.requests.clear();
    for (const conv of this.convs.values()) {
      conv.syncTimer = this.timers.clear(conv.syncTimer);
      conv.sync = 'idle';
    }
    this.syncQueue.length = 0;
    this.inflightSyncs = 0;
    for (const fetch of [...this.fetches]) {
      fetch.retryTimer = this.timers.clear(fetch.retryTimer);
      if (fetch.purpose === 'catchup') {
        this.fetches.delete(fetch);
      } else {
        fetch.collected = [];
        fetch.after = '';
      }
    }
    this.recvTimer = this.timers.clear(this.recvTimer);
  }

  private touch(link: Link): void {
    link.lastActivity = this.settings.now();
    link.probed = false;
  }

  /**
   * Dead-socket detection. Browsers hide the server's pings, so an idle but healthy socket
   * receives nothing: at 60 % of the idle timeout we send a cheap request (convs, limit 1)
   * whose answer proves the path works; with still nothing at the timeout, we reconnect.
   */
  private armIdle(link: Link): void {
    link.idleTimer = undefined;
    if (this.link !== link) return;
    const idle = this.settings.idleTimeoutMs;
    const probeAt = Math.floor(idle * PROBE_AT);
    const elapsed = this.settings.now() - link.lastActivity;
    if (elapsed >= idle) {
      this.abandon(link, 'no traffic', false);
      return;
    }
    if (elapsed >= probeAt && link.welcomed && !link.probed) {
      link.probed = true;
      const reqId = this.nextId('p');
      this.requests.set(reqId, { kind: 'probe' });
      this.write({ type: 'ping', reqId });
    }
    link.idleTimer = this.timers.set(elapsed < probeAt ? probeAt - elapsed : idle - elapsed, () => this.armIdle(link));
  }

  private scheduleTokenRefresh(link: Link): void {
    const expiresAt = tokenExpiresAt(link.token);
    if (expiresAt === undefined) return;
    const delay = tokenRefreshDelay(expiresAt, this.settings.now() + link.clockSkewMs);
    if (delay === undefined) return;
    link.refreshTimer = this.timers.set(delay, () => {
      link.refreshTimer = undefined;
      if (delay > MAX_TIMER_MS) this.scheduleTokenRefresh(link);
      else this.abandon(link, 'token refresh', true);
    });
  }

  private scheduleCatchUp(link: Link): void {
    const interval = this.settings.catchUpIntervalMs;
    if (interval <= 0) return;
    link.catchUpTimer = this.timers.set(Math.floor(interval * (0.9 + 0.2 * this.settings.random())), () => {
      link.catchUpTimer = undefined;
      if (this.link !== link) return;
      if (![...this.fetches].some((f) => f.purpose === 'catchup')) this.startFetch(newFetch('catchup'));
      this.scheduleCatchUp(link);
    });
  }

  // ---- frames in ----

  private onData(link: Link, data: unknown): void {
    this.touch(link);
    if (typeof data !== 'string') {
      this.protocolError('the server sent a binary frame');
      return;
    }
    let frame;
    try {
      frame = decodeServerFrame(data);
    } catch (err) {
      this.protocolError(err instanceof FrameDecodeError ? `bad frame from the server: ${err.message}` : describe(err));
      return;
    }
    switch (frame?.type) {
      case 'welcome':
        return this.onWelcome(link, frame);
      case 'ack':
        return this.onAck(frame);
      case 'msg':
        return this.onMsg(frame.message);
      case 'msgs':
        return this.onMsgs(frame);
      case 'error':
        return this.onError(frame);
      case 'convlist':
        return this.onConvList(frame);
      case 'pong':
        // An answer to the idle probe: its arrival (touch) was the point.
        this.requests.delete(frame.reqId);
        return;
      case 'receipt':
        return this.emit('receipt', frame.receipt);
      case 'sig':
        return this.emit('signal', frame.signal);
      case 'rejected':
        return this.emit('rejected', frame.rejection);
      case undefined:
        return;
    }
  }

  private onWelcome(link: Link, frame: WelcomeFrame): void {
    if (link.welcomed) return;
    const now = this.settings.now();
    link.welcomed = true;
    link.openedAt = now;
    link.maxFrameBytes = frame.maxFrameBytes;
    link.clockSkewMs = frame.serverTime > 0 ? frame.serverTime - now : 0;
    this.scheduleTokenRefresh(link);
    // Every unacked send again, same clientMsgId: the server dedupes.
    this.pumpOutbox();
    this.flushReads();
    if (this.recvDirty.size > 0) this.scheduleRecv();
    // Catch up: gaps we know of now, and every conversation convs says moved past us.
    for (const conv of this.convs.values()) if (conv.stream.hasGap) this.requestSync(conv);
    this.startFetch(newFetch('catchup'));
    for (const fetch of this.fetches) if (fetch.purpose === 'app') this.sendConvs(fetch);
    this.scheduleCatchUp(link);
    if (this.link !== link) return;
    this.setState('open');
    this.emit('welcome', { userId: frame.userId, deviceId: frame.deviceId, sessionId: frame.sessionId, connectorId: frame.connectorId });
  }

  private onAck(frame: AckFrame): void {
    const entry = this.outbox.get(frame.clientMsgId);
    if (!entry) return; // the answer to a resend of something already acked
    this.remove(entry);
    const result: SendResult = { clientMsgId: frame.clientMsgId, serverMsgId: frame.serverMsgId, ...(frame.seq > 0 ? { seq: frame.seq } : {}) };
    for (const waiter of entry.waiters) waiter.resolve(result);
    this.pumpOutbox();
  }

  private onMsg(message: ParleyMessage): void {
    const conv = this.conversation(message.conversationId);
    const duplicate = message.seq <= conv.stream.position;
    const out = conv.stream.offer(message);
    // A duplicate is acked too: the server retransmits until a recv covers it.
    if (out.length > 0 || duplicate) this.markRecv(conv);
    if (conv.stream.hasGap) this.requestSync(conv);
    this.emitMessages(out);
  }

  private onMsgs(frame: MsgsFrame): void {
    let req = frame.reqId ? this.requests.get(frame.reqId) : undefined;
    if (req) {
      this.requests.delete(frame.reqId);
      if (req.kind !== 'sync' || req.conv.stream.conversationId !== frame.conversationId) {
        this.failRequest(req);
        req = undefined;
      } else {
        this.timers.clear(req.timer);
      }
    }
    const conv = this.conversation(frame.conversationId);
    const before = conv.stream.position;
    const duplicate = frame.messages.some((m) => m.seq <= before);
    const out = conv.stream.offerAll(frame.messages);
    if (out.length > 0 || duplicate) this.markRecv(conv);
    if (req) {
      if (conv.stream.position > before) conv.syncProgressed = true;
      const lastInPage = frame.messages[frame.messages.length - 1]?.seq;
      // "If hasMore is true, sync again from the last seq you received."
      if (frame.hasMore && lastInPage !== undefined) this.sendSync(conv, Math.max(lastInPage, conv.stream.position));
      else this.endSync(conv, false);
    } else if (conv.stream.hasGap) {
      this.requestSync(conv);
    }
    this.emitMessages(out);
  }

  private onError(frame: ErrorFrame): void {
    // Decided by the decoder: the frame's own retryable, else the code table (PROTOCOL.md §4).
    const retryable = frame.retryable;
    const req = frame.reqId ? this.requests.get(frame.reqId) : undefined;
    if (req) {
      this.requests.delete(frame.reqId);
      if (req.kind === 'sync') {
        this.timers.clear(req.timer);
        if (retryable) {
          this.endSync(req.conv, true, frame.retryAfterMs);
        } else {
          req.conv.sync = 'idle';
          this.inflightSyncs--;
          this.emit('error', new ParleyError(frame.code, frame.message, { retryable, conversationId: req.conv.stream.conversationId }));
          this.pumpSyncs();
        }
      } else if (req.kind === 'convs') {
        this.timers.clear(req.timer);
        this.onFetchError(req.fetch, new ParleyError(frame.code, frame.message, { retryable, retryAfterMs: frame.retryAfterMs }));
      }
      return;
    }
    const entry = frame.clientMsgId ? this.outbox.get(frame.clientMsgId) : undefined;
    if (entry) {
      this.onSendError(entry, new ParleyError(frame.code, frame.message, { retryable, retryAfterMs: frame.retryAfterMs, clientMsgId: entry.clientMsgId, conversationId: entry.conversationId }));
      return;
    }
    this.emit('error', new ParleyError(frame.code, frame.message, { retryable, ...(frame.clientMsgId ? { clientMsgId: frame.clientMsgId } : {}) }));
  }

  private onConvList(frame: ConvListFrame): void {
    const req = this.requests.get(frame.reqId);
    if (!req) return;
    this.requests.delete(frame.reqId);
    if (req.kind === 'probe') return; // its arrival was the point
    if (req.kind !== 'convs') return this.failRequest(req);
    this.timers.clear(req.timer);
    const fetch = req.fetch;
    fetch.attempt = 0;
    fetch.collected.push(...frame.conversations);
    for (const c of frame.conversations) {
      const conv = this.conversation(c.conversationId);
      conv.stream.noteLastSeq(c.lastSeq);
      if (conv.stream.hasGap) this.requestSync(conv);
    }
    const last = frame.conversations[frame.conversations.length - 1];
    if (frame.hasMore && last) {
      fetch.after = last.conversationId;
      this.sendConvs(fetch);
      return;
    }
    this.fetches.delete(fetch);
    fetch.resolve?.(fetch.collected);
  }

  // ---- outbox ----

  private pumpOutbox(): void {
    if (!this.link?.welcomed) return;
    for (const entry of this.outbox.values()) {
      if (this.sendWindow >= MAX_INFLIGHT_SENDS) break;
      if (entry.state === 'queued') this.transmit(entry);
    }
  }

  private transmit(entry: OutboxEntry): void {
    const link = this.link;
    if (!link?.welcomed) return;
    const bytes = frameBytesOver(entry.frame, link.maxFrameBytes);
    if (bytes !== undefined) {
      // The server would close the socket with 1009, and we would resend it forever.
      this.settle(
        entry,
        new ParleyError('INVALID_ARGUMENT', `the send frame is ${bytes} bytes; this server accepts frames of at most ${link.maxFrameBytes}`, {
          retryable: false,
          clientMsgId: entry.clientMsgId,
          conversationId: entry.conversationId,
        }),
      );
      return;
    }
    if (entry.state === 'queued') this.sendWindow++;
    entry.state = 'inflight';
    this.writeText(entry.frame);
    // No answer at all (not even an error) is rare on a live socket: the connector answers
    // every send within its deadline. The resend is a safety net, and it backs off
    // (resendAfterMs, then twice that, up to the reconnect backoff's ceiling) so that a slow
    // server is not sent the same work again and again while it catches up.
    const wait = Math.min(this.settings.resendAfterMs * 2 ** Math.min(entry.resends, 20), Math.max(this.settings.resendAfterMs, this.settings.backoff.maxMs));
    entry.timer = this.timers.set(wait, () => {
      entry.timer = undefined;
      if (entry.state === 'inflight' && this.outbox.get(entry.clientMsgId) === entry) {
        entry.resends++;
        this.transmit(entry);
      }
    });
  }

  private onSendError(entry: OutboxEntry, err: ParleyError): void {
    if (!err.retryable) {
      this.settle(entry, err);
      this.pumpOutbox();
      return;
    }
    if (entry.state !== 'inflight') return; // a late answer to an earlier copy; a retry is already planned
    entry.timer = this.timers.clear(entry.timer);
    entry.state = 'backoff';
    // A rate limit says when a retry can be admitted: not sooner than that (retrying earlier is
    // refused again), capped so a wrong value cannot park a send for long; backoff on top spreads devices.
    const wait = Math.min(err.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS) + backoffDelay(entry.attempt++, this.settings.backoff, this.settings.random);
    entry.timer = this.timers.set(wait, () => {
      entry.timer = undefined;
      if (entry.state === 'backoff' && this.outbox.get(entry.clientMsgId) === entry) this.transmit(entry);
      this.pumpOutbox();
    });
  }

  private remove(entry: OutboxEntry): void {
    entry.timer = this.timers.clear(entry.timer);
    if (entry.state !== 'queued') this.sendWindow--;
    entry.state = 'queued';
    this.outbox.delete(entry.clientMsgId);
  }

  private settle(entry: OutboxEntry, err: ParleyError): void {
    this.remove(entry);
    for (const waiter of entry.waiters) waiter.reject(err);
  }

  // ---- sync and catch-up ----

  private conversation(conversationId: string): ConvEntry {
    let conv = this.convs.get(conversationId);
    if (!conv) {
      conv = newConv(conversationId, 0);
      this.convs.set(conversationId, conv);
    }
    return conv;
  }

  private requestSync(conv: ConvEntry): void {
    if (conv.sync !== 'idle') return;
    conv.sync = 'queued';
    conv.syncProgressed = false;
    this.syncQueue.push(conv);
    this.pumpSyncs();
  }

  private pumpSyncs(): void {
    if (!this.link?.welcomed) return;
    while (this.inflightSyncs < MAX_INFLIGHT_SYNCS) {
      const conv = this.syncQueue.shift();
      if (!conv) return;
      if (conv.sync !== 'queued') continue;
      conv.sync = 'inflight';
      this.inflightSyncs++;
      this.sendSync(conv, conv.stream.position);
    }
  }

  private sendSync(conv: ConvEntry, afterSeq: number): void {
    const reqId = this.nextId('s');
    const req: PendingRequest = { kind: 'sync', conv, timer: undefined };
    req.timer = this.timers.set(REQUEST_TIMEOUT_MS, () => {
      if (this.requests.get(reqId) !== req) return;
      this.requests.delete(reqId);
      this.endSync(conv, true);
    });
    this.requests.set(reqId, req);
    this.write({ type: 'sync', reqId, conversationId: conv.stream.conversationId, afterSeq, limit: PAGE_LIMIT });
  }

  /**
   * A sync run is over: retry it later, start another if it helped but a gap is left, or rest.
   * A server that said when to come back (retryAfterMs: busy) is not asked again sooner.
   */
  private endSync(conv: ConvEntry, failed: boolean, retryAfterMs = 0): void {
    conv.sync = 'idle';
    this.inflightSyncs--;
    if (failed || (conv.stream.hasGap && !conv.syncProgressed)) {
      // No progress means the server does not have what we wait for yet (or lost it): do not spin.
      conv.sync = 'backoff';
      const wait = Math.min(retryAfterMs, MAX_RETRY_AFTER_MS) + backoffDelay(conv.syncAttempt++, this.settings.backoff, this.settings.random);
      conv.syncTimer = this.timers.set(wait, () => {
        conv.syncTimer = undefined;
        conv.sync = 'idle';
        this.requestSync(conv);
      });
    } else {
      conv.syncAttempt = 0;
      if (conv.stream.hasGap) this.requestSync(conv);
    }
    this.pumpSyncs();
  }

  /** An answer of the wrong kind (a server bug): treat the request as failed and retry it. */
  private failRequest(req: PendingRequest): void {
    if (req.kind === 'probe') return;
    this.timers.clear(req.timer);
    if (req.kind === 'sync') this.endSync(req.conv, true);
    else this.onFetchError(req.fetch, new ParleyError(SDK_ERROR_CODES.PROTOCOL_ERROR, 'the answer to convs was not a convlist', { retryable: true }));
  }

  private startFetch(fetch: ConvsFetch): void {
    this.fetches.add(fetch);
    if (this.link?.welcomed) this.sendConvs(fetch);
  }

  private sendConvs(fetch: ConvsFetch): void {
    const reqId = this.nextId('c');
    const req: PendingRequest = { kind: 'convs', fetch, timer: undefined };
    req.timer = this.timers.set(REQUEST_TIMEOUT_MS, () => {
      if (this.requests.get(reqId) !== req) return;
      this.requests.delete(reqId);
      this.onFetchError(fetch, new ParleyError('DEADLINE_EXCEEDED', 'convs got no answer', { retryable: true }));
    });
    this.requests.set(reqId, req);
    this.write({ type: 'convs', reqId, limit: PAGE_LIMIT, ...(fetch.after ? { afterConversationId: fetch.after } : {}) });
  }

  private onFetchError(fetch: ConvsFetch, err: ParleyError): void {
    if (err.retryable) {
      const wait = Math.min(err.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS) + backoffDelay(fetch.attempt++, this.settings.backoff, this.settings.random);
      fetch.retryTimer = this.timers.set(wait, () => {
        fetch.retryTimer = undefined;
        if (this.fetches.has(fetch) && this.link?.welcomed) this.sendConvs(fetch);
      });
      return;
    }
    this.fetches.delete(fetch);
    if (fetch.purpose === 'app') {
      fetch.reject?.(err);
      return;
    }
    // Without convs, catch up the conversations we know of one by one.
    this.emit('error', err);
    for (const conv of this.convs.values()) this.requestSync(conv);
  }

  // ---- frames out ----

  private markRecv(conv: ConvEntry): void {
    this.recvDirty.add(conv.stream.conversationId);
    this.scheduleRecv();
  }

  private scheduleRecv(): void {
    if (this.recvTimer !== undefined || !this.link?.welcomed) return;
    this.recvTimer = this.timers.set(this.settings.recvCoalesceMs, () => {
      this.recvTimer = undefined;
      if (!this.link?.welcomed) return;
      for (const conversationId of this.recvDirty) {
        const seq = this.position(conversationId);
        if (seq > 0) this.write({ type: 'recv', conversationId, seq });
      }
      this.recvDirty.clear();
    });
  }

  private flushReads(): void {
    if (!this.link?.welcomed) return;
    for (const [conversationId, seq] of this.pendingReads) {
      if (this.write({ type: 'read', conversationId, seq })) this.pendingReads.delete(conversationId);
    }
  }

  private write(frame: ClientFrame): boolean {
    return this.writeText(encodeClientFrame(frame));
  }

  private writeText(text: string): boolean {
    const link = this.link;
    if (!link?.welcomed) return false;
    try {
      link.socket.send(text);
      return true;
    } catch {
      return false; // the socket is going away; its close event will follow
    }
  }

  // ---- events ----

  private setState(state: ConnectionState): void {
    if (this.current === state) return;
    this.current = state;
    this.emit('state', state);
  }

  private emitMessages(messages: readonly ParleyMessage[]): void {
    for (const m of messages) this.emit('message', m);
  }

  private emit<E extends keyof ParleyEvents>(event: E, value: ParleyEvents[E]): void {
    for (const fn of [...(this.listeners[event] as Set<Listener<E>>)]) {
      try {
        fn(value);
      } catch (err) {
        // An app bug must not corrupt the client's state; report it like an uncaught error.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private protocolError(message: string): void {
    this.emit('error', new ParleyError(SDK_ERROR_CODES.PROTOCOL_ERROR, message, { retryable: false }));
  }

  private nextId(prefix: string): string {
    return `${prefix}${(++this.counter).toString(36)}`;
  }

  private newClientMsgId(): string {
    const uuid = (globalThis as GlobalsWeUse).crypto?.randomUUID?.();
    if (uuid) return uuid;
    // Insecure browser contexts have no randomUUID.
    const random = Math.floor(this.settings.random() * 2 ** 52).toString(36);
    return `c-${this.settings.now().toString(36)}-${random}-${this.nextId('')}`;
  }
}

function resolveSettings(options: ParleyClientOptions): Settings {
  const urls: readonly string[] = typeof options.url === 'string' ? [options.url] : Array.isArray(options.url) ? options.url : [];
  if (urls.length === 0) throw invalid('url: give a WebSocket URL or a non-empty list of them');
  for (const url of urls) {
    try {
      new URL(url);
    } catch {
      throw invalid(`url: not a valid URL: ${String(url)}`);
    }
  }
  if (typeof options.token !== 'function') throw invalid('token: must be a function returning a token');
  if (options.deviceId !== undefined && !ID_PATTERN.test(options.deviceId)) throw invalid('deviceId: must match [A-Za-z0-9_.:@-]{1,128}');
  const WebSocketImpl = options.WebSocket ?? (globalThis as GlobalsWeUse).WebSocket;
  if (!WebSocketImpl) throw invalid('WebSocket: this runtime has no globalThis.WebSocket; pass options.WebSocket');
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value < 0) throw invalid(`${name}: must be a non-negative number`);
    return value;
  };
  const initialMs = positive('backoff.initialMs', options.backoff?.initialMs, 500);
  return {
    urls: [...urls],
    token: options.token,
    deviceId: options.deviceId,
    WebSocket: WebSocketImpl,
    backoff: { initialMs, maxMs: Math.max(initialMs, positive('backoff.maxMs', options.backoff?.maxMs, 30_000)) },
    resendAfterMs: positive('resendAfterMs', options.resendAfterMs, 10_000),
    recvCoalesceMs: positive('recvCoalesceMs', options.recvCoalesceMs, 500),
    idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs, 75_000),
    catchUpIntervalMs: positive('catchUpIntervalMs', options.catchUpIntervalMs, 300_000),
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
  };
}

/**
 * The reconnect delay after close 4009 (the connector is draining; PROTOCOL.md §6): the
 * server's `retry_after_ms=N` from the close reason (capped), or a random delay below 1 s.
 * Not the growing backoff: the connector was healthy, it is being replaced.
 */
export function drainDelay(reason: string | undefined, random: () => number): number {
  const suggested = /(?:^|[;\s])retry_after_ms=(\d{1,9})(?:$|[;\s])/.exec(reason ?? '');
  if (suggested) return Math.min(Number(suggested[1]), MAX_DRAIN_DELAY_MS);
  return Math.floor(random() * DRAIN_SPREAD_MS);
}

/** options.url with ack=1, the token and the device id as query parameters (others kept). */
export function connectUrl(base: string, token: string, deviceId: string | undefined): string {
  const url = new URL(base);
  url.searchParams.set('ack', '1');
  url.searchParams.set('access_token', token);
  if (deviceId !== undefined) url.searchParams.set('device_id', deviceId);
  return url.toString();
}

function newFetch(purpose: ConvsFetch['purpose'], resolve?: ConvsFetch['resolve'], reject?: ConvsFetch['reject']): ConvsFetch {
  return { purpose, collected: [], after: '', attempt: 0, retryTimer: undefined, ...(resolve && reject ? { resolve, reject } : {}) };
}

function newConv(conversationId: string, position: number): ConvEntry {
  return { stream: new ConversationStream(conversationId, position), sync: 'idle', syncAttempt: 0, syncProgressed: false, syncTimer: undefined };
}

/** The frame's UTF-8 size when it is over max (0 = unknown max), else undefined. */
function frameBytesOver(text: string, max: number): number | undefined {
  if (max <= 0 || text.length * 3 <= max) return undefined;
  const bytes = new TextEncoder().encode(text).length;
  return bytes > max ? bytes : undefined;
}

function invalid(message: string): ParleyError {
  return new ParleyError('INVALID_ARGUMENT', message, { retryable: false });
}

function closedError(): ParleyError {
  return new ParleyError(SDK_ERROR_CODES.CLOSED, 'the client is closed', { retryable: true });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
