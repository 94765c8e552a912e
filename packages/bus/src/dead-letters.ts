// Owns what a consumer does with a record that can never succeed: park it in the
// dead-letter topic (parley.dlq) with its error and origin, and let the partition move on.
//
// The rule that keeps this from losing acked messages: only a *permanent* error parks a
// record. Permanent means a RecordFormatError (a record no version of this code can read)
// or a ParleyError whose retryable flag is false (the store adapters map the database
// errors that mean "this document can never be stored" to one). Everything else (a
// database or broker down, an error nobody classified) is retried in place, forever, with
// the bus's bounded backoff: an unclassified error parked would be an acked message lost.
//
// A batch that fails permanently is retried a few times as a whole (the handler may be
// racing something), then its records are tried one at a time and the ones that still
// fail permanently are parked. A decode failure names its record, which is parked at once.
import { ParleyError, type Logger } from '@parley/core';
import type { ConsumedBatch, ConsumedRecord, MessageBus } from './port';
import { RecordFormatError, type RecordFormat } from './records';

/** Headers a parked record carries besides its own. */
export const DLQ_HEADERS = {
  error: 'parley-dlq-error',
  topic: 'parley-dlq-topic',
  partition: 'parley-dlq-partition',
  offset: 'parley-dlq-offset',
  group: 'parley-dlq-group',
  parkedAt: 'parley-dlq-parked-at',
  /** Set on a record replayed from the dead-letter topic: the dlq offset it came from. */
  replayedFrom: 'parley-replayed-from',
} as const;

/** A RecordFormatError that knows which record of the batch it is about. */
export class PoisonRecordError extends RecordFormatError {
  constructor(
    readonly record: ConsumedRecord,
    cause: RecordFormatError,
  ) {
    super(cause.message);
    this.name = 'PoisonRecordError';
  }
}

/** Decodes every record of a batch; a record that does not decode throws a PoisonRecordError naming it. */
export function decodeBatch<E>(format: RecordFormat<E>, batch: ConsumedBatch): { record: ConsumedRecord; entry: E }[] {
  return batch.records.map((record) => {
    try {
      return { record, entry: format.decode(record.value) };
    } catch (err) {
      if (err instanceof RecordFormatError) throw new PoisonRecordError(record, err);
      throw err;
    }
  });
}

/**
 * A failure the record itself causes, that no retry can cure: a record that does not decode, or
 * one the handler refused as not retryable. INTERNAL is what unclassified errors
 * become (asParleyError, fromGrpcError): it may be a bug or a dependency's bad moment, so it is
 * retried, never parked.
 */
export function isPermanentError(err: unknown): boolean {
  if (err instanceof RecordFormatError) return true;
  return err instanceof ParleyError && !err.retryable && err.code !== 'INTERNAL';
}

export interface DeadLetterOptions {
  bus: MessageBus;
  dlqTopic: string;
  /** The consumer group, recorded with each parked record. */
  group: string;
  log: Logger;
  /** Whole-batch permanent failures before the batch is split, and per-record ones before a record is parked. */
  maxAttempts?: number;
  onParked?: (topic: string, n: number) => void;
}

const MAX_ERROR_CHARS = 500;

export function parkedRecord(record: ConsumedRecord, group: string, error: unknown, now = Date.now()) {
  const message = error instanceof Error ? error.message : String(error);
  return {
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [DLQ_HEADERS.error]: message.slice(0, MAX_ERROR_CHARS),
      [DLQ_HEADERS.topic]: record.topic,
      [DLQ_HEADERS.partition]: String(record.partition),
      [DLQ_HEADERS.offset]: record.offset,
      [DLQ_HEADERS.group]: group,
      [DLQ_HEADERS.parkedAt]: String(now),
    },
  };
}

/**
 * Wraps a batch handler so that permanent failures park records instead of stopping the
 * partition. The wrapped handler still throws transient errors (the bus retries the batch in
 * place), and it is idempotent as the handler is: records handled one by one before a
 * transient failure are handled again with the batch.
 */
export function withDeadLetters(handler: (batch: ConsumedBatch) => Promise<void>, options: DeadLetterOptions): (batch: ConsumedBatch) => Promise<void> {
  const maxAttempts = options.maxAttempts ?? 3;
  /** Permanent failures of a batch so far, by its first record (bounded: a few partitions are ever failing at once). */
  const failures = new Map<string, number>();
  /**
   * Records parked but maybe not yet committed: when a later failure makes the bus
   * redeliver their batch (a transient one is retried forever), they are skipped, not
   * parked again on every retry. Bounded; forgetting one only risks a duplicate in the DLQ.
   */
  const parkedIds = new Set<string>();
  const idOf = (record: ConsumedRecord) => `${record.topic}/${record.partition}/${record.offset}`;

  const park = async (record: ConsumedRecord, err: unknown): Promise<void> => {
    await options.bus.publish(options.dlqTopic, [parkedRecord(record, options.group, err)]);
    parkedIds.add(idOf(record));
    if (parkedIds.size > 10_000) parkedIds.delete(parkedIds.values().next().value as string);
    options.onParked?.(record.topic, 1);
    options.log.error(
      { topic: record.topic, partition: record.partition, offset: record.offset, group: options.group, err: err instanceof Error ? err.message : String(err) },
      'parked a record that can never be processed in the dead-letter topic; the partition goes on',
    );
  };

  const sub = (batch: ConsumedBatch, records: ConsumedRecord[]): ConsumedBatch => ({ topic: batch.topic, partition: batch.partition, records, isActive: batch.isActive });

  /** Runs the handler, parking records whose decoding fails, until it succeeds or fails otherwise. */
  const runParkingPoison = async (batch: ConsumedBatch): Promise<void> => {
    const unparked = batch.records.filter((r) => !parkedIds.has(idOf(r)));
    let records = unparked.length === batch.records.length ? batch.records : unparked;
    for (;;) {
      if (records.length === 0) return;
      try {
        await handler(records === batch.records ? batch : sub(batch, records));
        return;
      } catch (err) {
        if (!(err instanceof PoisonRecordError) || !records.includes(err.record)) throw err;
        await park(err.record, err);
        records = records.filter((r) => r !== err.record);
      }
    }
  };

  return async (batch) => {
    const key = `${batch.topic}/${batch.partition}/${batch.records[0]?.offset ?? ''}`;
    try {
      await runParkingPoison(batch);
      failures.delete(key);
      return;
    } catch (err) {
      if (!isPermanentError(err)) throw err;
      const attempts = (failures.get(key) ?? 0) + 1;
      if (failures.size > 1_000) failures.clear();
      failures.set(key, attempts);
      if (attempts < maxAttempts) throw err;
      options.log.warn({ topic: batch.topic, partition: batch.partition, records: batch.records.length, err: (err as Error).message }, 'a batch failed permanently; trying its records one at a time');
    }
    // One at a time: the records that fail permanently maxAttempts times are parked.
    for (const record of batch.records) {
      if (!batch.isActive()) throw new ParleyError('UNAVAILABLE', 'partition revoked while isolating a failing record');
      for (let attempt = 1; ; attempt++) {
        try {
          await runParkingPoison(sub(batch, [record]));
          break;
        } catch (err) {
          if (!isPermanentError(err)) throw err;
          if (attempt >= maxAttempts) {
            await park(record, err);
            break;
          }
        }
      }
    }
    failures.delete(key);
  };
}
