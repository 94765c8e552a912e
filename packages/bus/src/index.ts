export type { ConsumedBatch, ConsumedRecord, MessageBus, OutgoingRecord, SubscribeOptions, Subscription } from './port';
export { MemoryBus, partitionFor } from './memory';
export { KafkaBus, ensureTopics, kafkaClientSecurity, type KafkaBusOptions } from './kafka';
export { topicNames, topicSpecs, type TopicNames, type TopicSpec } from './topics';
