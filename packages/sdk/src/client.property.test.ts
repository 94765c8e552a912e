// The client's promise, end to end over a fake socket: whatever the server does within the
// protocol (live msg frames in any order with duplicates, sync pages of any size answered in
// any order, convs pages, sockets dropped and replaced), every conversation comes out as
// 1..n, once each, in order; interleaving conversations changes nothing.
import fc from 'fast-check';
import { ParleyClient } from './client';
import { FakeNetwork, type FakeWebSocket, type SentFrame } from './fake-websocket';

type Step = { kind: 'live'; conv: number; seq: number } | { kind: 'answer'; pick: number; size: number } | { kind: 'drop' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('live' as const), conv: fc.nat(), seq: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('answer' as const), pick: fc.nat(), size: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'drop' as const }) },
);

function wire(conversationId: string, seq: number): Record<string, unknown> {
  return { conversationId, seq, serverMsgId: `m_${conversationId}_${seq}`, senderId: 'bob', senderDeviceId: 'laptop', clientMsgId: `b${seq}`, body: `#${seq}`, sentAt: seq };
}

/** Plays the server: remembers the requests of the current socket and answers them truthfully. */
class FakeServer {
  pending: SentFrame[] = [];
  private seen = 0;

  constructor(
    private readonly net: FakeNetwork,
    private readonly logs: ReadonlyMap<string, number>,
    private readonly convsPage: number,
  ) {}

  get socket(): FakeWebSocket {
    return this.net.last;
  }

  /** Collects what the client sent since the last look. */
  harvest(): void {
    const frames = this.socket.frames();
    for (const f of frames.slice(this.seen)) if (f.type === 'sync' || f.type === 'convs') this.pending.push(f);
    this.seen = frames.length;
  }

  reconnect(): void {
    this.socket.serverClose(1006);
    this.pending = [];
    this.seen = 0;
    jest.advanceTimersByTime(1); // random() = 0: the backoff is 0 ms
    this.socket.welcome();
    this.harvest();
  }

  answer(index: number, size: number): void {
    const [req] = this.pending.splice(index % this.pending.length, 1);
    if (!req) return;
    if (req.type === 'sync') {
      const conversationId = String(req.conversationId);
      const n = this.logs.get(conversationId) ?? 0;
      const from = Number(req.afterSeq) + 1;
      const to = Math.min(n, from + size - 1);
      const messages = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => wire(conversationId, from + i));
      this.socket.receive({ type: 'msgs', reqId: req.reqId, conversationId, messages, hasMore: to < n });
    } else {
      const ids = [...this.logs.keys()].sort().filter((id) => !req.afterConversationId || id > String(req.afterConversationId));
      const page = ids.slice(0, this.convsPage);
      this.socket.receive({
        type: 'convlist',
        reqId: req.reqId,
        conversations: page.map((id) => ({ conversationId: id, kind: 'group', lastSeq: this.logs.get(id) ?? 0, memberCount: 2 })),
        hasMore: ids.length > page.length,
      });
    }
    this.harvest();
  }
}

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'], now: 1_764_100_000_000 });
});

afterEach(() => {
  jest.useRealTimers();
});

it('every conversation is delivered as 1..n exactly once, in order, whatever the server interleaves', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }), fc.array(step, { maxLength: 120 }), fc.integer({ min: 1, max: 3 }), async (sizes, steps, convsPage) => {
      jest.clearAllTimers(); // a failed run (while shrinking) may have left its client behind
      const logs = new Map(sizes.map((n, i) => [`g${i}`, n]));
      const net = new FakeNetwork();
      const client = new ParleyClient({ url: 'ws://parley.test/', token: () => 't', deviceId: 'd1', WebSocket: net.WebSocket, random: () => 0, idleTimeoutMs: 86_400_000 });
      const out = new Map<string, number[]>();
      client.on('message', (m) => out.set(m.conversationId, [...(out.get(m.conversationId) ?? []), m.seq]));
      const server = new FakeServer(net, logs, convsPage);
      client.connect();
      server.socket.welcome();
      server.harvest();
      for (const s of steps) {
        if (s.kind === 'live') {
          const conversationId = `g${s.conv % sizes.length}`;
          const n = logs.get(conversationId) ?? 1;
          server.socket.receive({ type: 'msg', ...wire(conversationId, 1 + (s.seq % n)) });
          server.harvest();
        } else if (s.kind === 'answer') {
          server.answer(s.pick, s.size);
        } else {
          server.reconnect();
        }
      }
      // Let the server answer everything still asked (and any retry the client plans).
      for (let rounds = 0; rounds < 10_000; rounds++) {
        if (server.pending.length > 0) server.answer(0, 4);
        else if ([...logs].some(([id, n]) => client.position(id) < n)) {
          jest.advanceTimersByTime(31_000);
          server.harvest();
        } else break;
      }
      for (const [id, n] of logs) {
        expect(out.get(id) ?? []).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect(client.position(id)).toBe(n);
      }
      await client.close();
      expect(jest.getTimerCount()).toBe(0);
    }),
    { numRuns: 200 },
  );
});
