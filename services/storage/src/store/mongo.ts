// MongoDB adapter of the message store (official driver). Written against the
// MongoDB API only, so it runs on MongoDB and on FerretDB alike; uniqueness is
// enforced by unique indexes, never by read-then-write.
import { randomUUID } from 'node:crypto';
import { ParleyError } from '@parley/core';
import { MongoClient, MongoServerError, type Collection, type Db } from 'mongodb';
import type { ConversationDoc, ConversationKindName, InsertResult, MembershipState, MessageStore, PositionKind, RangeQuery, StoredMessageDoc } from './port';

interface ConversationRecord {
  _id: string;
  kind: ConversationKindName;
  createdAt: number;
  lastSeq: number;
  memberCount: number;
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
  /** The highest positions of the member's devices. */
  deliveredSeq?: number;
  readSeq?: number;
}

/** One device's positions in one conversation. */
interface PositionRecord {
  _id: string;
  conversationId: string;
  userId: string;
  deviceId: string;
  deliveredSeq: number;
  readSeq: number;
  updatedAt: number;
}

interface MessageRecord {
  _id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  senderDeviceId: string;
  clientMsgId: string;
  body: string;
  sentAt: number;
  storedAt: number;
}

const DUPLICATE_KEY = 11000;
/** Largest insert sent at once (FerretDB v1 loses `ordered` across its internal chunks of 100). */
const INSERT_CHUNK = 100;

function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

function toDoc(r: MessageRecord): StoredMessageDoc {
  return {
    serverMsgId: r._id,
    conversationId: r.conversationId,
    seq: r.seq,
    senderId: r.senderId,
    senderDeviceId: r.senderDeviceId,
    clientMsgId: r.clientMsgId,
    body: r.body,
    sentAt: r.sentAt,
  };
}

/** A bulk insert that failed only on unique indexes (whatever shape the server's error has). */
function isDuplicateKeyBulk(err: unknown): boolean {
  if (isDuplicateKey(err)) return true;
  const writeErrors = (err as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return list.length > 0 && list.every((e) => e.code === DUPLICATE_KEY);
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

function memberKey(conversationId: string, userId: string): string {
  return JSON.stringify([conversationId, userId]);
}

export class MongoMessageStore implements MessageStore {
  private readonly conversations: Collection<ConversationRecord>;
  private readonly members: Collection<MemberRecord>;
  private readonly messages: Collection<MessageRecord>;
  private readonly positions: Collection<PositionRecord>;
  private connected = false;

  private constructor(
    private readonly client: MongoClient,
    db: Db,
  ) {
    this.conversations = db.collection<ConversationRecord>('conversations');
    this.members = db.collection<MemberRecord>('members');
    this.messages = db.collection<MessageRecord>('messages');
    this.positions = db.collection<PositionRecord>('positions');
    client.on('serverHeartbeatFailed', () => {
      this.connected = false;
    });
    client.on('serverHeartbeatSucceeded', () => {
      this.connected = true;
    });
  }

  static async connect(url: string, database: string): Promise<MongoMessageStore> {
    const client = new MongoClient(url, {
      serverSelectionTimeoutMS: 5_000,
      connectTimeoutMS: 3_000,
      heartbeatFrequencyMS: 2_000,
      // A request on a connection that went silent fails instead of holding a partition forever.
      socketTimeoutMS: 20_000,
      maxPoolSize: 50,
      // A request waits at most this long for a connection, then fails UNAVAILABLE (retried):
      // an unbounded queue behind a slow database only holds work its callers gave up on.
      waitQueueTimeoutMS: 2_000,
    });
    await client.connect();
    const store = new MongoMessageStore(client, client.db(database));
    await store.ensureIndexes();
    store.connected = true;
    return store;
  }

  /** The invariants live here: each unique index is a rule the database enforces. */
  async ensureIndexes(): Promise<void> {
    await this.messages.createIndex({ conversationId: 1, seq: 1 }, { unique: true, name: 'conversation_seq_unique' });
    await this.messages.createIndex({ conversationId: 1, senderId: 1, clientMsgId: 1 }, { unique: true, name: 'conversation_sender_client_msg_unique' });
    await this.members.createIndex({ conversationId: 1, userId: 1 }, { unique: true, name: 'conversation_user_unique' });
    await this.members.createIndex({ conversationId: 1, slot: 1 }, { unique: true, name: 'conversation_slot_unique' });
    await this.members.createIndex({ userId: 1, conversationId: 1 }, { name: 'user_conversation' });
  }

  async createConversation(c: { conversationId: string; kind: ConversationKindName; memberIds: readonly string[]; createdAt: number }): Promise<'created' | 'exists'> {
    const unique = [...new Set(c.memberIds)];
    try {
      await this.conversations.insertOne({ _id: c.conversationId, kind: c.kind, createdAt: c.createdAt, lastSeq: 0, memberCount: unique.length });
    } catch (err) {
      if (isDuplicateKey(err)) {
        // A crash between the two inserts leaves members missing: finish the job.
        if (c.kind === 'direct') await this.addMembers(c.conversationId, unique);
        return 'exists';
      }
      throw err;
    }
    await this.addMembers(c.conversationId, unique);
    return 'created';
  }

  async getConversation(conversationId: string): Promise<ConversationDoc | undefined> {
    const r = await this.conversations.findOne({ _id: conversationId });
    if (!r) return undefined;
    return { conversationId: r._id, kind: r.kind, createdAt: r.createdAt, lastSeq: r.lastSeq, memberCount: r.memberCount };
  }

  /**
   * Membership limits are enforced by the database, not by read-then-write: every member
   * holds a slot in [0, maxMembers) and (conversationId, slot) is a unique index. Racing
   * adds that pick the same slot collide on the index and retry with the slots left; when
   * none are left the group is full. (A conditional update on a counter would be simpler,
   * but FerretDB v1 does not apply concurrent conditional updates atomically: see
   * docs/ARCHITECTURE.md.)
   */
  async addMembers(conversationId: string, userIds: readonly string[], maxMembers = Number.MAX_SAFE_INTEGER): Promise<'added' | 'full'> {
    const wanted = [...new Set(userIds)];
    const addId = randomUUID();
    for (let attempt = 0; attempt < 50; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      const rows = await this.members.find({ conversationId }, { projection: { userId: 1, slot: 1 } }).toArray();
      const present = new Set(rows.map((r) => r.userId));
      const fresh = wanted.filter((u) => !present.has(u));
      if (fresh.length === 0) break;
      if (rows.length + fresh.length > maxMembers) {
        // All or nothing: take back what this call wrote in an earlier round.
        await this.members.deleteMany({ conversationId, addId });
        await this.refreshMemberCount(conversationId);
        return 'full';
      }
      const slots = freeSlots(new Set(rows.map((r) => r.slot)), fresh.length, maxMembers);
      const joinedAt = Date.now();
      try {
        await this.members.insertMany(
          fresh.map((userId, i) => ({ _id: memberKey(conversationId, userId), conversationId, userId, slot: slots[i]!, joinedAt, addId })),
          { ordered: false },
        );
        break;
      } catch (err) {
        // A racing add took a slot or a user first: look again. Anything else is a real error.
        if (!isDuplicateKeyBulk(err)) throw err;
      }
    }
    await this.refreshMemberCount(conversationId);
    const present = await this.members.countDocuments({ _id: { $in: wanted.map((u) => memberKey(conversationId, u)) } });
    if (present < wanted.length) throw new ParleyError('UNAVAILABLE', 'membership is changing too fast; retry');
    return 'added';
  }

  // Positions are written by the receipts consumer, which owns a conversation's partition:
  // writes for one conversation are serial, so read-then-write is safe here (and works on
  // FerretDB, whose conditional updates are not atomic under concurrency).
  async recordPosition(p: { conversationId: string; userId: string; deviceId: string; kind: PositionKind; seq: number }): Promise<number | undefined> {
    const key = memberKey(p.conversationId, p.userId);
    const [conversation, member] = await Promise.all([
      this.conversations.findOne({ _id: p.conversationId }, { projection: { lastSeq: 1 } }),
      this.members.findOne({ _id: key }, { projection: { deliveredSeq: 1, readSeq: 1 } }),
    ]);
    if (!conversation || !member) return undefined;
    const seq = Math.min(p.seq, conversation.lastSeq);
    if (seq < 1) return undefined;
    const deviceKey = JSON.stringify([p.conversationId, p.userId, p.deviceId]);
    const device = await this.positions.findOne({ _id: deviceKey });
    const current = p.kind === 'read' ? (device?.readSeq ?? 0) : (device?.deliveredSeq ?? 0);
    if (current >= seq) return undefined;
    const deliveredSeq = Math.max(device?.deliveredSeq ?? 0, seq);
    const readSeq = p.kind === 'read' ? seq : (device?.readSeq ?? 0);
    await this.positions.updateOne(
      { _id: deviceKey },
      { $set: { conversationId: p.conversationId, userId: p.userId, deviceId: p.deviceId, deliveredSeq, readSeq, updatedAt: Date.now() } },
      { upsert: true },
    );
    await this.members.updateOne(
      { _id: key },
      { $set: { deliveredSeq: Math.max(member.deliveredSeq ?? 0, deliveredSeq), readSeq: Math.max(member.readSeq ?? 0, readSeq) } },
    );
    return seq;
  }

  async listConversationsOf(userId: string, after: string, limit: number): Promise<MembershipState[]> {
    const rows = await this.members
      .find({ userId, conversationId: { $gt: after } }, { projection: { conversationId: 1, deliveredSeq: 1, readSeq: 1 } })
      .sort({ conversationId: 1 })
      .limit(limit)
      .toArray();
    if (rows.length === 0) return [];
    const conversations = new Map(
      (await this.conversations.find({ _id: { $in: rows.map((r) => r.conversationId) } }).toArray()).map((c) => [c._id, c]),
    );
    const out: MembershipState[] = [];
    for (const r of rows) {
      const c = conversations.get(r.conversationId);
      if (!c) continue;
      out.push({
        conversation: { conversationId: c._id, kind: c.kind, createdAt: c.createdAt, lastSeq: c.lastSeq, memberCount: c.memberCount },
        deliveredSeq: r.deliveredSeq ?? 0,
        readSeq: r.readSeq ?? 0,
      });
    }
    return out;
  }

  async bumpLastSeq(conversationId: string, seq: number): Promise<void> {
    await this.conversations.updateOne({ _id: conversationId, lastSeq: { $lt: seq } }, { $set: { lastSeq: seq } });
  }

  async removeMembers(conversationId: string, userIds: readonly string[]): Promise<void> {
    await this.members.deleteMany({ _id: { $in: [...new Set(userIds)].map((u) => memberKey(conversationId, u)) } });
    await this.refreshMemberCount(conversationId);
  }

  private async refreshMemberCount(conversationId: string): Promise<void> {
    const memberCount = await this.members.countDocuments({ conversationId });
    await this.conversations.updateOne({ _id: conversationId }, { $set: { memberCount } });
  }

  async listMembers(conversationId: string): Promise<string[]> {
    const rows = await this.members.find({ conversationId }, { projection: { userId: 1 } }).toArray();
    return rows.map((r) => r.userId).sort();
  }

  async isMember(conversationId: string, userId: string): Promise<boolean> {
    return (await this.members.findOne({ _id: memberKey(conversationId, userId) }, { projection: { _id: 1 } })) !== null;
  }

  async findMessage(serverMsgId: string): Promise<StoredMessageDoc | undefined> {
    const r = await this.messages.findOne({ _id: serverMsgId });
    return r ? toDoc(r) : undefined;
  }

  async findMessages(serverMsgIds: readonly string[]): Promise<StoredMessageDoc[]> {
    if (serverMsgIds.length === 0) return [];
    return (await this.messages.find({ _id: { $in: [...serverMsgIds] } }).toArray()).map(toDoc);
  }

  /**
   * FerretDB v1 splits a large insert into chunks of 100 and, even when `ordered`, goes on
   * with the next chunk after one failed: a run of 160 whose first seq collided left seqs
   * 124..183 written and 24..123 not, a gap. So runs go in as chunks of at most 100, and
   * the next chunk only after the previous one went in whole.
   */
  async insertRun(messages: readonly StoredMessageDoc[]): Promise<number> {
    let done = 0;
    while (done < messages.length) {
      const chunk = messages.slice(done, done + INSERT_CHUNK);
      const inserted = await this.insertChunk(chunk);
      done += inserted;
      if (inserted < chunk.length) break;
    }
    return done;
  }

  private async insertChunk(messages: readonly StoredMessageDoc[]): Promise<number> {
    if (messages.length === 0) return 0;
    const storedAt = Date.now();
    try {
      const result = await this.messages.insertMany(
        messages.map((m) => ({ _id: m.serverMsgId, conversationId: m.conversationId, seq: m.seq, senderId: m.senderId, senderDeviceId: m.senderDeviceId, clientMsgId: m.clientMsgId, body: m.body, sentAt: m.sentAt, storedAt })),
        { ordered: true },
      );
      // Trust the count, not the absence of an error: a server going down has been seen
      // (FerretDB v1 under SIGKILL) to answer ok with fewer documents written, and taking
      // that as success would move the sequencer past seqs that were never stored.
      if (result.insertedCount === messages.length) return messages.length;
      throw new ParleyError('UNAVAILABLE', `insert reported ${result.insertedCount} of ${messages.length} documents`);
    } catch (err) {
      if (!isDuplicateKeyBulk(err) && !(err instanceof ParleyError)) throw err;
      // Ordered: a prefix went in. Ask the data which (servers report it differently).
      const present = new Map((await this.messages.find({ _id: { $in: messages.map((m) => m.serverMsgId) } }, { projection: { seq: 1 } }).toArray()).map((r) => [r._id, r.seq]));
      let n = 0;
      while (n < messages.length && present.get(messages[n]!.serverMsgId) === messages[n]!.seq) n++;
      return n;
    }
  }

  async hasSeq(conversationId: string, seq: number): Promise<boolean> {
    return (await this.messages.findOne({ conversationId, seq }, { projection: { _id: 1 } })) !== null;
  }

  async maxSeq(conversationId: string): Promise<number> {
    const r = await this.messages.find({ conversationId }, { projection: { seq: 1 } }).sort({ seq: -1 }).limit(1).toArray();
    return r[0]?.seq ?? 0;
  }

  async lastSeqHint(conversationId: string): Promise<number> {
    const r = await this.conversations.findOne({ _id: conversationId }, { projection: { lastSeq: 1 } });
    return r?.lastSeq ?? 0;
  }

  async insertMessage(message: StoredMessageDoc): Promise<InsertResult> {
    try {
      await this.messages.insertOne({
        _id: message.serverMsgId,
        conversationId: message.conversationId,
        seq: message.seq,
        senderId: message.senderId,
        senderDeviceId: message.senderDeviceId,
        clientMsgId: message.clientMsgId,
        body: message.body,
        sentAt: message.sentAt,
        storedAt: Date.now(),
      });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Which unique rule fired? Ask the data, not the error text (servers word it differently).
      const same = await this.messages.findOne(
        { conversationId: message.conversationId, senderId: message.senderId, clientMsgId: message.clientMsgId },
        { projection: { _id: 1 } },
      );
      if (same || (await this.messages.findOne({ _id: message.serverMsgId }, { projection: { _id: 1 } }))) return 'duplicate';
      return 'seq-taken';
    }
    await this.conversations.updateOne({ _id: message.conversationId }, { $max: { lastSeq: message.seq } });
    return 'inserted';
  }

  async range(conversationId: string, query: RangeQuery): Promise<StoredMessageDoc[]> {
    const seq: { $gte?: number; $lte?: number } = {};
    if (query.fromSeq !== undefined) seq.$gte = query.fromSeq;
    if (query.toSeq !== undefined) seq.$lte = query.toSeq;
    const filter = Object.keys(seq).length > 0 ? { conversationId, seq } : { conversationId };
    const rows = await this.messages
      .find(filter)
      .sort({ seq: query.order === 'asc' ? 1 : -1 })
      .limit(query.limit)
      .toArray();
    return rows.map(toDoc);
  }

  healthy(): boolean {
    return this.connected;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
