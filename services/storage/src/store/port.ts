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

export type PositionKind = 'delivered' | 'read';

/** A member's view of one conversation: the positions are the highest of the user's devices. */
export interface MembershipState {
  conversation: ConversationDoc;
  deliveredSeq: number;
  readSeq: number;
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

  /**
   * Moves a device's delivered or read position forward (never back), clamped to the
   * conversation's last seq; a read also counts as delivered. The member's position is the
   * highest of its devices. Answers the stored position when it moved, undefined when not
   * (already there, not a member, unknown conversation).
   */
  recordPosition(p: { conversationId: string; userId: string; deviceId: string; kind: PositionKind; seq: number }): Promise<number | undefined>;
  /** The conversations userId is a member of, by conversation id, after `after`. */
  listConversationsOf(userId: string, after: string, limit: number): Promise<MembershipState[]>;
  /** Repairs conversation.lastSeq (a hint) after a crash between a message's insert and its bump. */
  bumpLastSeq(conversationId: string, seq: number): Promise<void>;

  findMessage(serverMsgId: string): Promise<StoredMessageDoc | undefined>;
  /** The stored messages among these serverMsgIds (any order). */
  findMessages(serverMsgIds: readonly string[]): Promise<StoredMessageDoc[]>;
  /**
   * Inserts a run of messages in order and stops at the first one that breaks a unique
   * rule; answers how many were inserted (a prefix of the run). Does not bump lastSeq.
   */
  insertRun(messages: readonly StoredMessageDoc[]): Promise<number>;
  /** Is this seq of the conversation stored? */
  hasSeq(conversationId: string, seq: number): Promise<boolean>;
  /** The highest seq stored for the conversation, read from the messages themselves. */
  maxSeq(conversationId: string): Promise<number>;
  /** A hint of the highest seq (conversation.lastSeq): may lag behind maxSeq after a crash, never ahead. */
  lastSeqHint(conversationId: string): Promise<number>;
  insertMessage(message: StoredMessageDoc): Promise<InsertResult>;
  range(conversationId: string, query: RangeQuery): Promise<StoredMessageDoc[]>;

  healthy(): boolean;
  close(): Promise<void>;
}
