// Owns turning accepted messages (parley.messages) into stored ones, per partition, in
// order: the sender's membership checked (the sequencer is the authority; the router's
// answer only decided the ack), duplicates dropped, each new message given the next
// gap-free seq of its conversation, all of them written with one ordered insert, then
// handed on to parley.deliveries. The bus commits the batch's offsets only after
// handleBatch resolved, i.e. after MongoDB and Kafka both have the work.
//
// A constant number of round trips per batch, whatever the number of conversations in it:
// the seqs come from memory (the partition's owner seeds a conversation once, from the
// registers, then counts), the insert is the fence (unique (conversationId, seq) and
// serverMsgId) and its duplicate-key answer is the dedupe. Only what breaks the fence costs
// a round more: a resend (dropped; what followed it in its conversation is renumbered) or a
// seq taken by another writer (a previous owner of the partition: the conversation is
// reseeded from the stored messages and renumbered).
import { decodeBatch, deliveriesRecords, messagesRecords, type ConsumedBatch, type ConsumedRecord, type DeliveriesEntry, type MessageBus, type MessagesEntry, type ValidAccepted, type ValidRejection } from '@parley/bus';
import { ParleyError, SpanKind, extractTraceContext, injectTraceContext, isBotId, isDirectPair, withSpan, type Logger } from '@parley/core';
import type { MembershipCache } from '@parley/membership';
import { mapLimit, type ConversationHeads } from './state';
import type { LoggedMessage, MessageLog } from './store';

export interface SequencerMetrics {
  stored(n: number): void;
  duplicates(n: number): void;
  rejected(n: number): void;
  /** Extra insert rounds a batch needed (resends, seqs taken by another writer). */
  conflicts?(n: number): void;
}

const NO_METRICS: SequencerMetrics = { stored: () => {}, duplicates: () => {}, rejected: () => {} };

/** A bounded map that forgets the least recently set entries. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
}

interface Pending {
  message: ValidAccepted;
  origin: string;
  /** Where its delivery goes in the batch's output. */
  slot: number;
}

export interface SequencerOptions {
  /** Conversations whose last seq is kept in memory. */
  maxConversations?: number;
  /** Membership lookups a batch makes at once (cold conversations only). */
  lookupConcurrency?: number;
}

export class Sequencer {
  /** The last seq this process stored or read per conversation: never ahead of the stored messages. */
  private readonly heads: Lru<number>;
  private readonly lookupConcurrency: number;

  constructor(
    private readonly messages: MessageLog,
    private readonly registers: ConversationHeads,
    private readonly membership: MembershipCache,
    private readonly bus: MessageBus,
    private readonly deliveriesTopic: string,
    private readonly log: Logger,
    private readonly metrics: SequencerMetrics = NO_METRICS,
    options: SequencerOptions = {},
  ) {
    this.heads = new Lru(options.maxConversations ?? 500_000);
    this.lookupConcurrency = options.lookupConcurrency ?? 16;
  }

  async handleBatch(batch: ConsumedBatch): Promise<void> {
    const entries = decodeBatch(messagesRecords, batch);
    if (entries.length === 0) return;
    const parent = extractTraceContext(entries[0]!.record.headers);
    await withSpan('storage.store', { kind: SpanKind.CONSUMER, parent, attributes: { 'messaging.kafka.partition': batch.partition, 'parley.batch_size': entries.length } }, async () => {
      try {
        await this.process(batch, entries);
      } catch (err) {
        // Whatever the database did, what this process believes about heads may be off:
        // the next batch reads them again.
        this.heads.clear();
        throw err;
      }
    });
  }

  private async process(batch: ConsumedBatch, entries: { record: ConsumedRecord; entry: MessagesEntry }[]): Promise<void> {
    // 1. The senders' membership, for the pairs not cached: one concurrent round, cold only.
    //    A direct conversation's record carries its two members, proven by its id: no lookup.
    const cold = new Map<string, [string, string]>();
    for (const { entry } of entries) {
      if (entry.kind !== 'message') continue;
      const { conversationId, senderId } = entry.message;
      if (entry.members) this.membership.primeDirect(conversationId, entry.members);
      if (this.membership.peek(conversationId, senderId) === undefined) cold.set(`${conversationId}\n${senderId}`, [conversationId, senderId]);
    }
    await mapLimit([...cold.values()], this.lookupConcurrency, ([c, u]) => this.membership.isMember(c, u));

    // 2. In record order: membership changes apply to what follows them; each message is
    //    checked, deduplicated within the batch, and queued for a seq.
    const out: (DeliveriesEntry | undefined)[] = [];
    const pending: Pending[] = [];
    const seen = new Set<string>();
    let rejected = 0;
    let duplicates = 0;
    for (const { record, entry } of entries) {
      if (entry.kind === 'membership') {
        this.membership.apply(entry.change);
        out.push({ kind: 'membership', change: entry.change });
        continue;
      }
      const m = entry.message;
      if (seen.has(m.serverMsgId)) {
        duplicates++;
        continue;
      }
      seen.add(m.serverMsgId);
      const { exists, member } = await this.membership.isMember(m.conversationId, m.senderId);
      if (!exists || !member) {
        rejected++;
        // A bot has no device to tell (push sends its rejection nowhere): say it here.
        if (isBotId(m.senderId)) this.log.info({ conversationId: m.conversationId, senderId: m.senderId, serverMsgId: m.serverMsgId }, 'bot message refused in order: the conversation no longer allows this bot');
        out.push({ kind: 'rejected', rejection: rejection(m, exists ? 'PERMISSION_DENIED' : 'NOT_FOUND') });
        continue;
      }
      pending.push({ message: m, origin: `${record.partition}:${record.offset}`, slot: out.length });
      out.push(undefined);
    }

    // 3. Seqs from memory; conversations not seen since this process took the partition are
    //    seeded from the registers (one pipelined round for all of them).
    const unseeded = [...new Set(pending.map((p) => p.message.conversationId))].filter((c) => this.heads.get(c) === undefined);
    if (unseeded.length > 0) for (const [c, seq] of await this.registers.get(unseeded)) this.heads.set(c, seq);
    const before = new Map<string, number>();
    for (const p of pending) {
      const c = p.message.conversationId;
      if (!before.has(c)) before.set(c, this.heads.get(c)!);
    }
    const stored = await this.append(batch, pending, before);
    let created = 0;
    for (const [slot, result] of stored) {
      if (result.kind === 'stored') {
        created++;
        out[slot] = this.delivery(result.doc);
      } else {
        duplicates++;
        // A replay of the very record that stored it (a crash before its delivery was
        // handed on) is delivered again; a resend (another record) is not: its first copy
        // was, or will be, delivered.
        if (result.replay) out[slot] = this.delivery(result.doc);
      }
    }

    // 4. The new heads, then the deliveries in the batch's order.
    const heads = new Map<string, { seq: number; previous: number | undefined }>();
    for (const [c, previous] of before) {
      const seq = this.heads.get(c)!;
      if (seq > previous) heads.set(c, { seq, previous });
    }
    await this.registers.stored(heads);
    this.metrics.stored(created);
    if (duplicates > 0) this.metrics.duplicates(duplicates);
    if (rejected > 0) this.metrics.rejected(rejected);
    const traceHeaders = injectTraceContext({});
    const records = out.filter((e): e is DeliveriesEntry => e !== undefined).map((e) => deliveriesRecords.record(e, { ...traceHeaders }));
    if (records.length === 0) return;
    if (!batch.isActive()) throw new ParleyError('UNAVAILABLE', 'partition revoked mid-batch');
    await this.bus.publish(this.deliveriesTopic, records);
  }

  /** A stored message for push; a direct conversation's carries its two members (push then looks nothing up). */
  private delivery(doc: LoggedMessage): DeliveriesEntry {
    const c = doc.conversationId;
    const members = c.startsWith('d_') ? this.membership.members(c) : undefined;
    return { kind: 'message', message: doc, ...(members && isDirectPair(c, members) ? { members } : {}) };
  }

  /** Inserts the queued messages with consecutive seqs per conversation; answers, per output slot, what became of each. */
  private async append(
    batch: ConsumedBatch,
    pending: Pending[],
    before: ReadonlyMap<string, number>,
  ): Promise<Map<number, { kind: 'stored'; doc: LoggedMessage } | { kind: 'duplicate'; doc: LoggedMessage; replay: boolean }>> {
    const results = new Map<number, { kind: 'stored'; doc: LoggedMessage } | { kind: 'duplicate'; doc: LoggedMessage; replay: boolean }>();
    const next = new Map(before);
    let queue = pending.map((p) => {
      const c = p.message.conversationId;
      const seq = next.get(c)! + 1;
      next.set(c, seq);
      return { ...p, doc: { ...p.message, seq, origin: p.origin } as LoggedMessage };
    });
    let rounds = 0;
    while (queue.length > 0) {
      if (!batch.isActive()) throw new ParleyError('UNAVAILABLE', 'partition revoked mid-batch');
      const { inserted, conflict } = await this.messages.append(queue.map((q) => q.doc));
      for (const q of queue.slice(0, inserted)) {
        results.set(q.slot, { kind: 'stored', doc: q.doc });
        const c = q.doc.conversationId;
        this.heads.set(c, Math.max(this.heads.get(c) ?? 0, q.doc.seq));
      }
      if (!conflict) break;
      if (++rounds > 20 + pending.length) throw new ParleyError('UNAVAILABLE', 'could not place the batch after many conflicts; retrying it');
      this.metrics.conflicts?.(1);
      const bad = queue[conflict.index]!;
      const c = bad.doc.conversationId;
      let rest = queue.slice(conflict.index + 1);
      if (conflict.existing) {
        // Already stored (a resend, or a replay after a crash): what followed it in its
        // conversation moves down into the seq it would have taken.
        results.set(bad.slot, { kind: 'duplicate', doc: conflict.existing, replay: conflict.existing.origin === bad.origin });
        let seq = bad.doc.seq;
        rest = rest.map((q) => (q.doc.conversationId === c ? { ...q, doc: { ...q.doc, seq: seq++ } } : q));
      } else {
        // Its seq is taken: another writer (a previous owner of this partition) stored
        // messages this process did not count. Number after what is really stored.
        const truth = await this.messages.lastSeq(c);
        this.heads.set(c, truth);
        this.log.info({ conversationId: c, tried: bad.doc.seq, truth }, 'seq taken by another writer; renumbering after the stored maximum');
        let seq = truth + 1;
        rest = [bad, ...rest].map((q) => (q.doc.conversationId === c ? { ...q, doc: { ...q.doc, seq: seq++ } } : q));
      }
      queue = rest;
    }
    return results;
  }
}

function rejection(m: ValidAccepted, code: ValidRejection['code']): ValidRejection {
  return {
    conversationId: m.conversationId,
    serverMsgId: m.serverMsgId,
    clientMsgId: m.clientMsgId,
    senderId: m.senderId,
    senderDeviceId: m.senderDeviceId,
    code,
    reason: code === 'NOT_FOUND' ? 'the conversation does not exist' : 'the sender is not a member of this conversation',
  };
}
