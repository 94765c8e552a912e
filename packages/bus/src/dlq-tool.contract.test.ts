// The dead-letter path end to end on a real broker: a record that can never succeed is parked
// while the records after it are handled, the operator's list shows it with its origin, and a
// replay puts it back into its origin topic, where the (fixed) consumer handles it.
import { randomUUID } from 'node:crypto';
import { ParleyError, createLogger } from '@parley/core';
import { withDeadLetters } from './dead-letters';
import { listParked, replayParked } from './dlq-tool';
import { KafkaBus, ensureTopics } from './kafka';
import type { Subscription } from './port';

const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);
if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set: run the suite with ./parley test');
const log = createLogger('dlq-contract', 'bus', 'silent');

async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('dead-letter topic on Kafka: park, list, replay', () => {
  const bus = new KafkaBus({ brokers, clientId: 'dlq-contract', log });
  const origin = `contract.dlq-origin.${randomUUID()}`;
  const dlq = `contract.dlq.${randomUUID()}`;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    await bus.connect();
    await ensureTopics(brokers, [
      { topic: origin, partitions: 2 },
      { topic: dlq, partitions: 2 },
    ]);
  });
  afterAll(async () => {
    await Promise.all(subscriptions.map((s) => s.stop()));
    await bus.close();
  });

  it('parks only the bad record, lists it with its origin, and replays it into its topic', async () => {
    const handled: string[] = [];
    let fixed = false;
    const handler = withDeadLetters(
      async (batch) => {
        for (const r of batch.records) {
          const v = r.value.toString();
          if (v.startsWith('bad') && !fixed) throw new ParleyError('INVALID_ARGUMENT', `cannot store ${v}`, { retryable: false });
          handled.push(`${v}${r.headers['parley-replayed-from'] ? ' (replayed)' : ''}`);
        }
      },
      { bus, dlqTopic: dlq, group: 'dlq-contract', log, maxAttempts: 2 },
    );
    await bus.publish(origin, [
      { key: 'c1', value: 'good-1' },
      { key: 'c1', value: 'bad-1', headers: { traceparent: '00-abc' } },
      { key: 'c1', value: 'good-2' },
    ]);
    subscriptions.push(await bus.subscribe({ groupId: `dlq-contract-${randomUUID()}`, topic: origin, handler }));
    await waitFor(() => handled.includes('good-2'), 'the records after the bad one');
    // At least once: the batch is retried whole before it is split, so good-1 may come again.
    expect([...new Set(handled)]).toEqual(['good-1', 'good-2']);

    const parked = await listParked({ brokers, dlqTopic: dlq });
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({ originTopic: origin, group: 'dlq-contract', key: 'c1', headers: { traceparent: '00-abc' } });
    expect(parked[0]!.value.toString()).toBe('bad-1');
    expect(parked[0]!.error).toContain('cannot store bad-1');
    expect(parked[0]!.originOffset).toBe('1');
    // Listing changes nothing: a second list sees the same.
    expect((await listParked({ brokers, dlqTopic: dlq })).map((r) => r.offset)).toEqual([parked[0]!.offset]);

    // Nothing selected for another topic.
    expect(await replayParked({ brokers, dlqTopic: dlq }, { originTopics: ['contract.elsewhere'] })).toEqual([]);
    fixed = true;
    const replayed = await replayParked({ brokers, dlqTopic: dlq }, { originTopics: [origin] });
    expect(replayed.map((r) => r.value.toString())).toEqual(['bad-1']);
    await waitFor(() => handled.includes('bad-1 (replayed)'), 'the replayed record');
    expect([...new Set(handled)]).toEqual(['good-1', 'good-2', 'bad-1 (replayed)']);
  });

  it('lists nothing for an empty dead-letter topic, and refuses a topic larger than --max', async () => {
    const empty = `contract.dlq-empty.${randomUUID()}`;
    await ensureTopics(brokers, [{ topic: empty, partitions: 1 }]);
    expect(await listParked({ brokers, dlqTopic: empty })).toEqual([]);
    await bus.publish(empty, [
      { key: 'a', value: '1' },
      { key: 'a', value: '2' },
    ]);
    await expect(listParked({ brokers, dlqTopic: empty, maxRecords: 1 })).rejects.toThrow(/holds 2 records/);
  });
});
