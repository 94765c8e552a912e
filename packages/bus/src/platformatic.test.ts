import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import type { RecordsBatch } from '@platformatic/kafka';
import { CONTROL_BATCH, describeError, platformatic, platformaticClientSecurity, recordsFrom } from './platformatic';

const record = (offsetDelta: number, value: string, headers: [Buffer | null, Buffer | null][] = []) => ({
  length: 0,
  attributes: 0,
  timestampDelta: 0n,
  offsetDelta,
  key: Buffer.from(`k${offsetDelta}`),
  value: Buffer.from(value),
  headers,
});
const batch = (firstOffset: bigint, records: ReturnType<typeof record>[], attributes = 0): RecordsBatch => ({
  firstOffset,
  length: 0,
  partitionLeaderEpoch: 0,
  magic: 2,
  crc: 0,
  attributes,
  lastOffsetDelta: records.length === 0 ? 0 : records[records.length - 1]!.offsetDelta,
  firstTimestamp: 0n,
  maxTimestamp: 0n,
  producerId: -1n,
  producerEpoch: -1,
  firstSequence: -1,
  records,
});

describe('recordsFrom', () => {
  it('returns the records from the fetch offset on (a fetch answers whole batches) and where to fetch next', () => {
    const { records, next } = recordsFrom([batch(10n, [record(0, 'a'), record(1, 'b'), record(2, 'c')]), batch(13n, [record(0, 'd')])], 11n, 't', 3);
    expect(records.map((r) => [r.offset, r.value.toString(), r.key, r.topic, r.partition])).toEqual([
      ['11', 'b', 'k1', 't', 3],
      ['12', 'c', 'k2', 't', 3],
      ['13', 'd', 'k0', 't', 3],
    ]);
    expect(next).toBe(14n);
  });

  it('skips transaction markers but moves past them', () => {
    const { records, next } = recordsFrom([batch(5n, [record(0, 'a')]), batch(6n, [record(0, 'marker')], CONTROL_BATCH)], 5n, 't', 0);
    expect(records.map((r) => r.offset)).toEqual(['5']);
    expect(next).toBe(7n);
  });

  it('gives headers as strings, a null value as an empty buffer, and nothing for an empty fetch', () => {
    const tombstone = { ...record(0, ''), value: null as unknown as Buffer<ArrayBuffer>, headers: [[Buffer.from('traceparent'), Buffer.from('00-abc')], [Buffer.from('empty'), null]] as [Buffer | null, Buffer | null][] };
    const { records } = recordsFrom([batch(0n, [tombstone])], 0n, 't', 0);
    expect(records[0]!.headers).toEqual({ traceparent: '00-abc', empty: '' });
    expect(records[0]!.value).toEqual(Buffer.alloc(0));
    expect(recordsFrom(null, 7n, 't', 0)).toEqual({ records: [], next: 7n });
  });

  it('uses the library’s control-batch bit', () => {
    expect(CONTROL_BATCH).toBe(platformatic().IS_CONTROL);
  });
});

describe('partitioner', () => {
  // What the adapter configures: it must place every key where kafkajs (and Java) do, or a
  // switch of KAFKA_CLIENT would move conversations to other partitions mid-stream.
  it('places keys as kafkajs’s DefaultPartitioner does, unlike the library’s default', () => {
    const lib = platformatic();
    const kafkajs = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 12, 64]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
      let differsFromDefault = 0;
      for (let i = 0; i < 500; i++) {
        const key = i % 2 === 0 ? randomUUID() : `conversation-${i}`;
        const expected = kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } });
        expect(lib.compatibilityPartitioner({ topic: 't' }, Buffer.from(key)) % partitions).toBe(expected);
        if (lib.defaultPartitioner({ topic: 't' }, Buffer.from(key)) % partitions !== expected) differsFromDefault++;
      }
      // The two agree modulo a power of two (they differ in the top bit only); Parley runs 12 partitions.
      if ((partitions & (partitions - 1)) !== 0) expect(differsFromDefault).toBeGreaterThan(100);
    }
  });
});

describe('platformaticClientSecurity', () => {
  it('maps Parley’s settings to the library’s TLS and SASL options', () => {
    expect(platformaticClientSecurity(undefined, ['b:9092'])).toEqual({});
    expect(platformaticClientSecurity({ ssl: false }, ['b:9092'])).toEqual({});
    expect(platformaticClientSecurity({ ssl: true }, ['kafka-0.example:9093'])).toEqual({ tls: {}, tlsServerName: true });
    // No SNI for IP literals (RFC 6066).
    expect(platformaticClientSecurity({ ssl: true }, ['10.0.0.1:9093', '[::1]:9093'])).toEqual({ tls: {} });
    for (const [mechanism, expected] of [
      ['plain', 'PLAIN'],
      ['scram-sha-256', 'SCRAM-SHA-256'],
      ['scram-sha-512', 'SCRAM-SHA-512'],
    ] as const) {
      expect(platformaticClientSecurity({ ssl: false, sasl: { mechanism, username: 'parley', password: 'pw' } }, ['b:9092'])).toEqual({
        sasl: { mechanism: expected, username: 'parley', password: 'pw' },
      });
    }
  });
});

describe('describeError', () => {
  it('names the leaves of the library’s nested errors', () => {
    const lib = platformatic();
    const nested = new lib.MultipleErrors('Producing messages failed.', [new lib.MultipleErrors('produce failed 3 times.', [new lib.NetworkError('Connection refused'), new lib.NetworkError('Connection refused')])]);
    expect(describeError(nested)).toBe('Producing messages failed. (produce failed 3 times. (Connection refused))');
    expect(describeError(new Error('plain'))).toBe('plain');
    expect(describeError('text')).toBe('text');
  });
});
