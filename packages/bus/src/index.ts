export type { ConsumedBatch, ConsumedRecord, MessageBus, OutgoingRecord, SubscribeOptions, Subscription } from './port';
export { MemoryBus, partitionFor } from './memory';
export { KafkaBus, ensureTopics, kafkaClientSecurity, type KafkaBusOptions } from './kafka';
export { KAFKA_CLIENTS, createMessageBus, type KafkaClientName, type KafkaMessageBus } from './create-bus';
export { DLQ_RETENTION_MS, MEMBERSHIP_RETENTION_MS, TOPIC_KEYS, topicNames, topicSpecs, type TopicNames, type TopicSpec } from './topics';
export {
  MAX_MEMBERSHIP_IDS_PER_RECORD,
  MAX_READABLE_VERSION,
  MAX_RECORD_BYTES,
  RECORD_VERSION,
  RecordFormatError,
  deliveriesRecords,
  membershipChanges,
  membershipRecords,
  messagesRecords,
  receiptsRecords,
  signalsRecords,
  type DeliveriesEntry,
  type MembershipEntry,
  type MessagesEntry,
  type ReceiptsEntry,
  type RecordFormat,
  type SignalsEntry,
  type ValidAccepted,
  type ValidMembershipChange,
  type ValidReceipt,
  type ValidRejection,
  type ValidSignal,
  type ValidStored,
} from './records';
export { DLQ_HEADERS, PoisonRecordError, decodeBatch, isPermanentError, parkedRecord, withDeadLetters, type DeadLetterOptions } from './dead-letters';
export { listParked, replayParked, selects, type DlqToolOptions, type ParkedRecord, type ReplaySelection } from './dlq-tool';
