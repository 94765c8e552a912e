// Owns members' positions (parley.receipts): per batch, each member's highest delivered
// and read position is clamped to the conversation's last seq, recorded if it moved forward
// (insert-only marks, then the registers), and handed on to parley.deliveries as a receipt
// for push to fan out. Offsets are committed only after both. A constant number of round
// trips per batch: the heads and the current positions come from the registers (and from
// this process's memory once seen), the write is one insert.
import { decodeBatch, deliveriesRecords, receiptsRecords, type ConsumedBatch, type MessageBus, type ValidReceipt } from '@parley/bus';
import type { Logger } from '@parley/core';
import { positionKey, type ConversationHeads, type MemberPositions } from './state';
import type { PositionKind } from './store';

/** Per member and kind, the highest position of the batch, with the device that reported it. */
interface Highest {
  conversationId: string;
  userId: string;
  kind: PositionKind;
  seq: number;
  deviceId: string;
}

export class ReceiptRecorder {
  /** Positions this process recorded or read: never ahead of the store. */
  private readonly known = new Map<string, number>();

  constructor(
    private readonly heads: ConversationHeads,
    private readonly positions: MemberPositions,
    private readonly bus: MessageBus,
    private readonly deliveriesTopic: string,
    private readonly log: Logger,
    private readonly onMoved: (n: number) => void = () => {},
    private readonly maxKnown = 500_000,
  ) {}

  async handleBatch(batch: ConsumedBatch): Promise<void> {
    const highest = new Map<string, Highest>();
    const note = (r: ValidReceipt, kind: PositionKind) => {
      const key = positionKey(r.conversationId, r.userId, kind);
      const seen = highest.get(key);
      if (!seen || seen.seq < r.seq) highest.set(key, { conversationId: r.conversationId, userId: r.userId, kind, seq: r.seq, deviceId: r.deviceId });
    };
    for (const { entry } of decodeBatch(receiptsRecords, batch)) {
      const r = entry.receipt;
      note(r, r.kind);
      // A read is also a delivered position.
      if (r.kind === 'read') note(r, 'delivered');
    }
    if (highest.size === 0) return;
    const wanted = [...highest.values()];
    const heads = await this.heads.get([...new Set(wanted.map((h) => h.conversationId))]);
    const unknown = wanted.filter((h) => !this.known.has(positionKey(h.conversationId, h.userId, h.kind)));
    if (unknown.length > 0) {
      for (const [key, seq] of await this.positions.get(unknown)) this.remember(key, seq);
    }
    const moved: (Highest & { previous: number })[] = [];
    for (const h of wanted) {
      const key = positionKey(h.conversationId, h.userId, h.kind);
      const seq = Math.min(h.seq, heads.get(h.conversationId) ?? 0);
      const previous = this.known.get(key) ?? 0;
      if (seq > previous) moved.push({ ...h, seq, previous });
    }
    if (moved.length === 0) return;
    await this.positions.raise(moved);
    for (const m of moved) this.remember(positionKey(m.conversationId, m.userId, m.kind), m.seq);
    // Fanned out: every read that moved, and a delivered that went past the read of the same batch.
    const now = Date.now();
    const readSeq = new Map(moved.filter((m) => m.kind === 'read').map((m) => [`${m.conversationId}\n${m.userId}`, m.seq]));
    const out = moved
      .filter((m) => m.kind === 'read' || m.seq > (readSeq.get(`${m.conversationId}\n${m.userId}`) ?? 0))
      .map((m) => deliveriesRecords.record({ kind: 'receipt', receipt: { conversationId: m.conversationId, userId: m.userId, deviceId: m.deviceId, kind: m.kind, seq: m.seq, at: now } }));
    if (out.length > 0) await this.bus.publish(this.deliveriesTopic, out);
    this.onMoved(out.length);
    this.log.debug({ moved: moved.length, fannedOut: out.length }, 'positions recorded');
  }

  private remember(key: string, seq: number): void {
    const value = Math.max(seq, this.known.get(key) ?? 0);
    this.known.delete(key);
    this.known.set(key, value);
    if (this.known.size > this.maxKnown) this.known.delete(this.known.keys().next().value as string);
  }
}
