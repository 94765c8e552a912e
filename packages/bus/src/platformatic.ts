// Kafka adapter of the message-bus port on @platformatic/kafka, beside the kafkajs one
// (kafka.ts); KAFKA_CLIENT picks one (create-bus.ts). Same guarantees as KafkaBus, each reached
// with this library's own pieces:
// Producer: acks=all on every send, one produce request in flight per partition, group commit
// (records published while a request is in flight go together in the next one), requests bounded
// in records and bytes (produce-batches.ts), a bounded queue.
// Consumer: the library keeps the group membership (join, sync, heartbeats on its own timers,
// rejoin on a group error); this module fetches the assigned partitions itself (Consumer.fetch),
// so that each partition is one batch at a time, in order, not fetched while its handler runs
// (back-pressure by pausing partitions), and committed only after the handler resolved. The
// library's MessagesStream is not used: it hands out single records from a buffer shared by all
// partitions, and after a rebalance records fetched for the old generation can still come out of it.
import { isIP } from 'node:net';
import type * as Platformatic from '@platformatic/kafka';
import { ParleyError, type KafkaSecurity, type Logger } from '@parley/core';
import type { KafkaBusOptions } from './kafka';
import type { ConsumedBatch, ConsumedRecord, MessageBus, OutgoingRecord, SubscribeOptions, Subscription } from './port';
import { recordBytes, roundSize, splitRound, type ProduceLimits, type QueuedPublish } from './produce-batches';

/** The same options as KafkaBus, so that switching KAFKA_CLIENT changes nothing else. */
export type PlatformaticBusOptions = KafkaBusOptions;

type Library = typeof Platformatic;
type Producer = Platformatic.Producer<string, Buffer, string, string>;
type Consumer = Platformatic.Consumer;
type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;
type FetchedPartition = FetchResponse['responses'][number]['partitions'][number];

let library: Library | undefined;

/**
 * The library, loaded with Node's own require. It is an ES module only: Node 24 loads it from
 * this CommonJS build (require(esm)), but jest's module registry cannot without
 * --experimental-vm-modules, and jest intercepts both `require` and `module.createRequire`. With
 * a jest transform for node_modules/@platformatic this could be a plain import.
 */
export function platformatic(): Library {
  library ??= process.getBuiltinModule('node:module').createRequire(__filename)('@platformatic/kafka') as Library;
  return library;
}

/** Same bound and reason as kafka.ts: a stopping member never holds up shutdown past it. */
const CONSUMER_STOP_BOUND_MS = 8_000;
const SESSION_TIMEOUT_MS = 10_000;
const HEARTBEAT_INTERVAL_MS = 1_000;
const REBALANCE_TIMEOUT_MS = 15_000;
/** Bounded batches (a few hundred records): a batch is one unit of work and commit. */
const PARTITION_MAX_BYTES = 256 * 1024;
const FETCH_MAX_WAIT_MS = 100;
/** A member inactive this long with no join in progress of ours is made to rejoin (see watchdog). */
const INACTIVE_REJOIN_MS = REBALANCE_TIMEOUT_MS + SESSION_TIMEOUT_MS;
/** Record-batch attribute bit 5: a transaction marker, not data (the library's IS_CONTROL). */
export const CONTROL_BATCH = 1 << 5;

const SASL_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/**
 * The library's TLS and SASL options for Parley's security settings. `tls: {}` is Node's default
 * verification against the system CAs, as kafkajs's `ssl: true` (KAFKA_TLS_CA_FILE: that CA instead). The SNI server name is the
 * broker's host (managed clusters route on it), as kafkajs sends it, except for IP literals,
 * which RFC 6066 does not allow there.
 */
export function platformaticClientSecurity(
  security: KafkaSecurity | undefined,
  brokers: string[],
): Pick<Platformatic.BaseOptions, 'tls' | 'tlsServerName' | 'sasl'> {
  const out: Pick<Platformatic.BaseOptions, 'tls' | 'tlsServerName' | 'sasl'> = {};
  if (security?.ssl) {
    out.tls = security.caPem !== undefined ? { ca: security.caPem } : {};
    if (!brokers.every((broker) => isIP(hostOf(broker)) !== 0)) out.tlsServerName = true;
  }
  if (security?.sasl) {
    const { mechanism, username, password } = security.sasl;
    out.sasl = { mechanism: SASL_MECHANISMS[mechanism], username, password };
  }
  return out;
}

function hostOf(broker: string): string {
  const colon = broker.lastIndexOf(':');
  const host = colon > 0 && !broker.endsWith(']') ? broker.slice(0, colon) : broker;
  return host.replace(/^\[|\]$/g, '');
}

/** Exponential with jitter, 100 ms to 2 s: the library's retryDelay (attempt counts from 1). */
function retryDelay(_client: unknown, _operation: string, attempt: number): number {
  return backoff(attempt - 1, 100);
}

function backoff(attempt: number, baseMs = 50): number {
  return Math.min(2_000, baseMs * 2 ** Math.min(attempt, 6)) * (0.8 + Math.random() * 0.4);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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

/**
 * The library's errors nest (MultipleErrors of each retry's error, ResponseError of each
 * partition's): their own messages say little ("Producing messages failed."), the leaves say
 * what happened. Duck-typed: under jest the library's errors come from another realm.
 */
export function describeError(err: unknown, depth = 0): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const { message, errors, cause } = err as { message?: unknown; errors?: unknown; cause?: unknown };
  const own = typeof message === 'string' ? message : String(err);
  if (depth > 4) return own;
  if (Array.isArray(errors) && errors.length > 0) return `${own} (${[...new Set(errors.map((e) => describeError(e, depth + 1)))].join('; ')})`;
  return cause === undefined ? own : `${own}: ${describeError(cause, depth + 1)}`;
}

function headersToStrings(headers: [Buffer | null, Buffer | null][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of headers) {
    if (key) out[key.toString('utf8')] = value ? value.toString('utf8') : '';
  }
  return out;
}

/**
 * The records of one partition's fetched batches from offset `from` on (a fetch answers whole
 * record batches, which may start before it), and the offset after the last batch: where the
 * next fetch starts, past transaction markers too.
 */
export function recordsFrom(
  batches: readonly Platformatic.RecordsBatch[] | null | undefined,
  from: bigint,
  topic: string,
  partition: number,
): { records: ConsumedRecord[]; next: bigint } {
  const records: ConsumedRecord[] = [];
  let next = from;
  for (const batch of batches ?? []) {
    const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
    if (end > next) next = end;
    if ((batch.attributes & CONTROL_BATCH) !== 0) continue;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset < from) continue;
      records.push({
        topic,
        partition,
        offset: offset.toString(),
        key: record.key ? record.key.toString('utf8') : '',
        value: record.value ?? Buffer.alloc(0),
        headers: headersToStrings(record.headers),
      });
    }
  }
  return { records, next };
}

interface Pending extends QueuedPublish {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class PlatformaticBus implements MessageBus {
  private producerClient: Producer | undefined;
  private readonly queue: Pending[] = [];
  private queuedRecords = 0;
  private flushing = false;
  private readonly limits: ProduceLimits;
  private readonly subscriptions = new Set<GroupSubscription>();
  /** Whether the last attempt to reach the brokers (connect, send or probe) succeeded. */
  private reachable = true;
  private probing = false;
  private lastProbeAt = 0;
  private closed = false;

  constructor(private readonly options: PlatformaticBusOptions) {
    this.limits = { maxBatchRecords: options.maxBatchRecords ?? 2_000, maxBatchBytes: options.maxBatchBytes ?? 512 * 1024 };
  }

  private producer(): Producer {
    const lib = platformatic();
    // Not the library's idempotent mode (see PLATFORMATIC.md): Parley does not need broker-side
    // idempotence, since every consumer dedupes by serverMsgId, so a retried produce that lands
    // twice is harmless. Order holds without it: flush() sends one request at a time and awaits
    // it, retries included, before the next, so a partition never has two requests in flight and
    // a retry cannot overtake (or be overtaken by) a later record of the same key.
    this.producerClient ??= new lib.Producer<string, Buffer, string, string>({
      clientId: this.options.clientId,
      bootstrapBrokers: this.options.brokers,
      ...platformaticClientSecurity(this.options.security, this.options.brokers),
      serializers: { key: lib.stringSerializer, headerKey: lib.stringSerializer, headerValue: lib.stringSerializer },
      idempotent: false,
      // The Java client's and kafkajs's partitioner (murmur2 & 0x7fffffff). The library's default
      // (murmur2 >>> 0) puts about half of the keys in another partition: with adapters mixed, or
      // switched, one conversation's records would go to two partitions and lose their order.
      partitioner: lib.compatibilityPartitioner,
      autocreateTopics: false,
      connectTimeout: 3_000,
      requestTimeout: 10_000,
      timeout: 5_000,
      retries: 10,
      retryDelay,
    });
    return this.producerClient;
  }

  /** Connects the producer now, so readiness reflects the brokers before the first message. */
  async connect(): Promise<void> {
    try {
      await this.producer().connectToBrokers();
      this.reachable = true;
    } catch (err) {
      this.reachable = false;
      throw new ParleyError('UNAVAILABLE', `could not connect to Kafka: ${describeError(err)}`, { cause: err });
    }
  }

  publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new ParleyError('UNAVAILABLE', 'message bus is closed'));
    if (records.length === 0) return Promise.resolve();
    const limit = this.options.maxQueuedRecords ?? 20_000;
    if (this.queuedRecords + records.length > limit) {
      return Promise.reject(new ParleyError('RESOURCE_EXHAUSTED', 'message bus producer queue is full'));
    }
    const bytes = records.reduce((sum, r) => sum + recordBytes(r), 0);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, records, bytes, resolve, reject });
      this.queuedRecords += records.length;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        // Group commit: everything that queued up while the previous round was in flight, up to one request's worth.
        const round = this.queue.splice(0, roundSize(this.queue, this.limits));
        this.queuedRecords -= round.reduce((sum, p) => sum + p.records.length, 0);
        const { requests, lastRequestOf } = splitRound(round, this.limits);
        let settled = 0; // publishes of the round resolved so far (lastRequestOf is non-decreasing)
        const resolveUpTo = (request: number) => {
          while (settled < round.length && lastRequestOf[settled]! <= request) round[settled++]!.resolve();
        };
        resolveUpTo(-1);
        try {
          const producer = this.producer();
          for (const [index, request] of requests.entries()) {
            await producer.send({
              // Per send: the producer-level `acks` option is not read by send() when idempotence is off (it defaults to 1).
              acks: platformatic().ProduceAcks.ALL,
              messages: request.map(({ topic, record }) => ({
                topic,
                key: record.key,
                value: typeof record.value === 'string' ? Buffer.from(record.value) : record.value,
                ...(record.headers ? { headers: record.headers } : {}),
              })),
            });
            this.reachable = true;
            resolveUpTo(index);
          }
        } catch (err) {
          // Nothing after the failed request was sent; its publishes and the later ones fail. Some of
          // their records may have landed: the caller publishes again, and every consumer of Parley's
          // topics is idempotent, so that costs a duplicate record, never a loss or a reordering.
          this.reachable = this.producerClient?.isConnected() ?? false;
          const error = new ParleyError('UNAVAILABLE', `could not publish to Kafka: ${describeError(err)}`, { cause: err });
          while (settled < round.length) round[settled++]!.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw new ParleyError('UNAVAILABLE', 'message bus is closed');
    const subscription = new GroupSubscription(this.options, options);
    this.subscriptions.add(subscription);
    subscription.onStopped(() => this.subscriptions.delete(subscription));
    try {
      await subscription.start();
    } catch (err) {
      await subscription.stop();
      throw new ParleyError('UNAVAILABLE', `could not join consumer group ${options.groupId}: ${describeError(err)}`, { cause: err });
    }
    return { stop: () => subscription.stop() };
  }

  healthy(): boolean {
    if (this.closed) return false;
    if (this.producerClient === undefined || this.reachable) return true;
    // Nothing is published while readiness is down: find out whether the brokers are back.
    this.probe();
    return false;
  }

  private probe(): void {
    if (this.probing || Date.now() - this.lastProbeAt < 2_000 || !this.producerClient) return;
    this.probing = true;
    this.lastProbeAt = Date.now();
    this.producerClient.metadata({ topics: [], forceUpdate: true }).then(
      () => {
        this.reachable = true;
      },
      () => undefined,
    ).finally(() => {
      this.probing = false;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    while (this.flushing || this.queue.length > 0) await sleep(10);
    await this.producerClient?.close().catch((err: unknown) => this.options.log.warn({ err: describeError(err) }, 'closing the Kafka producer failed'));
  }
}

/** A concurrency limit: at most `size` holders at once, the others wait in order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = Math.max(1, size);
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** One group generation as this member saw it: its assignment is valid until it ends. */
class Generation {
  ended = false;
  fetchFailures = 0;
  constructor(
    readonly id: number,
    readonly memberId: string,
    readonly partitions: number[],
  ) {}
}

interface Cursor {
  partition: number;
  /** The next offset to fetch. */
  next: bigint;
  /** True while a fetched batch of this partition waits for, or is in, its handler. */
  busy: boolean;
}

type SubscriptionState = 'running' | 'stopping' | 'stopped';

class GroupSubscription {
  private state: SubscriptionState = 'running';
  private readonly consumer: Consumer;
  /** Fetches on connections of their own, as the library's streams do: a fetch parked on the broker never delays a heartbeat or a commit. */
  private readonly fetchPool: Platformatic.ConnectionPool;
  private readonly slots: Slots;
  private generation: Generation | undefined;
  /** The batch of each partition in a handler or waiting for one; a new generation waits for them before fetching that partition. */
  private readonly handling = new Map<number, Promise<void>>();
  private wakeLoop: () => void = () => undefined;
  private rejoining = false;
  private inactiveSince: number | undefined;
  private readonly watchdog: NodeJS.Timeout;
  private stopping: Promise<void> | undefined;
  private readonly stoppedListeners: (() => void)[] = [];
  private readonly log: Logger;
  private readonly groupOptions = { sessionTimeout: SESSION_TIMEOUT_MS, heartbeatInterval: HEARTBEAT_INTERVAL_MS, rebalanceTimeout: REBALANCE_TIMEOUT_MS };

  constructor(
    bus: PlatformaticBusOptions,
    private readonly options: SubscribeOptions,
  ) {
    const lib = platformatic();
    this.log = bus.log;
    const security = platformaticClientSecurity(bus.security, bus.brokers);
    this.consumer = new lib.Consumer({
      clientId: bus.clientId,
      bootstrapBrokers: bus.brokers,
      ...security,
      groupId: options.groupId,
      ...this.groupOptions,
      autocommit: false,
      autocreateTopics: false,
      maxWaitTime: FETCH_MAX_WAIT_MS,
      maxBytesPerPartition: PARTITION_MAX_BYTES,
      connectTimeout: 3_000,
      // JoinGroup may wait on the broker for up to rebalanceTimeout: a shorter request timeout
      // would cut every join short and turn one rebalance into a storm of them.
      requestTimeout: 30_000,
      retries: 10,
      retryDelay,
    });
    this.fetchPool = new lib.ConnectionPool(bus.clientId, { ...security, connectTimeout: 3_000, requestTimeout: 30_000 });
    this.slots = new Slots(options.concurrency ?? 4);
    this.consumer.on('consumer:group:join', (joined) => this.onJoin(joined));
    // REBALANCE_IN_PROGRESS (eager protocol): every partition is given up, batches in hand included.
    this.consumer.on('consumer:group:rebalance', () => this.endGeneration());
    // A rejoin the library started (after a heartbeat said this member is out of the group) failed:
    // it schedules no more heartbeats, so the member would sit idle. Rejoin until it works.
    this.consumer.on('error', (err: unknown) => {
      this.log.warn({ err: describeError(err), groupId: options.groupId }, 'consumer group rejoin failed; retrying');
      this.endGeneration();
      void this.rejoin();
    });
    // Insurance against a membership lost in a way that raised no event: the library is inactive
    // while it (re)joins, which takes up to rebalanceTimeout; past that, nobody is rejoining.
    this.watchdog = setInterval(() => this.checkMembership(), 5_000);
    this.watchdog.unref();
  }

  async start(): Promise<void> {
    this.consumer.topics.track(this.options.topic);
    await this.consumer.joinGroup(this.groupOptions);
  }

  onStopped(listener: () => void): void {
    this.stoppedListeners.push(listener);
  }

  private onJoin(joined: Platformatic.ConsumerGroupJoinPayload): void {
    if (this.state !== 'running') return;
    const id = joined.generationId ?? this.consumer.generationId;
    const current = this.generation;
    if (current && !current.ended && current.id === id && current.memberId === joined.memberId) return;
    this.endGeneration();
    const partitions = joined.assignments?.find((a) => a.topic === this.options.topic)?.partitions ?? [];
    const generation = new Generation(id, joined.memberId, [...partitions].sort((a, b) => a - b));
    this.generation = generation;
    this.runGeneration(generation).catch((err: unknown) =>
      this.log.error({ err: describeError(err), groupId: this.options.groupId }, 'consumer loop failed; the partitions wait for the next rebalance'),
    );
  }

  private endGeneration(): void {
    if (this.generation) this.generation.ended = true;
    this.wakeLoop();
  }

  private current(generation: Generation): boolean {
    return this.state === 'running' && this.generation === generation && !generation.ended;
  }

  /** The member still holds the generation's assignment (the library is inactive while it rejoins). */
  private holds(generation: Generation): boolean {
    return (
      this.current(generation) &&
      this.consumer.isActive() &&
      this.consumer.generationId === generation.id &&
      this.consumer.memberId === generation.memberId
    );
  }

  private async runGeneration(generation: Generation): Promise<void> {
    if (generation.partitions.length === 0) return;
    // A batch of the previous generation may still be in its handler (told isActive() false):
    // one batch of a partition at a time, even across a rebalance.
    await Promise.allSettled(generation.partitions.flatMap((p) => this.handling.get(p) ?? []));
    const cursors = await this.startOffsets(generation);
    if (!cursors) return;
    const fetching = new Set<number>(); // leaders with a fetch in flight: one at a time each, so the library's fetch session for a broker is never used twice at once
    while (this.current(generation)) {
      const woken = new Promise<void>((resolve) => {
        this.wakeLoop = resolve;
      });
      const idle = cursors.filter((c) => !c.busy);
      if (idle.length > 0) {
        try {
          const metadata = await this.consumer.metadata({ topics: [this.options.topic] });
          const topic = metadata.topics.get(this.options.topic);
          if (!topic) throw new Error(`no metadata for topic ${this.options.topic}`);
          const byLeader = new Map<number, Cursor[]>();
          for (const cursor of idle) {
            const leader = topic.partitions[cursor.partition]?.leader ?? -1;
            if (leader < 0 || fetching.has(leader)) continue;
            byLeader.set(leader, [...(byLeader.get(leader) ?? []), cursor]);
          }
          for (const [leader, group] of byLeader) {
            fetching.add(leader);
            void this.fetchOnce(generation, leader, topic.id, group).finally(() => {
              fetching.delete(leader);
              this.wakeLoop();
            });
          }
        } catch (err) {
          if (!this.current(generation)) return;
          this.log.warn({ err: describeError(err), topic: this.options.topic }, 'reading topic metadata failed; retrying');
          await sleep(backoff(generation.fetchFailures++));
          continue;
        }
      }
      // Woken by a fetch or a batch that finished, or the generation's end; the timer covers partitions without a leader.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([woken, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1_000)))]);
      clearTimeout(timer);
    }
  }

  /** Where each partition starts: its committed offset, or for a new group the earliest one (fromBeginning, the default) or the latest. */
  private async startOffsets(generation: Generation): Promise<Cursor[] | undefined> {
    const { topic } = this.options;
    for (let attempt = 0; this.current(generation); attempt++) {
      try {
        const committed = (await this.consumer.listCommittedOffsets({ topics: [{ topic, partitions: generation.partitions }] })).get(topic) ?? [];
        const missing = generation.partitions.filter((p) => (committed[p] ?? -1n) < 0n);
        const earliest = missing.length > 0 ? await this.edgeOffsets(missing, this.options.fromBeginning !== false) : [];
        return generation.partitions.map((partition) => {
          const offset = committed[partition] ?? -1n;
          return { partition, next: offset >= 0n ? offset : (earliest[partition] ?? 0n), busy: false };
        });
      } catch (err) {
        if (!this.current(generation)) return undefined;
        this.log.warn({ err: describeError(err), groupId: this.options.groupId }, 'reading committed offsets failed; retrying');
        await sleep(backoff(attempt));
      }
    }
    return undefined;
  }

  private async edgeOffsets(partitions: number[], earliest: boolean): Promise<bigint[]> {
    const { topic } = this.options;
    const { EARLIEST, LATEST } = platformatic().ListOffsetTimestamps;
    const offsets = await this.consumer.listOffsets({ topics: [topic], partitions: { [topic]: partitions }, timestamp: earliest ? EARLIEST : LATEST });
    return offsets.get(topic) ?? [];
  }

  private async fetchOnce(generation: Generation, leader: number, topicId: string, cursors: Cursor[]): Promise<void> {
    let response: FetchResponse;
    try {
      response = await this.consumer.fetch({
        node: leader,
        topics: [
          {
            topicId,
            partitions: cursors.map((c) => ({ partition: c.partition, fetchOffset: c.next, partitionMaxBytes: PARTITION_MAX_BYTES, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })),
          },
        ],
        maxWaitTime: FETCH_MAX_WAIT_MS,
        minBytes: 1,
        maxBytes: cursors.length * PARTITION_MAX_BYTES,
        connectionPool: this.fetchPool,
      });
    } catch (err) {
      if (!this.current(generation)) return;
      if (await this.resetOutOfRange(err, cursors)) return;
      this.log.warn({ err: describeError(err), topic: this.options.topic }, 'fetch failed; retrying');
      await sleep(backoff(generation.fetchFailures++));
      return;
    }
    generation.fetchFailures = 0;
    // A late answer to an old generation: the new one starts again from the committed offsets.
    if (!this.current(generation)) return;
    for (const topicResponse of response.responses) {
      for (const fetched of topicResponse.partitions) {
        const cursor = cursors.find((c) => c.partition === fetched.partitionIndex);
        if (!cursor || cursor.busy) continue;
        const { records, next } = recordsFrom(fetched.records, cursor.next, this.options.topic, cursor.partition);
        if (records.length === 0) {
          cursor.next = next; // past transaction markers and compacted-away offsets
          continue;
        }
        cursor.busy = true;
        const work = this.handle(generation, cursor, records, next).finally(() => {
          if (this.handling.get(cursor.partition) === work) this.handling.delete(cursor.partition);
        });
        this.handling.set(cursor.partition, work);
      }
    }
  }

  /** A fetch refused because a partition's offset left the log (retention, or a log cut after an unclean restart): restart it at the earliest offset, as kafkajs does with fromBeginning. */
  private async resetOutOfRange(err: unknown, cursors: Cursor[]): Promise<boolean> {
    const response = (err as { response?: FetchResponse } | null)?.response;
    const outOfRange: FetchedPartition[] = (response?.responses ?? []).flatMap((t) => t.partitions).filter((p) => p.errorCode === 1);
    if (outOfRange.length === 0) return false;
    try {
      const earliest = await this.edgeOffsets(outOfRange.map((p) => p.partitionIndex), true);
      for (const p of outOfRange) {
        const cursor = cursors.find((c) => c.partition === p.partitionIndex);
        if (!cursor) continue;
        const offset = earliest[p.partitionIndex] ?? p.logStartOffset;
        this.log.warn({ topic: this.options.topic, partition: cursor.partition, from: cursor.next.toString(), to: offset.toString() }, 'offset out of range; restarting the partition at its earliest offset');
        cursor.next = offset;
      }
      return true;
    } catch {
      return false;
    }
  }

  private async handle(generation: Generation, cursor: Cursor, records: ConsumedRecord[], next: bigint): Promise<void> {
    const { topic, handler, onHandlerError } = this.options;
    const batch: ConsumedBatch = { topic, partition: cursor.partition, records, isActive: () => this.holds(generation) };
    await this.slots.acquire();
    try {
      for (let attempt = 0; ; attempt++) {
        // Out of the group, the partition moved, or stopping: give the batch up uncommitted; its
        // next owner (maybe this member, in its next generation) redoes it.
        if (!batch.isActive()) return;
        try {
          await handler(batch);
          break;
        } catch (err) {
          onHandlerError?.(err, batch);
          await sleep(backoff(attempt));
        }
      }
    } finally {
      this.slots.release();
    }
    // A stopping member still commits the batch it finished. A generation that ended meanwhile
    // does not: the partition may be someone else's now, and its new owner redoes the batch
    // (handlers are idempotent, so that costs time, not correctness).
    if (this.generation !== generation || generation.ended || this.state === 'stopped') return;
    // A group that keeps no offsets (a per-instance broadcast reader) only moves its cursor.
    if (this.options.commitOffsets === false) return;
    try {
      await this.consumer.commit({ offsets: [{ topic, partition: cursor.partition, offset: next, leaderEpoch: -1 }] });
    } catch (err) {
      // Refused because the group moved on: the generation ends and the partition's next owner
      // redoes the batch. Refused for another reason (coordinator unavailable): go on, as kafkajs
      // does; the next batch's commit covers this one.
      this.log.warn({ err: describeError(err), topic, partition: cursor.partition }, 'offset commit failed; a rebalance makes the next owner redo the batch, otherwise the next commit covers it');
    }
    if (this.generation !== generation || generation.ended) return;
    cursor.next = next;
    cursor.busy = false;
    this.wakeLoop();
  }

  private async rejoin(): Promise<void> {
    if (this.rejoining) return;
    this.rejoining = true;
    try {
      for (let attempt = 0; this.state === 'running'; attempt++) {
        try {
          await this.consumer.joinGroup(this.groupOptions);
          return;
        } catch (err) {
          this.log.warn({ err: describeError(err), groupId: this.options.groupId }, 'joining the consumer group failed; retrying');
          await sleep(backoff(attempt, 200));
        }
      }
    } finally {
      this.rejoining = false;
    }
  }

  private checkMembership(): void {
    if (this.state !== 'running' || this.consumer.isActive()) {
      this.inactiveSince = undefined;
      return;
    }
    this.inactiveSince ??= Date.now();
    if (!this.rejoining && Date.now() - this.inactiveSince > INACTIVE_REJOIN_MS) {
      this.log.warn({ groupId: this.options.groupId }, 'consumer has been out of its group with no join in progress; rejoining');
      this.inactiveSince = undefined;
      this.endGeneration();
      void this.rejoin();
    }
  }

  /** Stops fetching, lets the batches in hand finish and commit, then leaves the group; bounded. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.state = 'stopping';
    clearInterval(this.watchdog);
    this.wakeLoop();
    const left = (async () => {
      await Promise.allSettled([...this.handling.values()]);
      await this.consumer.close();
    })();
    left.catch((err: unknown) => this.log.warn({ err: describeError(err), groupId: this.options.groupId }, 'leaving the consumer group failed'));
    if (!(await settlesWithin(left, CONSUMER_STOP_BOUND_MS))) {
      this.log.warn(
        { groupId: this.options.groupId, boundMs: CONSUMER_STOP_BOUND_MS },
        'consumer did not stop in time (a batch or a group join in progress); going on without leaving the group: the coordinator drops this member after its session timeout',
      );
    }
    this.state = 'stopped';
    this.endGeneration();
    // Whatever happened above, no connection outlives the subscription.
    if (!this.consumer.closed) await settlesWithin(this.consumer.connections.close(), 1_000);
    await settlesWithin(this.fetchPool.close(), 1_000);
    for (const listener of this.stoppedListeners) listener();
  }
}
