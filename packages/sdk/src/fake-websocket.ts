// Test support (not built into dist): a fake of the browser WebSocket interface. It records
// what the client sends and lets a test play the server: open, push frames, ping, close with
// any code. Like a browser, it reports a client-initiated close asynchronously.
import type { WebSocketConstructor, WebSocketLike } from './types';

export interface SentFrame {
  type: string;
  [field: string]: unknown;
}

type AnyListener = (event: unknown) => void;

export class FakeWebSocket implements WebSocketLike {
  readyState = 0;
  /** Every text frame the client sent, raw. */
  readonly sent: string[] = [];
  /** How the client closed it, when it did. */
  closedByClient: { code: number; reason: string } | undefined;
  private readonly listeners = new Map<string, AnyListener[]>();

  constructor(readonly url: string) {}

  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: never) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener as AnyListener]);
  }

  on(event: 'ping', listener: () => void): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error(`InvalidStateError: send while readyState is ${this.readyState}`);
    this.sent.push(data);
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    this.closedByClient = { code, reason };
    queueMicrotask(() => this.fire('close', { code, reason }));
  }

  // ---- the server's side ----

  get token(): string | null {
    return new URL(this.url).searchParams.get('access_token');
  }

  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  open(): this {
    this.readyState = 1;
    this.fire('open', {});
    return this;
  }

  /** Opens (if needed) and sends the welcome frame. */
  welcome(fields: Record<string, unknown> = {}): this {
    if (this.readyState === 0) this.open();
    return this.receive({ type: 'welcome', userId: 'alice', deviceId: 'phone-1', sessionId: 's_1', connectorId: 'connector-1', maxFrameBytes: 65_536, ...fields });
  }

  receive(frame: Record<string, unknown>): this {
    return this.receiveRaw(JSON.stringify(frame));
  }

  receiveRaw(data: unknown): this {
    if (this.readyState !== 1) throw new Error('receive on a socket that is not open');
    this.fire('message', { data });
    return this;
  }

  ping(): this {
    this.fire('ping', undefined);
    return this;
  }

  /** The server (or the network) closes the socket. 1006 = died without a close frame. */
  serverClose(code = 1006, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    if (code === 1006) this.fire('error', {});
    this.fire('close', { code, reason });
  }

  /** The sent frames, parsed, optionally of one type. */
  frames(type?: string): SentFrame[] {
    const all = this.sent.map((s) => JSON.parse(s) as SentFrame);
    return type === undefined ? all : all.filter((f) => f.type === type);
  }

  /** Removes and returns the sent frames (of one type, or all). */
  take(type?: string): SentFrame[] {
    const out = this.frames(type);
    if (type === undefined) this.sent.length = 0;
    else {
      const keep = this.sent.filter((s) => (JSON.parse(s) as SentFrame).type !== type);
      this.sent.length = 0;
      this.sent.push(...keep);
    }
    return out;
  }

  private fire(type: string, event: unknown): void {
    for (const fn of this.listeners.get(type) ?? []) fn(event);
  }
}

/** Hands the client a WebSocket constructor and keeps every socket it made. */
export class FakeNetwork {
  readonly sockets: FakeWebSocket[] = [];
  readonly WebSocket: WebSocketConstructor;

  constructor() {
    const sockets = this.sockets;
    this.WebSocket = class extends FakeWebSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
    };
  }

  get last(): FakeWebSocket {
    const socket = this.sockets[this.sockets.length - 1];
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }
}
