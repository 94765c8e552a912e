export type {
  AppendConflict,
  ConversationDoc,
  ConversationKindName,
  ConversationStore,
  LoggedMessage,
  MaxRegisters,
  MembershipAnswer,
  MessageLog,
  PositionKind,
  PositionStore,
  PositionUpdate,
  StoredMessageDoc,
} from './port';
export { SMALL_CONVERSATION } from './port';
export { MemoryConversationStore, MemoryMessageLog, MemoryPositionStore } from './memory';
export { BUCKET_SEQS, bucketKey, bucketOf, connectMongoStores, mongoConnectionFrom, type MongoConnection, type MongoStores } from './mongo';
export { MemoryRegisters, RedisRegisters } from './registers';
export { CombinedMessageLog } from './combine';
export { MemoryKeyStore, MongoKeyStore, type ApiKeyDoc, type KeyStore } from './keys';
