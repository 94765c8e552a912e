export type { ConsumedBatch, ConsumedRecord, MessageBus, OutgoingRecord, SubscribeOptions, Subscription } from './port';
export { MemoryBus, partitionFor } from './memory';
export { KafkaBus, ensureTopics, type KafkaBusOptions } from './kafka';
export { topicNames, type TopicNames } from './topics';
