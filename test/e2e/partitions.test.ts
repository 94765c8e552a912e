// Raising the topics' partition count under traffic, without the pause OPERATIONS.md asks for:
// conversations move to other partitions and, for a while, to other owners, while records of
// them are still in their old partitions. The seq fence (the unique (conversationId, seq)
// index) must keep every conversation gap-free from 1, with every acked message stored exactly
// once. Order across the move is not promised (docs/ARCHITECTURE.md, "The seq fence").
import { randomUUID } from 'node:crypto';
import { topicNames } from '@parley/bus';
import { Kafka, logLevel } from 'kafkajs';
import { TestClient, type Frame } from './support/client';
import { Platform, infraEnv, sleep } from './support/platform';

jest.setTimeout(240_000);

const CONVERSATIONS = 12;
const PER_CONVERSATION = 24;

let platform: Platform;
const clients: TestClient[] = [];

beforeAll(async () => {
  platform = await new Platform({ partitions: 2, instances: 2 }).start();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await platform?.stop();
});

/** Sends until acked: a router or storage restarting answers UNAVAILABLE, and the resend (same clientMsgId) is deduplicated. */
async function sendUntilAcked(client: TestClient, conversationId: string, body: string): Promise<Frame> {
  const clientMsgId = randomUUID();
  for (let attempt = 0; attempt < 60; attempt++) {
    const answer = await client.send(conversationId, body, clientMsgId);
    if (answer.type === 'ack') return answer;
    if (answer['retryable'] !== true) throw new Error(`send refused: ${JSON.stringify(answer)}`);
    await sleep(250);
  }
  throw new Error(`no ack for ${body}`);
}

async function syncAll(client: TestClient, conversationId: string): Promise<{ seq: number; body: string; serverMsgId: string }[]> {
  const out: { seq: number; body: string; serverMsgId: string }[] = [];
  for (let after = 0, round = 0; round < 100; round++) {
    const page = await client.request({ type: 'sync', conversationId, afterSeq: after, limit: 500 });
    if (page.type !== 'msgs') throw new Error(`sync answered ${JSON.stringify(page)}`);
    const messages = page['messages'] as { seq: number; body: string; serverMsgId: string }[];
    out.push(...messages);
    if (!page['hasMore'] || messages.length === 0) break;
    after = messages[messages.length - 1]!.seq;
  }
  return out;
}

describe('raising the partition count under traffic', () => {
  it('keeps every conversation gap-free with every acked message stored once', async () => {
    const pairs: { conversationId: string; sender: TestClient }[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const a = `pa${i}-${randomUUID()}`;
      const b = `pb${i}-${randomUUID()}`;
      const conversationId = await platform.createDirect(a, b);
      const sender = await TestClient.connect(platform.wsUrl, platform.token(a, 'phone'), a, 'phone');
      clients.push(sender);
      pairs.push({ conversationId, sender });
    }
    const sent = new Map<string, string[]>(pairs.map((p) => [p.conversationId, []]));
    // Each conversation sends in its own loop; the partitions are raised and the pipeline rolled in the middle.
    const loops = pairs.map(async ({ conversationId, sender }) => {
      for (let n = 0; n < PER_CONVERSATION; n++) {
        const body = `${conversationId}#${n}`;
        await sendUntilAcked(sender, conversationId, body);
        sent.get(conversationId)!.push(body);
      }
    });
    // Let a third of the traffic through on two partitions.
    while ([...sent.values()].reduce((a, l) => a + l.length, 0) < (CONVERSATIONS * PER_CONVERSATION) / 3) await sleep(50);
    const admin = new Kafka({ clientId: 'e2e-partitions', brokers: infraEnv().KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.createPartitions({ topicPartitions: Object.values(topicNames(platform.topicPrefix)).map((topic) => ({ topic, count: 4 })) });
    } finally {
      await admin.disconnect();
    }
    // Roll the pipeline, one instance at a time, so every producer and consumer uses 4 partitions
    // while records of the moved conversations still wait in their old ones.
    for (const name of ['storage', 'push', 'router'] as const) {
      for (const proc of platform.running(name)) await platform.restartProcess(proc, 'SIGTERM');
    }
    await Promise.all(loops);

    // Every conversation: seq 1..n, each body once, exactly what was acked.
    for (const { conversationId, sender } of pairs) {
      const expected = sent.get(conversationId)!;
      let stored: { seq: number; body: string; serverMsgId: string }[] = [];
      for (let wait = 0; wait < 120; wait++) {
        stored = await syncAll(sender, conversationId);
        if (stored.length >= expected.length) break;
        await sleep(500);
      }
      expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: expected.length }, (_, i) => i + 1));
      expect([...stored.map((m) => m.body)].sort()).toEqual([...expected].sort());
      expect(new Set(stored.map((m) => m.serverMsgId)).size).toBe(expected.length);
    }
  });
});
