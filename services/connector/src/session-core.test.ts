// The session core's per-session delivery rules, on fake transports: QoS 0 dropped first when a
// session falls behind, 4008 for one too far behind, QoS 1 retransmission until a recv.
import { ParleyError, createLogger, type TokenClaims } from '@parley/core';
import { MemorySessionDirectory } from '@parley/sessions';
import type { DeliverRequest__Output, StoredMessage } from '@parley/proto';
import { SessionCore, type PositionReport, type SessionMetrics, type Upstream } from './session-core';
import type { SendBatch, SendManyAnswer } from './send-many';
import type { Transport } from './transport';

class FakeTransport implements Transport {
  open = true;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  closed: { code: number; reason: string } | undefined;
  get bufferedBytes(): number {
    return this.bufferedAmount;
  }
  write(frame: string): void {
    this.sent.push(frame);
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
    this.open = false;
  }
  terminated = false;
  pings = 0;
  terminate(): void {
    this.terminated = true;
    this.open = false;
  }
  probe(): void {
    this.pings++;
  }
  frames(type: string): Record<string, unknown>[] {
    return this.sent.map((f) => JSON.parse(f) as Record<string, unknown>).filter((f) => f['type'] === type);
  }
}

const MAX_BUFFERED = 1_000_000;

function setup(upstream: Partial<Upstream> = {}, verify: (token: string) => Promise<TokenClaims> = () => Promise.reject(new Error('not used')), connectionSendLimit = { ratePerSec: 1_000, burst: 1_000 }) {
  const counts = { retransmitted: 0, abandoned: 0, qos0Dropped: 0, delivered: 0 };
  const metrics: SessionMetrics = {
    connections: () => {},
    frameIn: () => {},
    frameError: () => {},
    delivered: (n) => (counts.delivered += n),
    retransmitted: (n) => (counts.retransmitted += n),
    abandoned: (n) => (counts.abandoned += n),
    qos0Dropped: (n) => (counts.qos0Dropped += n),
  };
  const gateway = new SessionCore(
    {
      connectorId: 'c1',
      advertiseAddr: '127.0.0.1:7000',
      maxFrameBytes: 65_536,
      maxConnections: 10,
      maxDevicesPerUser: 20,
      maxInflightPerSocket: 10,
      connectionSendLimit,
      maxBufferedBytes: MAX_BUFFERED,
      heartbeatIntervalMs: 60_000,
      sessionTtlMs: 60_000,
      retransmitBaseMs: 1_000,
      retransmitAttempts: 2,
      maxUnackedPerSocket: 3,
      receiptFlushMs: 1_000,
      drainWindowMs: 0,
    },
    verify,
    new MemorySessionDirectory(),
    upstream as Upstream,
    createLogger('connector-test', 'c1', 'silent'),
    metrics,
  );
  const connect = (userId: string, deviceId: string, ackMode: boolean) => {
    const socket = new FakeTransport();
    gateway.sessions.add({
      userId,
      deviceId,
      sessionId: `s-${userId}-${deviceId}`,
      transport: socket,
      connectedAt: 0,
      inflight: 0,
      alive: true,
      bufferedAtBeat: 0,
      ...({ ackMode, unacked: undefined, unackedCount: 0, pendingPositions: undefined, sendQueues: undefined, tokenExpiresAt: Number.MAX_SAFE_INTEGER } as object),
    });
    return socket;
  };
  const internals = gateway as unknown as {
    retransmit(): void;
    heartbeat(): void;
    flushPositions(): void;
    notePosition(s: unknown, c: string, k: 'delivered' | 'read', seq: number): void;
    onFrame(s: unknown, text: string): void;
  };
  return { gateway, connect, counts, internals };
}

const message = (seq: number, conversationId = 'g_1'): StoredMessage => ({ serverMsgId: `m${seq}`, conversationId, seq, senderId: 'a', senderDeviceId: 'd', clientMsgId: `c${seq}`, body: 'hi', sentAt: 1 });
const target = (userId: string, deviceId: string) => ({ userId, deviceId });
/** A Deliver request as grpc-js hands it over (absent payloads are null). */
const request = (deliveries: object[]): DeliverRequest__Output => ({ deliveries: deliveries.map((d) => ({ message: null, receipt: null, signal: null, ...d })) }) as unknown as DeliverRequest__Output;

describe('SessionCore delivery', () => {
  it('skips QoS 0 frames on a socket past a quarter of its buffer limit, while messages still go', () => {
    const { gateway, connect, counts } = setup();
    const slow = connect('bob', 'phone', false);
    slow.bufferedAmount = MAX_BUFFERED / 4 + 1;
    const result = gateway.deliver(request([
        { targets: [target('bob', 'phone')], receipt: { conversationId: 'g_1', userId: 'alice', deviceId: 'd', kind: 'read', seq: 3, at: 1 } },
        { targets: [target('bob', 'phone')], signal: { conversationId: 'g_1', senderId: 'alice', senderDeviceId: 'd', kind: 'typing', data: '', sentAt: 1, memberIds: [] } },
        { targets: [target('bob', 'phone')], message: message(1) },
      ]));
    expect(slow.frames('receipt')).toEqual([]);
    expect(slow.frames('sig')).toEqual([]);
    expect(slow.frames('msg')).toHaveLength(1);
    expect(counts.qos0Dropped).toBe(2);
    expect(result.written).toBe(1);
  });

  it('closes a socket past its buffer limit with 4008 and reports its device as missing', () => {
    const { gateway, connect } = setup();
    const stuck = connect('bob', 'phone', false);
    const fine = connect('bob', 'laptop', false);
    stuck.bufferedAmount = MAX_BUFFERED + 1;
    const result = gateway.deliver(request([{ targets: [target('bob', 'phone'), target('bob', 'laptop')], message: message(1) }]));
    expect(stuck.closed?.code).toBe(4008);
    expect(stuck.sent).toEqual([]);
    expect(fine.frames('msg')).toHaveLength(1);
    expect(result.missing).toEqual([target('bob', 'phone')]);
  });

  it('counts the frame about to be written: a socket the frame would take past its limit is closed, not written to', () => {
    const { gateway, connect } = setup();
    const nearly = connect('bob', 'phone', false);
    const frameBytes = Buffer.byteLength(JSON.stringify({ type: 'msg', ...message(1) }));
    nearly.bufferedAmount = MAX_BUFFERED - Math.floor(frameBytes / 2);
    const result = gateway.deliver(request([{ targets: [target('bob', 'phone')], message: message(1) }]));
    expect(nearly.sent).toEqual([]);
    expect(nearly.closed?.code).toBe(4008);
    expect(result.missing).toEqual([target('bob', 'phone')]);
  });

  it('terminates, at a heartbeat, a socket whose queued bytes did not drain since the last one, even with nothing new written', () => {
    const { gateway, connect, internals } = setup();
    const stalled = connect('bob', 'phone', false);
    const draining = connect('bob', 'laptop', false);
    const idle = connect('carol', 'phone', false);
    stalled.bufferedAmount = 500_000;
    draining.bufferedAmount = 500_000;
    internals.heartbeat();
    expect([stalled.terminated, draining.terminated, idle.terminated]).toEqual([false, false, false]);
    // Each answers its ping; only one reads what was queued.
    for (const [u, d] of [['bob', 'phone'], ['bob', 'laptop'], ['carol', 'phone']] as const) gateway.sessions.get(u, d)!.alive = true;
    draining.bufferedAmount = 100_000;
    internals.heartbeat();
    expect(stalled.terminated).toBe(true);
    expect(draining.terminated).toBe(false);
    expect(idle.terminated).toBe(false);
    expect(idle.pings).toBe(2);
  });

  it('retransmits unacked messages on ack=1 sockets with backoff, stops at a recv, and forgets after the last attempt', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const { gateway, connect, counts, internals } = setup();
      const acking = connect('bob', 'phone', true);
      const plain = connect('bob', 'laptop', false);
      gateway.deliver(request([{ targets: [target('bob', 'phone'), target('bob', 'laptop')], message: message(1) }, { targets: [target('bob', 'phone'), target('bob', 'laptop')], message: message(2) }]));
      jest.setSystemTime(1_000_000 + 1_000);
      internals.retransmit();
      expect(acking.frames('msg').map((m) => m['seq'])).toEqual([1, 2, 1, 2]);
      expect(plain.frames('msg').map((m) => m['seq'])).toEqual([1, 2]);
      // recv 1 covers seq 1 only.
      const session = gateway.sessions.get('bob', 'phone');
      internals.notePosition(session, 'g_1', 'delivered', 1);
      jest.setSystemTime(1_000_000 + 3_000); // second resend is due 2 s after the first
      internals.retransmit();
      expect(acking.frames('msg').map((m) => m['seq'])).toEqual([1, 2, 1, 2, 2]);
      jest.setSystemTime(1_000_000 + 10_000);
      internals.retransmit(); // two resends done: seq 2 is left to sync
      expect(acking.frames('msg')).toHaveLength(5);
      expect(counts).toMatchObject({ retransmitted: 3, abandoned: 1 });
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps at most maxUnackedPerSocket messages, forgetting the oldest', () => {
    const { gateway, connect, counts } = setup();
    connect('bob', 'phone', true);
    gateway.deliver(request([1, 2, 3, 4, 5].map((seq) => ({ targets: [target('bob', 'phone')], message: message(seq) }))));
    const session = gateway.sessions.get('bob', 'phone') as unknown as { unackedCount: number; unacked: Map<string, { seq: number }[]> };
    expect(session.unackedCount).toBe(3);
    expect(session.unacked.get('g_1')!.map((u) => u.seq)).toEqual([3, 4, 5]);
    expect(counts.abandoned).toBe(2);
  });

  it('holds no per-conversation state for a socket with nothing outstanding: what a burst needed is freed once acked and flushed', async () => {
    const { gateway, connect, internals } = setup({ receipts: async (r) => ({ results: r.map(() => ({ errorCode: '', errorMessage: '', retryable: false })) }) });
    connect('bob', 'phone', true);
    const session = gateway.sessions.get('bob', 'phone') as unknown as { unackedCount: number; unacked?: Map<string, unknown>; pendingPositions?: Map<string, unknown> };
    gateway.deliver(request([{ targets: [target('bob', 'phone')], message: message(1) }, { targets: [target('bob', 'phone')], message: message(1, 'g_2') }]));
    expect(session.unacked?.size).toBe(2);
    internals.notePosition(session, 'g_1', 'delivered', 1);
    expect(session.unacked?.size).toBe(1);
    internals.notePosition(session, 'g_2', 'delivered', 1);
    expect(session.unackedCount).toBe(0);
    expect(session.unacked).toBeUndefined();
    expect(session.pendingPositions?.size).toBe(2);
    internals.flushPositions();
    await new Promise((resolve) => setImmediate(resolve));
    expect(session.pendingPositions).toBeUndefined();
  });
});

describe('SessionCore: rate limits on sends', () => {
  const sendFrame = (clientMsgId: string) => JSON.stringify({ type: 'send', clientMsgId, conversationId: 'g_1', body: 'hi' });
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('refuses a connection past its own rate with RESOURCE_EXHAUSTED and retryAfterMs, before any router call', async () => {
    const batches: SendBatch[] = [];
    const sendMany = async (b: SendBatch[]): Promise<SendManyAnswer> => {
      batches.push(...b);
      return { results: b.map((x) => ({ response: { results: x.items.map((i) => ({ clientMsgId: i.clientMsgId, serverMsgId: `m-${i.clientMsgId}`, sentAt: 1, errorCode: '', errorMessage: '', retryable: false, retryAfterMs: 0 })) }, errorCode: '', errorMessage: '', retryable: false })) };
    };
    const { connect, internals, gateway } = setup({ sendMany }, undefined, { ratePerSec: 2, burst: 3 });
    const socket = connect('alice', 'phone', false);
    const other = connect('alice', 'laptop', false);
    const session = gateway.sessions.get('alice', 'phone');
    for (let i = 1; i <= 5; i++) internals.onFrame(session, sendFrame(`c${i}`));
    internals.onFrame(gateway.sessions.get('alice', 'laptop'), sendFrame('l1'));
    await settle();
    await settle();
    expect(socket.frames('ack').map((f) => f['clientMsgId'])).toEqual(['c1', 'c2', 'c3']);
    const errors = socket.frames('error');
    expect(errors.map((f) => [f['clientMsgId'], f['code'], f['retryable']])).toEqual([
      ['c4', 'RESOURCE_EXHAUSTED', true],
      ['c5', 'RESOURCE_EXHAUSTED', true],
    ]);
    expect(errors.every((f) => typeof f['retryAfterMs'] === 'number' && f['retryAfterMs'] > 0 && f['retryAfterMs'] <= 500)).toBe(true);
    // Another connection of the same user has a bucket of its own; refused sends never left.
    expect(other.frames('ack').map((f) => f['clientMsgId'])).toEqual(['l1']);
    expect(batches.flatMap((b) => b.items.map((i) => i.clientMsgId)).sort()).toEqual(['c1', 'c2', 'c3', 'l1']);
  });

  it('passes the router\'s retryAfterMs on to the device, per message', async () => {
    const sendMany = async (b: SendBatch[]): Promise<SendManyAnswer> => ({
      results: b.map((x) => ({
        response: { results: x.items.map((i) => ({ clientMsgId: i.clientMsgId, serverMsgId: '', sentAt: 0, errorCode: 'RESOURCE_EXHAUSTED', errorMessage: 'sending too fast; slow down and retry', retryable: true, retryAfterMs: 750 })) },
        errorCode: '',
        errorMessage: '',
        retryable: false,
      })),
    });
    const { connect, internals, gateway } = setup({ sendMany });
    const socket = connect('alice', 'phone', false);
    internals.onFrame(gateway.sessions.get('alice', 'phone'), sendFrame('c1'));
    await settle();
    await settle();
    expect(socket.frames('error')).toEqual([{ type: 'error', clientMsgId: 'c1', code: 'RESOURCE_EXHAUSTED', message: 'sending too fast; slow down and retry', retryable: true, retryAfterMs: 750 }]);
  });
});

describe('SessionCore: positions go on to the router in batches', () => {
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('sends the positions of every socket in one Router.ReceiptBatch per flush, a read covering its delivered', async () => {
    const calls: PositionReport[][] = [];
    const { gateway, connect, internals } = setup({ receipts: async (r) => (calls.push(r), { results: r.map(() => ({ errorCode: '', errorMessage: '', retryable: false })) }) });
    connect('bob', 'phone', false);
    connect('carol', 'laptop', false);
    internals.notePosition(gateway.sessions.get('bob', 'phone'), 'g_1', 'delivered', 4);
    internals.notePosition(gateway.sessions.get('bob', 'phone'), 'g_1', 'read', 4);
    internals.notePosition(gateway.sessions.get('bob', 'phone'), 'g_2', 'delivered', 2);
    internals.notePosition(gateway.sessions.get('carol', 'laptop'), 'g_1', 'delivered', 3);
    internals.notePosition(gateway.sessions.get('carol', 'laptop'), 'g_1', 'read', 1);
    internals.flushPositions();
    await settle();
    expect(calls).toEqual([
      [
        { userId: 'bob', deviceId: 'phone', conversationId: 'g_1', kind: 'read', seq: 4 },
        { userId: 'bob', deviceId: 'phone', conversationId: 'g_2', kind: 'delivered', seq: 2 },
        { userId: 'carol', deviceId: 'laptop', conversationId: 'g_1', kind: 'read', seq: 1 },
        { userId: 'carol', deviceId: 'laptop', conversationId: 'g_1', kind: 'delivered', seq: 3 },
      ],
    ]);
    internals.flushPositions();
    await settle();
    expect(calls).toHaveLength(1); // nothing new: no call
  });

  it('still sends the positions a socket reported before it closed', async () => {
    const calls: PositionReport[][] = [];
    const { gateway, connect, internals } = setup({ receipts: async (r) => (calls.push(r), { results: r.map(() => ({ errorCode: '', errorMessage: '', retryable: false })) }) });
    connect('bob', 'phone', false);
    const session = gateway.sessions.get('bob', 'phone')!;
    internals.notePosition(session, 'g_1', 'read', 7);
    gateway.sessions.remove(session); // the socket went away before the flush
    internals.flushPositions();
    await settle();
    expect(calls).toEqual([[{ userId: 'bob', deviceId: 'phone', conversationId: 'g_1', kind: 'read', seq: 7 }]]);
  });

  it('keeps a position refused as retryable (or a failed call) for the next flush, and tells the socket of a read refused for good', async () => {
    const answers: (() => Promise<{ results: { errorCode: string; errorMessage: string; retryable: boolean }[] }>)[] = [
      async () => ({ results: [{ errorCode: 'UNAVAILABLE', errorMessage: 'busy', retryable: true }, { errorCode: 'PERMISSION_DENIED', errorMessage: 'not a member of this conversation', retryable: false }] }),
      async () => {
        throw new ParleyError('DEADLINE_EXCEEDED', 'slow');
      },
      async () => ({ results: [{ errorCode: '', errorMessage: '', retryable: false }] }),
    ];
    const calls: PositionReport[][] = [];
    const { gateway, connect, internals } = setup({ receipts: (r) => (calls.push(r), answers.shift()!()) });
    const socket = connect('bob', 'phone', false);
    internals.notePosition(gateway.sessions.get('bob', 'phone'), 'g_1', 'delivered', 4);
    internals.notePosition(gateway.sessions.get('bob', 'phone'), 'g_x', 'read', 2);
    for (let i = 0; i < 3; i++) {
      internals.flushPositions();
      await settle();
    }
    expect(calls.map((c) => c.map((r) => `${r.conversationId}:${r.kind}:${r.seq}`))).toEqual([['g_1:delivered:4', 'g_x:read:2'], ['g_1:delivered:4'], ['g_1:delivered:4']]);
    expect(socket.frames('error')).toEqual([{ type: 'error', code: 'PERMISSION_DENIED', message: 'not a member of this conversation', retryable: false }]);
  });
});

describe('SessionCore: a fresh token on a live socket', () => {
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('moves the socket\'s expiry to the new token of the same user and device; refuses another user\'s, another device\'s or a bad one', async () => {
    const exp = Math.floor(Date.now() / 1000) + 7200;
    const tokens: Record<string, TokenClaims> = {
      renewed: { sub: 'bob', did: 'phone', exp },
      unbound: { sub: 'bob', exp: exp + 1 },
      mallory: { sub: 'mallory', exp },
      tablet: { sub: 'bob', did: 'tablet', exp },
    };
    const verify = async (token: string) => tokens[token] ?? Promise.reject(new ParleyError('UNAUTHENTICATED', 'bad token signature'));
    const { gateway, connect, internals } = setup({}, verify);
    const socket = connect('bob', 'phone', false);
    const session = gateway.sessions.get('bob', 'phone') as unknown as { tokenExpiresAt: number };
    session.tokenExpiresAt = Date.now() + 1_000;
    for (const token of ['mallory', 'tablet', 'forged']) internals.onFrame(session, JSON.stringify({ type: 'auth', reqId: token, token }));
    await settle();
    expect(socket.frames('error').map((f) => [f['reqId'], f['code'], f['message']])).toEqual([
      ['mallory', 'UNAUTHENTICATED', 'the new token names another user'],
      ['tablet', 'UNAUTHENTICATED', 'the new token is bound to another device'],
      ['forged', 'UNAUTHENTICATED', 'bad token signature'],
    ]);
    expect(session.tokenExpiresAt).toBeLessThan(Date.now() + 2_000);
    internals.onFrame(session, JSON.stringify({ type: 'auth', reqId: 'r1', token: 'renewed' }));
    await settle();
    expect(socket.frames('authed')).toEqual([{ type: 'authed', reqId: 'r1', expiresAt: exp }]);
    expect(session.tokenExpiresAt).toBe(exp * 1000);
    internals.onFrame(session, JSON.stringify({ type: 'auth', token: 'unbound' }));
    await settle();
    expect(session.tokenExpiresAt).toBe((exp + 1) * 1000);
    // The heartbeat no longer closes it with 4401.
    internals.heartbeat();
    expect(socket.closed).toBeUndefined();
  });
});
