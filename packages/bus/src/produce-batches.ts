// Group commit for a Kafka producer, the pure part: which waiting publishes go in the next
// round, and how a round splits into produce requests the broker accepts. The broker refuses a
// request whose records for one partition pass message.max.bytes (1 MiB by default), so a round
// of big records (a group's deliveries carry every member id) must go in several requests.
import type { OutgoingRecord } from './port';

export interface ProduceLimits {
  /** Most records in one produce request (a single publish larger than this is split). */
  maxBatchRecords: number;
  /** Most bytes of keys, values and headers in one produce request (a single larger record goes alone). */
  maxBatchBytes: number;
}

export interface QueuedPublish {
  topic: string;
  records: OutgoingRecord[];
  /** recordBytes summed over records, computed once when the publish was queued. */
  bytes: number;
}

export interface ProduceRound {
  /** In publish order; each request is one send, awaited before the next one goes. */
  requests: { topic: string; record: OutgoingRecord }[][];
  /** For each publish of the round, the request holding its last record: it is durable once that request (and so every earlier one) succeeded. */
  lastRequestOf: number[];
}

/** What a record adds to a produce request, near enough (record framing is a few bytes more). */
export function recordBytes(record: OutgoingRecord): number {
  let n = Buffer.byteLength(record.key) + (typeof record.value === 'string' ? Buffer.byteLength(record.value) : record.value.length) + 32;
  for (const [k, v] of Object.entries(record.headers ?? {})) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 8;
  return n;
}

/**
 * How many publishes from the head of the queue go in the next round: as many as fit one
 * request's limits, and always the first (however large: splitRound cuts it up).
 */
export function roundSize(queue: readonly QueuedPublish[], limits: ProduceLimits): number {
  let taken = 0;
  let records = 0;
  let bytes = 0;
  for (const next of queue) {
    if (taken > 0 && (records + next.records.length > limits.maxBatchRecords || bytes + next.bytes > limits.maxBatchBytes)) break;
    taken++;
    records += next.records.length;
    bytes += next.bytes;
  }
  return taken;
}

/** Splits a round into requests within the limits, every record in publish order. */
export function splitRound(round: readonly QueuedPublish[], limits: ProduceLimits): ProduceRound {
  const requests: { topic: string; record: OutgoingRecord }[][] = [];
  const lastRequestOf: number[] = [];
  let request: { topic: string; record: OutgoingRecord }[] = [];
  let requestBytes = 0;
  for (const publish of round) {
    for (const record of publish.records) {
      const size = recordBytes(record);
      if (request.length > 0 && (request.length >= limits.maxBatchRecords || requestBytes + size > limits.maxBatchBytes)) {
        requests.push(request);
        request = [];
        requestBytes = 0;
      }
      request.push({ topic: publish.topic, record });
      requestBytes += size;
    }
    lastRequestOf.push(requests.length);
  }
  if (request.length > 0) requests.push(request);
  // A publish without records (never queued by the buses, but harmless) needs no request: -1.
  return { requests, lastRequestOf: lastRequestOf.map((i) => Math.min(i, requests.length - 1)) };
}
