// The store ports, split by what each owns (centrifuge keeps Broker, PresenceManager and
// MapBroker apart the same way), each with its own section of contract.ts:
//
// - ConversationStore: conversations and their members (the admin API, membership answers).
// - MessageLog: the per-message documents, the source of truth of every message and the
//   fence of the seq rule; the hot path's only write is one ordered insert per batch.
// - PositionStore: each member's delivered and read positions (insert-only marks).
// - MaxRegisters: small max-only counters (the last seq of a conversation, a member's
//   positions) and immutable facts (a direct conversation's members) kept in Redis, derived
//   from the other three and rebuilt from them when lost.
//
// Guarantees every adapter keeps (checked by contract.ts):
// - (conversationId, seq) and serverMsgId are unique: append() stops at the first message
//   that breaks either and says which rule it broke (a duplicate, or a seq already taken);
// - (conversationId, senderId, clientMsgId) is unique (serverMsgId derives from it);
// - range() returns the messages of one conversation in seq order;
// - lastSeq() and PositionStore.read() answer from the stored documents, whatever the
//   registers hold, at a cost that does not grow with the conversation's history.

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

/** A message as the log holds it: with the Kafka record that stored it ("partition:offset"). */
export interface LoggedMessage extends StoredMessageDoc {
  origin?: string;
}

export type ConversationKindName = 'direct' | 'group';

export interface ConversationDoc {
  conversationId: string;
  kind: ConversationKindName;
  createdAt: number;
  memberCount: number;
  /** The bots allowed to post (not members), in id order. */
  botIds: string[];
}

export type PositionKind = 'delivered' | 'read';

/** Up to this many members, a membership answer lists them all (one read fills a cache for all). */
export const SMALL_CONVERSATION = 256;

export interface MembershipAnswer {
  exists: boolean;
  /** For a bot's id (`bot:<name>`): whether the conversation allows that bot to post. */
  member: boolean;
  memberCount: number;
  /** Every member, when memberCount <= SMALL_CONVERSATION (users only: never a bot). */
  memberIds?: string[];
}

export interface ConversationStore {
  /** Creates the conversation with its members; 'exists' (and no change) when the id is taken. */
  createConversation(conversation: { conversationId: string; kind: ConversationKindName; memberIds: readonly string[]; createdAt: number }): Promise<'created' | 'exists'>;
  getConversation(conversationId: string): Promise<ConversationDoc | undefined>;
  /**
   * Adds the users not yet members, unless that would take the conversation past maxMembers:
   * then nothing is added and the answer is 'full'. Atomic against concurrent adds. Answers
   * who was added (not already a member).
   */
  addMembers(conversationId: string, userIds: readonly string[], maxMembers?: number): Promise<{ result: 'added' | 'full'; added: string[] }>;
  /** Answers who was removed (was a member). */
  removeMembers(conversationId: string, userIds: readonly string[]): Promise<string[]>;
  /** Members in user id order, after `after`. */
  listMembers(conversationId: string, after: string, limit: number): Promise<{ userIds: string[]; hasMore: boolean }>;
  /**
   * Is userId a member? For a bot's id, is that bot allowed to post (at the cost of one
   * lookup by key: the answer need not list the members).
   */
  membership(conversationId: string, userId: string): Promise<MembershipAnswer>;
  /**
   * Allows these bots to post, unless that would take the conversation past maxBots: then
   * nothing changes and the answer is 'full'. Atomic against concurrent adds. 'absent' when
   * the conversation does not exist.
   */
  addBots(conversationId: string, botIds: readonly string[], maxBots: number): Promise<'added' | 'full' | 'absent'>;
  /** No longer allows these bots (those not allowed are ignored). */
  removeBots(conversationId: string, botIds: readonly string[]): Promise<void>;
  /** The conversations userId is a member of, in conversation id order, after `after`. */
  conversationsOf(userId: string, after: string, limit: number): Promise<string[]>;
}

/** Why append() stopped: the message at `index` is already stored (existing), or its seq is taken by another. */
export interface AppendConflict {
  index: number;
  existing?: LoggedMessage;
}

export interface MessageLog {
  /**
   * Inserts messages in order and stops at the first one that breaks a unique rule; answers
   * how many went in (a prefix) and, when it stopped early, why. Messages of several
   * conversations may be mixed; the order within each conversation is the seq order.
   */
  append(messages: readonly LoggedMessage[]): Promise<{ inserted: number; conflict?: AppendConflict }>;
  find(serverMsgId: string): Promise<LoggedMessage | undefined>;
  /** The stored messages of one conversation with fromSeq <= seq <= toSeq, oldest first (toSeq - fromSeq < 1024). */
  range(conversationId: string, fromSeq: number, toSeq: number): Promise<StoredMessageDoc[]>;
  /** The highest seq stored, from the messages themselves (the slow path, after a register was lost). */
  lastSeq(conversationId: string): Promise<number>;
  /**
   * Notes that these messages are stored (the highest seq per conversation of an append),
   * so that lastSeq() stays cheap. Call after append() succeeded; idempotent.
   */
  noteStored(heads: ReadonlyMap<string, number>): Promise<void>;
}

export interface PositionUpdate {
  conversationId: string;
  userId: string;
  kind: PositionKind;
  seq: number;
  /** The position before, when known (saves a write when the bucket did not change). */
  previous?: number;
}

export interface PositionStore {
  /** Records positions; a position never moves back (the highest ever recorded is read). Idempotent. */
  raise(positions: readonly PositionUpdate[]): Promise<void>;
  /** The highest position recorded (0 when none), from the stored documents (the slow path). */
  read(conversationId: string, userId: string, kind: PositionKind): Promise<number>;
}

/** Max-only counters by key (Redis): a value never moves back. */
export interface MaxRegisters {
  /** The values held (missing keys are absent from the answer). */
  read(keys: readonly string[]): Promise<Map<string, number>>;
  /** Raises each key to at least its value. */
  raise(values: ReadonlyMap<string, number>): Promise<void>;
  /**
   * Facts: small strings that never change once true (a direct conversation's member pair),
   * derived from the documents like the numbers. The values held; missing keys are absent.
   */
  readFacts(keys: readonly string[]): Promise<Map<string, string>>;
  /** Records facts (writing one again writes the same value). */
  putFacts(values: ReadonlyMap<string, string>): Promise<void>;
  healthy(): boolean;
  close(): Promise<void>;
}
