// MongoDB adapters of the store ports (official driver), written against the MongoDB API
// only, so they run on MongoDB and on FerretDB v1 alike, and shaped by what FerretDB v1
// does fast: inserts (tens of thousands of documents a second in batches of 100) and
// equality lookups on one field (indexed locally: deploy/local/ferretdb/lookup-indexes.sql).
// It pushes no range, sort or limit down, uses no index for $in, applies updates one
// document at a time (about 700 a second here) and hangs on a multi-document update
// command, so nothing on the message path reads a range, uses $in, or updates:
//
// - messages carry `b` = "conversationId|floor(seq/128)", so a page of history is one or a
//   few equality lookups whatever the conversation's length (an index on `b` on MongoDB);
// - the last seq of a conversation is found from `heads` marks ("this conversation has a
//   message in bucket b", written once per bucket) and then the last buckets themselves;
// - positions are insert-only marks, bucketed the same way, and read back the same way.
//
// Uniqueness is enforced by unique indexes, never by read-then-write.
import { randomUUID } from 'node:crypto';
import { ConfigError, Histogram, LATENCY_BUCKETS, ParleyError, isBotId, readCaFile, registry } from '@parley/core';
import { MongoBulkWriteError, MongoClient, MongoServerError, type Collection, type Db } from 'mongodb';
import type {
  AppendConflict,
  ConversationDoc,
  ConversationKindName,
  ConversationStore,
  LoggedMessage,
  MembershipAnswer,
  MessageLog,
  PositionKind,
  PositionStore,
  PositionUpdate,
  StoredMessageDoc,
} from './port';
import { MongoKeyStore } from './keys';
import { SMALL_CONVERSATION } from './port';

/**
 * Every find answers in its first batch: FerretDB v1 holds a PostgreSQL connection for each
 * open cursor, and a getMore needs its metadata lock, which a waiting collection or index
 * creation blocks while it waits for a connection itself. With cursors left open across round
 * trips, a creation under load deadlocks FerretDB for good (seen in the benchmark); one batch
 * also saves the getMore round trip. The server still caps a batch at 16 MiB.
 */
const ONE_BATCH = { batchSize: 100_000 } as const;

/** Seqs per bucket: a history page of up to 500 is at most five lookups. */
export const BUCKET_SEQS = 128;
/** Buckets per group of heads/position bucket marks: one lookup covers 131,072 seqs. */
const GROUP_BUCKETS = 1024;
/** Largest insert sent at once (FerretDB v1 loses `ordered` across its internal chunks of 100). */
const INSERT_CHUNK = 100;
const DUPLICATE_KEY = 11000;

export function bucketOf(seq: number): number {
  return Math.floor(seq / BUCKET_SEQS);
}

export function bucketKey(conversationId: string, bucket: number): string {
  return `${conversationId}|${bucket}`;
}

interface ConversationRecord {
  _id: string;
  kind: ConversationKindName;
  createdAt: number;
  memberCount: number;
  /** Direct conversations only: their two members never change, so a membership answer needs no member lookup. */
  memberIds?: string[];
}

interface MemberRecord {
  _id: string;
  conversationId: string;
  userId: string;
  joinedAt: number;
  /** The member's place under the group's size limit; unique per conversation. */
  slot: number;
  /** Which AddMembers call wrote this member (so a call that ends 'full' can take back its own writes). */
  addId: string;
}

/** A bot a conversation allows to post: one document per (conversation, bot). */
interface BotRecord {
  _id: string;
  conversationId: string;
  botId: string;
  /** Its place under the per-conversation limit; unique per conversation (as a member's slot). */
  slot: number;
  addId: string;
  addedAt: number;
}

interface MessageRecord {
  _id: string;
  conversationId: string;
  seq: number;
  /** bucketKey(conversationId, bucketOf(seq)): what history and sync look messages up by. */
  b: string;
  senderId: string;
  senderDeviceId: string;
  clientMsgId: string;
  body: string;
  sentAt: number;
  storedAt: number;
  /** The Kafka record that stored it ("partition:offset"): a replay of that record is told from a resend. */
  o?: string;
}

/** A mark: `_id` names what it records, `k` is the bucket it is looked up by. */
interface MarkRecord {
  _id: string;
  k: string;
}

function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

/** A bulk insert that failed only on unique indexes (whatever shape the server's error has). */
function isDuplicateKeyBulk(err: unknown): boolean {
  if (isDuplicateKey(err)) return true;
  const writeErrors = (err as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return list.length > 0 && list.every((e) => e.code === DUPLICATE_KEY);
}

/**
 * Database answers that mean "this document can never be stored", whoever retries:
 * PostgreSQL under FerretDB refusing a string (22P05: U+0000; 22021: bad encoding; 54000:
 * too large), MongoDB refusing a document (BSONObjectTooLarge, BadValue). They become
 * permanent errors, which the consumer parks in the dead-letter topic; anything else is
 * retried.
 */
const PERMANENT_SQLSTATE = /SQLSTATE (22P05|22021|54000)/;
const PERMANENT_CODES = new Set([2, 10334, 17280]);

function permanentOrRaw(err: unknown): unknown {
  if (err instanceof MongoServerError && (PERMANENT_CODES.has(Number(err.code)) || PERMANENT_SQLSTATE.test(err.message))) {
    return new ParleyError('INVALID_ARGUMENT', `the database refuses this document: ${err.message.slice(0, 200)}`, { retryable: false, cause: err });
  }
  return err;
}

/** Inserts marks (or anything idempotent by _id), ignoring those already there. */
async function insertIgnoringDuplicates<T extends { _id: string }>(collection: Collection<T>, docs: T[]): Promise<void> {
  for (let i = 0; i < docs.length; i += INSERT_CHUNK) {
    try {
      await collection.insertMany(docs.slice(i, i + INSERT_CHUNK) as never[], { ordered: false });
    } catch (err) {
      if (!isDuplicateKeyBulk(err)) throw err;
    }
  }
}

/**
 * Group commit of mark inserts into one collection: while one insert is in flight, the marks
 * of every caller that arrives wait and go together in the next (FerretDB v1 serialises
 * writes, so the number of write commands, not their size, is what it can take). Marks are
 * idempotent by _id, so merging changes nothing but the number of commands; a failed insert
 * fails every caller of that round (each retries its own batch).
 */
class MarkWriter<T extends { _id: string }> {
  private waiting: { docs: T[]; resolve(): void; reject(err: unknown): void }[] = [];
  private running = false;

  constructor(
    private readonly collection: Collection<T>,
    private readonly maxDocs = 1_000,
  ) {}

  insert(docs: T[]): Promise<void> {
    if (docs.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ docs, resolve, reject });
      if (!this.running) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const round = [this.waiting.shift()!];
        let size = round[0]!.docs.length;
        while (this.waiting.length > 0 && size + this.waiting[0]!.docs.length <= this.maxDocs) {
          size += this.waiting[0]!.docs.length;
          round.push(this.waiting.shift()!);
        }
        try {
          await insertIgnoringDuplicates(this.collection, round.flatMap((r) => r.docs));
          for (const r of round) r.resolve();
        } catch (err) {
          for (const r of round) r.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

function toStored(r: MessageRecord): StoredMessageDoc {
  return { serverMsgId: r._id, conversationId: r.conversationId, seq: r.seq, senderId: r.senderId, senderDeviceId: r.senderDeviceId, clientMsgId: r.clientMsgId, body: r.body, sentAt: r.sentAt };
}

function toDoc(r: MessageRecord): LoggedMessage {
  return { ...toStored(r), ...(r.o !== undefined ? { origin: r.o } : {}) };
}

function memberKey(conversationId: string, userId: string): string {
  return JSON.stringify([conversationId, userId]);
}

/**
 * The `count` lowest free slots below `max`. Always the lowest, so every member's slot stays
 * below the member count and any limit at or above it holds; racing adds that pick the same
 * slots collide on the unique index and retry.
 */
function freeSlots(used: ReadonlySet<number>, count: number, max: number): number[] {
  const slots: number[] = [];
  for (let slot = 0; slot < max && slots.length < count; slot++) if (!used.has(slot)) slots.push(slot);
  return slots;
}

/**
 * The highest value recorded under `key` in a two-level bucketed mark index: group marks
 * (`k` = `${key}#g${group}`, one per bucket that holds a value) say which buckets are used;
 * `probeBucket` answers the values of one bucket. Costs a lookup per group of 131,072 values
 * plus the last bucket or two, whatever was recorded before.
 */
async function highestMarked(marks: Collection<MarkRecord>, key: string, probeBucket: (bucket: number) => Promise<number[]>, options: { noMarksMeansEmpty: boolean }): Promise<number> {
  let highestBucket = -1;
  for (let group = 0; ; group++) {
    const found = await marks.find({ k: `${key}#g${group}` }, { ...ONE_BATCH, projection: { _id: 1 } }).toArray();
    if (found.length === 0) break;
    for (const m of found) highestBucket = Math.max(highestBucket, Number(m._id.slice(m._id.lastIndexOf('#b') + 2)));
  }
  if (highestBucket < 0) {
    if (options.noMarksMeansEmpty) return 0;
    highestBucket = 0;
  }
  // A mark is written after its values, so the buckets past the last mark may hold values
  // too (a crash between the two writes): walk on until an empty bucket.
  let best = 0;
  for (let bucket = highestBucket; ; bucket++) {
    const values = await probeBucket(bucket);
    if (values.length === 0) break;
    for (const v of values) best = Math.max(best, v);
  }
  // A group mark whose value never went in (the two are one unordered insert): step back.
  for (let bucket = highestBucket - 1; best === 0 && bucket >= 0; bucket--) {
    for (const v of await probeBucket(bucket)) best = Math.max(best, v);
  }
  return best;
}

function groupMark(key: string, bucket: number): MarkRecord {
  return { _id: `${key}#b${bucket}`, k: `${key}#g${Math.floor(bucket / GROUP_BUCKETS)}` };
}

export class MongoConversationStore implements ConversationStore {
  constructor(
    private readonly conversations: Collection<ConversationRecord>,
    private readonly members: Collection<MemberRecord>,
    private readonly bots: Collection<BotRecord>,
  ) {}

  async createConversation(c: { conversationId: string; kind: ConversationKindName; memberIds: readonly string[]; createdAt: number }): Promise<'created' | 'exists'> {
    const unique = [...new Set(c.memberIds)];
    if (c.kind === 'direct') {
      // Both writes at once (one round trip's latency); each is idempotent, so a crash
      // between them is repaired by the caller's retry, which writes the missing one.
      const addId = randomUUID();
      const joinedAt = Date.now();
      const [conversation] = await Promise.allSettled([
        this.conversations.insertOne({ _id: c.conversationId, kind: c.kind, createdAt: c.createdAt, memberCount: unique.length, memberIds: unique }),
        insertIgnoringDuplicates(
          this.members,
          unique.map((userId, slot) => ({ _id: memberKey(c.conversationId, userId), conversationId: c.conversationId, userId, slot, joinedAt, addId })),
        ),
      ]).then((results) => {
        const failed = results.find((r) => r.status === 'rejected' && !isDuplicateKey(r.reason));
        if (failed) throw (failed as PromiseRejectedResult).reason;
        return results;
      });
      return conversation.status === 'fulfilled' ? 'created' : 'exists';
    }
    try {
      await this.conversations.insertOne({ _id: c.conversationId, kind: c.kind, createdAt: c.createdAt, memberCount: unique.length });
    } catch (err) {
      if (isDuplicateKey(err)) return 'exists';
      throw err;
    }
    await this.addMembers(c.conversationId, unique);
    return 'created';
  }

  async getConversation(conversationId: string): Promise<ConversationDoc | undefined> {
    const r = await this.conversations.findOne({ _id: conversationId });
    if (!r) return undefined;
    return { conversationId: r._id, kind: r.kind, createdAt: r.createdAt, memberCount: r.memberCount, botIds: await this.botsOf(conversationId) };
  }

  private async botsOf(conversationId: string): Promise<string[]> {
    return (await this.bots.find({ conversationId }, { ...ONE_BATCH, projection: { botId: 1 } }).toArray()).map((r) => r.botId).sort();
  }

  /**
   * The same rule as addMembers, at the scale of a short list: each allowed bot holds a slot
   * in [0, maxBots) under a unique index, so racing adds cannot pass the limit (no
   * conditional update: FerretDB v1 does not apply those atomically).
   */
  async addBots(conversationId: string, botIds: readonly string[], maxBots: number): Promise<'added' | 'full' | 'absent'> {
    if (!(await this.conversations.findOne({ _id: conversationId }, { projection: { _id: 1 } }))) return 'absent';
    const wanted = [...new Set(botIds)];
    const addId = randomUUID();
    for (let attempt = 0; attempt < 20; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      const rows = await this.bots.find({ conversationId }, { ...ONE_BATCH, projection: { botId: 1, slot: 1, addId: 1 } }).toArray();
      const present = new Set(rows.map((r) => r.botId));
      const fresh = wanted.filter((b) => !present.has(b));
      if (fresh.length === 0) return 'added';
      if (rows.length + fresh.length > maxBots) {
        // All or nothing: take back what this call wrote in an earlier round.
        if (rows.some((r) => r.addId === addId)) await Promise.all(rows.filter((r) => r.addId === addId).map((r) => this.bots.deleteOne({ _id: r._id })));
        return 'full';
      }
      const slots = freeSlots(new Set(rows.map((r) => r.slot)), fresh.length, maxBots);
      const addedAt = Date.now();
      try {
        await this.bots.insertMany(
          fresh.map((botId, i) => ({ _id: memberKey(conversationId, botId), conversationId, botId, slot: slots[i]!, addId, addedAt })),
          { ordered: false },
        );
        return 'added';
      } catch (err) {
        // A racing add took a slot or the bot first: look again. Anything else is a real error.
        if (!isDuplicateKeyBulk(err)) throw err;
      }
    }
    throw new ParleyError('UNAVAILABLE', 'the allowed bots are changing too fast; retry');
  }

  async removeBots(conversationId: string, botIds: readonly string[]): Promise<void> {
    // By _id, one at a time (at most 32): a $in would scan the collection on FerretDB v1.
    await Promise.all([...new Set(botIds)].map((b) => this.bots.deleteOne({ _id: memberKey(conversationId, b) })));
  }

  /**
   * Membership limits are enforced by the database, not by read-then-write: every member
   * holds a slot in [0, maxMembers) and (conversationId, slot) is a unique index. Racing
   * adds that pick the same slot collide on the index and retry with the slots left; when
   * none are left the group is full. (A conditional update on a counter would be simpler,
   * but FerretDB v1 does not apply concurrent conditional updates atomically: see
   * docs/ARCHITECTURE.md.)
   */
  async addMembers(conversationId: string, userIds: readonly string[], maxMembers = Number.MAX_SAFE_INTEGER): Promise<{ result: 'added' | 'full'; added: string[] }> {
    const wanted = [...new Set(userIds)];
    const addId = randomUUID();
    let added: string[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      const rows = await this.members.find({ conversationId }, { ...ONE_BATCH, projection: { userId: 1, slot: 1, addId: 1 } }).toArray();
      const present = new Set(rows.map((r) => r.userId));
      added = rows.filter((r) => r.addId === addId).map((r) => r.userId);
      const fresh = wanted.filter((u) => !present.has(u));
      if (fresh.length === 0) break;
      if (rows.length + fresh.length > maxMembers) {
        // All or nothing: take back what this call wrote in an earlier round.
        if (added.length > 0) await this.members.deleteMany({ conversationId, addId });
        await this.refreshMemberCount(conversationId);
        return { result: 'full', added: [] };
      }
      const slots = freeSlots(new Set(rows.map((r) => r.slot)), fresh.length, maxMembers);
      const joinedAt = Date.now();
      try {
        for (let i = 0; i < fresh.length; i += INSERT_CHUNK) {
          await this.members.insertMany(
            fresh.slice(i, i + INSERT_CHUNK).map((userId, j) => ({ _id: memberKey(conversationId, userId), conversationId, userId, slot: slots[i + j]!, joinedAt, addId })),
            { ordered: false },
          );
        }
        added.push(...fresh);
        break;
      } catch (err) {
        // A racing add took a slot or a user first: look again. Anything else is a real error.
        if (!isDuplicateKeyBulk(err)) throw err;
      }
    }
    // The count is counted then written: a racing add may write a smaller one after ours.
    // Count again until the count written covers the members read after it (bounded).
    let present = new Set<string>();
    let count = 0;
    for (let round = 0; round < 5; round++) {
      count = await this.refreshMemberCount(conversationId);
      present = new Set((await this.members.find({ conversationId }, { ...ONE_BATCH, projection: { userId: 1 } }).toArray()).map((r) => r.userId));
      if (count >= present.size) break;
    }
    if (wanted.some((u) => !present.has(u)) || count < present.size) throw new ParleyError('UNAVAILABLE', 'membership is changing too fast; retry');
    return { result: 'added', added: [...new Set(added)].filter((u) => present.has(u)) };
  }

  async removeMembers(conversationId: string, userIds: readonly string[]): Promise<string[]> {
    const unique = [...new Set(userIds)];
    const removed: string[] = [];
    // One delete per member, by _id (a $in would scan the collection on FerretDB v1).
    for (let i = 0; i < unique.length; i += 50) {
      const results = await Promise.all(unique.slice(i, i + 50).map((u) => this.members.deleteOne({ _id: memberKey(conversationId, u) })));
      results.forEach((r, j) => {
        if (r.deletedCount > 0) removed.push(unique[i + j]!);
      });
    }
    await this.refreshMemberCount(conversationId);
    return removed;
  }

  private async refreshMemberCount(conversationId: string): Promise<number> {
    const memberCount = await this.members.countDocuments({ conversationId });
    await this.conversations.updateOne({ _id: conversationId }, { $set: { memberCount } });
    return memberCount;
  }

  async listMembers(conversationId: string, after: string, limit: number): Promise<{ userIds: string[]; hasMore: boolean }> {
    const filter = after === '' ? { conversationId } : { conversationId, userId: { $gt: after } };
    const rows = await this.members.find(filter, { ...ONE_BATCH, projection: { userId: 1 } }).sort({ userId: 1 }).limit(limit + 1).toArray();
    const userIds = rows.map((r) => r.userId);
    return { userIds: userIds.slice(0, limit), hasMore: userIds.length > limit };
  }

  async membership(conversationId: string, userId: string): Promise<MembershipAnswer> {
    const conversation = await this.conversations.findOne({ _id: conversationId });
    if (!conversation) return { exists: false, member: false, memberCount: 0 };
    if (isBotId(userId)) {
      const allowed = (await this.bots.findOne({ _id: memberKey(conversationId, userId) }, { projection: { _id: 1 } })) !== null;
      return { exists: true, member: allowed, memberCount: conversation.memberCount };
    }
    if (conversation.memberIds) return { exists: true, member: conversation.memberIds.includes(userId), memberCount: conversation.memberIds.length, memberIds: [...conversation.memberIds] };
    if (conversation.memberCount <= SMALL_CONVERSATION) {
      const memberIds = (await this.members.find({ conversationId }, { ...ONE_BATCH, projection: { userId: 1 } }).toArray()).map((r) => r.userId).sort();
      // The count may lag a concurrent add; the list is the truth.
      if (memberIds.length <= SMALL_CONVERSATION) return { exists: true, member: memberIds.includes(userId), memberCount: memberIds.length, memberIds };
      return { exists: true, member: memberIds.includes(userId), memberCount: memberIds.length };
    }
    const member = (await this.members.findOne({ _id: memberKey(conversationId, userId) }, { projection: { _id: 1 } })) !== null;
    return { exists: true, member, memberCount: conversation.memberCount };
  }

  async conversationsOf(userId: string, after: string, limit: number): Promise<string[]> {
    const rows = await this.members
      .find(after === '' ? { userId } : { userId, conversationId: { $gt: after } }, { ...ONE_BATCH, projection: { conversationId: 1 } })
      .sort({ conversationId: 1 })
      .limit(limit)
      .toArray();
    return rows.map((r) => r.conversationId);
  }
}

export class MongoMessageLog implements MessageLog {
  private readonly headMarks: MarkWriter<MarkRecord>;

  constructor(
    private readonly messages: Collection<MessageRecord>,
    private readonly heads: Collection<MarkRecord>,
  ) {
    this.headMarks = new MarkWriter(heads);
  }

  /**
   * In chunks of at most 100, each ordered, the next only after the previous went in whole:
   * FerretDB v1 splits a larger insert into chunks of 100 and, even when `ordered`, goes on
   * with the next chunk after one failed (a run of 160 whose first seq collided left seqs
   * 124..183 written and 24..123 not, a gap).
   */
  async append(messages: readonly LoggedMessage[]): Promise<{ inserted: number; conflict?: AppendConflict }> {
    const storedAt = Date.now();
    let done = 0;
    while (done < messages.length) {
      const chunk = messages.slice(done, done + INSERT_CHUNK);
      try {
        const result = await this.messages.insertMany(
          chunk.map((m) => ({
            _id: m.serverMsgId,
            conversationId: m.conversationId,
            seq: m.seq,
            b: bucketKey(m.conversationId, bucketOf(m.seq)),
            senderId: m.senderId,
            senderDeviceId: m.senderDeviceId,
            clientMsgId: m.clientMsgId,
            body: m.body,
            sentAt: m.sentAt,
            storedAt,
            ...(m.origin !== undefined ? { o: m.origin } : {}),
          })),
          { ordered: true },
        );
        // Trust the count, not the absence of an error: a server going down has been seen
        // (FerretDB v1 under SIGKILL) to answer ok with fewer documents written.
        if (result.insertedCount !== chunk.length) throw new ParleyError('UNAVAILABLE', `insert reported ${result.insertedCount} of ${chunk.length} documents`);
        done += chunk.length;
      } catch (err) {
        if (!(err instanceof MongoBulkWriteError) || !isDuplicateKeyBulk(err)) throw permanentOrRaw(err);
        // Ordered: the documents before the first error went in, and nothing after it.
        const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
        const index = writeErrors[0]?.index;
        if (typeof index !== 'number' || err.result.insertedCount !== index) throw new ParleyError('UNAVAILABLE', 'insert reported an inconsistent prefix; retrying', { cause: err });
        done += index;
        return { inserted: done, conflict: await this.classify(done, messages[done]!) };
      }
    }
    return { inserted: done };
  }

  /** Which unique rule did this message break? Ask the data, not the error text (servers word it differently). */
  private async classify(index: number, m: LoggedMessage): Promise<AppendConflict> {
    const byId = await this.messages.findOne({ _id: m.serverMsgId });
    if (byId) return { index, existing: toDoc(byId) };
    const sameClientMsg = await this.messages.findOne({ conversationId: m.conversationId, senderId: m.senderId, clientMsgId: m.clientMsgId });
    if (sameClientMsg) return { index, existing: toDoc(sameClientMsg) };
    return { index };
  }

  async find(serverMsgId: string): Promise<LoggedMessage | undefined> {
    const r = await this.messages.findOne({ _id: serverMsgId });
    return r ? toDoc(r) : undefined;
  }

  async range(conversationId: string, fromSeq: number, toSeq: number): Promise<StoredMessageDoc[]> {
    if (toSeq < fromSeq) return [];
    const buckets: number[] = [];
    for (let b = bucketOf(fromSeq); b <= bucketOf(toSeq); b++) buckets.push(b);
    const rows = (await Promise.all(buckets.map((b) => this.messages.find({ b: bucketKey(conversationId, b) }, ONE_BATCH).toArray()))).flat();
    return rows
      .filter((r) => r.conversationId === conversationId && r.seq >= fromSeq && r.seq <= toSeq)
      .sort((x, y) => x.seq - y.seq)
      .map(toStored);
  }

  async lastSeq(conversationId: string): Promise<number> {
    // Messages without a mark are possible (a crash between the insert and the mark): walk the buckets anyway.
    return highestMarked(
      this.heads,
      conversationId,
      async (bucket) => (await this.messages.find({ b: bucketKey(conversationId, bucket) }, { ...ONE_BATCH, projection: { seq: 1 } }).toArray()).map((r) => r.seq),
      { noMarksMeansEmpty: false },
    );
  }

  async noteStored(heads: ReadonlyMap<string, number>): Promise<void> {
    if (heads.size === 0) return;
    await this.headMarks.insert([...heads].map(([conversationId, seq]) => groupMark(conversationId, bucketOf(seq))));
  }
}

function positionKey(p: { conversationId: string; userId: string; kind: PositionKind }): string {
  return `${p.conversationId}|${p.userId}|${p.kind}`;
}

export class MongoPositionStore implements PositionStore {
  private readonly marks: MarkWriter<MarkRecord>;

  constructor(private readonly positions: Collection<MarkRecord>) {
    this.marks = new MarkWriter(positions);
  }

  async raise(positions: readonly PositionUpdate[]): Promise<void> {
    const docs: MarkRecord[] = [];
    for (const p of positions) {
      const key = positionKey(p);
      docs.push({ _id: `${key}|${p.seq}`, k: `${key}|${bucketOf(p.seq)}` });
      // A bucket's group mark once, when a position enters the bucket (unknown before: always).
      if (!p.previous || bucketOf(p.previous) !== bucketOf(p.seq)) docs.push(groupMark(key, bucketOf(p.seq)));
    }
    await this.marks.insert(docs);
  }

  async read(conversationId: string, userId: string, kind: PositionKind): Promise<number> {
    const key = positionKey({ conversationId, userId, kind });
    // A position's first mark always comes with its group mark, in the same insert: no
    // group mark means no position (one lookup for the common "never read" answer).
    return highestMarked(
      this.positions,
      key,
      async (bucket) => (await this.positions.find({ k: `${key}|${bucket}` }, { ...ONE_BATCH, projection: { _id: 1 } }).toArray()).map((r) => Number(r._id.slice(r._id.lastIndexOf('|') + 1))),
      { noMarksMeansEmpty: true },
    );
  }
}

export interface MongoStores {
  conversations: MongoConversationStore;
  keys: MongoKeyStore;
  log: MongoMessageLog;
  positions: MongoPositionStore;
  db: Db;
  healthy(): boolean;
  close(): Promise<void>;
}

/** The invariants live here: each unique index is a rule the database enforces. */
const INDEXES: { collection: string; key: Record<string, 1>; name: string; unique?: boolean }[] = [
  { collection: 'messages', key: { conversationId: 1, seq: 1 }, name: 'conversation_seq_unique', unique: true },
  { collection: 'messages', key: { conversationId: 1, senderId: 1, clientMsgId: 1 }, name: 'conversation_sender_client_msg_unique', unique: true },
  { collection: 'messages', key: { b: 1 }, name: 'bucket' },
  { collection: 'members', key: { conversationId: 1, userId: 1 }, name: 'conversation_user_unique', unique: true },
  { collection: 'members', key: { conversationId: 1, slot: 1 }, name: 'conversation_slot_unique', unique: true },
  { collection: 'members', key: { userId: 1, conversationId: 1 }, name: 'user_conversation' },
  { collection: 'bots', key: { conversationId: 1, slot: 1 }, name: 'conversation_slot_unique', unique: true },
  { collection: 'heads', key: { k: 1 }, name: 'bucket' },
  { collection: 'positions', key: { k: 1 }, name: 'bucket' },
];

/**
 * Creates the indexes that do not exist yet, and nothing else: FerretDB v1 takes its global
 * metadata lock for every createIndexes, even of an index it has, so a restart under load asks
 * only listIndexes (a read) once the indexes exist.
 */
async function ensureIndexes(db: Db): Promise<void> {
  const existing = new Map<string, Set<string>>();
  for (const name of new Set(INDEXES.map((i) => i.collection))) {
    const names = await db
      .collection(name)
      .listIndexes()
      .toArray()
      .then((list) => list.map((i) => String(i['name'])))
      .catch((err: unknown) => {
        // A collection that does not exist yet has no indexes (NamespaceNotFound, code 26).
        if ((err as { code?: unknown }).code === 26) return [];
        throw err;
      });
    existing.set(name, new Set(names));
  }
  for (const index of INDEXES) {
    if (existing.get(index.collection)?.has(index.name)) continue;
    await db.collection(index.collection).createIndex(index.key, { name: index.name, ...(index.unique ? { unique: true } : {}) });
  }
}

/** Every database command's time, by command and collection (both from a fixed set: no user data in labels). */
const dbCommandSeconds = new Histogram({
  name: 'parley_storage_db_command_seconds',
  help: 'MongoDB commands storage sent, by command, collection and outcome, with their round-trip time.',
  labelNames: ['command', 'collection', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

const COLLECTIONS = new Set(['messages', 'members', 'bots', 'conversations', 'heads', 'positions', 'api_keys']);

/** Times each command through the driver's command monitoring (collection names taken from the started event). */
function observeCommands(client: MongoClient): void {
  const started = new Map<number, string>();
  client.on('commandStarted', (e) => {
    const target = (e.command as Record<string, unknown>)[e.commandName];
    const collection = typeof target === 'string' && COLLECTIONS.has(target) ? target : 'other';
    started.set(e.requestId, collection);
    // Bounded: a command that never finished (a connection torn down) is forgotten.
    if (started.size > 10_000) started.delete(started.keys().next().value as number);
  });
  const finished = (outcome: 'ok' | 'error') => (e: { requestId: number; commandName: string; duration: number }) => {
    const collection = started.get(e.requestId) ?? 'other';
    started.delete(e.requestId);
    if (e.commandName === 'hello' || e.commandName === 'ismaster') return;
    dbCommandSeconds.observe({ command: e.commandName, collection, outcome }, e.duration / 1000);
  };
  client.on('commandSucceeded', finished('ok'));
  client.on('commandFailed', finished('error'));
}

/** TLS trust and credentials beyond MONGO_URL (which then holds neither a password nor a CA path). */
export interface MongoConnection {
  /** TLS trusting this CA file (PEM); turns TLS on. */
  tlsCAFile?: string;
  auth?: { username: string; password: string };
}

/** The connection options from storage's config; names the variable that is wrong. */
export function mongoConnectionFrom(config: { MONGO_URL: string; MONGO_TLS_CA_FILE?: string | undefined; MONGO_USERNAME?: string | undefined; MONGO_PASSWORD?: string | undefined }): MongoConnection {
  const problems: string[] = [];
  if (config.MONGO_USERNAME && !config.MONGO_PASSWORD) problems.push('MONGO_PASSWORD: required when MONGO_USERNAME is set (not set)');
  if (config.MONGO_PASSWORD && !config.MONGO_USERNAME) problems.push('MONGO_USERNAME: required when MONGO_PASSWORD is set (not set)');
  // A password in the URL ends up wherever the URL is printed.
  if (/^mongodb(\+srv)?:\/\/[^/@]*:[^/@]*@/.test(config.MONGO_URL)) problems.push('MONGO_URL: put the password in MONGO_PASSWORD, not in the URL');
  if (problems.length > 0) throw new ConfigError(problems);
  // Read now: a missing or empty CA file stops the service naming the variable.
  if (config.MONGO_TLS_CA_FILE) readCaFile('MONGO_TLS_CA_FILE', config.MONGO_TLS_CA_FILE);
  return {
    ...(config.MONGO_TLS_CA_FILE ? { tlsCAFile: config.MONGO_TLS_CA_FILE } : {}),
    ...(config.MONGO_USERNAME && config.MONGO_PASSWORD ? { auth: { username: config.MONGO_USERNAME, password: config.MONGO_PASSWORD } } : {}),
  };
}

export async function connectMongoStores(url: string, database: string, options: { maxPoolSize?: number } & MongoConnection = {}): Promise<MongoStores> {
  const client = new MongoClient(url, {
    ...(options.tlsCAFile !== undefined ? { tls: true, tlsCAFile: options.tlsCAFile } : {}),
    ...(options.auth !== undefined ? { auth: options.auth } : {}),
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 3_000,
    heartbeatFrequencyMS: 2_000,
    // A request on a connection that went silent fails instead of holding a partition forever.
    socketTimeoutMS: 20_000,
    maxPoolSize: options.maxPoolSize ?? 50,
    // A request waits at most this long for a connection, then fails UNAVAILABLE (retried):
    // an unbounded queue behind a slow database only holds work its callers gave up on.
    waitQueueTimeoutMS: 2_000,
    monitorCommands: true,
  });
  observeCommands(client);
  await client.connect();
  const db = client.db(database);
  await ensureIndexes(db);
  let connected = true;
  client.on('serverHeartbeatFailed', () => {
    connected = false;
  });
  client.on('serverHeartbeatSucceeded', () => {
    connected = true;
  });
  return {
    conversations: new MongoConversationStore(db.collection<ConversationRecord>('conversations'), db.collection<MemberRecord>('members'), db.collection<BotRecord>('bots')),
    log: new MongoMessageLog(db.collection<MessageRecord>('messages'), db.collection<MarkRecord>('heads')),
    positions: new MongoPositionStore(db.collection<MarkRecord>('positions')),
    keys: MongoKeyStore.on(db),
    db,
    healthy: () => connected,
    close: () => client.close(),
  };
}
