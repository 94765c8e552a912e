// Owns the two small numbers every catch-up read and every batch needs: a conversation's
// last seq ("head") and a member's delivered/read positions. They are answered from the
// registers (Redis: one pipelined round trip for a whole batch or page) and, when a register
// is missing (Redis restarted empty, or the key expired), rebuilt from the documents of the
// store, whose cost does not grow with the conversation's history, then put back.
//
// Registers are written after the documents they summarise, so they are never ahead of
// them. One that lags (Redis lost a write) is only ever a lower bound: the sequencer's
// unique-index fence catches a seq it thought free, and positions only move forward.
import { isDirectPair, type Logger } from '@parley/core';
import { bucketOf, type ConversationStore, type MaxRegisters, type MembershipAnswer, type MessageLog, type PositionKind, type PositionStore } from './store';

export const headKey = (conversationId: string): string => `h|${conversationId}`;
export const positionKey = (conversationId: string, userId: string, kind: PositionKind): string => `p|${conversationId}|${userId}|${kind}`;
export const pairKey = (conversationId: string): string => `dp|${conversationId}`;

/** Runs fn over items, at most `limit` at once. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/**
 * Registers that could not be raised (Redis unreachable) are kept and raised with the next
 * write, so a register never stays behind once Redis is back.
 */
class RegisterWriter {
  private pending = new Map<string, number>();

  constructor(
    private readonly registers: MaxRegisters,
    private readonly log: Logger,
  ) {}

  async raise(values: ReadonlyMap<string, number>): Promise<void> {
    const all = this.pending;
    this.pending = new Map();
    for (const [k, v] of values) all.set(k, Math.max(all.get(k) ?? -1, v));
    if (all.size === 0) return;
    try {
      await this.registers.raise(all);
    } catch (err) {
      for (const [k, v] of all) this.pending.set(k, Math.max(this.pending.get(k) ?? -1, v));
      // Bounded: past this the registers are rebuilt from the store when read.
      if (this.pending.size > 100_000) this.pending.clear();
      this.log.warn({ err, pending: this.pending.size }, 'raising registers failed; kept for the next write');
    }
  }

  /** Reads, treating an unreachable Redis as "nothing cached" (the store answers instead). */
  async read(keys: readonly string[]): Promise<Map<string, number>> {
    try {
      return await this.registers.read(keys);
    } catch (err) {
      this.log.warn({ err }, 'reading registers failed; answering from the store');
      return new Map();
    }
  }
}

export class ConversationHeads {
  private readonly writer: RegisterWriter;

  constructor(
    registers: MaxRegisters,
    private readonly messages: MessageLog,
    log: Logger,
  ) {
    this.writer = new RegisterWriter(registers, log);
  }

  /** The last seq of each conversation (0 when empty). */
  async get(conversationIds: readonly string[]): Promise<Map<string, number>> {
    const unique = [...new Set(conversationIds)];
    const held = await this.writer.read(unique.map(headKey));
    const out = new Map<string, number>();
    const missing: string[] = [];
    for (const c of unique) {
      const v = held.get(headKey(c));
      if (v === undefined) missing.push(c);
      else out.set(c, v);
    }
    if (missing.length > 0) {
      const rebuilt = await mapLimit(missing, 8, (c) => this.messages.lastSeq(c));
      const raise = new Map<string, number>();
      missing.forEach((c, i) => {
        out.set(c, rebuilt[i]!);
        raise.set(headKey(c), rebuilt[i]!);
      });
      await this.writer.raise(raise);
    }
    return out;
  }

  /** A new (empty) conversation: its head is 0, known without a lookup. */
  async created(conversationId: string, extra: ReadonlyMap<string, number> = new Map()): Promise<void> {
    await this.writer.raise(new Map([[headKey(conversationId), 0], ...extra]));
  }

  /** After an append: the new heads (and the previous ones, when known). */
  async stored(heads: ReadonlyMap<string, { seq: number; previous: number | undefined }>): Promise<void> {
    const crossed = new Map<string, number>();
    const raise = new Map<string, number>();
    for (const [c, { seq, previous }] of heads) {
      raise.set(headKey(c), seq);
      if (!previous || bucketOf(previous) !== bucketOf(seq)) crossed.set(c, seq);
    }
    await Promise.all([this.messages.noteStored(crossed), this.writer.raise(raise)]);
  }
}

export interface MemberPosition {
  conversationId: string;
  userId: string;
  kind: PositionKind;
}

export class MemberPositions {
  private readonly writer: RegisterWriter;

  constructor(
    registers: MaxRegisters,
    private readonly store: PositionStore,
    log: Logger,
  ) {
    this.writer = new RegisterWriter(registers, log);
  }

  async get(keys: readonly MemberPosition[]): Promise<Map<string, number>> {
    const held = await this.writer.read(keys.map((k) => positionKey(k.conversationId, k.userId, k.kind)));
    const missing = keys.filter((k) => !held.has(positionKey(k.conversationId, k.userId, k.kind)));
    if (missing.length > 0) {
      const rebuilt = await mapLimit(missing, 8, (k) => this.store.read(k.conversationId, k.userId, k.kind));
      const raise = new Map<string, number>();
      missing.forEach((k, i) => {
        held.set(positionKey(k.conversationId, k.userId, k.kind), rebuilt[i]!);
        raise.set(positionKey(k.conversationId, k.userId, k.kind), rebuilt[i]!);
      });
      await this.writer.raise(raise);
    }
    return held;
  }

  async raise(updates: readonly (MemberPosition & { seq: number; previous: number })[]): Promise<void> {
    if (updates.length === 0) return;
    await this.store.raise(updates);
    await this.writer.raise(new Map(updates.map((u) => [positionKey(u.conversationId, u.userId, u.kind), u.seq])));
  }
}

/**
 * A direct conversation's two members, answered without the database: they never change, so
 * this process remembers them (bounded), and Redis holds them as a fact written at creation
 * (or on the first lookup of a conversation created before). Every pair is checked against
 * the conversation id (isDirectPair) before it is believed, so a wrong register can cost a
 * lookup but never grant membership. With thousands of direct conversations whose first
 * message since a restart comes in the same minute, this keeps the router's membership
 * misses off the database.
 */
export class DirectMembers {
  private readonly memo = new Map<string, [string, string]>();

  constructor(
    private readonly registers: MaxRegisters,
    private readonly conversations: Pick<ConversationStore, 'membership'>,
    private readonly log: Logger,
    private readonly maxMemo = 500_000,
  ) {}

  /** The membership answer of a direct conversation (any other id goes to the store). */
  async membership(conversationId: string, userId: string): Promise<MembershipAnswer> {
    const pair = this.memo.get(conversationId) ?? (await this.held(conversationId));
    if (pair) {
      this.remember(conversationId, pair);
      return { exists: true, member: pair.includes(userId), memberCount: 2, memberIds: [...pair] };
    }
    const answer = await this.conversations.membership(conversationId, userId);
    if (answer.exists && answer.memberIds && isDirectPair(conversationId, answer.memberIds)) await this.created(conversationId, answer.memberIds);
    return answer;
  }

  /** A direct conversation was created (or found): its pair is known from now on. */
  async created(conversationId: string, memberIds: readonly string[]): Promise<void> {
    if (!isDirectPair(conversationId, memberIds)) return;
    const pair: [string, string] = memberIds[0] < memberIds[1] ? [memberIds[0], memberIds[1]] : [memberIds[1], memberIds[0]];
    this.remember(conversationId, pair);
    try {
      await this.registers.putFacts(new Map([[pairKey(conversationId), pair.join('\n')]]));
    } catch (err) {
      // Derived data: the next process that misses it looks it up and writes it again.
      this.log.warn({ err }, 'recording a direct pair failed; it is looked up when next needed');
    }
  }

  private async held(conversationId: string): Promise<[string, string] | undefined> {
    let value: string | undefined;
    try {
      value = (await this.registers.readFacts([pairKey(conversationId)])).get(pairKey(conversationId));
    } catch (err) {
      this.log.warn({ err }, 'reading a direct pair failed; answering from the store');
      return undefined;
    }
    const ids = value?.split('\n') ?? [];
    return isDirectPair(conversationId, ids) ? ids : undefined;
  }

  private remember(conversationId: string, pair: [string, string]): void {
    this.memo.delete(conversationId);
    this.memo.set(conversationId, pair);
    if (this.memo.size > this.maxMemo) this.memo.delete(this.memo.keys().next().value as string);
  }
}
