// Owns reading pages of a conversation's messages (history, sync) at a cost that does not
// grow with its history: a page is computed from seqs (gap-free, so [lo, hi] holds exactly
// hi - lo + 1 messages) and fetched by bucket (one equality lookup per 128 seqs), and
// buckets are kept in memory: a full bucket never changes, and a partial one is complete up
// to the head it was read at. A reconnect storm, where thousands of devices sync the same
// recent messages, is then served from memory.
import { BUCKET_SEQS, bucketOf, type MessageLog, type StoredMessageDoc } from './store';

interface CachedBucket {
  docs: StoredMessageDoc[];
  /** Every seq of the bucket up to this one is in docs. */
  completeUpTo: number;
  bytes: number;
}

export interface PageQuery {
  /** Inclusive; at least 1. */
  lo: number;
  /** Inclusive. */
  hi: number;
}

export class MessageReader {
  private readonly buckets = new Map<string, CachedBucket>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly messages: MessageLog,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  /** Messages lo..hi of a conversation whose last seq is `head` (hi <= head), oldest first. */
  async range(conversationId: string, { lo, hi }: PageQuery, head: number): Promise<StoredMessageDoc[]> {
    if (hi < lo) return [];
    const wanted: number[] = [];
    for (let b = bucketOf(lo); b <= bucketOf(hi); b++) wanted.push(b);
    const buckets = await Promise.all(wanted.map((b) => this.bucket(conversationId, b, Math.min(hi, (b + 1) * BUCKET_SEQS - 1), head)));
    return buckets.flat().filter((m) => m.seq >= lo && m.seq <= hi);
  }

  private async bucket(conversationId: string, bucket: number, needUpTo: number, head: number): Promise<StoredMessageDoc[]> {
    const key = `${conversationId}|${bucket}`;
    const cached = this.buckets.get(key);
    if (cached && cached.completeUpTo >= needUpTo) {
      this.hits++;
      this.buckets.delete(key);
      this.buckets.set(key, cached);
      return cached.docs;
    }
    this.misses++;
    const first = bucket * BUCKET_SEQS;
    const last = first + BUCKET_SEQS - 1;
    const docs = await this.messages.range(conversationId, first, last);
    // Up to the head it was read at, the bucket is complete (seqs are gap-free and the
    // head is never ahead of the stored messages).
    this.remember(key, { docs, completeUpTo: Math.min(last, head), bytes: docs.reduce((n, d) => n + 200 + d.body.length * 2, 0) });
    return docs;
  }

  private remember(key: string, entry: CachedBucket): void {
    const old = this.buckets.get(key);
    if (old) {
      this.bytes -= old.bytes;
      this.buckets.delete(key);
    }
    if (entry.bytes > this.maxBytes / 4) return;
    this.buckets.set(key, entry);
    this.bytes += entry.bytes;
    while (this.bytes > this.maxBytes) {
      const [oldestKey, oldest] = this.buckets.entries().next().value as [string, CachedBucket];
      this.buckets.delete(oldestKey);
      this.bytes -= oldest.bytes;
    }
  }
}

/** The seq window of a history or sync page, from its bounds and the conversation's last seq. */
export function pageWindow(q: { fromSeq?: number; toSeq?: number; order: 'asc' | 'desc'; limit: number }, head: number): { lo: number; hi: number; hasMore: boolean } {
  const floor = Math.max(1, q.fromSeq ?? 1);
  const ceiling = Math.min(head, q.toSeq ?? head);
  if (ceiling < floor) return { lo: 1, hi: 0, hasMore: false };
  if (q.order === 'asc') {
    const hi = Math.min(ceiling, floor + q.limit - 1);
    return { lo: floor, hi, hasMore: hi < ceiling };
  }
  const lo = Math.max(floor, ceiling - q.limit + 1);
  return { lo, hi: ceiling, hasMore: lo > floor };
}
