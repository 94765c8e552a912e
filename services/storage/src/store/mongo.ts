// MongoDB adapter of the message store (official driver). Written against the
// MongoDB API only, so it runs on MongoDB and on FerretDB alike; uniqueness is
// enforced by unique indexes, never by read-then-write.
import { randomUUID } from 'node:crypto';
import { ParleyError } from '@parley/core';
import { MongoClient, MongoServerError, type Collection, type Db } from 'mongodb';
import type { ConversationDoc, ConversationKindName, InsertResult, MessageStore, RangeQuery, StoredMessageDoc } from './port';

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
 * `count` free slots below `max`, picked at random among the lowest free ones, so that
 * racing adds rarely pick the same slot.
 */
function freeSlots(used: ReadonlySet<number>, count: number, max: number): number[] {
  const pool: number[] = [];
  for (let slot = 0; slot < max && pool.length < count * 4 + 16; slot++) if (!used.has(slot)) pool.push(slot);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}

function memberKey(conversationId: string, userId: string): string {
  return JSON.stringify([conversationId, userId]);
}

export class MongoMessageStore implements MessageStore {
  private readonly conversations: Collection<ConversationRecord>;
  private readonly members: Collection<MemberRecord>;
  private readonly messages: Collection<MessageRecord>;
  private connected = false;

  private constructor(
    private readonly client: MongoClient,
    db: Db,
  ) {
    this.conversations = db.collection<ConversationRecord>('conversations');
    this.members = db.collection<MemberRecord>('members');
    this.messages = db.collection<MessageRecord>('messages');
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
      maxPoolSize: 50,
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
    await this.members.createIndex({ userId: 1 }, { name: 'user' });
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
    for (let attempt = 0; attempt < 20; attempt++) {
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
