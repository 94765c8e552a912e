import { ParleyError, createLogger, serverMsgIdFor } from '@parley/core';
import { DLQ_HEADERS, PoisonRecordError, decodeBatch, isPermanentError, parkedRecord, withDeadLetters, type DeadLetterOptions } from './dead-letters';
import { MemoryBus } from './memory';
import type { ConsumedBatch, ConsumedRecord, OutgoingRecord, Subscription } from './port';
import { RecordFormatError, messagesRecords } from './records';

const log = createLogger('dead-letters-test', 'test', 'silent');
const TOPIC = 'dl.messages';
const DLQ = 'dl.dlq';
const GROUP = 'dl.storage';

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const message = (clientMsgId: string) => messagesRecords.encode({ kind: 'message', message: { serverMsgId: serverMsgIdFor('g_team', 'alice', clientMsgId), conversationId: 'g_team', senderId: 'alice', senderDeviceId: 'phone', clientMsgId, body: clientMsgId, sentAt: 1 } });

const permanent = () => new ParleyError('INVALID_ARGUMENT', 'this document can never be stored', { retryable: false });
const transient = () => new ParleyError('UNAVAILABLE', 'database down');

/** A memory bus with the topic, its dead-letter topic, and a log of what was parked. */
class Harness {
  readonly bus = new MemoryBus(1);
  /** Every record published to the dead-letter topic. */
  readonly parked: OutgoingRecord[] = [];
  readonly parkedCounts: [string, number][] = [];
  /** The values of each batch the handler was called with. */
  readonly calls: string[][] = [];
  readonly handled: string[] = [];
  readonly handlerErrors: unknown[] = [];
  private readonly subscriptions: Subscription[] = [];

  constructor() {
    this.bus.createTopic(TOPIC);
    this.bus.createTopic(DLQ);
    const publish = this.bus.publish.bind(this.bus);
    jest.spyOn(this.bus, 'publish').mockImplementation(async (topic, records) => {
      await publish(topic, records);
      if (topic === DLQ) this.parked.push(...records);
    });
  }

  options(overrides: Partial<DeadLetterOptions> = {}): DeadLetterOptions {
    return { bus: this.bus, dlqTopic: DLQ, group: GROUP, log, onParked: (topic, n) => this.parkedCounts.push([topic, n]), ...overrides };
  }

  /** Wraps a handler that logs its calls; `fail` decides, per call, whether (and how) it fails. */
  wrapped(fail: (values: string[], batch: ConsumedBatch) => unknown, overrides: Partial<DeadLetterOptions> = {}): (batch: ConsumedBatch) => Promise<void> {
    return withDeadLetters(async (batch) => {
      const values = batch.records.map((r) => r.value.toString());
      this.calls.push(values);
      const err = fail(values, batch);
      if (err !== undefined) throw err;
      this.handled.push(...values);
    }, this.options(overrides));
  }

  async publish(values: string[], headers: Record<string, string> = {}): Promise<void> {
    await this.bus.publish(
      TOPIC,
      values.map((value) => ({ key: 'g_team', value, headers })),
    );
  }

  async subscribe(handler: (batch: ConsumedBatch) => Promise<void>): Promise<void> {
    this.subscriptions.push(await this.bus.subscribe({ groupId: GROUP, topic: TOPIC, handler, onHandlerError: (err) => this.handlerErrors.push(err) }));
  }

  async close(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.stop()));
    await this.bus.close();
  }
}

let harness: Harness;
beforeEach(() => {
  harness = new Harness();
});
afterEach(async () => {
  await harness.close();
});

function consumed(value: string, offset: number, headers: Record<string, string> = {}): ConsumedRecord {
  return { topic: TOPIC, partition: 0, offset: String(offset), key: 'g_team', value: Buffer.from(value), headers };
}

function batchOf(values: string[], isActive: () => boolean = () => true): ConsumedBatch {
  return { topic: TOPIC, partition: 0, records: values.map((v, i) => consumed(v, i)), isActive };
}

describe('withDeadLetters on the memory bus', () => {
  it('parks a record that does not decode at once, with its origin in the DLQ headers, and handles the others', async () => {
    const h = harness;
    const before = Date.now();
    await h.publish([message('m1'), 'garbage', message('m3')], { traceparent: '00-abc-def-01' });
    const decoded: string[] = [];
    await h.subscribe(
      withDeadLetters(async (batch) => {
        h.calls.push(batch.records.map((r) => r.offset));
        for (const { entry } of decodeBatch(messagesRecords, batch)) if (entry.kind === 'message') decoded.push(entry.message.clientMsgId);
      }, h.options()),
    );
    await waitFor(() => decoded.length === 2, 'the valid records');
    expect(decoded).toEqual(['m1', 'm3']);
    // Once with the batch, once without the poison record: never retried.
    expect(h.calls).toEqual([
      ['0', '1', '2'],
      ['0', '2'],
    ]);
    expect(h.handlerErrors).toEqual([]);
    expect(h.parked).toHaveLength(1);
    const [parked] = h.parked;
    expect(parked!.key).toBe('g_team');
    expect(Buffer.from(parked!.value).toString()).toBe('garbage');
    expect(parked!.headers).toEqual({
      traceparent: '00-abc-def-01',
      [DLQ_HEADERS.error]: 'record is not JSON',
      [DLQ_HEADERS.topic]: TOPIC,
      [DLQ_HEADERS.partition]: '0',
      [DLQ_HEADERS.offset]: '1',
      [DLQ_HEADERS.group]: GROUP,
      [DLQ_HEADERS.parkedAt]: expect.stringMatching(/^\d+$/),
    });
    expect(Number(parked!.headers![DLQ_HEADERS.parkedAt])).toBeGreaterThanOrEqual(before);
    expect(h.parkedCounts).toEqual([[TOPIC, 1]]);
  });

  it('puts the parked record in the dead-letter topic, where a reader finds it', async () => {
    const h = harness;
    await h.publish(['{"v":9}']);
    await h.subscribe(withDeadLetters(async (batch) => void decodeBatch(messagesRecords, batch), h.options()));
    const read: ConsumedRecord[] = [];
    const reader = await h.bus.subscribe({ groupId: 'dl.reader', topic: DLQ, handler: async (batch) => void read.push(...batch.records) });
    try {
      await waitFor(() => read.length === 1, 'the parked record');
    } finally {
      await reader.stop();
    }
    expect(read[0]!.value.toString()).toBe('{"v":9}');
    expect(read[0]!.headers[DLQ_HEADERS.error]).toContain('record format version 9 is newer than this consumer reads');
    expect(read[0]!.headers[DLQ_HEADERS.topic]).toBe(TOPIC);
  });

  it('retries a batch that fails permanently maxAttempts times as a batch, then record by record, parking only the bad one', async () => {
    const h = harness;
    await h.publish(['a', 'bad', 'c']);
    await h.subscribe(h.wrapped((values) => (values.includes('bad') ? permanent() : undefined)));
    await waitFor(() => h.handled.length === 2, 'the good records');
    expect(h.calls).toEqual([['a', 'bad', 'c'], ['a', 'bad', 'c'], ['a', 'bad', 'c'], ['a'], ['bad'], ['bad'], ['bad'], ['c']]);
    // The first two whole-batch failures went back to the bus to retry.
    expect(h.handlerErrors).toHaveLength(2);
    expect(h.handlerErrors.every((e) => isPermanentError(e))).toBe(true);
    expect(h.handled).toEqual(['a', 'c']);
    expect(h.parked.map((r) => Buffer.from(r.value).toString())).toEqual(['bad']);
    expect(h.parked[0]!.headers).toMatchObject({ [DLQ_HEADERS.error]: 'this document can never be stored', [DLQ_HEADERS.offset]: '1', [DLQ_HEADERS.group]: GROUP });
    expect(h.parkedCounts).toEqual([[TOPIC, 1]]);
    // The partition goes on: a later record is handled, and nothing is handled or parked again.
    await h.publish(['d']);
    await waitFor(() => h.handled.includes('d'), 'the next record');
    expect(h.calls.at(-1)).toEqual(['d']);
    expect(h.handled).toEqual(['a', 'c', 'd']);
    expect(h.parked).toHaveLength(1);
  });

  it('honours maxAttempts', async () => {
    const h = harness;
    await h.publish(['a', 'bad']);
    await h.subscribe(h.wrapped((values) => (values.includes('bad') ? permanent() : undefined), { maxAttempts: 1 }));
    await waitFor(() => h.parked.length === 1, 'the bad record');
    expect(h.calls).toEqual([['a', 'bad'], ['a'], ['bad']]);
    expect(h.handlerErrors).toEqual([]);
  });

  it('parks nothing when a permanent failure stops before maxAttempts (the handler was racing something)', async () => {
    const h = harness;
    let failures = 2;
    await h.publish(['a', 'b']);
    await h.subscribe(h.wrapped(() => (failures-- > 0 ? permanent() : undefined)));
    await waitFor(() => h.handled.length === 2, 'the records');
    expect(h.calls).toEqual([
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(h.parked).toEqual([]);
  });

  it('rethrows transient errors and never parks, however often they come', async () => {
    const h = harness;
    let failures = 6;
    await h.publish(['a', 'b']);
    await h.subscribe(h.wrapped(() => (failures-- > 0 ? (failures % 2 ? transient() : new Error('unclassified')) : undefined), { maxAttempts: 2 }));
    await waitFor(() => h.handled.length === 2, 'the records');
    expect(h.handlerErrors).toHaveLength(6);
    expect(h.handlerErrors.some((e) => isPermanentError(e))).toBe(false);
    // Always the whole batch: a transient failure is never split.
    expect(h.calls).toEqual(Array.from({ length: 7 }, () => ['a', 'b']));
    expect(h.parked).toEqual([]);
    expect(h.parkedCounts).toEqual([]);
  });

  it('parks a poison record once, however often a transient failure makes the bus redeliver its batch', async () => {
    const h = harness;
    let failures = 3;
    await h.publish([message('m1'), 'garbage']);
    const decoded: string[] = [];
    await h.subscribe(
      withDeadLetters(async (batch) => {
        const entries = decodeBatch(messagesRecords, batch);
        if (failures-- > 0) throw transient();
        for (const { entry } of entries) if (entry.kind === 'message') decoded.push(entry.message.clientMsgId);
      }, h.options()),
    );
    await waitFor(() => decoded.length === 1, 'the valid record');
    expect(h.handlerErrors).toHaveLength(3);
    expect(h.parked.map((r) => Buffer.from(r.value).toString())).toEqual(['garbage']);
    expect(h.parkedCounts).toEqual([[TOPIC, 1]]);
  });
});

describe('withDeadLetters called directly', () => {
  it('rethrows a transient error met while isolating records, and parks nothing twice when the batch comes again', async () => {
    const h = harness;
    let cFailures = 1;
    const handler = h.wrapped(
      (values) => {
        if (values.includes('bad')) return permanent();
        if (values.length === 1 && values[0] === 'c' && cFailures-- > 0) return transient();
        return undefined;
      },
      { maxAttempts: 1 },
    );
    const batch = batchOf(['a', 'bad', 'c']);
    await expect(handler(batch)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(h.parked.map((r) => Buffer.from(r.value).toString())).toEqual(['bad']);
    // The bus retries the batch: a is handled again (handlers are idempotent), bad is not parked again.
    await handler(batch);
    expect(h.parked).toHaveLength(1);
    expect(h.handled).toEqual(['a', 'a', 'c']);
  });

  it('stops isolating, parking nothing, once the partition is revoked', async () => {
    const h = harness;
    let active = true;
    const handler = h.wrapped(
      (values) => {
        if (values.length === 1) active = false;
        return values.includes('bad') ? permanent() : undefined;
      },
      { maxAttempts: 1 },
    );
    await expect(handler(batchOf(['a', 'bad'], () => active))).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(h.calls).toEqual([['a', 'bad'], ['a']]);
    expect(h.parked).toEqual([]);
  });

  it('never parks an unclassified error, past maxAttempts too', async () => {
    const h = harness;
    const handler = h.wrapped(() => new Error('boom'), { maxAttempts: 2 });
    for (let i = 0; i < 5; i++) await expect(handler(batchOf(['a']))).rejects.toThrow('boom');
    expect(h.calls).toHaveLength(5);
    expect(h.parked).toEqual([]);
  });

  it('counts attempts per batch: a different batch starts again from one', async () => {
    const h = harness;
    const handler = h.wrapped((values) => (values.includes('bad') ? permanent() : undefined), { maxAttempts: 2 });
    await expect(handler(batchOf(['bad', 'x']))).rejects.toThrow('never be stored');
    const other: ConsumedBatch = { topic: TOPIC, partition: 0, records: [consumed('bad', 10), consumed('y', 11)], isActive: () => true };
    await expect(handler(other)).rejects.toThrow('never be stored');
    expect(h.parked).toEqual([]);
    await handler(batchOf(['bad', 'x']));
    expect(h.parked.map((r) => r.headers![DLQ_HEADERS.offset])).toEqual(['0']);
  });
});

describe('helpers', () => {
  it('tells permanent errors from transient ones', () => {
    expect(isPermanentError(new RecordFormatError('bad'))).toBe(true);
    expect(isPermanentError(new PoisonRecordError(consumed('x', 0), new RecordFormatError('bad')))).toBe(true);
    expect(isPermanentError(permanent())).toBe(true);
    expect(isPermanentError(transient())).toBe(false);
    expect(isPermanentError(new Error('unclassified'))).toBe(false);
    expect(isPermanentError('a string')).toBe(false);
    // What an unclassified error becomes on its way through asParleyError: retried, not parked.
    expect(isPermanentError(new ParleyError('INTERNAL', 'boom'))).toBe(false);
    expect(isPermanentError(new ParleyError('INTERNAL', 'boom', { retryable: false }))).toBe(false);
  });

  it('decodeBatch names the record that does not decode, and passes other errors through', () => {
    const records = [consumed(message('m1'), 0), consumed('{', 1)];
    let thrown: unknown;
    try {
      decodeBatch(messagesRecords, { topic: TOPIC, partition: 0, records, isActive: () => true });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PoisonRecordError);
    expect((thrown as PoisonRecordError).record).toBe(records[1]);
    expect(decodeBatch(messagesRecords, { topic: TOPIC, partition: 0, records: [records[0]!], isActive: () => true })).toEqual([{ record: records[0], entry: expect.objectContaining({ kind: 'message' }) }]);
    const failing = { ...messagesRecords, decode: () => { throw new Error('bug'); } };
    expect(() => decodeBatch(failing, { topic: TOPIC, partition: 0, records, isActive: () => true })).toThrow('bug');
  });

  it('parkedRecord keeps the record, adds its origin and bounds the error text', () => {
    const record = consumed('value', 42, { traceparent: 't' });
    expect(parkedRecord(record, GROUP, new Error('x'.repeat(2_000)), 1_000)).toEqual({
      key: 'g_team',
      value: record.value,
      headers: {
        traceparent: 't',
        [DLQ_HEADERS.error]: 'x'.repeat(500),
        [DLQ_HEADERS.topic]: TOPIC,
        [DLQ_HEADERS.partition]: '0',
        [DLQ_HEADERS.offset]: '42',
        [DLQ_HEADERS.group]: GROUP,
        [DLQ_HEADERS.parkedAt]: '1000',
      },
    });
    expect(parkedRecord(record, GROUP, 'plain').headers[DLQ_HEADERS.error]).toBe('plain');
  });
});
