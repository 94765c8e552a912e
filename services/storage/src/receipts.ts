// Owns device positions (parley.receipts): each record moves one device's delivered or
// read position forward; what moved is stored, then handed on to parley.deliveries as a
// receipt for push to fan out. Offsets are committed only after both.
import type { ConsumedBatch, MessageBus } from '@parley/bus';
import { isValidId, type Logger } from '@parley/core';
import type { DeliveryRecord, Receipt } from '@parley/proto';
import { MemberLists } from './cache';
import type { MessageStore, PositionKind } from './store';

interface ParsedReceipt {
  conversationId: string;
  userId: string;
  deviceId: string;
  kind: PositionKind;
  seq: number;
}

export function parseReceipt(raw: Buffer): ParsedReceipt | undefined {
  try {
    const r = JSON.parse(raw.toString('utf8')) as Partial<Receipt>;
    if (!isValidId(r.conversationId) || !isValidId(r.userId) || !isValidId(r.deviceId)) return undefined;
    if (r.kind !== 'delivered' && r.kind !== 'read') return undefined;
    if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1) return undefined;
    return { conversationId: r.conversationId, userId: r.userId, deviceId: r.deviceId, kind: r.kind, seq: r.seq };
  } catch {
    return undefined;
  }
}

export class ReceiptRecorder {
  private readonly members: MemberLists;

  constructor(
    private readonly store: MessageStore,
    private readonly bus: MessageBus,
    private readonly deliveriesTopic: string,
    private readonly log: Logger,
    private readonly onMoved: (n: number) => void = () => {},
  ) {
    this.members = new MemberLists(store);
  }

  async handleBatch(batch: ConsumedBatch): Promise<void> {
    // Coalesce: per device and kind only the highest position of the batch matters.
    const highest = new Map<string, ParsedReceipt>();
    for (const record of batch.records) {
      const r = parseReceipt(record.value);
      if (!r) {
        this.log.warn({ partition: record.partition, offset: record.offset }, 'dropping malformed receipt record');
        continue;
      }
      const key = JSON.stringify([r.conversationId, r.userId, r.deviceId, r.kind]);
      const seen = highest.get(key);
      if (!seen || seen.seq < r.seq) highest.set(key, r);
    }
    const out: { key: string; value: string }[] = [];
    // Reads first: a read also moves delivered, so a delivered at or below it becomes a no-op.
    const ordered = [...highest.values()].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'read' ? -1 : 1));
    for (const r of ordered) {
      const seq = await this.store.recordPosition(r);
      if (seq === undefined) continue;
      const receipt: Receipt = { ...r, seq, at: Date.now() };
      const delivery: DeliveryRecord = { receipt, memberIds: await this.memberIds(r.conversationId) };
      out.push({ key: r.conversationId, value: JSON.stringify(delivery) });
    }
    if (out.length > 0) await this.bus.publish(this.deliveriesTopic, out);
    this.onMoved(out.length);
  }

  private memberIds(conversationId: string): Promise<string[]> {
    return this.members.get(conversationId);
  }
}
