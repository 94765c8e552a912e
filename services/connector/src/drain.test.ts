// The session core's drain through the WebSocket transport on real sockets over loopback (in-memory session directory): new
// upgrades get 503, every socket is closed with 4009 and a suggested delay at its own moment
// within the window and is served until then, requests in flight are answered first, and the
// sessions leave the directory before drain() resolves.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { createLogger } from '@parley/core';
import { MemorySessionDirectory } from '@parley/sessions';
import type { DeliverRequest__Output, SendBatchResponse__Output } from '@parley/proto';
import { connectorConfigSchema } from './config';
import { CLOSE, DRAIN_RECONNECT_JITTER_MS, SessionCore, type SessionMetrics, type Upstream } from './session-core';
import { WsListener } from './ws-transport';

const noMetrics: SessionMetrics = {
  connections: () => {},
  frameIn: () => {},
  frameError: () => {},
  delivered: () => {},
  retransmitted: () => {},
  abandoned: () => {},
  qos0Dropped: () => {},
};

interface Harness {
  gateway: SessionCore;
  directory: MemorySessionDirectory;
  url: string;
  /** Resolves the pending Router.Send calls. */
  releaseSends: () => void;
  close: () => Promise<void>;
}

async function start(drainWindowMs: number, random: () => number = Math.random): Promise<Harness> {
  const directory = new MemorySessionDirectory();
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const upstream = {
    sendMany: async (batches: { items: { clientMsgId: string }[] }[]) => {
      await released;
      return {
        results: batches.map((req) => ({
          response: {
            results: req.items.map((item) => ({ clientMsgId: item.clientMsgId, serverMsgId: `m-${item.clientMsgId}`, sentAt: '1', errorCode: '', errorMessage: '', retryable: false })),
          } as unknown as SendBatchResponse__Output,
          errorCode: '',
          errorMessage: '',
          retryable: false,
        })),
      };
    },
  } as unknown as Upstream;
  const gateway = new SessionCore(
    {
      connectorId: 'c1',
      advertiseAddr: '127.0.0.1:1',
      maxFrameBytes: 65_536,
      maxConnections: 1_000,
      maxDevicesPerUser: 20,
      maxInflightPerSocket: 10,
      connectionSendLimit: { ratePerSec: 1_000, burst: 1_000 },
      maxBufferedBytes: 1_000_000,
      heartbeatIntervalMs: 60_000,
      sessionTtlMs: 60_000,
      retransmitBaseMs: 1_000,
      retransmitAttempts: 2,
      maxUnackedPerSocket: 10,
      receiptFlushMs: 1_000,
      drainWindowMs,
      random,
    },
    async (token) => ({ sub: token, did: 'phone', exp: Math.floor(Date.now() / 1000) + 3600 }),
    directory,
    upstream,
    createLogger('connector-test', 'c1', 'silent'),
    noMetrics,
  );
  const server = http.createServer();
  const ws = new WsListener(gateway, { allowedOrigins: ['*'], maxFrameBytes: 65_536, upgradesPerIpPerSec: 1_000, upgradeBurstPerIp: 5_000, trustedProxies: [] }, createLogger('connector-test', 'c1', 'silent'), { rejectedUpgrade: () => {} });
  server.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gateway.start();
  return {
    gateway,
    directory,
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    releaseSends: () => release(),
    close: async () => {
      await gateway.drain();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Client {
  ws: WebSocket;
  frames: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string; at: number }>;
}

async function connect(url: string, user: string): Promise<Client> {
  const ws = new WebSocket(`${url}?access_token=${user}`);
  const frames: Record<string, unknown>[] = [];
  const welcomed = new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      frames.push(frame);
      if (frame['type'] === 'welcome') resolve();
    });
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason), at: Date.now() })));
  await welcomed;
  return { ws, frames, closed };
}

const deliverTo = (users: string[], seq: number): DeliverRequest__Output =>
  ({
    deliveries: [
      {
        message: { serverMsgId: `m${seq}`, conversationId: 'g_1', seq, senderId: 'a', senderDeviceId: 'd', clientMsgId: `c${seq}`, body: 'hi', sentAt: 1 },
        receipt: null,
        signal: null,
        targets: users.map((userId) => ({ userId, deviceId: 'phone' })),
      },
    ],
  }) as unknown as DeliverRequest__Output;

describe('connector drain', () => {
  it('closes every socket with 4009 at its own moment in the window, serving it until then, and empties the directory', async () => {
    const h = await start(600);
    h.releaseSends();
    const users = Array.from({ length: 20 }, (_, i) => `u${i}`);
    const clients = await Promise.all(users.map((u) => connect(h.url, u)));
    expect((await h.directory.lookup(users)).size).toBe(20);

    const started = Date.now();
    const drained = h.gateway.drain();
    expect(h.gateway.accepting).toBe(false);
    // A new socket is refused with 503 while the others are still open.
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${h.url}?access_token=late`);
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(503);
    // Deliveries still reach the sockets that are open.
    const delivered = h.gateway.deliver(deliverTo(users, 1));
    const result = { written: Number(delivered.written), missing: delivered.missing ?? [] };
    await drained;
    const closes = await Promise.all(clients.map((c) => c.closed));
    for (const close of closes) {
      expect(close.code).toBe(CLOSE.DRAINING);
      const retry = /retry_after_ms=(\d+)$/.exec(close.reason);
      expect(retry).not.toBeNull();
      expect(Number(retry![1])).toBeLessThan(DRAIN_RECONNECT_JITTER_MS);
    }
    // Spread over the window, not all at once.
    const moments = closes.map((c) => c.at - started);
    expect(Math.max(...moments) - Math.min(...moments)).toBeGreaterThan(100);
    expect(result.written + result.missing.length).toBe(20);
    for (const [i, c] of clients.entries()) {
      const got = c.frames.filter((f) => f['type'] === 'msg').length;
      expect(got).toBe(result.missing.some((t) => t.userId === users[i]) ? 0 : 1);
    }
    expect((await h.directory.lookup(users)).size).toBe(0);
    expect(h.gateway.sessions.size).toBe(0);
    await h.close();
  });

  it('answers a send in flight before closing its socket', async () => {
    // random() = 0: every socket's moment is the start of the window.
    const h = await start(1_000, () => 0);
    const client = await connect(h.url, 'alice');
    client.ws.send(JSON.stringify({ type: 'send', clientMsgId: 'x1', conversationId: 'g_1', body: 'hi' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const drained = h.gateway.drain();
    await new Promise((resolve) => setTimeout(resolve, 100));
    h.releaseSends();
    const close = await client.closed;
    await drained;
    expect(close.code).toBe(CLOSE.DRAINING);
    expect(close.reason).toBe('draining: reconnect elsewhere; retry_after_ms=0');
    expect(client.frames.filter((f) => f['type'] === 'ack')).toEqual([expect.objectContaining({ clientMsgId: 'x1', serverMsgId: 'm-x1' })]);
    await h.close();
  });

  it('drains an idle connector at once', async () => {
    const h = await start(60_000);
    const started = Date.now();
    await h.gateway.drain();
    expect(Date.now() - started).toBeLessThan(1_000);
    await h.close();
  });
});

describe('connector config', () => {
  const base = { ROUTER_ADDR: '127.0.0.1:1', STORAGE_ADDR: '127.0.0.1:2', REDIS_URL: 'redis://x', JWT_SECRETS: 'x'.repeat(32) };
  it('defaults DRAIN_WINDOW_MS to 10 s, within the 20 s shutdown timeout', () => {
    const config = connectorConfigSchema.parse(base);
    expect(config.DRAIN_WINDOW_MS).toBe(10_000);
  });
  it('refuses a drain window that leaves the shutdown no time to finish', () => {
    const result = connectorConfigSchema.safeParse({ ...base, DRAIN_WINDOW_MS: '18000', SHUTDOWN_TIMEOUT_MS: '20000' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['DRAIN_WINDOW_MS']);
  });
});
