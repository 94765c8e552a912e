// Kafka adapter of the message-bus port (kafkajs).
// Producer: acks=all, one request in flight, and group commit: records published while a
// request is in flight are sent together in the next one, so one slow round trip
// never serializes every caller behind it, and an idle producer adds no delay.
// Consumer: eachBatch per partition, retried in place until it succeeds, offsets
// committed only after the handler resolved.
import { CompressionTypes, Kafka, Partitioners, logLevel, type Admin, type KafkaConfig, type SASLOptions, type Consumer, type Producer, type Message, type LogEntry } from 'kafkajs';
import { ParleyError, type KafkaSecurity, type Logger } from '@parley/core';
import type { ConsumedBatch, ConsumedRecord, MessageBus, OutgoingRecord, SubscribeOptions, Subscription } from './port';

/**
 * How long a stopping consumer may take to finish its batch in hand and leave its group.
 * kafkajs's stop() also waits for a group join in progress, and a join lasts until every
 * member has rejoined (up to rebalanceTimeout): when instances are scaled in together, the
 * first to leave starts a rebalance the others are caught in. Past this bound shutdown goes
 * on; offsets were committed only for finished work, and the coordinator drops the member
 * after its session timeout.
 */
const CONSUMER_STOP_BOUND_MS = 8_000;

/**
 * The errors that mean this consumer must rejoin its group before it may commit again. kafkajs
 * rejoins on them when they come out of eachBatch (runner.js), so they must not be swallowed.
 */
const MEMBERSHIP_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

/** The error (err or one of its causes) whose `type` is a membership error, as kafkajs wants it thrown. */
export function membershipError(err: unknown): Error | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && MEMBERSHIP_ERRORS.has(type)) return e;
  }
  return undefined;
}

/** What a record adds to a produce request, near enough (record framing is a few bytes more). */
function recordBytes(record: OutgoingRecord): number {
  let n = Buffer.byteLength(record.key) + (typeof record.value === 'string' ? Buffer.byteLength(record.value) : record.value.length) + 32;
  for (const [k, v] of Object.entries(record.headers ?? {})) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 8;
  return n;
}

/** Resolves true when work settles within ms, false when the bound passed first. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true, () => true), bound]);
  } finally {
    clearTimeout(timer);
  }
}

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  log: Logger;
  /** Records waiting for the producer before publish fails with RESOURCE_EXHAUSTED. */
  maxQueuedRecords?: number;
  /** Upper bound of one produce request. */
  maxBatchRecords?: number;
  /**
   * Upper bound, in bytes of keys, values and headers, of one produce request (default
   * 512 KiB). The broker refuses a request whose records for one partition pass
   * message.max.bytes (1 MiB by default), and a group's deliveries carry every member id
   * (about 20 KB each for 1,000 members), so a batch of them must go in several requests.
   */
  maxBatchBytes?: number;
  /** TLS and SASL (kafkaSecurityFrom(config)); plaintext when absent. */
  security?: KafkaSecurity;
}

/** kafkajs's ssl/sasl options for Parley's security settings. */
export function kafkaClientSecurity(security: KafkaSecurity | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (!security) return {};
  // A private CA replaces the system bundle (KAFKA_TLS_CA_FILE); Node still checks the host name.
  const ssl = security.ssl ? { ssl: security.caPem !== undefined ? { ca: [security.caPem] } : true } : {};
  if (!security.sasl) return ssl;
  const { mechanism, username, password } = security.sasl;
  // One branch per mechanism: kafkajs types SASLOptions as a union discriminated on it.
  const sasl: SASLOptions =
    mechanism === 'plain' ? { mechanism, username, password } : mechanism === 'scram-sha-256' ? { mechanism, username, password } : { mechanism, username, password };
  return { ...ssl, sasl };
}

interface Pending {
  topic: string;
  records: OutgoingRecord[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

function kafkaLogger(log: Logger) {
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      if (level === logLevel.ERROR) log.error({ kafka: rest }, message);
      else if (level === logLevel.WARN) log.warn({ kafka: rest }, message);
      else log.debug({ kafka: rest }, message);
    };
}

function headersToStrings(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [key, value] of Object.entries(headers)) {
    if (Buffer.isBuffer(value)) out[key] = value.toString('utf8');
    else if (typeof value === 'string') out[key] = value;
  }
  return out;
}

export class KafkaBus implements MessageBus {
  readonly kafka: Kafka;
  private producer: Producer | undefined;
  private producerConnecting: Promise<Producer> | undefined;
  private readonly queue: Pending[] = [];
  private queuedRecords = 0;
  private flushing = false;
  private readonly consumers = new Set<Consumer>();
  private connected = false;
  private closed = false;

  constructor(private readonly options: KafkaBusOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ...kafkaClientSecurity(options.security),
      logLevel: logLevel.WARN,
      logCreator: kafkaLogger(options.log),
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 },
    });
  }

  private async getProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    this.producerConnecting ??= (async () => {
      // Not kafkajs's idempotent mode: across a broker restart under load it was seen to
      // report acks for records that never became readable (the failure suite lost acked
      // messages). Parley does not need broker-side idempotence: every consumer dedupes by
      // serverMsgId, so a retried produce that lands twice is harmless. One request in flight
      // per connection keeps retries from reordering a conversation's records.
      const producer = this.kafka.producer({
        idempotent: false,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
        retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 10 },
      });
      producer.on(producer.events.DISCONNECT, () => {
        this.connected = false;
      });
      producer.on(producer.events.CONNECT, () => {
        this.connected = true;
      });
      await producer.connect();
      this.connected = true;
      this.producer = producer;
      return producer;
    })().finally(() => {
      this.producerConnecting = undefined;
    });
    return this.producerConnecting;
  }

  /** Connects the producer now, so readiness reflects the brokers before the first message. */
  async connect(): Promise<void> {
    await this.getProducer();
  }

  publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new ParleyError('UNAVAILABLE', 'message bus is closed'));
    if (records.length === 0) return Promise.resolve();
    const limit = this.options.maxQueuedRecords ?? 20_000;
    if (this.queuedRecords + records.length > limit) {
      return Promise.reject(new ParleyError('RESOURCE_EXHAUSTED', 'message bus producer queue is full'));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, records, resolve, reject });
      this.queuedRecords += records.length;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const maxBatch = this.options.maxBatchRecords ?? 2_000;
        const maxBytes = this.options.maxBatchBytes ?? 512 * 1024;
        const taken: Pending[] = [];
        let count = 0;
        let bytes = 0;
        while (this.queue.length > 0) {
          const next = this.queue[0]!;
          const size = next.records.reduce((sum, r) => sum + recordBytes(r), 0);
          if (taken.length > 0 && (count + next.records.length > maxBatch || bytes + size > maxBytes)) break;
          this.queue.shift();
          taken.push(next);
          count += next.records.length;
          bytes += size;
        }
        this.queuedRecords -= count;
        // In order, in requests of at most maxBytes (a single larger record goes alone).
        const requests: Map<string, Message[]>[] = [];
        let request = new Map<string, Message[]>();
        let requestBytes = 0;
        for (const pending of taken) {
          for (const record of pending.records) {
            const size = recordBytes(record);
            if (requestBytes > 0 && requestBytes + size > maxBytes) {
              requests.push(request);
              request = new Map();
              requestBytes = 0;
            }
            const messages = request.get(pending.topic) ?? [];
            messages.push({ key: record.key, value: record.value, ...(record.headers ? { headers: record.headers } : {}) });
            request.set(pending.topic, messages);
            requestBytes += size;
          }
        }
        if (requestBytes > 0) requests.push(request);
        try {
          const producer = await this.getProducer();
          for (const topicMessages of requests) {
            await producer.sendBatch({
              acks: -1,
              compression: CompressionTypes.None,
              topicMessages: [...topicMessages].map(([topic, messages]) => ({ topic, messages })),
            });
          }
          for (const pending of taken) pending.resolve();
        } catch (err) {
          // Some requests may have gone through: the caller publishes again, and every
          // consumer of Parley's topics is idempotent, so that costs a duplicate record, never a loss.
          const error = new ParleyError('UNAVAILABLE', `could not publish to Kafka: ${(err as Error).message}`, { cause: err });
          for (const pending of taken) pending.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 15_000,
      maxWaitTimeInMs: 100,
      // Bounded batches (a few hundred records): a batch is one unit of work and commit.
      maxBytesPerPartition: 256 * 1024,
      retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 1_000_000 },
    });
    this.consumers.add(consumer);
    let stopping = false;
    await consumer.connect();
    await consumer.subscribe({ topic: options.topic, fromBeginning: options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.concurrency ?? 4,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (batch.messages.length === 0) return;
        const records: ConsumedRecord[] = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key ? m.key.toString('utf8') : '',
          value: m.value ?? Buffer.alloc(0),
          headers: headersToStrings(m.headers),
        }));
        // Set when a heartbeat says this member is no longer in the group (evicted while the
        // process was starved, or the coordinator moved after a broker restart).
        let membershipLost: Error | undefined;
        const consumed: ConsumedBatch = {
          topic: batch.topic,
          partition: batch.partition,
          records,
          isActive: () => !stopping && isRunning() && !isStale() && membershipLost === undefined,
        };
        // Keep the membership alive while a slow batch (a slow database, a retry loop) runs:
        // kafkajs only heartbeats when asked, and a member silent for sessionTimeout is
        // evicted, which turns one slow batch into a rebalance storm.
        const beat = setInterval(
          () =>
            void heartbeat().catch((err: unknown) => {
              membershipLost ??= membershipError(err);
            }),
          1_000,
        );
        try {
          for (let attempt = 0; ; attempt++) {
            // Out of the group: give the batch up uncommitted and let kafkajs rejoin (it does
            // so for the errors below only when eachBatch throws them; swallowed, the member
            // would go on heartbeating with a stale id and never get partitions back).
            if (membershipLost !== undefined) throw membershipLost;
            if (!consumed.isActive()) return; // the partition moved: its new owner redoes the batch
            try {
              await options.handler(consumed);
              break;
            } catch (err) {
              options.onHandlerError?.(err, consumed);
              await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 50 * 2 ** Math.min(attempt, 6))));
            }
          }
        } finally {
          clearInterval(beat);
        }
        const last = batch.messages[batch.messages.length - 1]!;
        resolveOffset(last.offset);
        if (options.commitOffsets === false) {
          await heartbeat().catch(() => undefined);
          return;
        }
        // The work is durable: commit the next offset to read. If the group moved on
        // meanwhile (rebalance), the commit is refused and the partition's new owner redoes
        // the batch; handlers are idempotent, so that costs time, not correctness.
        try {
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
          await heartbeat();
        } catch (err) {
          this.options.log.warn({ err, topic: batch.topic, partition: batch.partition }, 'offset commit refused (group rebalanced); the batch will be redone by its new owner');
          const lost = membershipError(err);
          if (lost) throw lost; // kafkajs rejoins the group
        }
      },
    });
    return {
      stop: async () => {
        stopping = true;
        const left = consumer.stop().then(() => consumer.disconnect());
        left.catch((err: unknown) => this.options.log.warn({ err, groupId: options.groupId }, 'stopping a consumer failed'));
        if (!(await settlesWithin(left, CONSUMER_STOP_BOUND_MS))) {
          this.options.log.warn(
            { groupId: options.groupId, boundMs: CONSUMER_STOP_BOUND_MS },
            'consumer did not stop in time (a group join in progress); going on without leaving the group: the coordinator drops this member after its session timeout',
          );
        }
        this.consumers.delete(consumer);
      },
    };
  }

  healthy(): boolean {
    return !this.closed && (this.connected || this.producer === undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => settlesWithin(c.disconnect(), CONSUMER_STOP_BOUND_MS)));
    this.consumers.clear();
    while (this.flushing || this.queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await this.producer?.disconnect();
  }
}

/** Creates topics that do not exist yet (auto-creation is off everywhere Parley runs). */
export async function ensureTopics(
  brokers: string[],
  topics: { topic: string; partitions: number; replicationFactor?: number; configs?: Record<string, string> }[],
  security?: KafkaSecurity,
): Promise<{ created: string[]; existing: { topic: string; partitions: number }[] }> {
  const kafka = new Kafka({ clientId: 'parley-admin', brokers, ...kafkaClientSecurity(security), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        // kafkajs's own wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a busy broker
        // answers for a moment after creating a topic: wait for the leaders here instead.
        waitForLeaders: false,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: t.replicationFactor ?? -1,
          configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
      await waitForLeaders(admin, missing.map((t) => t.topic), 60_000);
    }
    const present = topics.filter((t) => existing.has(t.topic)).map((t) => t.topic);
    const metadata = present.length > 0 ? await admin.fetchTopicMetadata({ topics: present }) : { topics: [] };
    return {
      created: missing.map((t) => t.topic),
      existing: metadata.topics.map((t) => ({ topic: t.name, partitions: t.partitions.length })),
    };
  } finally {
    await admin.disconnect();
  }
}

/** Until every partition of `topics` has a leader (metadata errors meanwhile are the broker catching up). */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const ready = metadata.topics.length === topics.length && metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      if (ready) return;
    } catch (err) {
      if (Date.now() > until) throw err;
    }
    if (Date.now() > until) throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 50 * 2 ** attempt)));
  }
}
