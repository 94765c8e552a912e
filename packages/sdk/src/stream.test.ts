import fc from 'fast-check';
import { ConversationStream } from './stream';
import type { ParleyMessage } from './types';

function msg(conversationId: string, seq: number): ParleyMessage {
  return { conversationId, seq, serverMsgId: `m_${conversationId}_${seq}`, senderId: 'bob', senderDeviceId: 'laptop', clientMsgId: `c${seq}`, body: `#${seq}`, sentAt: seq };
}
const seqs = (ms: readonly ParleyMessage[]) => ms.map((m) => m.seq);

describe('ConversationStream', () => {
  it('emits in order, buffers ahead of a gap, drops duplicates', () => {
    const s = new ConversationStream('g');
    expect(seqs(s.offer(msg('g', 1)))).toEqual([1]);
    expect(seqs(s.offer(msg('g', 3)))).toEqual([]);
    expect(s.hasGap).toBe(true);
    expect(s.buffered).toBe(1);
    expect(seqs(s.offer(msg('g', 3)))).toEqual([]);
    expect(s.buffered).toBe(1);
    expect(seqs(s.offer(msg('g', 1)))).toEqual([]);
    expect(seqs(s.offer(msg('g', 2)))).toEqual([2, 3]);
    expect(s.position).toBe(3);
    expect(s.hasGap).toBe(false);
  });

  it('knows a gap from convlist alone', () => {
    const s = new ConversationStream('g', 5);
    s.noteLastSeq(4);
    expect(s.hasGap).toBe(false);
    s.noteLastSeq(8);
    expect(s.hasGap).toBe(true);
    expect(seqs(s.offerAll([6, 7, 8].map((n) => msg('g', n))))).toEqual([6, 7, 8]);
    expect(s.hasGap).toBe(false);
  });

  it('advanceTo skips what the app holds and continues from the buffer, never backwards', () => {
    const s = new ConversationStream('g');
    s.offer(msg('g', 4));
    s.offer(msg('g', 6));
    s.offer(msg('g', 7));
    expect(seqs(s.advanceTo(5))).toEqual([6, 7]);
    expect(s.position).toBe(7);
    expect(s.buffered).toBe(0);
    expect(s.advanceTo(3)).toEqual([]);
    expect(s.position).toBe(7);
  });

  it('holds at most maxBuffered messages and still remembers they exist', () => {
    const s = new ConversationStream('g', 0, 2);
    s.offer(msg('g', 3));
    s.offer(msg('g', 4));
    s.offer(msg('g', 5));
    expect(s.buffered).toBe(2);
    expect(s.lastKnownSeq).toBe(5);
    expect(seqs(s.offerAll([1, 2].map((n) => msg('g', n))))).toEqual([1, 2, 3, 4]);
    expect(s.hasGap).toBe(true);
  });

  it('refuses a message of another conversation', () => {
    expect(() => new ConversationStream('g').offer(msg('h', 1))).toThrow(/offered to g/);
  });
});

/**
 * A delivery schedule for one conversation of n messages: every seq 1..n at least once (a
 * permutation plus arbitrary duplicates), cut into chunks; each chunk arrives as live `msg`
 * frames one by one, or as one `msgs` sync page (sorted, as the server sends pages).
 */
const schedule = (maxN: number) =>
  fc.integer({ min: 1, max: maxN }).chain((n) =>
    fc
      .tuple(
        fc.shuffledSubarray(
          Array.from({ length: n }, (_, i) => i + 1),
          { minLength: n, maxLength: n },
        ),
        fc.array(fc.integer({ min: 1, max: n }), { maxLength: n }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 * n }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 3 * n }),
      )
      .chain(([perm, dups, cuts, pageFlags]) =>
        fc.shuffledSubarray([...perm, ...dups], { minLength: perm.length + dups.length, maxLength: perm.length + dups.length }).map((order) => {
          const chunks: { page: boolean; seqs: number[] }[] = [];
          for (let at = 0, i = 0; at < order.length; i++) {
            const size = cuts[i % cuts.length] ?? 1;
            const page = pageFlags[i % pageFlags.length] ?? false;
            const part = order.slice(at, at + size);
            chunks.push({ page, seqs: page ? [...part].sort((a, b) => a - b) : part });
            at += size;
          }
          return { n, chunks };
        }),
      ),
  );

function play(stream: ConversationStream, chunk: { page: boolean; seqs: number[] }): number[] {
  const ms = chunk.seqs.map((s) => msg(stream.conversationId, s));
  return chunk.page ? seqs(stream.offerAll(ms)) : ms.flatMap((m) => seqs(stream.offer(m)));
}

describe('ConversationStream properties', () => {
  it('any permutation of 1..n with duplicates, split between msg frames and msgs pages, comes out as 1..n once each', () => {
    fc.assert(
      fc.property(schedule(60), ({ n, chunks }) => {
        const stream = new ConversationStream('g');
        const out = chunks.flatMap((c) => play(stream, c));
        expect(out).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect(stream.position).toBe(n);
        expect(stream.buffered).toBe(0);
        expect(stream.hasGap).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('never emits a duplicate or out of order even when seqs are missing, and position is the emitted prefix', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 80 }), (arrivals) => {
        const stream = new ConversationStream('g');
        const out = arrivals.flatMap((s) => seqs(stream.offer(msg('g', s))));
        expect(out).toEqual(Array.from({ length: out.length }, (_, i) => i + 1));
        expect(stream.position).toBe(out.length);
        expect(stream.hasGap).toBe(Math.max(0, ...arrivals) > out.length);
      }),
      { numRuns: 300 },
    );
  });

  it('interleaving several conversations does not change any one of them', () => {
    fc.assert(
      fc.property(
        fc.array(schedule(25), { minLength: 2, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 200 }),
        (schedules, picks) => {
          const ids = schedules.map((_, i) => `g${i}`);
          // Alone: each conversation by itself, one output batch per chunk.
          const alone = schedules.map((s, i) => {
            const stream = new ConversationStream(ids[i] ?? '');
            return s.chunks.map((c) => play(stream, c));
          });
          // Together: one map of streams, chunks of all conversations interleaved by `picks`.
          const streams = new Map(ids.map((id) => [id, new ConversationStream(id)]));
          const together: number[][][] = schedules.map(() => []);
          const next = schedules.map(() => 0);
          let remaining = schedules.reduce((sum, s) => sum + s.chunks.length, 0);
          for (let k = 0; remaining > 0; k++) {
            const open = schedules.map((s, i) => i).filter((i) => (next[i] ?? 0) < (schedules[i]?.chunks.length ?? 0));
            const i = open[(picks[k % Math.max(picks.length, 1)] ?? 0) % open.length] ?? 0;
            const chunk = schedules[i]?.chunks[next[i] ?? 0];
            const stream = streams.get(ids[i] ?? '');
            if (!chunk || !stream) throw new Error('bad index');
            together[i]?.push(play(stream, chunk));
            next[i] = (next[i] ?? 0) + 1;
            remaining--;
          }
          expect(together).toEqual(alone);
          schedules.forEach((s, i) => expect(streams.get(ids[i] ?? '')?.position).toBe(s.n));
        },
      ),
      { numRuns: 150 },
    );
  });
});
