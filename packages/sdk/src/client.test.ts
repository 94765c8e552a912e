import { ParleyClient, drainDelay, type ParleyClientOptions } from './client';
import type { ParleyError } from './errors';
import { FakeNetwork, type FakeWebSocket } from './fake-websocket';
import type { ConnectionState, ConvState, ParleyMessage, WebSocketConstructor } from './types';

// Node's own WebSocket (and so the browser's shape) fits the option without a cast.
const _nodeWebSocketFits: WebSocketConstructor = globalThis.WebSocket;

function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.c2ln`;
}

function wire(conversationId: string, seq: number): Record<string, unknown> {
  return { conversationId, seq, serverMsgId: `m_${conversationId}_${seq}`, senderId: 'bob', senderDeviceId: 'laptop', clientMsgId: `b${seq}`, body: `#${seq}`, sentAt: 1_764_100_000_000 + seq };
}
const msgFrame = (conversationId: string, seq: number) => ({ type: 'msg', ...wire(conversationId, seq) });
const conv = (conversationId: string, lastSeq: number): ConvState => ({ conversationId, kind: 'group', lastSeq, deliveredSeq: 0, readSeq: 0, unread: lastSeq, memberCount: 2 });

interface Harness {
  net: FakeNetwork;
  client: ParleyClient;
  messages: ParleyMessage[];
  errors: ParleyError[];
  states: ConnectionState[];
  tokens: string[];
}

let h: Harness | undefined;

function setup(options: Partial<ParleyClientOptions> & { ttlSec?: number } = {}): Harness {
  const net = new FakeNetwork();
  const tokens: string[] = [];
  const { ttlSec = 3600, ...rest } = options;
  const client = new ParleyClient({
    url: 'ws://parley.test/',
    token: () => {
      const token = jwt({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + ttlSec, n: tokens.length });
      tokens.push(token);
      return token;
    },
    deviceId: 'phone-1',
    WebSocket: net.WebSocket,
    random: () => 0.5,
    ...rest,
  });
  const harness: Harness = { net, client, messages: [], errors: [], states: [], tokens };
  client.on('message', (m) => harness.messages.push(m));
  client.on('error', (e) => harness.errors.push(e));
  client.on('state', (s) => harness.states.push(s));
  h = harness;
  return harness;
}

/** Welcome on the newest socket, and answer the catch-up convs with `conversations`. */
function welcome(net: FakeNetwork, conversations: ConvState[] = []): FakeWebSocket {
  const socket = net.last.welcome();
  const convs = socket.take('convs');
  expect(convs).toHaveLength(1);
  socket.receive({ type: 'convlist', reqId: convs[0]?.reqId, conversations, hasMore: false });
  return socket;
}

const seqsOf = (ms: ParleyMessage[], conversationId?: string) => ms.filter((m) => conversationId === undefined || m.conversationId === conversationId).map((m) => m.seq);

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'], now: 1_764_100_000_000 });
});

afterEach(async () => {
  if (h) await h.client.close();
  h = undefined;
  // close() leaves no timer behind (a Node process using the SDK exits).
  expect(jest.getTimerCount()).toBe(0);
  jest.useRealTimers();
});

describe('connecting', () => {
  it('opens url + ack=1, the token and device_id, keeping existing query parameters', () => {
    const { net, client, tokens } = setup({ url: 'wss://chat.example.com/ws?tenant=acme' });
    client.connect();
    const url = new URL(net.last.url);
    expect(`${url.origin}${url.pathname}`).toBe('wss://chat.example.com/ws');
    expect([...url.searchParams.keys()]).toEqual(['tenant', 'ack', 'access_token', 'device_id']);
    expect(url.searchParams.get('tenant')).toBe('acme');
    expect(url.searchParams.get('ack')).toBe('1');
    expect(url.searchParams.get('access_token')).toBe(tokens[0]);
    expect(url.searchParams.get('device_id')).toBe('phone-1');
  });

  it('goes idle -> connecting -> open on welcome and reports the welcome', () => {
    const { net, client, states } = setup();
    const welcomes: unknown[] = [];
    client.on('welcome', (w) => welcomes.push(w));
    expect(client.state).toBe('idle');
    client.connect();
    expect(client.state).toBe('connecting');
    net.last.open();
    expect(client.state).toBe('connecting');
    welcome(net);
    expect(client.state).toBe('open');
    expect(states).toEqual(['connecting', 'open']);
    expect(welcomes).toEqual([{ userId: 'alice', deviceId: 'phone-1', sessionId: 's_1', connectorId: 'connector-1' }]);
  });

  it('waits for an async token, and retries with backoff when token() fails', async () => {
    let calls = 0;
    const { net, client, errors } = setup({
      token: () => {
        calls++;
        return calls === 1 ? Promise.reject(new Error('auth server down')) : Promise.resolve(jwt({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600 }));
      },
    });
    client.connect();
    await jest.advanceTimersByTimeAsync(0);
    expect(net.sockets).toHaveLength(0);
    expect(errors.map((e) => [e.code, e.retryable])).toEqual([['TOKEN_UNAVAILABLE', true]]);
    expect(client.state).toBe('reconnecting');
    await jest.advanceTimersByTimeAsync(250); // 0.5 * 500
    expect(net.sockets).toHaveLength(1);
  });

  it('moves to the next URL of a list after a lost or failed socket, stays on it for a token refresh', () => {
    const { net, client } = setup({ url: ['ws://c1.test/', 'ws://c2.test/', 'ws://c3.test/'] });
    const hosts = () => net.sockets.map((s) => new URL(s.url).host);
    client.connect();
    welcome(net).serverClose(1006);
    jest.advanceTimersByTime(250);
    net.last.serverClose(1006); // c2 refuses too
    jest.advanceTimersByTime(500);
    welcome(net).serverClose(4401);
    jest.advanceTimersByTime(0);
    welcome(net).serverClose(1001);
    jest.advanceTimersByTime(2500);
    expect(hosts()).toEqual(['c1.test', 'c2.test', 'c3.test', 'c3.test', 'c1.test']);
  });

  it('close() during an async token fetch opens nothing afterwards', async () => {
    let release: (t: string) => void = () => undefined;
    const { net, client } = setup({ token: () => new Promise<string>((resolve) => (release = resolve)) });
    client.connect();
    await client.close();
    release(jwt({ sub: 'alice', exp: 2_000_000_000 }));
    await jest.advanceTimersByTimeAsync(1000);
    expect(net.sockets).toHaveLength(0);
    expect(client.state).toBe('closed');
  });

  it('rejects bad options at once', () => {
    expect(() => new ParleyClient({ url: [], token: () => 't', WebSocket: new FakeNetwork().WebSocket })).toThrow(/url/);
    expect(() => new ParleyClient({ url: 'not a url', token: () => 't', WebSocket: new FakeNetwork().WebSocket })).toThrow(/url/);
    expect(() => new ParleyClient({ url: 'ws://x/', token: () => 't', deviceId: 'bad id', WebSocket: new FakeNetwork().WebSocket })).toThrow(/deviceId/);
  });
});

describe('outbox', () => {
  it('holds a send made before connecting, sends it after welcome, resolves on ack', async () => {
    const { net, client } = setup();
    const sent = client.send('g_team', 'hello', 'c-1');
    expect(client.pendingSends).toBe(1);
    client.connect();
    const socket = welcome(net);
    expect(socket.frames('send')).toEqual([{ type: 'send', clientMsgId: 'c-1', conversationId: 'g_team', body: 'hello' }]);
    socket.receive({ type: 'ack', clientMsgId: 'c-1', serverMsgId: 'm_1' });
    await expect(sent).resolves.toEqual({ clientMsgId: 'c-1', serverMsgId: 'm_1' });
    expect(client.pendingSends).toBe(0);
  });

  it('passes the seq of an ack that has one, and generates a clientMsgId when none is given', async () => {
    const { net, client } = setup();
    client.connect();
    const socket = welcome(net);
    const sent = client.send('g_team', 'hi');
    const [frame] = socket.frames('send');
    expect(frame?.clientMsgId).toMatch(/^[A-Za-z0-9_.:@-]{1,128}$/);
    socket.receive({ type: 'ack', clientMsgId: frame?.clientMsgId, serverMsgId: 'm_9', seq: 42 });
    await expect(sent).resolves.toEqual({ clientMsgId: frame?.clientMsgId, serverMsgId: 'm_9', seq: 42 });
  });

  it('resends every unacked send with the same clientMsgId after a reconnect', async () => {
    const { net, client } = setup();
    client.connect();
    const first = welcome(net);
    const a = client.send('g_team', 'one', 'c-1');
    const b = client.send('g_team', 'two', 'c-2');
    first.receive({ type: 'ack', clientMsgId: 'c-1', serverMsgId: 'm_1' });
    first.serverClose(1006);
    expect(client.state).toBe('reconnecting');
    jest.advanceTimersByTime(250);
    const second = welcome(net);
    expect(second.frames('send').map((f) => f.clientMsgId)).toEqual(['c-2']);
    second.receive({ type: 'ack', clientMsgId: 'c-2', serverMsgId: 'm_2', seq: 2 });
    await expect(a).resolves.toMatchObject({ serverMsgId: 'm_1' });
    await expect(b).resolves.toEqual({ clientMsgId: 'c-2', serverMsgId: 'm_2', seq: 2 });
  });

  it('resends an unacked send on the same socket after resendAfterMs', () => {
    const { net, client } = setup({ resendAfterMs: 1000 });
    client.connect();
    const socket = welcome(net);
    void client.send('g_team', 'hello', 'c-1').catch(() => undefined);
    jest.advanceTimersByTime(999);
    expect(socket.frames('send')).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(socket.frames('send').map((f) => f.clientMsgId)).toEqual(['c-1', 'c-1']);
    socket.receive({ type: 'ack', clientMsgId: 'c-1', serverMsgId: 'm_1' });
    jest.advanceTimersByTime(5000);
    expect(socket.frames('send')).toHaveLength(2);
  });

  it('backs off resends of a send that gets no answer: 1 s, 2 s, 4 s, then the backoff ceiling; a new socket starts again at 1 s', () => {
    const { net, client } = setup({ resendAfterMs: 1000, backoff: { maxMs: 5000 } });
    client.connect();
    const socket = welcome(net);
    void client.send('g_team', 'hello', 'c-1').catch(() => undefined);
    const copiesAfter = (ms: number) => {
      jest.advanceTimersByTime(ms);
      return socket.frames('send').length;
    };
    expect(copiesAfter(1000)).toBe(2); // t=1 s
    expect(copiesAfter(1999)).toBe(2);
    expect(copiesAfter(1)).toBe(3); // t=3 s
    expect(copiesAfter(3999)).toBe(3);
    expect(copiesAfter(1)).toBe(4); // t=7 s
    expect(copiesAfter(4999)).toBe(4); // capped at 5 s, not 8 s
    expect(copiesAfter(1)).toBe(5);
    expect(copiesAfter(5000)).toBe(6);
    socket.serverClose(1006);
    jest.advanceTimersByTime(5000);
    const next = welcome(net);
    expect(next.frames('send')).toHaveLength(1); // resent after the reconnect
    jest.advanceTimersByTime(1000);
    expect(next.frames('send')).toHaveLength(2); // and again after resendAfterMs, not 5 s
  });

  it('rejects a send on a non-retryable error', async () => {
    const { net, client, errors } = setup();
    client.connect();
    const socket = welcome(net);
    const sent = client.send('g_secret', 'hi', 'x3');
    socket.receive({ type: 'error', clientMsgId: 'x3', code: 'PERMISSION_DENIED', message: 'not a member of this conversation', retryable: false });
    await expect(sent).rejects.toMatchObject({ name: 'ParleyError', code: 'PERMISSION_DENIED', retryable: false, clientMsgId: 'x3', conversationId: 'g_secret' });
    expect(client.pendingSends).toBe(0);
    expect(errors).toEqual([]);
  });

  it('retries a retryable error with backoff, same clientMsgId, until acked', async () => {
    const { net, client } = setup({ random: () => 0.999 });
    client.connect();
    const socket = welcome(net);
    const sent = client.send('g_team', 'hi', 'c-7');
    socket.receive({ type: 'error', clientMsgId: 'c-7', code: 'RESOURCE_EXHAUSTED', message: 'sending too fast', retryable: true });
    jest.advanceTimersByTime(498);
    expect(socket.frames('send')).toHaveLength(1);
    jest.advanceTimersByTime(1); // 0.999 * 500
    expect(socket.frames('send')).toHaveLength(2);
    // A frame without the flag: the code table makes it retryable; the second wait is twice as long.
    socket.receive({ type: 'error', clientMsgId: 'c-7', code: 'UNAVAILABLE', message: 'storage is unavailable' });
    jest.advanceTimersByTime(998);
    expect(socket.frames('send')).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(socket.frames('send').map((f) => f.clientMsgId)).toEqual(['c-7', 'c-7', 'c-7']);
    socket.receive({ type: 'ack', clientMsgId: 'c-7', serverMsgId: 'm_7' });
    await expect(sent).resolves.toMatchObject({ serverMsgId: 'm_7' });
  });

  it('fails a send the server marks not retryable, even with a code the table calls retryable', async () => {
    const { net, client } = setup();
    client.connect();
    const socket = welcome(net);
    const sent = client.send('g_team', 'hi', 'c-9');
    socket.receive({ type: 'error', clientMsgId: 'c-9', code: 'RESOURCE_EXHAUSTED', message: 'this conversation is full', retryable: false });
    await expect(sent).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED', retryable: false, clientMsgId: 'c-9' });
    jest.advanceTimersByTime(120_000);
    expect(socket.frames('send')).toHaveLength(1);
    expect(client.pendingSends).toBe(0);
  });

  it('waits at least the retryAfterMs a rate limit gives before resending', async () => {
    const { net, client } = setup({ random: () => 0 });
    client.connect();
    const socket = welcome(net);
    const sent = client.send('g_team', 'hi', 'c-8');
    socket.receive({ type: 'error', clientMsgId: 'c-8', code: 'RESOURCE_EXHAUSTED', message: 'sending too fast', retryable: true, retryAfterMs: 1_500 });
    jest.advanceTimersByTime(1_499);
    expect(socket.frames('send')).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(socket.frames('send')).toHaveLength(2);
    // An absurd wait is capped (60 s), not obeyed.
    socket.receive({ type: 'error', clientMsgId: 'c-8', code: 'RESOURCE_EXHAUSTED', message: 'sending too fast', retryable: true, retryAfterMs: 86_400_000 });
    jest.advanceTimersByTime(60_000);
    expect(socket.frames('send')).toHaveLength(3);
    socket.receive({ type: 'ack', clientMsgId: 'c-8', serverMsgId: 'm_8' });
    await expect(sent).resolves.toMatchObject({ serverMsgId: 'm_8' });
  });

  it('rejects locally what the server would refuse, and never sends a frame over maxFrameBytes', async () => {
    const { net, client } = setup();
    await expect(client.send('bad id', 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(client.send('g_team', '')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    client.connect();
    const socket = net.last.welcome({ maxFrameBytes: 100 });
    await expect(client.send('g_team', 'é'.repeat(60))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false });
    expect(socket.frames('send')).toEqual([]);
  });

  it('joins a repeated send of the same clientMsgId, refuses a different one', async () => {
    const { net, client } = setup();
    client.connect();
    const socket = welcome(net);
    const a = client.send('g_team', 'hi', 'c-1');
    const b = client.send('g_team', 'hi', 'c-1');
    await expect(client.send('g_team', 'other', 'c-1')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(client.pendingSends).toBe(1);
    socket.receive({ type: 'ack', clientMsgId: 'c-1', serverMsgId: 'm_1' });
    await expect(Promise.all([a, b])).resolves.toHaveLength(2);
  });

  it('keeps at most 64 sends in flight and sends the rest as acks come', () => {
    const { net, client } = setup();
    client.connect();
    const socket = welcome(net);
    for (let i = 0; i < 100; i++) void client.send('g_team', `m${i}`, `c-${i}`).catch(() => undefined);
    expect(socket.frames('send')).toHaveLength(64);
    for (let i = 0; i < 10; i++) socket.receive({ type: 'ack', clientMsgId: `c-${i}`, serverMsgId: `m_${i}` });
    expect(socket.frames('send').map((f) => f.clientMsgId)).toEqual(Array.from({ length: 74 }, (_, i) => `c-${i}`));
  });

  it('close() rejects pending sends with CLOSED (safe to resend) and later sends at once', async () => {
    const { net, client } = setup();
    client.connect();
    welcome(net);
    const sent = client.send('g_team', 'hi', 'c-1');
    await client.close();
    await expect(sent).rejects.toMatchObject({ code: 'CLOSED', retryable: true, clientMsgId: 'c-1' });
    await expect(client.send('g_team', 'hi')).rejects.toMatchObject({ code: 'CLOSED' });
    expect(net.last.closedByClient).toEqual({ code: 1000, reason: 'client closed' });
    expect(client.state).toBe('closed');
  });
});

describe('delivery', () => {
  it('detects a gap, sends exactly one sync, and emits in order without duplicates', () => {
    const { net, client, messages } = setup();
    client.connect();
    const socket = welcome(net);
    socket.receive(msgFrame('g', 1));
    socket.receive(msgFrame('g', 4));
    socket.receive(msgFrame('g', 6));
    socket.receive(msgFrame('g', 5));
    expect(seqsOf(messages)).toEqual([1]);
    const syncs = socket.frames('sync');
    expect(syncs).toEqual([{ type: 'sync', reqId: syncs[0]?.reqId, conversationId: 'g', afterSeq: 1, limit: 100 }]);
    socket.receive(msgFrame('g', 4)); // a retransmission of a buffered one
    socket.receive({ type: 'msgs', reqId: syncs[0]?.reqId, conversationId: 'g', messages: [2, 3, 4, 5, 6].map((s) => wire('g', s)), hasMore: false });
    socket.receive(msgFrame('g', 3));
    socket.receive(msgFrame('g', 7));
    expect(seqsOf(messages)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(client.position('g')).toBe(7);
    expect(socket.frames('sync')).toHaveLength(1);
  });

  it('pages a sync while hasMore, from the last seq received', () => {
    const { net, client, messages } = setup();
    client.connect();
    const socket = welcome(net);
    socket.receive(msgFrame('g', 5));
    const [first] = socket.take('sync');
    expect(first).toMatchObject({ afterSeq: 0 });
    socket.receive({ type: 'msgs', reqId: first?.reqId, conversationId: 'g', messages: [1, 2].map((s) => wire('g', s)), hasMore: true });
    const [second] = socket.take('sync');
    expect(second).toMatchObject({ conversationId: 'g', afterSeq: 2 });
    socket.receive({ type: 'msgs', reqId: second?.reqId, conversationId: 'g', messages: [3, 4, 5].map((s) => wire('g', s)), hasMore: false });
    expect(seqsOf(messages)).toEqual([1, 2, 3, 4, 5]);
    expect(socket.frames('sync')).toEqual([]);
  });

  it('retries a sync that failed with a retryable error; reports a non-retryable one', () => {
    const { net, client, messages, errors } = setup();
    client.connect();
    const socket = welcome(net);
    socket.receive(msgFrame('g', 3));
    const [sync] = socket.take('sync');
    socket.receive({ type: 'error', reqId: sync?.reqId, code: 'UNAVAILABLE', message: 'storage is unavailable: retry', retryable: true });
    expect(socket.frames('sync')).toEqual([]);
    jest.advanceTimersByTime(250);
    const [again] = socket.take('sync');
    expect(again).toMatchObject({ conversationId: 'g', afterSeq: 0 });
    socket.receive({ type: 'msgs', reqId: again?.reqId, conversationId: 'g', messages: [1, 2, 3].map((s) => wire('g', s)) });
    expect(seqsOf(messages)).toEqual([1, 2, 3]);
    socket.receive(msgFrame('h', 2));
    const [denied] = socket.take('sync');
    socket.receive({ type: 'error', reqId: denied?.reqId, code: 'PERMISSION_DENIED', message: 'not a member of this conversation', retryable: false });
    expect(errors.map((e) => [e.code, e.conversationId])).toEqual([['PERMISSION_DENIED', 'h']]);
  });

  it('sends a sync again when it got no answer for 30 s', () => {
    const { net, client } = setup({ idleTimeoutMs: 3_600_000 });
    client.connect();
    const socket = welcome(net);
    socket.receive(msgFrame('g', 2));
    expect(socket.take('sync')).toHaveLength(1);
    jest.advanceTimersByTime(30_000);
    expect(socket.frames('sync')).toEqual([]);
    jest.advanceTimersByTime(250); // then the retry backoff
    expect(socket.take('sync')).toMatchObject([{ conversationId: 'g', afterSeq: 0 }]);
  });

  it('starts after what the app tracks, and emits what the buffer continues', () => {
    const { net, client, messages } = setup();
    client.track('g', 10);
    client.connect();
    const socket = welcome(net);
    socket.receive(msgFrame('g', 10));
    socket.receive(msgFrame('g', 11));
    expect(seqsOf(messages)).toEqual([11]);
    socket.receive(msgFrame('g', 14));
    client.track('g', 13);
    expect(seqsOf(messages)).toEqual([11, 14]);
    expect(client.position('g')).toBe(14);
    expect(client.position('unknown')).toBe(0);
  });

  it('coalesces recv per conversation, and acks duplicates too', () => {
    const { net, client } = setup();
    client.connect();
    const socket = welcome(net);
    for (const s of [1, 2, 3]) socket.receive(msgFrame('g', s));
    socket.receive(msgFrame('h', 1));
    jest.advanceTimersByTime(499);
    expect(socket.frames('recv')).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(socket.take('recv')).toEqual([
      { type: 'recv', conversationId: 'g', seq: 3 },
      { type: 'recv', conversationId: 'h', seq: 1 },
    ]);
    socket.receive(msgFrame('g', 2)); // a retransmission: stop it
    socket.receive(msgFrame('g', 5)); // held behind a gap: no recv for it
    jest.advanceTimersByTime(500);
    expect(socket.take('recv')).toEqual([{ type: 'recv', conversationId: 'g', seq: 3 }]);
    jest.advanceTimersByTime(1000);
    expect(socket.frames('recv')).toEqual([]);
  });

  it('emits receipts and signals; sends read (kept until open) and signal (dropped unless open)', () => {
    const { net, client } = setup();
    const receipts: unknown[] = [];
    const signals: unknown[] = [];
    client.on('receipt', (r) => receipts.push(r));
    const off = client.on('signal', (s) => signals.push(s));
    client.read('g', 0);
    client.read('h', 0);
    client.read('g', 4);
    client.read('g', 7);
    client.read('g', 5);
    client.signal('g', 'typing');
    client.connect();
    const socket = welcome(net);
    expect(socket.frames('read')).toEqual([{ type: 'read', conversationId: 'g', seq: 7 }]);
    expect(socket.frames('signal')).toEqual([]);
    client.signal('g', 'typing', 'x');
    expect(socket.frames('signal')).toEqual([{ type: 'signal', conversationId: 'g', kind: 'typing', data: 'x' }]);
    socket.receive({ type: 'receipt', conversationId: 'g', userId: 'bob', deviceId: 'laptop', kind: 'read', seq: 42 });
    socket.receive({ type: 'sig', conversationId: 'g', senderId: 'bob', senderDeviceId: 'laptop', kind: 'typing', data: '', sentAt: 5 });
    off();
    socket.receive({ type: 'sig', conversationId: 'g', senderId: 'bob', senderDeviceId: 'laptop', kind: 'typing', sentAt: 6 });
    expect(receipts).toEqual([{ conversationId: 'g', userId: 'bob', deviceId: 'laptop', kind: 'read', seq: 42 }]);
    expect(signals).toEqual([{ conversationId: 'g', senderId: 'bob', senderDeviceId: 'laptop', kind: 'typing', data: '', sentAt: 5 }]);
  });

  it('reports a frame it cannot read and carries on', () => {
    const { net, client, errors, messages } = setup();
    client.connect();
    const socket = welcome(net);
    socket.receiveRaw('{not json');
    socket.receive({ type: 'msg', conversationId: 'g', seq: 0 });
    socket.receive({ type: 'from-the-future' });
    socket.receive(msgFrame('g', 1));
    expect(errors.map((e) => e.code)).toEqual(['PROTOCOL_ERROR', 'PROTOCOL_ERROR']);
    expect(seqsOf(messages)).toEqual([1]);
    expect(client.state).toBe('open');
  });

  it('an app listener that throws does not break delivery; the error is reported like an uncaught one', () => {
    const { net, client, messages } = setup();
    const reported: (() => void)[] = [];
    const spy = jest.spyOn(globalThis, 'queueMicrotask').mockImplementation((fn) => reported.push(fn));
    try {
      client.on('message', () => {
        throw new Error('app bug');
      });
      client.connect();
      const socket = welcome(net);
      socket.receive(msgFrame('g', 1));
      socket.receive(msgFrame('g', 2));
    } finally {
      spy.mockRestore();
    }
    expect(seqsOf(messages)).toEqual([1, 2]);
    expect(reported).toHaveLength(2);
    expect(reported[0]).toThrow('app bug');
  });
});

describe('catch-up', () => {
  it('after a reconnect, walks every convs page and syncs each conversation that moved past its position', () => {
    const { net, client, messages } = setup();
    client.track('a', 5);
    client.connect();
    welcome(net, [conv('a', 5)]);
    expect(net.last.frames('sync')).toEqual([]);
    net.last.serverClose(1001);
    jest.advanceTimersByTime(2500); // 0.5 * 5 s for "going away"
    const socket = net.last.welcome();
    const [page1] = socket.take('convs');
    expect(page1).toMatchObject({ limit: 100 });
    expect(page1?.afterConversationId).toBeUndefined();
    socket.receive({ type: 'convlist', reqId: page1?.reqId, conversations: [conv('a', 8), conv('b', 2)], hasMore: true });
    const [page2] = socket.take('convs');
    expect(page2).toMatchObject({ afterConversationId: 'b' });
    socket.receive({ type: 'convlist', reqId: page2?.reqId, conversations: [{ conversationId: 'c', kind: 'direct' }], hasMore: false });
    const syncs = socket.take('sync');
    expect(syncs.map((s) => [s.conversationId, s.afterSeq])).toEqual([
      ['a', 5],
      ['b', 0],
    ]);
    socket.receive({ type: 'msgs', reqId: syncs[1]?.reqId, conversationId: 'b', messages: [1, 2].map((s) => wire('b', s)) });
    socket.receive({ type: 'msgs', reqId: syncs[0]?.reqId, conversationId: 'a', messages: [6, 7, 8].map((s) => wire('a', s)) });
    expect(seqsOf(messages, 'a')).toEqual([6, 7, 8]);
    expect(seqsOf(messages, 'b')).toEqual([1, 2]);
    expect(socket.frames('sync')).toEqual([]);
  });

  it('falls back to syncing every known conversation when convs is refused', () => {
    const { net, client, errors } = setup();
    client.track('a', 3);
    client.track('b', 0);
    client.connect();
    const socket = net.last.welcome();
    const [convs] = socket.take('convs');
    socket.receive({ type: 'error', reqId: convs?.reqId, code: 'UNKNOWN_FRAME_TYPE', message: 'unknown frame type "convs"', retryable: false });
    expect(errors.map((e) => e.code)).toEqual(['UNKNOWN_FRAME_TYPE']);
    expect(socket.frames('sync').map((s) => [s.conversationId, s.afterSeq])).toEqual([
      ['a', 3],
      ['b', 0],
    ]);
  });

  it('conversations() returns all pages, waiting for a socket', async () => {
    const { net, client } = setup();
    const list = client.conversations();
    client.connect();
    const socket = net.last.welcome();
    const [catchup, page1] = socket.take('convs');
    socket.receive({ type: 'convlist', reqId: catchup?.reqId, conversations: [] });
    socket.receive({ type: 'convlist', reqId: page1?.reqId, conversations: [conv('a', 0)], hasMore: true });
    const [page2] = socket.take('convs');
    expect(page2).toMatchObject({ afterConversationId: 'a' });
    socket.receive({ type: 'convlist', reqId: page2?.reqId, conversations: [conv('b', 0)], hasMore: false });
    await expect(list).resolves.toEqual([conv('a', 0), conv('b', 0)]);
  });

  it('walks convs again every catchUpIntervalMs while open, and syncs what moved', () => {
    const { net, client, messages } = setup({ catchUpIntervalMs: 3000 });
    client.track('a', 2);
    client.connect();
    const socket = welcome(net, [conv('a', 2)]);
    jest.advanceTimersByTime(2999);
    expect(socket.frames('convs')).toEqual([]);
    jest.advanceTimersByTime(1);
    const [poll] = socket.take('convs');
    // A message whose live delivery was lost, in a conversation quiet since: only the poll finds it.
    socket.receive({ type: 'convlist', reqId: poll?.reqId, conversations: [conv('a', 3)] });
    const [sync] = socket.take('sync');
    expect(sync).toMatchObject({ conversationId: 'a', afterSeq: 2 });
    socket.receive({ type: 'msgs', reqId: sync?.reqId, conversationId: 'a', messages: [wire('a', 3)] });
    expect(seqsOf(messages)).toEqual([3]);
    jest.advanceTimersByTime(3000);
    expect(socket.take('convs')).toHaveLength(1);
    // Not two walks at once: an unanswered one is not doubled.
    jest.advanceTimersByTime(3000);
    expect(socket.take('convs')).toHaveLength(0);
  });

  it('limits concurrent syncs to 8 and runs the rest as they finish', () => {
    const { net, client } = setup();
    client.connect();
    const socket = net.last.welcome();
    const [convs] = socket.take('convs');
    const ids = Array.from({ length: 12 }, (_, i) => `g${String(i).padStart(2, '0')}`);
    socket.receive({ type: 'convlist', reqId: convs?.reqId, conversations: ids.map((id) => conv(id, 1)) });
    const first = socket.take('sync');
    expect(first).toHaveLength(8);
    for (const s of first.slice(0, 3)) socket.receive({ type: 'msgs', reqId: s.reqId, conversationId: s.conversationId, messages: [wire(String(s.conversationId), 1)] });
    expect(socket.take('sync').map((s) => s.conversationId)).toEqual(['g08', 'g09', 'g10']);
  });
});

describe('close codes and backoff', () => {
  it('4001 session replaced: closed, no reconnect, until connect() again', () => {
    const { net, client, errors, states } = setup();
    client.connect();
    welcome(net).serverClose(4001, 'replaced by a newer session of this device');
    expect(client.state).toBe('closed');
    expect(errors.map((e) => [e.code, e.retryable])).toEqual([['SESSION_REPLACED', false]]);
    jest.advanceTimersByTime(600_000);
    expect(net.sockets).toHaveLength(1);
    expect(states).toEqual(['connecting', 'open', 'closed']);
    client.connect();
    expect(net.sockets).toHaveLength(2);
  });

  it('4401 token expired: reconnects at once with a fresh token', () => {
    const { net, client, tokens } = setup();
    client.connect();
    welcome(net).serverClose(4401, 'token expired');
    expect(client.state).toBe('reconnecting');
    jest.advanceTimersByTime(0);
    expect(net.sockets).toHaveLength(2);
    expect(tokens).toHaveLength(2);
    expect(net.sockets[1]?.token).toBe(tokens[1]);
    expect(tokens[1]).not.toBe(tokens[0]);
  });

  it('4009 draining: reconnects to the next URL after the delay the server suggests, not the growing backoff', () => {
    const { net, client } = setup({ url: ['ws://c1.test/', 'ws://c2.test/'], backoff: { initialMs: 100, maxMs: 100_000 } });
    const hosts = () => net.sockets.map((s) => new URL(s.url).host);
    client.connect();
    // Build up the backoff first: three refused upgrades.
    for (let i = 0; i < 3; i++) {
      net.last.serverClose(1006);
      const before = net.sockets.length;
      for (let waited = 0; net.sockets.length === before && waited < 10_000; waited++) jest.advanceTimersByTime(1);
    }
    expect(net.sockets).toHaveLength(4); // the next backoff would be 0.5 * 800 ms
    welcome(net).serverClose(4009, 'draining: reconnect elsewhere; retry_after_ms=737');
    expect(client.state).toBe('reconnecting');
    jest.advanceTimersByTime(736);
    expect(net.sockets).toHaveLength(4);
    jest.advanceTimersByTime(1);
    expect(net.sockets).toHaveLength(5);
    expect(hosts()).toEqual(['c1.test', 'c2.test', 'c1.test', 'c2.test', 'c1.test']);
  });

  it('4009 draining: after the move, unacked sends go out again on the new socket with the same clientMsgId and a sync fills the gap', async () => {
    const { net, client, messages } = setup({ url: ['ws://c1.test/', 'ws://c2.test/'] });
    client.track('g', 1);
    client.connect();
    const first = welcome(net, [conv('g', 1)]);
    const sent = client.send('g', 'hello', 'k1');
    expect(first.take('send').map((f) => f.clientMsgId)).toEqual(['k1']);
    first.receive(msgFrame('g', 2));
    first.serverClose(4009, 'draining: reconnect elsewhere; retry_after_ms=0');
    jest.advanceTimersByTime(0);
    const second = net.last.welcome();
    expect(new URL(second.url).host).toBe('c2.test');
    expect(second.take('send').map((f) => f.clientMsgId)).toEqual(['k1']);
    const [convs] = second.take('convs');
    second.receive({ type: 'convlist', reqId: convs?.reqId, conversations: [conv('g', 4)], hasMore: false });
    const [sync] = second.take('sync');
    expect(sync).toMatchObject({ conversationId: 'g', afterSeq: 2 });
    second.receive({ type: 'msgs', reqId: sync?.reqId, conversationId: 'g', messages: [3, 4].map((n) => wire('g', n)) });
    second.receive({ type: 'ack', clientMsgId: 'k1', serverMsgId: 'm_g_4', seq: 4 });
    await expect(sent).resolves.toMatchObject({ serverMsgId: 'm_g_4', seq: 4 });
    expect(seqsOf(messages, 'g')).toEqual([2, 3, 4]);
  });

  it('4009 draining without a usable suggestion: a random delay below 1 s', () => {
    expect(drainDelay('draining: reconnect elsewhere; retry_after_ms=250', () => 0.9)).toBe(250);
    expect(drainDelay('retry_after_ms=99999999', () => 0.9)).toBe(30_000);
    expect(drainDelay('', () => 0.5)).toBe(500);
    expect(drainDelay(undefined, () => 0.999)).toBe(999);
    expect(drainDelay('retry_after_ms=-5', () => 0)).toBe(0);
    expect(drainDelay('retry_after_ms=12abc', () => 0.25)).toBe(250);
  });

  it('1009 and the rest: reconnect with backoff', () => {
    const { net, client } = setup();
    client.connect();
    welcome(net).serverClose(1009, 'frame too big');
    jest.advanceTimersByTime(249);
    expect(net.sockets).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(net.sockets).toHaveLength(2);
  });

  it('backoff doubles with full jitter up to maxMs, and resets after a socket stayed open 60 s', () => {
    let r = 0.999;
    const { net, client } = setup({ backoff: { initialMs: 100, maxMs: 1000 }, random: () => r });
    client.connect();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      net.last.serverClose(1006); // an upgrade refused or a dead network: never welcomed
      const before = net.sockets.length;
      let waited = 0;
      while (net.sockets.length === before) {
        jest.advanceTimersByTime(1);
        waited++;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([99, 199, 399, 799, 999, 999, 999]);
    // Same attempt count, other random draw: the delay scales with it (full jitter).
    r = 0.25;
    net.last.serverClose(1006);
    jest.advanceTimersByTime(249);
    expect(net.sockets).toHaveLength(8);
    jest.advanceTimersByTime(1);
    expect(net.sockets).toHaveLength(9);
    // Open for a minute, then lost: back to the first step.
    r = 0.999;
    welcome(net);
    jest.advanceTimersByTime(60_000);
    net.last.serverClose(1011);
    jest.advanceTimersByTime(98);
    expect(net.sockets).toHaveLength(9);
    jest.advanceTimersByTime(1);
    expect(net.sockets).toHaveLength(10);
  });

  it('reconnects with a fresh token 60 s before exp', () => {
    const { net, client, tokens } = setup({ ttlSec: 600, idleTimeoutMs: 3_600_000 });
    client.connect();
    const first = welcome(net);
    jest.advanceTimersByTime(539_999);
    expect(net.sockets).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(first.closedByClient).toEqual({ code: 1000, reason: 'token refresh' });
    jest.advanceTimersByTime(1); // a 0 ms timer set inside a timer runs 1 ms later under fake timers
    expect(net.sockets).toHaveLength(2);
    expect(net.last.token).toBe(tokens[1]);
  });

  it('refreshes a short-lived token halfway', () => {
    const { net, client } = setup({ ttlSec: 100, idleTimeoutMs: 3_600_000 });
    client.connect();
    welcome(net);
    jest.advanceTimersByTime(49_999);
    expect(net.sockets).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(net.last.closedByClient).toEqual({ code: 1000, reason: 'token refresh' });
    jest.advanceTimersByTime(1);
    expect(net.sockets).toHaveLength(2);
  });

  it('probes an idle socket at 45 s and replaces it when nothing at all came for 75 s', () => {
    const { net, client } = setup();
    client.connect();
    const socket = welcome(net);
    jest.advanceTimersByTime(40_000);
    socket.ping(); // ws exposes pings: they count
    jest.advanceTimersByTime(44_999);
    expect(socket.frames('ping')).toEqual([]);
    jest.advanceTimersByTime(1);
    const [probe] = socket.take('ping');
    expect(typeof probe?.reqId).toBe('string');
    socket.receive({ type: 'pong', reqId: probe?.reqId, serverTime: 1 });
    jest.advanceTimersByTime(74_999);
    expect(socket.closedByClient).toBeUndefined();
    jest.advanceTimersByTime(1);
    expect(socket.closedByClient).toEqual({ code: 1000, reason: 'no traffic' });
    expect(client.state).toBe('reconnecting');
    jest.advanceTimersByTime(250);
    expect(net.sockets).toHaveLength(2);
  });
});
