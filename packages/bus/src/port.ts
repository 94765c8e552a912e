// The message-bus port: what Parley needs from Kafka, and no more.
// Guarantees every adapter keeps (checked by contract.ts):
// - records with the same key go to the same partition and are consumed in publish order;
// - publish resolves only once the records are durable;
// - a partition's batches are handled one at a time, in order, and its offset is
//   committed only after the handler resolved: a handler that throws gets the same
//   records again, so handlers must be idempotent.

export interface OutgoingRecord {
  /** Routing key: conversationId for every Parley topic. */
  key: string;
  value: string | Buffer;
  headers?: Record<string, string>;
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  /** False once the partition was taken away (rebalance) or the subscription is stopping. */
  isActive(): boolean;
}

export interface SubscribeOptions {
  groupId: string;
  topic: string;
  handler: (batch: ConsumedBatch) => Promise<void>;
  /** How many partitions this member works on at once (each still in order). */
  concurrency?: number;
  /** Called when a handler failed and the batch will be retried. */
  onHandlerError?: (err: unknown, batch: ConsumedBatch) => void;
  /**
   * Where a group with no committed offset starts: the earliest record (default) or the
   * records published from now on.
   */
  fromBeginning?: boolean;
  /**
   * False for a reader that only needs what it sees while it runs (a per-instance group
   * reading a broadcast topic): nothing is committed, so the group leaves nothing behind.
   */
  commitOffsets?: boolean;
}

export interface Subscription {
  /** Stops fetching, lets the batch in hand finish and commit, then leaves the group. */
  stop(): Promise<void>;
}

export interface MessageBus {
  publish(topic: string, records: OutgoingRecord[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** True while the bus can reach its brokers (for readiness). */
  healthy(): boolean;
  close(): Promise<void>;
}
