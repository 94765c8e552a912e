// The operator's view of the dead-letter topic: list what is parked, and replay parked records
// into the topic they came from once their cause is fixed (a new version that reads them, a
// database that accepts them). Reads the topic from its first offset to the end it had when the
// command started, with a reader that joins no group and commits nothing: listing changes
// nothing, and a replay is chosen explicitly (every record, or some origins or offsets).
// Replaying is at least once: Parley's consumers are idempotent (storage dedupes messages by
// serverMsgId, positions are maxima), so a record replayed twice costs time, not correctness.
import type { KafkaSecurity } from '@parley/core';
import { Kafka, logLevel, type Admin, type IHeaders } from 'kafkajs';
import { DLQ_HEADERS } from './dead-letters';
import { kafkaClientSecurity } from './kafka';

export interface ParkedRecord {
  /** Where it sits in the dead-letter topic. */
  partition: number;
  offset: string;
  /** Where it came from, and who parked it why. */
  originTopic: string;
  originPartition: number;
  originOffset: string;
  group: string;
  error: string;
  parkedAt: number;
  /** Set when this record is itself a replay that failed again. */
  replayedFrom?: string;
  key: string;
  value: Buffer;
  /** The record's own headers, without the dead-letter ones. */
  headers: Record<string, string>;
}

export interface DlqToolOptions {
  brokers: string[];
  dlqTopic: string;
  security?: KafkaSecurity;
  /** Most records read; a larger topic is refused rather than read without bound. */
  maxRecords?: number;
}

/** Which parked records a replay republishes; empty selects every one. */
export interface ReplaySelection {
  originTopics?: string[];
  /** "partition:offset" in the dead-letter topic. */
  positions?: string[];
  /** Records never replayed unless named by position (stale by nature: signals, membership changes). */
  exclude?: (record: ParkedRecord) => boolean;
}

const OWN_HEADERS = new Set<string>([DLQ_HEADERS.error, DLQ_HEADERS.topic, DLQ_HEADERS.partition, DLQ_HEADERS.offset, DLQ_HEADERS.group, DLQ_HEADERS.parkedAt]);

function headerText(value: IHeaders[string]): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => v.toString()).join(',');
  return value.toString();
}

function client(options: DlqToolOptions): Kafka {
  return new Kafka({ clientId: 'parley-dlq', brokers: options.brokers, ...kafkaClientSecurity(options.security), logLevel: logLevel.NOTHING });
}

async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Every record parked in the dead-letter topic, oldest first per partition. */
export async function listParked(options: DlqToolOptions): Promise<ParkedRecord[]> {
  const kafka = client(options);
  const maxRecords = options.maxRecords ?? 100_000;
  const ranges = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(options.dlqTopic));
  const wanted = ranges.map((r) => ({ partition: r.partition, low: BigInt(r.low), high: BigInt(r.high) })).filter((r) => r.high > r.low);
  const total = wanted.reduce((n, r) => n + Number(r.high - r.low), 0);
  if (total > maxRecords) throw new Error(`the dead-letter topic holds ${total} records, more than --max ${maxRecords}; raise it or replay by origin`);
  if (wanted.length === 0) return [];
  const out: ParkedRecord[] = [];
  // A group of its own each time, never committed: reading changes nothing.
  const consumer = kafka.consumer({ groupId: `parley-dlq-reader-${process.pid}-${Date.now()}`, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    const remaining = new Map(wanted.map((r) => [r.partition, r.high]));
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.subscribe({ topic: options.dlqTopic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const high = remaining.get(partition);
        if (high === undefined || BigInt(message.offset) >= high) return;
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = headerText(value);
        const own: Record<string, string> = {};
        for (const [name, value] of Object.entries(headers)) if (!OWN_HEADERS.has(name)) own[name] = value;
        out.push({
          partition,
          offset: message.offset,
          originTopic: headers[DLQ_HEADERS.topic] ?? '',
          originPartition: Number(headers[DLQ_HEADERS.partition] ?? -1),
          originOffset: headers[DLQ_HEADERS.offset] ?? '',
          group: headers[DLQ_HEADERS.group] ?? '',
          error: headers[DLQ_HEADERS.error] ?? '',
          parkedAt: Number(headers[DLQ_HEADERS.parkedAt] ?? 0),
          ...(headers[DLQ_HEADERS.replayedFrom] ? { replayedFrom: headers[DLQ_HEADERS.replayedFrom] } : {}),
          key: message.key?.toString() ?? '',
          value: message.value ?? Buffer.alloc(0),
          headers: own,
        });
        if (BigInt(message.offset) + 1n >= high) {
          remaining.delete(partition);
          if (remaining.size === 0) done();
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`read ${out.length} of ${total} parked records in 60 s; the topic's partitions may have no leader`)), 60_000);
    });
    try {
      await Promise.race([finished, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

export function selects(selection: ReplaySelection, record: ParkedRecord): boolean {
  const byTopic = !selection.originTopics?.length || selection.originTopics.includes(record.originTopic);
  const byPosition = !selection.positions?.length || selection.positions.includes(`${record.partition}:${record.offset}`);
  const named = !!selection.positions?.includes(`${record.partition}:${record.offset}`);
  return byTopic && byPosition && (named || !selection.exclude?.(record));
}

/**
 * Republishes the selected parked records to their origin topics, with their own key and
 * headers and `parley-replayed-from: <dlq partition>:<offset>`, in their order of parking.
 * Returns what was replayed. Records whose origin topic is unknown are left where they are.
 */
export async function replayParked(options: DlqToolOptions, selection: ReplaySelection): Promise<ParkedRecord[]> {
  const chosen = (await listParked(options)).filter((r) => r.originTopic !== '' && selects(selection, r));
  if (chosen.length === 0) return [];
  const producer = client(options).producer({ allowAutoTopicCreation: false, idempotent: false, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < chosen.length; i += 100) {
      const slice = chosen.slice(i, i + 100);
      const byTopic = new Map<string, ParkedRecord[]>();
      for (const r of slice) byTopic.set(r.originTopic, [...(byTopic.get(r.originTopic) ?? []), r]);
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, records]) => ({
          topic,
          messages: records.map((r) => ({ key: r.key, value: r.value, headers: { ...r.headers, [DLQ_HEADERS.replayedFrom]: `${r.partition}:${r.offset}` } })),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
  return chosen;
}
