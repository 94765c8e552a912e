// A plain WebSocket client speaking docs/PROTOCOL.md, for end-to-end tests: it
// records every frame and lets a test wait for acks, answers and messages.
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import WebSocket from 'ws';

export interface Frame {
  type: string;
  [field: string]: unknown;
}

export interface MsgFrame extends Frame {
  type: 'msg';
  conversationId: string;
  seq: number;
  serverMsgId: string;
  senderId: string;
  senderDeviceId: string;
  clientMsgId: string;
  body: string;
  sentAt: number;
}

export class TestClient {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly socket: WebSocket,
    readonly userId: string,
    readonly deviceId: string,
  ) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.wake();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  /** `query` is appended to the URL, e.g. "ack=1" for device acks (QoS 1). */
  static async connect(url: string, token: string, userId: string, deviceId: string, query = ''): Promise<TestClient> {
    const socket = new WebSocket(query ? `${url}?${query}` : url, { headers: { authorization: `Bearer ${token}` } });
    const client = new TestClient(socket, userId, deviceId);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    await client.waitFor(() => client.frames.some((f) => f.type === 'welcome'), 10_000);
    return client;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  async waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (condition()) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms (${this.userId}/${this.deviceId}: ${this.frames.length} frames, ${this.messages().length} msgs)`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  sendRaw(data: string | Buffer): void {
    this.socket.send(data);
  }

  /** Sends a message and resolves with its ack or error frame. */
  async send(conversationId: string, body: string, clientMsgId: string = randomUUID()): Promise<Frame> {
    const before = this.frames.length;
    this.socket.send(JSON.stringify({ type: 'send', clientMsgId, conversationId, body }));
    let answer: Frame | undefined;
    await this.waitFor(() => {
      answer = this.frames.slice(before).find((f) => (f.type === 'ack' || f.type === 'error') && f['clientMsgId'] === clientMsgId);
      return answer !== undefined;
    });
    return answer!;
  }

  async request(frame: Record<string, unknown>): Promise<Frame> {
    const reqId = randomUUID();
    this.socket.send(JSON.stringify({ ...frame, reqId }));
    let answer: Frame | undefined;
    await this.waitFor(() => {
      answer = this.frames.find((f) => f['reqId'] === reqId);
      return answer !== undefined;
    });
    return answer!;
  }

  messages(conversationId?: string): MsgFrame[] {
    return this.frames.filter((f): f is MsgFrame => f.type === 'msg' && (conversationId === undefined || f['conversationId'] === conversationId));
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  /** Sends a frame that has no answer (recv, read, signal). */
  post(frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame));
  }

  errors(): Frame[] {
    return this.frames.filter((f) => f.type === 'error');
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

/** The HTTP status a raw WebSocket upgrade request gets (101 when accepted; the socket is then closed). */
export function upgradeStatus(wsUrl: string, path: string, headers: Record<string, string>, localAddress?: string): Promise<number> {
  const u = new URL(wsUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname,
      port: Number(u.port),
      path,
      // Another loopback source address (127.0.0.2): a second peer, as the connector sees it.
      ...(localAddress !== undefined ? { localAddress } : {}),
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
