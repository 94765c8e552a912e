// The documents Parley's storage writes today, as the bench writes them itself: the
// conversation-admin baseline inserts them (20 callers, a database of its own), the
// 1,000,000-conversation preload bulk-inserts them (into Parley's database and the
// baseline's), and preload.ts's optional store strategy writes message documents.
// Copied in shape from services/storage/src/store/mongo.ts (ConversationRecord, MemberRecord,
// MessageRecord, ensureIndexes) as of 2026-12-02. The storage data layout is being redesigned:
// when it changes, change these functions (and only these) to match.
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';

export interface ConversationDocs {
  conversation: { _id: string; kind: 'direct' | 'group'; createdAt: number; lastSeq: number; memberCount: number };
  members: { _id: string; conversationId: string; userId: string; joinedAt: number; slot: number; addId: string }[];
}

/** What createConversation writes: one conversation document and one member document per member. */
export function conversationDocs(conversationId: string, kind: 'direct' | 'group', memberIds: readonly string[], now = Date.now()): ConversationDocs {
  const unique = [...new Set(memberIds)];
  const addId = randomUUID();
  return {
    conversation: { _id: conversationId, kind, createdAt: now, lastSeq: 0, memberCount: unique.length },
    members: unique.map((userId, slot) => ({ _id: JSON.stringify([conversationId, userId]), conversationId, userId, joinedAt: now, slot, addId })),
  };
}

export interface MessageDocInput {
  serverMsgId: string;
  conversationId: string;
  seq: number;
  senderId: string;
  senderDeviceId: string;
  clientMsgId: string;
  body: string;
  sentAt: number;
}

/** A stored message as storage's insertRun writes it. */
export function messageDoc(m: MessageDocInput, storedAt = Date.now()): Record<string, unknown> {
  return { _id: m.serverMsgId, conversationId: m.conversationId, seq: m.seq, senderId: m.senderId, senderDeviceId: m.senderDeviceId, clientMsgId: m.clientMsgId, body: m.body, sentAt: m.sentAt, storedAt };
}

/** The indexes storage creates on those collections (the unique ones are the invariants the baseline must pay for too). */
export async function ensureStoreIndexes(db: Db): Promise<void> {
  const members = db.collection('members');
  const messages = db.collection('messages');
  await messages.createIndex({ conversationId: 1, seq: 1 }, { unique: true, name: 'conversation_seq_unique' });
  await messages.createIndex({ conversationId: 1, senderId: 1, clientMsgId: 1 }, { unique: true, name: 'conversation_sender_client_msg_unique' });
  await members.createIndex({ conversationId: 1, userId: 1 }, { unique: true, name: 'conversation_user_unique' });
  await members.createIndex({ conversationId: 1, slot: 1 }, { unique: true, name: 'conversation_slot_unique' });
  await members.createIndex({ userId: 1, conversationId: 1 }, { name: 'user_conversation' });
}

/** One creation the way the baseline makes it: the conversation, then its members (two round trips, as storage's fastest path needs at least). */
export async function insertConversation(db: Db, docs: ConversationDocs): Promise<void> {
  await db.collection('conversations').insertOne(docs.conversation as never);
  await db.collection('members').insertMany(docs.members as never[], { ordered: true });
}

/** Many at once: bulk inserts of the same documents (the preload of 1,000,000 conversations). */
export async function bulkInsertConversations(db: Db, list: ConversationDocs[]): Promise<void> {
  if (list.length === 0) return;
  await db.collection('conversations').insertMany(list.map((d) => d.conversation) as never[], { ordered: false });
  await db.collection('members').insertMany(list.flatMap((d) => d.members) as never[], { ordered: false });
}
