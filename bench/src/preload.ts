// Messages already stored before a scenario measures: one function, preloadMessages(), with the
// way they get in as a strategy (a PreloadSink).
//
// The default, kafkaSink, goes through Parley's write path from the router on: it produces
// records to Parley's `parley.messages` topic in the format the router produces
// (proto/parley/v1/common.proto AcceptedMessage as JSON, serverMsgId = serverMsgIdFor(
// conversationId, senderId, clientMsgId)) and waits until storage's consumer group (and push's,
// whose fan-out would otherwise still run during the measurement) has no lag. So whatever data
// layout storage has, the data is what storage itself wrote. The storage data layout is being
// redesigned now; the lead may switch the default to the store adapter's bulk insert once it
// has one (storeSink below is a stand-in that writes today's documents straight into the
// database, `--preload=store`).
import type { AcceptedMessage__Output as AcceptedMessage } from '@parley/proto';
import { serverMsgIdFor } from '@parley/core';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { MongoClient, type Db } from 'mongodb';
import { topicNames } from '@parley/bus';
import type { Platform } from '../../test/e2e/support/platform';
import { log } from './harness';
import { LagReader } from './kafka-lag';
import { round } from './procstats';
import { StorageApi } from './storage-api';
import { messageDoc } from './store-docs';
import { parleyGroups } from './systems';

export interface PreloadConversation {
  conversationId: string;
  /** Senders take turns among these. */
  memberIds: string[];
  /** Messages to add to it. */
  count: number;
}

/** Where preloaded messages go. write() gets them in order per conversation; settle() returns once they are stored. */
export interface PreloadSink {
  readonly name: string;
  write(messages: AcceptedMessage[]): Promise<void>;
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface PreloadReport {
  strategy: string;
  conversations: number;
  messages: number;
  writeSeconds: number;
  /** From the last write until the sink said everything is stored. */
  settleSeconds: number;
  totalSeconds: number;
  messagesPerSecond: number;
  /** A sample of the conversations: their lastSeq grew by what was preloaded. */
  verified: { sampled: number; ok: number };
}

const BATCH = 2_000;

/** Adds `count` messages to each conversation through `sink`, and checks a sample with Storage.GetConversation. */
export async function preloadMessages(platform: Platform, conversations: PreloadConversation[], sink: PreloadSink, tag = `pre${Date.now().toString(36)}`): Promise<PreloadReport> {
  const api = new StorageApi(platform);
  const sample = conversations.filter((_, i) => i % Math.max(1, Math.floor(conversations.length / 20)) === 0).slice(0, 20);
  const before = await Promise.all(sample.map((c) => api.lastSeq(c.conversationId)));
  const total = conversations.reduce((a, c) => a + c.count, 0);
  log(`preload (${sink.name}): ${total} messages into ${conversations.length} conversations`);
  const started = Date.now();
  let batch: AcceptedMessage[] = [];
  let written = 0;
  let lastReport = Date.now();
  // Conversation by conversation, in blocks of at most 500, so a consumed batch touches few conversations.
  const cursors = conversations.map(() => 0);
  for (let open = true; open; ) {
    open = false;
    for (let k = 0; k < conversations.length; k++) {
      const c = conversations[k]!;
      const end = Math.min(c.count, cursors[k]! + 500);
      for (let n = cursors[k]!; n < end; n++) {
        const senderId = c.memberIds[n % c.memberIds.length]!;
        const clientMsgId = `${tag}-${k}-${n}`;
        batch.push({
          serverMsgId: serverMsgIdFor(c.conversationId, senderId, clientMsgId),
          conversationId: c.conversationId,
          senderId,
          senderDeviceId: 'd1',
          clientMsgId,
          body: `preloaded message ${n} of ${c.count}: some text of a typical length for a chat line`,
          sentAt: Date.now(),
        });
        if (batch.length >= BATCH) {
          await sink.write(batch);
          written += batch.length;
          batch = [];
          if (Date.now() - lastReport > 15_000) {
            lastReport = Date.now();
            log(`preload: ${written} of ${total} written`);
          }
        }
      }
      cursors[k] = end;
      if (end < c.count) open = true;
    }
  }
  if (batch.length > 0) await sink.write(batch);
  const wroteAt = Date.now();
  await sink.settle();
  const settledAt = Date.now();
  await sink.close();
  const after = await Promise.all(sample.map((c) => api.lastSeq(c.conversationId)));
  const ok = sample.filter((c, i) => after[i]! - before[i]! >= c.count).length;
  const totalSeconds = (settledAt - started) / 1000;
  const report: PreloadReport = {
    strategy: sink.name,
    conversations: conversations.length,
    messages: total,
    writeSeconds: round((wroteAt - started) / 1000, 1),
    settleSeconds: round((settledAt - wroteAt) / 1000, 1),
    totalSeconds: round(totalSeconds, 1),
    messagesPerSecond: round(total / Math.max(totalSeconds, 1e-3), 0),
    verified: { sampled: sample.length, ok },
  };
  log(`preload: ${total} stored in ${report.totalSeconds} s (${report.messagesPerSecond}/s); lastSeq checked on ${ok} of ${sample.length} sampled conversations`);
  return report;
}

/** Default: records on Parley's parley.messages topic, as the router writes them; settled when storage and push have no lag. */
export function kafkaSink(platform: Platform, brokers: string[], timeoutMs: number): PreloadSink {
  const topic = topicNames(platform.topicPrefix).messages;
  let producer: Producer | undefined;
  const lag = new LagReader(brokers);
  return {
    name: 'kafka (parley.messages)',
    async write(messages) {
      if (!producer) {
        producer = new Kafka({ clientId: 'bench-preload', brokers, logLevel: logLevel.NOTHING }).producer({ allowAutoTopicCreation: false });
        await producer.connect();
      }
      // Requests well below the broker's 1 MiB per partition.
      for (let i = 0; i < messages.length; i += 1_000) {
        await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1_000).map((m) => ({ key: m.conversationId, value: JSON.stringify(m) })) });
      }
    },
    async settle() {
      const left = await lag.waitFor(parleyGroups(platform), timeoutMs, 0, (l) => log(`preload: storage and push still ${l} records behind`));
      if (left > 0) throw new Error(`preload: storage and push still ${left} records behind after ${timeoutMs / 1000} s`);
    },
    async close() {
      await producer?.disconnect();
      await lag.close();
    },
  };
}

/**
 * Stand-in for the store adapter's bulk insert: today's message documents (store-docs.ts)
 * straight into Parley's database, seqs after each conversation's lastSeq, then lastSeq moved.
 * Storage caches a conversation's last seq for 10 minutes; a conversation it has cached gets
 * its next live message through the resequencing path once (seq taken, read the stored maximum).
 */
export function storeSink(platform: Platform, mongoUrl: string): PreloadSink {
  let client: MongoClient | undefined;
  let db: Db | undefined;
  const next = new Map<string, number>();
  const database = async (): Promise<Db> => {
    if (!db) {
      client = await MongoClient.connect(mongoUrl);
      db = client.db(platform.namespace);
    }
    return db;
  };
  return {
    name: 'store (message documents)',
    async write(messages) {
      const d = await database();
      const conversations = d.collection<{ _id: string; lastSeq: number }>('conversations');
      const missing = [...new Set(messages.map((m) => m.conversationId))].filter((id) => !next.has(id));
      for (const c of await conversations.find({ _id: { $in: missing } }, { projection: { lastSeq: 1 } }).toArray()) next.set(c._id, c.lastSeq);
      const docs = messages.map((m) => {
        const seq = (next.get(m.conversationId) ?? 0) + 1;
        next.set(m.conversationId, seq);
        return messageDoc({ ...m, seq });
      });
      // Chunks of 100, ordered: FerretDB v1 loses `ordered` across its internal chunks of 100.
      for (let i = 0; i < docs.length; i += 100) await d.collection('messages').insertMany(docs.slice(i, i + 100) as never[], { ordered: true });
      const touched = [...new Set(messages.map((m) => m.conversationId))];
      await Promise.all(touched.map((id) => conversations.updateOne({ _id: id }, { $max: { lastSeq: next.get(id) ?? 0 } })));
    },
    async settle() {},
    async close() {
      await client?.close();
    },
  };
}
