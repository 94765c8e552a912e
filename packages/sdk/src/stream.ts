// Owns the order of one conversation as the app sees it: messages arrive live (`msg`), from
// sync pages (`msgs`), repeated after failovers and out of order; they leave exactly once,
// in seq order, without gaps. Pure: no sockets, no timers, so properties can test it alone.
import type { ParleyMessage } from './types';

/** How many out-of-order messages one conversation holds; beyond that they are re-fetched by sync. */
export const DEFAULT_MAX_BUFFERED = 10_000;

export class ConversationStream {
  private pos: number;
  private last: number;
  private readonly buffer = new Map<number, ParleyMessage>();

  constructor(
    readonly conversationId: string,
    position = 0,
    private readonly maxBuffered = DEFAULT_MAX_BUFFERED,
  ) {
    this.pos = position;
    this.last = position;
  }

  /** The highest seq delivered in order: every seq in 1..position has been emitted once. */
  get position(): number {
    return this.pos;
  }

  /** The highest seq known to exist (seen in a frame or announced by convlist). */
  get lastKnownSeq(): number {
    return this.last;
  }

  /** Messages held because a lower seq is missing. */
  get buffered(): number {
    return this.buffer.size;
  }

  /** True while a message below lastKnownSeq is missing: a sync from `position` would fill it. */
  get hasGap(): boolean {
    return this.last > this.pos;
  }

  /**
   * Takes one message (live or from a page). Returns what became deliverable, in seq order:
   * empty for a duplicate (seq <= position or already buffered) or when a gap holds it back.
   */
  offer(message: ParleyMessage): ParleyMessage[] {
    if (message.conversationId !== this.conversationId) throw new Error(`message of ${message.conversationId} offered to ${this.conversationId}`);
    const { seq } = message;
    if (seq > this.last) this.last = seq;
    if (seq <= this.pos) return [];
    if (seq === this.pos + 1) {
      this.pos = seq;
      const out = [message];
      this.drain(out);
      return out;
    }
    if (!this.buffer.has(seq) && this.buffer.size < this.maxBuffered) this.buffer.set(seq, message);
    return [];
  }

  /** offer() for each message of a page, in order. */
  offerAll(messages: readonly ParleyMessage[]): ParleyMessage[] {
    const out: ParleyMessage[] = [];
    for (const m of messages) out.push(...this.offer(m));
    return out;
  }

  /** Something (convlist) says messages up to `seq` exist. */
  noteLastSeq(seq: number): void {
    if (seq > this.last) this.last = seq;
  }

  /**
   * The app already holds everything up to `seq` (from its own storage): move the position
   * there without emitting those, then emit what the buffer now continues. Never moves back.
   */
  advanceTo(seq: number): ParleyMessage[] {
    if (seq <= this.pos) return [];
    this.pos = seq;
    if (seq > this.last) this.last = seq;
    for (const held of this.buffer.keys()) if (held <= seq) this.buffer.delete(held);
    const out: ParleyMessage[] = [];
    this.drain(out);
    return out;
  }

  private drain(out: ParleyMessage[]): void {
    for (let next = this.buffer.get(this.pos + 1); next !== undefined; next = this.buffer.get(this.pos + 1)) {
      this.buffer.delete(next.seq);
      this.pos = next.seq;
      out.push(next);
    }
  }
}
