export type { ConversationDoc, ConversationKindName, InsertResult, MessageStore, RangeQuery, StoredMessageDoc } from './port';
export { MemoryMessageStore } from './memory';
export { MongoMessageStore } from './mongo';
