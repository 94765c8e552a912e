// End to end over wss://: the connector terminates TLS itself (WS_TLS_CERT_FILE/KEY_FILE, a
// certificate of the platform's throw-away CA). Two SDK clients that trust the CA exchange a
// message through the whole pipeline; a plaintext client on the same port gets no session.
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { ParleyClient, type ParleyMessage, type WebSocketConstructor } from '@parley/sdk';
import { Platform } from './support/platform';

jest.setTimeout(180_000);

let platform: Platform;
const clients: ParleyClient[] = [];

/** The SDK's WebSocket: ws trusting the platform's CA (a browser would trust the CA from its store). */
function trusting(ca: Buffer): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, { ca, perMessageDeflate: false });
    }
  };
}

function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (condition()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

beforeAll(async () => {
  platform = await new Platform({ partitions: 1, wsTls: true }).start();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await platform?.stop();
});

describe('wss:// on the connector', () => {
  it('carries a message between two SDK clients that trust the CA', async () => {
    expect(platform.wsUrl).toMatch(/^wss:\/\//);
    const alice = `alice-${randomUUID()}`;
    const bob = `bob-${randomUUID()}`;
    const conversationId = await platform.createDirect(alice, bob);
    const WebSocketImpl = trusting(platform.caPem());
    const make = (userId: string) => {
      const client = new ParleyClient({ url: platform.wsUrl, token: () => platform.token(userId, 'phone'), WebSocket: WebSocketImpl, catchUpIntervalMs: 0 });
      clients.push(client);
      return client;
    };
    const a = make(alice);
    const b = make(bob);
    const received: ParleyMessage[] = [];
    b.on('message', (m) => received.push(m));
    a.connect();
    b.connect();
    await until(() => a.state === 'open' && b.state === 'open', 'both clients open');

    const result = await a.send(conversationId, 'over TLS');
    await until(() => received.length >= 1, "bob's message");
    expect(received.map((m) => [m.senderId, m.body, m.seq, m.serverMsgId])).toEqual([[alice, 'over TLS', 1, result.serverMsgId]]);
  });

  it('gives a plaintext client on the TLS port no session', async () => {
    const url = platform.wsUrl.replace(/^wss:/, 'ws:');
    const outcome = await new Promise<string>((resolve) => {
      const socket = new WebSocket(`${url}?access_token=${platform.token('mallory', 'd1')}`);
      socket.once('open', () => resolve('open'));
      socket.once('error', () => resolve('error'));
      socket.once('unexpected-response', () => resolve('refused'));
    });
    expect(outcome).not.toBe('open');
  });
});
