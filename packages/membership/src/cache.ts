// Owns the answers "is this user a member of this conversation?" and "who are its members?"
// kept in a process's memory, so the message path asks storage nothing per send or per
// delivery. They are kept true by membership events (a MembershipChange applied as a
// delta), not by guessing a TTL: an event reaches every instance through parley.membership,
// and the partition owners also see it in the conversation's own stream. A maximum age is
// only a backstop, for an event missed while an instance was cut off from Kafka longer than
// the topic's retention.
//
// A lookup that was under way when an event for its conversation arrived is not cached
// (its answer may predate the change), nor joined by a caller that came after the event:
// each event bumps the conversation's epoch, and a lookup only stores what it read if no
// event came in since it started.
//
// Bots (`bot:<name>`) a conversation allows to post travel in the same events and are
// answered by the same isMember, but they are no members: they are kept as per-id answers
// beside the member list, never in it, so members() (fan-out, direct pairs) stays people only.
import type { ValidMembershipChange } from '@parley/bus';
import { isBotId, isDirectPair } from '@parley/core';

export interface MembershipAnswer {
  exists: boolean;
  member: boolean;
  memberCount: number;
  /** Every member, when the conversation is small enough for one answer to hold them. */
  memberIds?: string[];
}

export type MembershipLookup = (conversationId: string, userId: string) => Promise<MembershipAnswer>;

/** Every member of a conversation, up to `max` of them; `complete` false when there are more. */
export type MemberListLookup = (conversationId: string, max: number) => Promise<{ exists: boolean; memberIds: string[]; complete: boolean }>;

export interface MembershipCacheOptions {
  /** Conversations kept (least recently used go first). */
  maxConversations?: number;
  /** Per-user answers kept per large conversation. */
  maxUsersPerConversation?: number;
  /** An answer older than this is looked up again (backstop for missed events). */
  maxAgeMs?: number;
  now?: () => number;
  /**
   * Reads a conversation's whole member list. When as many per-user lookups of one large
   * conversation are under way at once as `bulkAfterMisses` (a reconnect storm: every member's
   * first receipt), the next misses wait for one member-list read instead of asking one each.
   */
  memberList?: MemberListLookup;
  bulkAfterMisses?: number;
  /** Largest member list read whole. */
  bulkMaxMembers?: number;
  /** Member ids held over all conversations read whole (least recently used go first). */
  bulkMaxHeld?: number;
}

interface Entry {
  /** Every member (small conversations, and large ones read whole by a bulk load). */
  all?: Set<string>;
  /** `all` came from a bulk load: counted against bulkMaxHeld. */
  bulk?: boolean;
  /** Per-user answers (large conversations), and per-bot answers (any conversation). */
  known: Map<string, boolean>;
  loadedAt: number;
}

/** Which conversations saw an event since a given epoch; bounded, and conservative once it forgot. */
class Epochs {
  epoch = 0;
  private readonly changed = new Map<string, number>();
  private forgottenUpTo = 0;

  constructor(private readonly max: number) {}

  bump(conversationId: string): void {
    this.epoch++;
    this.changed.delete(conversationId);
    this.changed.set(conversationId, this.epoch);
    if (this.changed.size > this.max) {
      const [oldest, at] = this.changed.entries().next().value as [string, number];
      this.changed.delete(oldest);
      this.forgottenUpTo = at;
    }
  }

  /** Did an event for this conversation (possibly) arrive after `since`? */
  changedSince(conversationId: string, since: number): boolean {
    if (since < this.forgottenUpTo) return true;
    return (this.changed.get(conversationId) ?? 0) > since;
  }
}

export class MembershipCache {
  private readonly entries = new Map<string, Entry>();
  /** Lookups under way, with the epoch each started at (a caller after an event does not join an older one). */
  private readonly inflight = new Map<string, { since: number; answer: Promise<MembershipAnswer> }>();
  private readonly epochs: Epochs;
  private readonly maxConversations: number;
  private readonly maxUsers: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  /** Per-user lookups under way, per conversation. */
  private readonly missesUnderWay = new Map<string, number>();
  /** Member-list reads under way, with the epoch each started at. */
  private readonly bulks = new Map<string, { since: number; done: Promise<boolean> }>();
  private bulkHeld = 0;
  private readonly bulkAfter: number;
  private readonly bulkMax: number;
  private readonly bulkMaxHeld: number;
  private readonly memberList: MemberListLookup | undefined;
  hits = 0;
  misses = 0;
  bulkLoads = 0;

  constructor(
    private readonly lookup: MembershipLookup,
    options: MembershipCacheOptions = {},
  ) {
    this.maxConversations = options.maxConversations ?? 200_000;
    this.maxUsers = options.maxUsersPerConversation ?? 10_000;
    this.maxAgeMs = options.maxAgeMs ?? 600_000;
    this.now = options.now ?? Date.now;
    this.epochs = new Epochs(this.maxConversations);
    this.memberList = options.memberList;
    this.bulkAfter = options.bulkAfterMisses ?? 16;
    this.bulkMax = options.bulkMaxMembers ?? 10_000;
    this.bulkMaxHeld = options.bulkMaxHeld ?? 1_000_000;
  }

  /** The cached answer, or undefined when it must be looked up. */
  peek(conversationId: string, userId: string): boolean | undefined {
    const entry = this.entries.get(conversationId);
    if (!entry || this.now() - entry.loadedAt > this.maxAgeMs) return undefined;
    if (entry.all && !isBotId(userId)) return entry.all.has(userId);
    return entry.known.get(userId);
  }

  /** Is userId a member? Throws nothing of its own; an unknown conversation answers exists: false (never cached). */
  async isMember(conversationId: string, userId: string): Promise<{ exists: boolean; member: boolean }> {
    const cached = this.peek(conversationId, userId);
    if (cached !== undefined) {
      this.hits++;
      // A hit is a use: keep the conversation from going first.
      const entry = this.entries.get(conversationId)!;
      this.entries.delete(conversationId);
      this.entries.set(conversationId, entry);
      return { exists: true, member: cached };
    }
    this.misses++;
    const bulk = isBotId(userId) ? undefined : this.bulkLoad(conversationId);
    if (bulk && (await bulk)) {
      const loaded = this.peek(conversationId, userId);
      if (loaded !== undefined) return { exists: true, member: loaded };
    }
    const key = `${conversationId}\n${userId}`;
    let pending = this.inflight.get(key);
    if (!pending || this.epochs.changedSince(conversationId, pending.since)) {
      const since = this.epochs.epoch;
      this.missesUnderWay.set(conversationId, (this.missesUnderWay.get(conversationId) ?? 0) + 1);
      const started: { since: number; answer: Promise<MembershipAnswer> } = {
        since,
        answer: this.lookup(conversationId, userId)
          .then((answer) => {
            if (answer.exists && !this.epochs.changedSince(conversationId, since)) this.store(conversationId, userId, answer);
            return answer;
          })
          .finally(() => {
            if (this.inflight.get(key) === started) this.inflight.delete(key);
            const left = (this.missesUnderWay.get(conversationId) ?? 1) - 1;
            if (left > 0) this.missesUnderWay.set(conversationId, left);
            else this.missesUnderWay.delete(conversationId);
          }),
      };
      this.inflight.set(key, (pending = started));
    }
    const answer = await pending.answer;
    return { exists: answer.exists, member: answer.member };
  }

  /**
   * The member-list read of this conversation under way, or one started now when enough
   * per-user lookups of it are; undefined when neither (decided at once, so a plain miss
   * asks storage in the same tick). It resolves true when the whole list is cached.
   */
  private bulkLoad(conversationId: string): Promise<boolean> | undefined {
    if (!this.memberList) return undefined;
    const under = this.bulks.get(conversationId);
    if (under && !this.epochs.changedSince(conversationId, under.since)) return under.done;
    if ((this.missesUnderWay.get(conversationId) ?? 0) < this.bulkAfter) return undefined;
    const since = this.epochs.epoch;
    this.bulkLoads++;
    const done: Promise<boolean> = this.memberList(conversationId, this.bulkMax)
      .then(
        (list) => {
          // Too many to hold whole, or an event came in meanwhile: per-user answers go on.
          if (!list.exists || !list.complete || list.memberIds.length > this.bulkMax || this.epochs.changedSince(conversationId, since)) return false;
          if (this.bulkHeld + list.memberIds.length > this.bulkMaxHeld) this.evictBulk(list.memberIds.length);
          if (this.bulkHeld + list.memberIds.length > this.bulkMaxHeld) return false;
          const old = this.entries.get(conversationId);
          // The bots' answers stay: a member list says nothing about them.
          const bots = new Map([...(old?.known ?? new Map<string, boolean>())].filter(([id]) => isBotId(id)));
          this.setEntry(conversationId, { all: new Set(list.memberIds), bulk: true, known: bots, loadedAt: this.now() });
          return true;
        },
        () => false,
      )
      .finally(() => {
        if (this.bulks.get(conversationId)?.done === done) this.bulks.delete(conversationId);
      });
    this.bulks.set(conversationId, { since, done });
    return done;
  }

  /** Drops the least recently used bulk-loaded conversations until `room` more ids fit. */
  private evictBulk(room: number): void {
    for (const [conversationId, entry] of this.entries) {
      if (this.bulkHeld + room <= this.bulkMaxHeld) return;
      if (entry.bulk) this.deleteEntry(conversationId);
    }
  }

  /** Every change of `entries` goes through these two, so bulkHeld stays the ids held by bulk loads. */
  private setEntry(conversationId: string, entry: Entry): void {
    const old = this.entries.get(conversationId);
    if (old !== entry) {
      if (old?.bulk) this.bulkHeld -= old.all?.size ?? 0;
      if (entry.bulk) this.bulkHeld += entry.all?.size ?? 0;
    }
    this.entries.delete(conversationId);
    this.entries.set(conversationId, entry);
    if (this.entries.size > this.maxConversations) this.deleteEntry(this.entries.keys().next().value as string);
  }

  private deleteEntry(conversationId: string): void {
    const old = this.entries.get(conversationId);
    if (old?.bulk) this.bulkHeld -= old.all?.size ?? 0;
    this.entries.delete(conversationId);
  }

  private store(conversationId: string, userId: string, answer: MembershipAnswer): void {
    const now = this.now();
    let entry = this.entries.get(conversationId);
    if (entry && now - entry.loadedAt > this.maxAgeMs) entry = undefined;
    if (isBotId(userId)) {
      // A bot's answer says nothing about the members: whatever is cached of them stays.
      entry ??= { known: new Map(), loadedAt: now };
      entry.known.delete(userId);
      entry.known.set(userId, answer.member);
      if (entry.known.size > this.maxUsers) entry.known.delete(entry.known.keys().next().value as string);
    } else if (answer.memberIds) {
      entry = { all: new Set(answer.memberIds), known: new Map(), loadedAt: now };
    } else if (entry?.bulk) {
      // The whole list, read as fresh as this answer (no event since either began): it stays.
      return;
    } else {
      entry ??= { known: new Map(), loadedAt: now };
      if (entry.all) entry = { known: new Map(), loadedAt: now };
      entry.known.delete(userId);
      entry.known.set(userId, answer.member);
      if (entry.known.size > this.maxUsers) entry.known.delete(entry.known.keys().next().value as string);
    }
    this.setEntry(conversationId, entry);
  }

  /** Every member, when this conversation is cached whole (small conversations); no lookup. */
  members(conversationId: string): string[] | undefined {
    const entry = this.entries.get(conversationId);
    if (!entry?.all || this.now() - entry.loadedAt > this.maxAgeMs) return undefined;
    return [...entry.all];
  }

  /**
   * A direct conversation's two members, proven by its id (isDirectPair): cached whole with
   * no lookup. Its members never change, so no event can make this answer stale. Anything
   * that does not prove itself is ignored (the next answer is looked up as usual).
   */
  primeDirect(conversationId: string, memberIds: readonly string[]): void {
    if (this.peekEntry(conversationId)?.all || !isDirectPair(conversationId, memberIds)) return;
    this.store(conversationId, memberIds[0], { exists: true, member: true, memberCount: 2, memberIds: [...memberIds] });
  }

  private peekEntry(conversationId: string): Entry | undefined {
    const entry = this.entries.get(conversationId);
    return entry && this.now() - entry.loadedAt <= this.maxAgeMs ? entry : undefined;
  }

  /** A membership event: applied to what is cached, and any lookup under way is not cached. */
  apply(change: ValidMembershipChange): void {
    this.epochs.bump(change.conversationId);
    const entry = this.entries.get(change.conversationId);
    if (!entry) return;
    const member = change.change === 'added';
    for (const userId of change.userIds) {
      if (isBotId(userId)) {
        // Always known from the event itself, whatever else is cached.
        entry.known.set(userId, member);
      } else if (entry.all) {
        const before = entry.all.size;
        if (member) entry.all.add(userId);
        else entry.all.delete(userId);
        if (entry.bulk) this.bulkHeld += entry.all.size - before;
      } else if (entry.known.has(userId) || member) {
        entry.known.set(userId, member);
      }
    }
    // Events add answers too: keep the per-conversation bound.
    while (entry.known.size > this.maxUsers) entry.known.delete(entry.known.keys().next().value as string);
  }

  /** Forgets a conversation (its next answer is looked up). */
  invalidate(conversationId: string): void {
    this.epochs.bump(conversationId);
    this.deleteEntry(conversationId);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Member ids held by conversations read whole. */
  get bulkMembersHeld(): number {
    return this.bulkHeld;
  }
}

export interface MemberListOptions {
  /** Member ids kept over all conversations (least recently used conversations go first). */
  maxMembers?: number;
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * Every member of a conversation, for fan-out (push). Loaded once per conversation (in
 * pages, by the loader) and kept true by membership events, so a delivery record needs to
 * carry no member list, whatever the group's size.
 */
export class MemberListCache {
  private readonly lists = new Map<string, { members: Set<string>; loadedAt: number }>();
  private readonly inflight = new Map<string, { since: number; members: Promise<ReadonlySet<string>> }>();
  private readonly epochs: Epochs;
  private held = 0;
  private readonly maxMembers: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly load: (conversationId: string) => Promise<string[]>,
    options: MemberListOptions = {},
  ) {
    this.maxMembers = options.maxMembers ?? 2_000_000;
    this.maxAgeMs = options.maxAgeMs ?? 600_000;
    this.now = options.now ?? Date.now;
    this.epochs = new Epochs(200_000);
  }

  async get(conversationId: string): Promise<ReadonlySet<string>> {
    const hit = this.lists.get(conversationId);
    if (hit && this.now() - hit.loadedAt <= this.maxAgeMs) {
      this.lists.delete(conversationId);
      this.lists.set(conversationId, hit);
      return hit.members;
    }
    let pending = this.inflight.get(conversationId);
    // A load that started before an event for this conversation may predate it: start a fresh one.
    if (!pending || this.epochs.changedSince(conversationId, pending.since)) {
      const since = this.epochs.epoch;
      const started: { since: number; members: Promise<ReadonlySet<string>> } = {
        since,
        members: this.load(conversationId)
          .then((ids) => {
            const members = new Set(ids);
            if (!this.epochs.changedSince(conversationId, since)) this.remember(conversationId, members);
            return members;
          })
          .finally(() => {
            if (this.inflight.get(conversationId) === started) this.inflight.delete(conversationId);
          }),
      };
      this.inflight.set(conversationId, (pending = started));
    }
    return pending.members;
  }

  private remember(conversationId: string, members: Set<string>): void {
    this.forget(conversationId);
    this.lists.set(conversationId, { members, loadedAt: this.now() });
    this.held += members.size;
    while (this.held > this.maxMembers && this.lists.size > 1) this.forget(this.lists.keys().next().value as string);
  }

  private forget(conversationId: string): void {
    const old = this.lists.get(conversationId);
    if (!old) return;
    this.held -= old.members.size;
    this.lists.delete(conversationId);
  }

  /** A direct conversation's two members, proven by its id (isDirectPair): kept with no load. */
  primeDirect(conversationId: string, memberIds: readonly string[]): void {
    const hit = this.lists.get(conversationId);
    if ((hit && this.now() - hit.loadedAt <= this.maxAgeMs) || !isDirectPair(conversationId, memberIds)) return;
    this.remember(conversationId, new Set(memberIds));
  }

  apply(change: ValidMembershipChange): void {
    this.epochs.bump(change.conversationId);
    const entry = this.lists.get(change.conversationId);
    if (!entry) return;
    for (const userId of change.userIds) {
      // An allowed bot is no member: nothing is delivered to it.
      if (isBotId(userId)) continue;
      const had = entry.members.has(userId);
      if (change.change === 'added' && !had) {
        entry.members.add(userId);
        this.held++;
      } else if (change.change === 'removed' && had) {
        entry.members.delete(userId);
        this.held--;
      }
    }
  }

  invalidate(conversationId: string): void {
    this.epochs.bump(conversationId);
    this.forget(conversationId);
  }
}
