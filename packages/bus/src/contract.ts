// The message-bus contract: every adapter must pass it (memory in unit tests,
// Kafka in contract tests against a real broker).
import { randomUUID } from 'node:crypto';
import type { ConsumedRecord, MessageBus } from './port';

export interface BusContractFixture {
  bus: MessageBus;
  /** A topic that exists with this many partitions and no records yet. */
  newTopic(partitions: number): Promise<string>;
  close(): Promise<void>;
}

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting for condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function runBusContract(name: string, makeFixture: () => Promise<BusContractFixture>): void {
  describe(`MessageBus contract: ${name}`, () => {
    let fixture: BusContractFixture;
    beforeAll(async () => {
      fixture = await makeFixture();
    });
    afterAll(async () => {
      await fixture.close();
    });

    it('refuses to publish to a topic that does not exist (auto-creation is off)', async () => {
      await expect(fixture.bus.publish(`contract.missing.${randomUUID()}`, [{ key: 'k', value: 'v' }])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    });

    it('delivers each key in publish order, with headers, to every group', async () => {
      const topic = await fixture.newTopic(3);
      const keys = ['conv-a', 'conv-b', 'conv-c', 'conv-d'];
      const published: { key: string; n: number }[] = [];
      for (let n = 0; n < 40; n++) {
        const key = keys[n % keys.length]!;
        published.push({ key, n });
      }
      // Publish concurrently in small groups: order within a key must still hold
      // because each key's records are published by one awaited chain.
      await Promise.all(
        keys.map(async (key) => {
          for (const item of published.filter((p) => p.key === key)) {
            await fixture.bus.publish(topic, [{ key, value: JSON.stringify(item), headers: { traceparent: `t-${item.n}` } }]);
          }
        }),
      );
      const seenByGroup = new Map<string, ConsumedRecord[]>();
      const subs = await Promise.all(
        ['g1', 'g2'].map(async (group) => {
          const seen: ConsumedRecord[] = [];
          seenByGroup.set(group, seen);
          return fixture.bus.subscribe({
            groupId: `${topic}-${group}`,
            topic,
            handler: async (batch) => {
              seen.push(...batch.records);
            },
          });
        }),
      );
      await waitFor(() => [...seenByGroup.values()].every((seen) => seen.length >= published.length));
      for (const sub of subs) await sub.stop();
      for (const seen of seenByGroup.values()) {
        expect(seen).toHaveLength(published.length);
        for (const key of keys) {
          const ofKey = seen.filter((r) => r.key === key);
          const order = ofKey.map((r) => (JSON.parse(r.value.toString()) as { n: number }).n);
          expect(order).toEqual(published.filter((p) => p.key === key).map((p) => p.n));
          expect(new Set(ofKey.map((r) => r.partition)).size).toBe(1);
          for (const r of ofKey) expect(r.headers['traceparent']).toBe(`t-${(JSON.parse(r.value.toString()) as { n: number }).n}`);
        }
      }
    });

    it('publishes a batch larger than one produce request allows for one partition (3 MiB under one key), in order', async () => {
      const topic = await fixture.newTopic(2);
      // Like a batch of deliveries to a 1,000-member group: each record carries 20 KB of member ids.
      const filler = 'u'.repeat(20 * 1024);
      const records = Array.from({ length: 150 }, (_, n) => ({ key: 'big-group', value: JSON.stringify({ n, filler }) }));
      await fixture.bus.publish(topic, records);
      const seen: number[] = [];
      const sub = await fixture.bus.subscribe({
        groupId: `${topic}-big`,
        topic,
        handler: async (batch) => {
          for (const r of batch.records) seen.push((JSON.parse(r.value.toString()) as { n: number }).n);
        },
      });
      await waitFor(() => seen.length >= records.length);
      await sub.stop();
      expect(seen).toEqual(records.map((_, n) => n));
    });

    it('redelivers a batch whose handler failed, skipping nothing', async () => {
      const topic = await fixture.newTopic(1);
      await fixture.bus.publish(
        topic,
        Array.from({ length: 10 }, (_, n) => ({ key: 'k', value: String(n) })),
      );
      const handled: number[] = [];
      let failures = 0;
      const sub = await fixture.bus.subscribe({
        groupId: `${topic}-g`,
        topic,
        handler: async (batch) => {
          const values = batch.records.map((r) => Number(r.value.toString()));
          if (values.includes(5) && failures < 2) {
            failures++;
            // Half-done work that the retry must redo without skipping.
            handled.push(...values.filter((v) => v < 5));
            throw new Error('transient');
          }
          handled.push(...values);
        },
      });
      await waitFor(() => handled.includes(9));
      await sub.stop();
      expect(failures).toBe(2);
      const distinct = [...new Set(handled)].sort((a, b) => a - b);
      expect(distinct).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // The last occurrence of each value keeps publish order.
      const lastRun = handled.slice(handled.lastIndexOf(0));
      expect(lastRun).toEqual([...lastRun].sort((a, b) => a - b));
    });

    it('resumes a group after the last committed batch', async () => {
      const topic = await fixture.newTopic(2);
      const group = `${topic}-resume`;
      await fixture.bus.publish(topic, Array.from({ length: 6 }, (_, n) => ({ key: `k${n % 2}`, value: `a${n}` })));
      const first: string[] = [];
      const sub1 = await fixture.bus.subscribe({ groupId: group, topic, handler: async (b) => void first.push(...b.records.map((r) => r.value.toString())) });
      await waitFor(() => first.length >= 6);
      await sub1.stop();
      await fixture.bus.publish(topic, Array.from({ length: 4 }, (_, n) => ({ key: `k${n % 2}`, value: `b${n}` })));
      const second: string[] = [];
      const sub2 = await fixture.bus.subscribe({ groupId: group, topic, handler: async (b) => void second.push(...b.records.map((r) => r.value.toString())) });
      await waitFor(() => second.length >= 4);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await sub2.stop();
      expect(second.sort()).toEqual(['b0', 'b1', 'b2', 'b3']);
    });

    it('starts a new group at the end when fromBeginning is false', async () => {
      const topic = await fixture.newTopic(2);
      await fixture.bus.publish(topic, [{ key: 'k0', value: 'old0' }, { key: 'k1', value: 'old1' }]);
      const seen: string[] = [];
      const sub = await fixture.bus.subscribe({ groupId: `${topic}-latest`, topic, fromBeginning: false, handler: async (b) => void seen.push(...b.records.map((r) => r.value.toString())) });
      // Published until the group has its assignment and reads: only what follows the start is seen.
      for (let n = 0; !seen.includes('live-marker') && n < 200; n++) {
        await fixture.bus.publish(topic, [{ key: 'k0', value: 'live-marker' }]);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await sub.stop();
      expect(seen).toContain('live-marker');
      expect(seen.filter((v) => v.startsWith('old'))).toEqual([]);
    });

    it('keeps no offsets for a group with commitOffsets false: the next member of that group starts over', async () => {
      const topic = await fixture.newTopic(2);
      const group = `${topic}-nocommit`;
      await fixture.bus.publish(topic, Array.from({ length: 4 }, (_, n) => ({ key: `k${n % 2}`, value: `a${n}` })));
      const first: string[] = [];
      const sub1 = await fixture.bus.subscribe({ groupId: group, topic, commitOffsets: false, handler: async (b) => void first.push(...b.records.map((r) => r.value.toString())) });
      await waitFor(() => first.length >= 4);
      await sub1.stop();
      const second: string[] = [];
      const sub2 = await fixture.bus.subscribe({ groupId: group, topic, commitOffsets: false, handler: async (b) => void second.push(...b.records.map((r) => r.value.toString())) });
      await waitFor(() => second.length >= 4);
      await sub2.stop();
      expect(second.sort()).toEqual(['a0', 'a1', 'a2', 'a3']);
    });

    it('spreads partitions across members of one group and loses nothing when one leaves', async () => {
      const topic = await fixture.newTopic(4);
      const group = `${topic}-members`;
      const seen = new Map<string, number>();
      const record = (r: ConsumedRecord) => seen.set(r.value.toString(), (seen.get(r.value.toString()) ?? 0) + 1);
      const a = await fixture.bus.subscribe({ groupId: group, topic, handler: async (b) => b.records.forEach(record) });
      const b = await fixture.bus.subscribe({ groupId: group, topic, handler: async (batch) => batch.records.forEach(record) });
      const values = Array.from({ length: 40 }, () => randomUUID());
      await fixture.bus.publish(topic, values.slice(0, 20).map((v) => ({ key: v, value: v })));
      await waitFor(() => values.slice(0, 20).every((v) => seen.has(v)));
      await a.stop();
      await fixture.bus.publish(topic, values.slice(20).map((v) => ({ key: v, value: v })));
      await waitFor(() => values.every((v) => seen.has(v)), 30_000);
      await b.stop();
      expect(values.every((v) => (seen.get(v) ?? 0) >= 1)).toBe(true);
    });
  });
}
