// The store contract against a real MongoDB-wire server (MONGO_URL, set by the test
// set-up: FerretDB on PostgreSQL locally), plus proof that each unique index
// really rejects a duplicate at the database, not only in our code.
import { randomUUID } from 'node:crypto';
import { MongoClient, MongoServerError } from 'mongodb';
import { runStoreContract } from './contract';
import { MongoMessageStore } from './mongo';

const url = process.env['MONGO_URL'];
if (!url) throw new Error('MONGO_URL is not set: run the suite with ./parley test');
const database = `contract_${randomUUID().replace(/-/g, '').slice(0, 16)}`;

afterAll(async () => {
  const client = await MongoClient.connect(url);
  await client.db(database).dropDatabase();
  await client.close();
});

runStoreContract('mongodb', async () => {
  const store = await MongoMessageStore.connect(url, database);
  return { store, close: () => store.close() };
});

describe('MongoDB unique indexes', () => {
  let client: MongoClient;
  beforeAll(async () => {
    const store = await MongoMessageStore.connect(url, database);
    await store.close();
    client = await MongoClient.connect(url);
  });
  afterAll(async () => {
    await client.close();
  });

  async function expectDuplicateKey(write: Promise<unknown>): Promise<void> {
    const err = await write.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
  }

  it('rejects a second message with the same (conversationId, seq)', async () => {
    const messages = client.db(database).collection('messages');
    const conversationId = randomUUID();
    await messages.insertOne({ _id: randomUUID() as never, conversationId, seq: 1, senderId: 'a', clientMsgId: 'c1' });
    await expectDuplicateKey(messages.insertOne({ _id: randomUUID() as never, conversationId, seq: 1, senderId: 'b', clientMsgId: 'c2' }));
    expect(await messages.countDocuments({ conversationId })).toBe(1);
  });

  it('rejects a second message with the same (conversationId, senderId, clientMsgId)', async () => {
    const messages = client.db(database).collection('messages');
    const conversationId = randomUUID();
    await messages.insertOne({ _id: randomUUID() as never, conversationId, seq: 1, senderId: 'a', clientMsgId: 'same' });
    await expectDuplicateKey(messages.insertOne({ _id: randomUUID() as never, conversationId, seq: 2, senderId: 'a', clientMsgId: 'same' }));
    // Same clientMsgId, other sender: a different message, accepted.
    await messages.insertOne({ _id: randomUUID() as never, conversationId, seq: 3, senderId: 'b', clientMsgId: 'same' });
    expect(await messages.countDocuments({ conversationId })).toBe(2);
  });

  it('rejects a second member row for the same (conversationId, userId)', async () => {
    const members = client.db(database).collection('members');
    const conversationId = randomUUID();
    await members.insertOne({ _id: randomUUID() as never, conversationId, userId: 'u1', slot: 0 });
    await expectDuplicateKey(members.insertOne({ _id: randomUUID() as never, conversationId, userId: 'u1', slot: 1 }));
  });

  it('rejects a second member in the same (conversationId, slot), even from concurrent writers', async () => {
    const members = client.db(database).collection('members');
    const conversationId = randomUUID();
    await members.insertOne({ _id: randomUUID() as never, conversationId, userId: 'u1', slot: 0 });
    await expectDuplicateKey(members.insertOne({ _id: randomUUID() as never, conversationId, userId: 'u2', slot: 0 }));
    // Eight writers race for one slot: the index lets exactly one in.
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => members.insertOne({ _id: randomUUID() as never, conversationId, userId: `r${i}`, slot: 1 })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await members.countDocuments({ conversationId })).toBe(2);
  });
});
