// MongoDB adapter of the message store (official driver). Written against the
// MongoDB API only, so it runs on MongoDB and on FerretDB alike; uniqueness is
// enforced by unique indexes, never by read-then-write.
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
    await this.members.createIndex({ userId: 1 }, { name: 'user' });
  }

  async createConversation(c: { conversationId: string; kind: ConversationKindName; memberIds: readonly string[]; createdAt: number }): Promise<'created' | 'exists'> {
    const unique = [...new Set(c.memberIds)];
    try {
      await this.conversations.insertOne({ _id: c.conversationId, kind: c.kind, createdAt: c.createdAt, lastSeq: 0, memberCount: unique.length });
    } catch (err) {
      if (isDuplicateKey(err)) {
        // A crash between the two inserts leaves members missing: finish the job.
        if (c.kind === 'direct') await this.insertMembers(c.conversationId, unique);
        return 'exists';
      }
      throw err;
    }
    await this.insertMembers(c.conversationId, unique);
    return 'created';
  }

  private async insertMembers(conversationId: string, userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    const joinedAt = Date.now();
    try {
      await this.members.insertMany(
        userIds.map((userId) => ({ _id: memberKey(conversationId, userId), conversationId, userId, joinedAt })),
        { ordered: false },
      );
    } catch (err) {
      // Members already present are fine; anything else is not.
      const writeErrors = (err as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
      const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
      if (!(isDuplicateKey(err) || (list.length > 0 && list.every((e) => e.code === DUPLICATE_KEY)))) throw err;
    }
    await this.refreshMemberCount(conversationId);
  }

  private async refreshMemberCount(conversationId: string): Promise<void> {
    const memberCount = await this.members.countDocuments({ conversationId });
    await this.conversations.updateOne({ _id: conversationId }, { $set: { memberCount } });
  }

  async getConversation(conversationId: string): Promise<ConversationDoc | undefined> {
    const r = await this.conversations.findOne({ _id: conversationId });
    if (!r) return undefined;
    return { conversationId: r._id, kind: r.kind, createdAt: r.createdAt, lastSeq: r.lastSeq, memberCount: r.memberCount };
  }

  async addMembers(conversationId: string, userIds: readonly string[]): Promise<void> {
    await this.insertMembers(conversationId, [...new Set(userIds)]);
  }

  async removeMembers(conversationId: string, userIds: readonly string[]): Promise<void> {
    await this.members.deleteMany({ _id: { $in: userIds.map((u) => memberKey(conversationId, u)) } });
    await this.refreshMemberCount(conversationId);
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
