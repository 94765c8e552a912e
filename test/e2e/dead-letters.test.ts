// A record that can never be processed does not stop its partition: storage parks it in the
// dead-letter topic, with its origin, and the conversation behind it goes on.
import { randomUUID } from 'node:crypto';
import { listParked, topicNames } from '@parley/bus';
import { Kafka, logLevel } from 'kafkajs';
import { TestClient } from './support/client';
import { Platform, infraEnv } from './support/platform';

jest.setTimeout(120_000);

let platform: Platform;
const clients: TestClient[] = [];

beforeAll(async () => {
  platform = await new Platform({ partitions: 2 }).start();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await platform?.stop();
});

it('parks undecodable and too-new records of a conversation and stores the messages that follow them', async () => {
  const alice = `alice-${randomUUID()}`;
  const bob = `bob-${randomUUID()}`;
  const conversationId = await platform.createDirect(alice, bob);
  const topics = topicNames(platform.topicPrefix);
  const brokers = infraEnv().KAFKA_BROKERS.split(',');
  const producer = new Kafka({ clientId: 'e2e-poison', brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  try {
    // In the conversation's own partition, ahead of its next message.
    await producer.send({
      topic: topics.messages,
      acks: -1,
      messages: [
        { key: conversationId, value: 'not json at all' },
        { key: conversationId, value: JSON.stringify({ v: 99, message: { conversationId } }) },
      ],
    });
  } finally {
    await producer.disconnect();
  }
  const alicePhone = await TestClient.connect(platform.wsUrl, platform.token(alice, 'phone'), alice, 'phone');
  const bobPhone = await TestClient.connect(platform.wsUrl, platform.token(bob, 'phone'), bob, 'phone');
  clients.push(alicePhone, bobPhone);
  expect((await alicePhone.send(conversationId, 'after the poison')).type).toBe('ack');
  await bobPhone.waitFor(() => bobPhone.messages(conversationId).length >= 1, 60_000);
  expect(bobPhone.messages(conversationId).map((m) => [m.seq, m.body])).toEqual([[1, 'after the poison']]);

  const parked = await listParked({ brokers, dlqTopic: topics.dlq });
  expect(parked.map((r) => [r.originTopic, r.key, r.group])).toEqual([
    [topics.messages, conversationId, `${platform.topicPrefix}storage`],
    [topics.messages, conversationId, `${platform.topicPrefix}storage`],
  ]);
  expect(parked[0]!.value.toString()).toBe('not json at all');
  expect(parked[1]!.error).toMatch(/version/i);
});
