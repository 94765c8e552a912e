// Owns turning accepted messages (parley.messages) into stored ones: per
// conversation, the next gap-free seq; duplicates dropped; then the stored
// messages are handed on to parley.deliveries. The bus commits the batch's
// offsets only after handleBatch resolves, i.e. after MongoDB and Kafka both
// have the work.
import type { ConsumedBatch, MessageBus } from '@parley/bus';
import { ParleyError, SpanKind, extractTraceContext, injectTraceContext, isValidId, serverMsgIdFor, withSpan, type Logger } from '@parley/core';
import type { AcceptedMessage__Output, DeliveryRecord } from '@parley/proto';
import { MemberLists, TtlCache } from './cache';
import type { MessageStore, StoredMessageDoc } from './store';

export interface SequencerMetrics {
  stored(n: number): void;
  duplicates(n: number): void;
  rejected(n: number): void;
}

const NO_METRICS: SequencerMetrics = { stored: () => {}, duplicates: () => {}, rejected: () => {} };

export function parseAccepted(raw: Buffer): AcceptedMessage__Output | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  const m = value as Partial<AcceptedMessage__Output>;
  if (
    typeof m !== 'object' ||
    m === null ||
    !isValidId(m.conversationId) ||
    !isValidId(m.senderId) ||
    !isValidId(m.senderDeviceId) ||
    !isValidId(m.clientMsgId) ||
    typeof m.body !== 'string' ||
    typeof m.sentAt !== 'number' ||
    m.serverMsgId !== serverMsgIdFor(m.conversationId, m.senderId, m.clientMsgId)
  ) {
    return undefined;
  }
  return m as AcceptedMessage__Output;
}

function toStoredFields(a: AcceptedMessage__Output): Omit<StoredMessageDoc, 'seq'> {
  return {
    serverMsgId: a.serverMsgId,
    conversationId: a.conversationId,
    senderId: a.senderId,
    senderDeviceId: a.senderDeviceId,
    clientMsgId: a.clientMsgId,
    body: a.body,
    sentAt: a.sentAt,
  };
}

export class Sequencer {
  /** Highest seq this process stored per conversation; only ever behind the truth, never ahead. */
  private readonly lastSeq = new TtlCache<number>(10 * 60_000, 100_000);
  private readonly members: MemberLists;

  constructor(
    private readonly store: MessageStore,
    private readonly bus: MessageBus,
    private readonly deliveriesTopic: string,
    private readonly log: Logger,
    private readonly metrics: SequencerMetrics = NO_METRICS,
  ) {
    this.members = new MemberLists(store);
  }

  /**
   * A batch is stored with few round trips: one lookup of the serverMsgIds already stored
   * (replays, resends), then per conversation one ordered insert of the new messages with
   * consecutive seqs and one bump of the lastSeq hint. Anything the bulk path cannot place
   * (a seq taken by another writer, a duplicate) goes through the one-by-one path.
   */
  async handleBatch(batch: ConsumedBatch): Promise<void> {
    const items: { accepted: AcceptedMessage__Output; headers: Record<string, string>; partition: number }[] = [];
    for (const record of batch.records) {
      const accepted = parseAccepted(record.value);
      if (!accepted) {
        // Nothing a producer can fix by retrying; keep it out of the way of everyone else's messages.
        this.metrics.rejected(1);
        this.log.warn({ topic: record.topic, partition: record.partition, offset: record.offset }, 'dropping malformed record');
        continue;
      }
      items.push({ accepted, headers: record.headers, partition: record.partition });
    }
    if (items.length === 0) return;
    const parent = extractTraceContext(items[0]!.headers);
    // One span per batch, continuing the trace of its first record; the deliveries carry it on.
    const { stored, created, traceHeaders } = await withSpan(
      'storage.store',
      { kind: SpanKind.CONSUMER, parent, attributes: { 'messaging.kafka.partition': batch.partition, 'parley.batch_size': items.length } },
      async () => ({ ...(await this.storeAll(batch, items.map((i) => i.accepted))), traceHeaders: injectTraceContext({}) }),
    );
    this.metrics.stored(created);
    // Every record that did not create a message: a replay, a resend, or a repeat in the batch.
    if (items.length > created) this.metrics.duplicates(items.length - created);
    const out: { key: string; value: string; headers: Record<string, string> }[] = [];
    for (const { accepted } of items) {
      const message = stored.get(accepted.serverMsgId)!;
      const delivery: DeliveryRecord = { message, memberIds: await this.memberIds(message.conversationId) };
      out.push({ key: message.conversationId, value: JSON.stringify(delivery), headers: { ...traceHeaders } });
    }
    if (!batch.isActive()) throw new ParleyError('UNAVAILABLE', 'partition revoked mid-batch');
    await this.bus.publish(this.deliveriesTopic, out);
  }

  private async storeAll(batch: ConsumedBatch, accepted: AcceptedMessage__Output[]): Promise<{ stored: Map<string, StoredMessageDoc>; created: number }> {
    const stored = new Map<string, StoredMessageDoc>();
    let created = 0;
    for (const existing of await this.store.findMessages([...new Set(accepted.map((a) => a.serverMsgId))])) stored.set(existing.serverMsgId, existing);
    const duplicates = stored.size;
    const fresh = new Map<string, AcceptedMessage__Output[]>();
    for (const a of accepted) {
      if (stored.has(a.serverMsgId) || fresh.get(a.conversationId)?.some((x) => x.serverMsgId === a.serverMsgId)) continue;
      const run = fresh.get(a.conversationId) ?? [];
      run.push(a);
      fresh.set(a.conversationId, run);
    }
    if (duplicates > 0) {
      // A replay after a crash between insert and bump: make the lastSeq hints true again.
      const highest = new Map<string, number>();
      for (const m of stored.values()) highest.set(m.conversationId, Math.max(highest.get(m.conversationId) ?? 0, m.seq));
      for (const [conversationId, seq] of highest) await this.store.bumpLastSeq(conversationId, seq);
    }
    for (const [conversationId, run] of fresh) {
      if (!batch.isActive()) throw new ParleyError('UNAVAILABLE', 'partition revoked mid-batch');
      const base = await this.baseFor(conversationId);
      const docs = run.map((a, i): StoredMessageDoc => ({ ...toStoredFields(a), seq: base + 1 + i }));
      const inserted = await this.store.insertRun(docs);
      if (inserted > 0) {
        const last = docs[inserted - 1]!.seq;
        await this.store.bumpLastSeq(conversationId, last);
        this.lastSeq.set(conversationId, last);
        created += inserted;
        for (const doc of docs.slice(0, inserted)) stored.set(doc.serverMsgId, doc);
      }
      for (const a of run.slice(inserted)) {
        const one = await this.store1(a);
        if (one.created) created++;
        stored.set(a.serverMsgId, one.doc);
      }
    }
    return { stored, created };
  }

  private memberIds(conversationId: string): Promise<string[]> {
    return this.members.get(conversationId);
  }

  /**
   * The seq to number after: the cached or hinted last seq, but only once the database
   * confirms that seq is stored. A base that is not stored (a hint or cache ahead of the
   * data, seen when a database lost writes it had answered as done) would open a gap, so
   * then the stored maximum is used instead. One indexed read per conversation and batch.
   */
  private async baseFor(conversationId: string): Promise<number> {
    const base = this.lastSeq.get(conversationId) ?? (await this.store.lastSeqHint(conversationId));
    if (base === 0 || (await this.store.hasSeq(conversationId, base))) return base;
    const truth = await this.store.maxSeq(conversationId);
    this.log.warn({ conversationId, base, truth }, 'last seq hint was ahead of the stored messages; numbering after the stored maximum');
    this.lastSeq.set(conversationId, truth);
    return truth;
  }

  /** Stores one message exactly once and returns it as stored (with its seq): the careful path. */
  private async store1(accepted: AcceptedMessage__Output): Promise<{ doc: StoredMessageDoc; created: boolean }> {
    const existing = await this.store.findMessage(accepted.serverMsgId);
    if (existing) {
      // A replay after a crash between insert and bump: make the lastSeq hint true again.
      await this.store.bumpLastSeq(existing.conversationId, existing.seq);
      return { doc: existing, created: false };
    }
    const conversationId = accepted.conversationId;
    let base = await this.baseFor(conversationId);
    for (let attempt = 0; attempt < 20; attempt++) {
      const candidate: StoredMessageDoc = {
        serverMsgId: accepted.serverMsgId,
        conversationId,
        seq: base + 1,
        senderId: accepted.senderId,
        senderDeviceId: accepted.senderDeviceId,
        clientMsgId: accepted.clientMsgId,
        body: accepted.body,
        sentAt: accepted.sentAt,
      };
      const result = await this.store.insertMessage(candidate);
      if (result === 'inserted') {
        this.lastSeq.set(conversationId, candidate.seq);
        return { doc: candidate, created: true };
      }
      if (result === 'duplicate') {
        const stored = await this.store.findMessage(accepted.serverMsgId);
        if (!stored) throw new ParleyError('UNAVAILABLE', 'duplicate reported but message not readable yet');
        return { doc: stored, created: false };
      }
      // seq-taken: another writer (a previous owner of this partition, or a crash
      // before lastSeq was bumped) got there first. Read the truth and try after it.
      this.lastSeq.delete(conversationId);
      base = await this.store.maxSeq(conversationId);
      this.log.info({ conversationId, base }, 'seq taken; resequencing after the stored maximum');
    }
    throw new ParleyError('UNAVAILABLE', `could not find a free seq for ${conversationId}`);
  }
}
