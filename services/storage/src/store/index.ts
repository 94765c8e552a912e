export type { ConversationDoc, ConversationKindName, InsertResult, MembershipState, MessageStore, PositionKind, RangeQuery, StoredMessageDoc } from './port';
export { MemoryMessageStore } from './memory';
export { MongoMessageStore } from './mongo';
