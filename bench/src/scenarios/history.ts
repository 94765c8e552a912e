// Reads in a long conversation against the same reads in a short one: a `history` page at the
// conversation's start, middle and end, and a `sync` from seq 0, each timed from the frame
// going out to its `msgs` answer (median of several calls, one at a time on one socket, from
// the harness process: nothing else runs meanwhile).
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { log } from '../harness';
import type { Context } from '../measure';
import { kafkaSink, preloadMessages, storeSink, type PreloadReport } from '../preload';
import { round } from '../procstats';
import { parleyUrl } from '../shape';
import { StorageApi } from '../storage-api';

interface MsgsFrame {
  type: string;
  reqId?: string;
  code?: string;
  messages?: { seq: number }[];
  hasMore?: boolean;
}

/** One authenticated socket that asks and waits for the answer to each request. */
class RequestSocket {
  private readonly waiting = new Map<string, (frame: MsgsFrame) => void>();
  private next = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as MsgsFrame;
      const w = frame.reqId ? this.waiting.get(frame.reqId) : undefined;
      if (w && frame.reqId) {
        this.waiting.delete(frame.reqId);
        w(frame);
      }
    });
  }

  static open(url: string): Promise<RequestSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.once('error', reject);
      ws.once('message', () => resolve(new RequestSocket(ws))); // welcome
    });
  }

  request(frame: Record<string, unknown>): Promise<MsgsFrame> {
    const reqId = `h${this.next++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${String(frame['type'])} not answered in 30 s`)), 30_000);
      this.waiting.set(reqId, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.ws.send(JSON.stringify({ ...frame, reqId }));
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

export interface CallTiming {
  conversationMessages: number;
  samplesMs: number[];
  medianMs: number;
  /** Seqs returned by the last call: first, last, count. */
  returned: { first: number; last: number; count: number };
  /** The page held the seqs it should. */
  ok: boolean;
}

export interface HistoryCall {
  kind: string;
  big: CallTiming;
  small: CallTiming;
  /** big median / small median. */
  ratio: number;
}

export interface HistoryResult {
  preload: PreloadReport;
  calls: HistoryCall[];
}

interface CallKind {
  kind: string;
  frame: (conversationId: string, n: number) => Record<string, unknown>;
  /** The seqs the answer should start and end with, and how many. */
  expect: (n: number) => { first: number; last: number; count: number };
}

const KINDS: CallKind[] = [
  { kind: 'history, start', frame: (c) => ({ type: 'history', conversationId: c, fromSeq: 1, order: 'oldest_first', limit: 50 }), expect: (n) => ({ first: 1, last: Math.min(50, n), count: Math.min(50, n) }) },
  {
    kind: 'history, middle',
    frame: (c, n) => ({ type: 'history', conversationId: c, toSeq: Math.floor(n / 2), order: 'newest_first', limit: 50 }),
    expect: (n) => ({ first: Math.floor(n / 2), last: Math.max(1, Math.floor(n / 2) - 49), count: Math.min(50, Math.floor(n / 2)) }),
  },
  { kind: 'history, end', frame: (c) => ({ type: 'history', conversationId: c, order: 'newest_first', limit: 50 }), expect: (n) => ({ first: n, last: Math.max(1, n - 49), count: Math.min(50, n) }) },
  { kind: 'sync from 0', frame: (c) => ({ type: 'sync', conversationId: c, afterSeq: 0, limit: 100 }), expect: (n) => ({ first: 1, last: Math.min(100, n), count: Math.min(100, n) }) },
];

async function time(socket: RequestSocket, kind: CallKind, conversationId: string, n: number, calls: number): Promise<CallTiming> {
  const samples: number[] = [];
  let answer: MsgsFrame | undefined;
  for (let i = 0; i < calls + 2; i++) {
    const started = performance.now();
    answer = await socket.request(kind.frame(conversationId, n));
    const ms = performance.now() - started;
    if (answer.type !== 'msgs') throw new Error(`${kind.kind}: answered ${answer.type} ${answer.code ?? ''}`);
    if (i >= 2) samples.push(round(ms, 2)); // the first two warm the caches and the JIT
  }
  const seqs = (answer?.messages ?? []).map((m) => Number(m.seq));
  const returned = { first: seqs[0] ?? 0, last: seqs[seqs.length - 1] ?? 0, count: seqs.length };
  const want = kind.expect(n);
  const sorted = [...samples].sort((a, b) => a - b);
  return { conversationMessages: n, samplesMs: samples, medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0, returned, ok: returned.first === want.first && returned.last === want.last && returned.count === want.count };
}

export async function history(ctx: Context, strategy: 'kafka' | 'store'): Promise<HistoryResult> {
  const { historyMessages: big, historySmall: small, historyCalls: calls } = ctx.settings;
  const tag = Math.random().toString(36).slice(2, 7);
  const api = new StorageApi(ctx.platform);
  const users = { big: [`hb0-${tag}`, `hb1-${tag}`], small: [`hs0-${tag}`, `hs1-${tag}`] };
  const bigId = await api.createDirect(users.big[0]!, users.big[1]!);
  const smallId = await api.createDirect(users.small[0]!, users.small[1]!);
  const brokers = ctx.infra.env.KAFKA_BROKERS.split(',');
  const sink = strategy === 'store' ? storeSink(ctx.platform, ctx.infra.env.MONGO_URL) : kafkaSink(ctx.platform, brokers, ctx.settings.preloadTimeoutSeconds * 1000);
  const preload = await preloadMessages(
    ctx.platform,
    [
      { conversationId: bigId, memberIds: users.big, count: big },
      { conversationId: smallId, memberIds: users.small, count: small },
    ],
    sink,
  );
  const sockets = { big: await RequestSocket.open(parleyUrl(ctx, 0, users.big[0]!)), small: await RequestSocket.open(parleyUrl(ctx, 0, users.small[0]!)) };
  try {
    const out: HistoryCall[] = [];
    for (const kind of KINDS) {
      // Alternating, so that a passing disturbance hits both.
      const b = await time(sockets.big, kind, bigId, big, calls);
      const s = await time(sockets.small, kind, smallId, small, calls);
      const ratio = s.medianMs > 0 ? round(b.medianMs / s.medianMs, 2) : 0;
      log(`history: ${kind.kind}: ${b.medianMs} ms in ${big} messages, ${s.medianMs} ms in ${small} (${ratio}x)${b.ok && s.ok ? '' : ' (UNEXPECTED SEQS)'}`);
      out.push({ kind: kind.kind, big: b, small: s, ratio });
    }
    return { preload, calls: out };
  } finally {
    sockets.big.close();
    sockets.small.close();
  }
}
