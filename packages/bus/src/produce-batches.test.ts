import fc from 'fast-check';
import type { OutgoingRecord } from './port';
import { recordBytes, roundSize, splitRound, type ProduceLimits, type QueuedPublish } from './produce-batches';

const publish = (topic: string, records: OutgoingRecord[]): QueuedPublish => ({ topic, records, bytes: records.reduce((s, r) => s + recordBytes(r), 0) });
const record = (key: string, size: number): OutgoingRecord => ({ key, value: 'v'.repeat(size) });

describe('roundSize (group commit)', () => {
  const limits: ProduceLimits = { maxBatchRecords: 10, maxBatchBytes: 10_000 };

  it('takes every waiting publish that fits one request', () => {
    const queue = [publish('t', [record('a', 10)]), publish('t', [record('b', 10)]), publish('u', [record('c', 10)])];
    expect(roundSize(queue, limits)).toBe(3);
  });

  it('stops at the publish that would pass the record or byte limit', () => {
    expect(roundSize([publish('t', Array.from({ length: 6 }, () => record('a', 1))), publish('t', Array.from({ length: 6 }, () => record('a', 1)))], limits)).toBe(1);
    expect(roundSize([publish('t', [record('a', 6_000)]), publish('t', [record('b', 6_000)])], limits)).toBe(1);
  });

  it('always takes the first publish, however large', () => {
    expect(roundSize([publish('t', Array.from({ length: 50 }, () => record('a', 1_000)))], limits)).toBe(1);
    expect(roundSize([], limits)).toBe(0);
  });
});

describe('splitRound', () => {
  it('cuts a publish larger than the limits into requests within them, in order', () => {
    // 150 records of 20 KB under one key: a batch of deliveries to a 1,000-member group.
    const records = Array.from({ length: 150 }, (_, n) => ({ key: 'big', value: `${n}:${'u'.repeat(20 * 1024)}` }));
    const { requests, lastRequestOf } = splitRound([publish('t', records)], { maxBatchRecords: 2_000, maxBatchBytes: 512 * 1024 });
    expect(requests.length).toBeGreaterThanOrEqual(6);
    for (const request of requests) expect(request.reduce((s, r) => s + recordBytes(r.record), 0)).toBeLessThanOrEqual(512 * 1024);
    expect(requests.flat().map((r) => r.record)).toEqual(records);
    expect(lastRequestOf).toEqual([requests.length - 1]);
  });

  it('bounds requests in records too', () => {
    const { requests } = splitRound([publish('t', Array.from({ length: 25 }, (_, n) => record(`k${n}`, 1)))], { maxBatchRecords: 10, maxBatchBytes: 1 << 20 });
    expect(requests.map((r) => r.length)).toEqual([10, 10, 5]);
  });

  it('sends a single record larger than maxBatchBytes alone', () => {
    const { requests } = splitRound([publish('t', [record('a', 10), record('b', 5_000), record('c', 10)])], { maxBatchRecords: 10, maxBatchBytes: 1_000 });
    expect(requests.map((r) => r.map((x) => x.record.key))).toEqual([['a'], ['b'], ['c']]);
  });

  it('keeps each record with its topic', () => {
    const { requests } = splitRound([publish('t', [record('a', 1)]), publish('u', [record('b', 1)])], { maxBatchRecords: 10, maxBatchBytes: 1_000 });
    expect(requests).toEqual([[{ topic: 't', record: record('a', 1) }, { topic: 'u', record: record('b', 1) }]]);
  });

  it('property: every record once, in publish order, requests within limits, each publish complete at its last request', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 200, max: 8_000 }),
        (sizes, maxBatchRecords, maxBatchBytes) => {
          let n = 0;
          const round = sizes.map((publishSizes, p) => publish(`topic-${p % 3}`, publishSizes.map((size) => ({ key: `k${n++}`, value: 'x'.repeat(size) }))));
          const { requests, lastRequestOf } = splitRound(round, { maxBatchRecords, maxBatchBytes });
          expect(requests.flat().map((r) => r.record.key)).toEqual(round.flatMap((p) => p.records.map((r) => r.key)));
          for (const request of requests) {
            expect(request.length).toBeGreaterThan(0);
            expect(request.length).toBeLessThanOrEqual(maxBatchRecords);
            const bytes = request.reduce((s, r) => s + recordBytes(r.record), 0);
            if (request.length > 1) expect(bytes).toBeLessThanOrEqual(maxBatchBytes);
          }
          // The request holding a publish's last record, and no earlier one, completes it.
          round.forEach((p, i) => {
            const last = p.records[p.records.length - 1]!.key;
            expect(requests[lastRequestOf[i]!]!.some((r) => r.record.key === last)).toBe(true);
          });
          expect([...lastRequestOf].sort((a, b) => a - b)).toEqual(lastRequestOf);
        },
      ),
    );
  });
});
