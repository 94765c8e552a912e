// The store contract against a real MongoDB-wire server (MONGO_URL, set by the test
// set-up: FerretDB on PostgreSQL locally), plus proof that each unique index
// really rejects a duplicate at the database, not only in our code.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { MongoClient, MongoServerError } from 'mongodb';
import { unstorableText } from '@parley/core';
import { CombinedMessageLog } from './combine';
import { runKeyStoreContract, runRegistersContract, runStoreContract } from './contract';
import { MongoKeyStore } from './keys';
import { connectMongoStores } from './mongo';
import { RedisRegisters } from './registers';

const url = process.env['MONGO_URL'];
if (!url) throw new Error('MONGO_URL is not set: run the suite with ./parley test');
const database = `contract_${randomUUID().replace(/-/g, '').slice(0, 16)}`;

afterAll(async () => {
  const client = await MongoClient.connect(url);
  await client.db(database).dropDatabase();
  await client.close();
});

runStoreContract('mongodb', async () => {
  const stores = await connectMongoStores(url, database);
  return { ...stores, close: () => stores.close() };
});

// As storage runs it: every partition's appends combined (group commit).
runStoreContract('mongodb, appends combined', async () => {
  const stores = await connectMongoStores(url, database);
  return { ...stores, log: new CombinedMessageLog(stores.log), close: () => stores.close() };
});

runKeyStoreContract('mongodb', async () => {
  const stores = await connectMongoStores(url, database);
  return { keys: MongoKeyStore.on(stores.db), close: () => stores.close() };
});

const redisUrl = process.env['REDIS_URL'];
if (!redisUrl) throw new Error('REDIS_URL is not set: run the suite with ./parley test');
runRegistersContract('redis', async () => {
  const registers = new RedisRegisters({ url: redisUrl, keyPrefix: `contract-${randomUUID()}:`, ttlMs: 60_000 });
  return { registers, close: () => registers.close() };
});

describe('MongoDB unique indexes', () => {
  let client: MongoClient;
  beforeAll(async () => {
    const stores = await connectMongoStores(url, database);
    await stores.close();
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

// Which strings the real database keeps exactly: the edge (router, connector) refuses a body
// exactly when unstorableText() objects, so this proves the rule is neither too strict nor too
// loose. Ids need no such proof: they are [A-Za-z0-9_.:@-]{1,128} (isValidId) before any store.
describe('stored strings on the real database', () => {
  let stores: Awaited<ReturnType<typeof connectMongoStores>>;
  beforeAll(async () => {
    stores = await connectMongoStores(url, database);
  });
  afterAll(async () => {
    await stores.close();
  });

  const message = (body: string, n: number) => ({
    serverMsgId: `m_prop_${randomUUID()}`,
    conversationId: `g_prop_${randomUUID()}`,
    seq: 1,
    senderId: 'alice',
    senderDeviceId: 'phone',
    clientMsgId: `c${n}`,
    body,
    sentAt: 1_764_100_000_000,
  });

  it('keeps every body the edge accepts exactly, and would not keep faithfully any it refuses', async () => {
    let n = 0;
    const seen = { accepted: 0, nul: 0, surrogate: 0 };
    const bodies = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 8 }).map((s) => `${s}\u0000${s}`),
      fc.tuple(fc.string({ maxLength: 8 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 8 })).map(([a, c, z]) => `${a}${String.fromCharCode(c)}${z}`),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const m = message(body, n++);
        const problem = unstorableText(body);
        if (problem === undefined) seen.accepted++;
        else if (body.includes('\u0000')) seen.nul++;
        else seen.surrogate++;
        let stored: string | undefined;
        let refused: unknown;
        try {
          await stores.log.append([m]);
          stored = (await stores.log.find(m.serverMsgId))?.body;
        } catch (err) {
          refused = err;
        }
        if (problem === undefined) {
          expect(refused).toBeUndefined();
          expect(stored).toBe(body);
        } else {
          // Refused by the database (and then permanently: INVALID_ARGUMENT, not retryable), or changed.
          if (refused !== undefined) expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false });
          else expect(stored).not.toBe(body);
        }
      }),
      { numRuns: 150 },
    );
    // Both kinds of refusal were tried against the database, not only good strings.
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.nul).toBeGreaterThan(0);
    expect(seen.surrogate).toBeGreaterThan(0);
  });
});
