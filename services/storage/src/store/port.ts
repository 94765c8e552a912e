// The message-store port: conversations, members and messages.
// Guarantees every adapter keeps (checked by contract.ts):
// - (conversationId, seq) is unique: insertMessage answers 'seq-taken' instead of writing;
// - serverMsgId and (conversationId, senderId, clientMsgId) are unique: a second
//   insert of the same message answers 'duplicate' and changes nothing;
// - range() returns messages of one conversation in seq order (either direction).

export interface StoredMessageDoc {
  serverMsgId: string;
  conversationId: string;
  seq: number;
  senderId: string;
  senderDeviceId: string;
  clientMsgId: string;
  body: string;
  sentAt: number;
}

export type ConversationKindName = 'direct' | 'group';

export interface ConversationDoc {
  conversationId: string;
  kind: ConversationKindName;
  createdAt: number;
  lastSeq: number;
  memberCount: number;
}

export interface RangeQuery {
  /** Inclusive bounds; undefined means unbounded. */
  fromSeq?: number | undefined;
  toSeq?: number | undefined;
  order: 'asc' | 'desc';
  limit: number;
}

export type InsertResult = 'inserted' | 'duplicate' | 'seq-taken';

export interface MessageStore {
  /** Creates the conversation with its members; 'exists' (and no change) when the id is taken. */
  createConversation(conversation: { conversationId: string; kind: ConversationKindName; memberIds: readonly string[]; createdAt: number }): Promise<'created' | 'exists'>;
  getConversation(conversationId: string): Promise<ConversationDoc | undefined>;
  /**
   * Adds the users not yet members, unless that would take the conversation past maxMembers:
   * then nothing is added and the answer is 'full'. Atomic against concurrent adds.
   */
  addMembers(conversationId: string, userIds: readonly string[], maxMembers?: number): Promise<'added' | 'full'>;
  removeMembers(conversationId: string, userIds: readonly string[]): Promise<void>;
  listMembers(conversationId: string): Promise<string[]>;
  isMember(conversationId: string, userId: string): Promise<boolean>;

  findMessage(serverMsgId: string): Promise<StoredMessageDoc | undefined>;
  /** The highest seq stored for the conversation, read from the messages themselves. */
  maxSeq(conversationId: string): Promise<number>;
  /** A hint of the highest seq (conversation.lastSeq): may lag behind maxSeq after a crash, never ahead. */
  lastSeqHint(conversationId: string): Promise<number>;
  insertMessage(message: StoredMessageDoc): Promise<InsertResult>;
  range(conversationId: string, query: RangeQuery): Promise<StoredMessageDoc[]>;

  healthy(): boolean;
  close(): Promise<void>;
}
