// End to end on infrastructure that refuses anonymous clients: a private instance of
// deploy/local/infra.sh in secure mode (Kafka SASL_SSL with SCRAM and ACLs, Redis TLS with ACL
// users, FerretDB over TLS with PLAIN credentials checked by PostgreSQL), the four services each
// logged in as itself. A message goes end to end; then every way in without the right
// credentials is shown to be refused.
import { randomBytes, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { Redis, type RedisOptions } from 'ioredis';
import { kafkaClientSecurity } from '@parley/bus';
import { LocalInfra } from './support/local-infra';
import { TestClient } from './support/client';
import { Platform, REPO_ROOT, kafkaSecurityOf, mongoOptionsOf, redisOptionsOf, type InfraPrincipal } from './support/platform';

// A cold first `up` builds FerretDB and formats Kafka; later ones take about a minute.
jest.setTimeout(600_000);

const namespace = `e2esec${randomBytes(4).toString('hex')}`;
// Its own directory and ports (below 32768, away from the shared set-up and the failure suite's).
const offset = Number(process.env['SECURE_INFRA_PORT_OFFSET'] ?? 0);
const infra = new LocalInfra({
  dir: process.env['SECURE_INFRA_DIR'] ? path.resolve(process.env['SECURE_INFRA_DIR']) : path.join(REPO_ROOT, '.local', 'secure-infra'),
  ports: { kafka: 29092 + offset, redis: 26379 + offset, postgres: 25432 + offset, mongo: 27217 + offset },
  partitions: 2,
  timeoutMs: 900_000,
  topicPrefix: `${namespace}.`,
  redisKeyPrefix: `${namespace}:`,
  secure: true,
});
let platform: Platform | undefined;
const clients: TestClient[] = [];
const topic = (name: string) => `${namespace}.${name}`;

/** A kafkajs client that gives up at once (a refusal must surface, not be retried for minutes). */
function kafka(config: Partial<KafkaConfig>): Kafka {
  return new Kafka({ clientId: 'e2e-secure', brokers: [infra.env.KAFKA_BROKERS], logLevel: logLevel.NOTHING, connectionTimeout: 3_000, retry: { retries: 0 }, ...config });
}

const kafkaAs = (principal: InfraPrincipal) => kafka(kafkaClientSecurity(kafkaSecurityOf(infra.env, principal)));

/** The names, types and messages of an error and its causes (kafkajs wraps the broker's error code). */
function errorChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 6; depth++) {
    const { type, originalError } = e as { type?: unknown; originalError?: unknown };
    parts.push(`${e.name} ${typeof type === 'string' ? type : ''} ${e.message}`);
    e = originalError ?? e.cause;
  }
  return parts.join(' <- ');
}

const refusal = (work: Promise<unknown>): Promise<string> =>
  work.then(
    () => 'accepted',
    (err: unknown) => errorChain(err),
  );

async function produceAs(principal: InfraPrincipal, topicName: string): Promise<void> {
  const producer = kafkaAs(principal).producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  await producer.connect();
  try {
    await producer.send({ topic: topicName, messages: [{ key: 'c', value: 'not yours' }] });
  } finally {
    await producer.disconnect();
  }
}

/** A Redis client that tries once: no reconnects, no offline queue. */
function redis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 3_000, retryStrategy: () => null, ...options });
}

async function redisCommand(client: Redis, run: (r: Redis) => Promise<unknown>): Promise<unknown> {
  try {
    await client.connect();
    return await run(client);
  } finally {
    client.disconnect();
  }
}

async function mongoInsert(url: string, options: ConstructorParameters<typeof MongoClient>[1]): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 3_000, connectTimeoutMS: 3_000, ...options });
  try {
    await client.connect();
    await client.db(namespace).collection('intruders').insertOne({ at: 'now' });
  } finally {
    await client.close();
  }
}

beforeAll(async () => {
  await infra.up();
  platform = await new Platform({ namespace, partitions: 2 }, infra.env).start();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await platform?.stop();
  await infra.down();
});

describe('the platform on infrastructure that refuses anonymous clients', () => {
  it('delivers a message end to end, each service logged in as itself', async () => {
    const p = platform!;
    const alice = `alice-${randomUUID()}`;
    const bob = `bob-${randomUUID()}`;
    const conversationId = await p.createDirect(alice, bob);
    const a = await TestClient.connect(p.wsUrl, p.token(alice, 'phone'), alice, 'phone');
    const b = await TestClient.connect(p.wsUrl, p.token(bob, 'phone'), bob, 'phone');
    clients.push(a, b);
    expect(await a.send(conversationId, 'over TLS, with credentials')).toMatchObject({ type: 'ack' });
    await b.waitFor(() => b.messages(conversationId).length === 1);
    expect(b.messages(conversationId)[0]).toMatchObject({ seq: 1, senderId: alice, body: 'over TLS, with credentials' });
    // Every service's own credentials are what it runs with (not the operator's).
    for (const proc of p.processes) {
      if (proc.name !== 'connector') expect(proc.env['KAFKA_SASL_USERNAME']).toBe(proc.name);
      expect(proc.env['KAFKA_SASL_PASSWORD']).not.toBe(infra.env.secure?.credentials.admin['KAFKA_SASL_PASSWORD']);
    }
  });

  describe('Kafka', () => {
    it('refuses a client without SASL (TLS only) and one without TLS', async () => {
      const tlsOnly = kafka({ ssl: { ca: [kafkaSecurityOf(infra.env, 'admin').caPem ?? ''] } }).admin();
      await expect(tlsOnly.connect().then(() => tlsOnly.listTopics())).rejects.toThrow();
      await tlsOnly.disconnect();
      const plaintext = kafka({}).admin();
      await expect(plaintext.connect().then(() => plaintext.listTopics())).rejects.toThrow();
      await plaintext.disconnect();
    });

    it('refuses a wrong password', async () => {
      const security = kafkaSecurityOf(infra.env, 'router');
      const wrong = kafka(kafkaClientSecurity({ ...security, sasl: { mechanism: 'scram-sha-512', username: 'router', password: 'not-the-password' } })).admin();
      await expect(wrong.connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
      await wrong.disconnect();
    });

    it("refuses a service's credentials on a topic it does not own", async () => {
      // The connector does not speak Kafka: a valid login and nothing more.
      // kafkajs reports TOPIC_AUTHORIZATION_FAILED as "Not authorized to access topics: [Topic authorization failed]".
      const denied = /Topic authorization failed/;
      expect(await refusal(produceAs('connector', topic('messages')))).toMatch(denied);
      // push only consumes deliveries and signals (and parks records in the dead-letter topic).
      expect(await refusal(produceAs('push', topic('messages')))).toMatch(denied);
      expect(await refusal(produceAs('push', topic('deliveries')))).toMatch(denied);
      // Only storage writes deliveries; the router writes messages, never deliveries.
      expect(await refusal(produceAs('router', topic('deliveries')))).toMatch(denied);
      // Control: the owner may.
      await expect(produceAs('storage', topic('deliveries'))).resolves.toBeUndefined();
    });
  });

  describe('Redis', () => {
    it('refuses a client without a password, with a wrong one, and a plaintext one', async () => {
      const url = infra.env.REDIS_URL;
      const { tls } = redisOptionsOf(infra.env, 'storage');
      await expect(redisCommand(redis(url, tls ? { tls } : {}), (r) => r.get(`${namespace}:reg:x`))).rejects.toThrow(/NOAUTH/);
      await expect(redisCommand(redis(url, tls ? { tls } : {}), (r) => r.auth('storage', 'not-the-password'))).rejects.toThrow(/WRONGPASS/);
      await expect(redisCommand(redis(url.replace('rediss://', 'redis://')), (r) => r.ping())).rejects.toThrow();
      // Control: storage's own user reads its own keys.
      await expect(redisCommand(redis(url, redisOptionsOf(infra.env, 'storage')), (r) => r.get(`${namespace}:reg:x`))).resolves.toBeNull();
    });

    it("refuses a service's user outside its keys and commands", async () => {
      const url = infra.env.REDIS_URL;
      // storage holds registers, not sessions; push only reads sessions.
      await expect(redisCommand(redis(url, redisOptionsOf(infra.env, 'storage')), (r) => r.hgetall(`${namespace}:sess:{u}`))).rejects.toThrow(/NOPERM/);
      await expect(redisCommand(redis(url, redisOptionsOf(infra.env, 'push')), (r) => r.hset(`${namespace}:sess:{u}`, 'd', 'x'))).rejects.toThrow(/NOPERM/);
      await expect(redisCommand(redis(url, redisOptionsOf(infra.env, 'connector')), (r) => r.flushall())).rejects.toThrow(/NOPERM/);
    });
  });

  describe('MongoDB wire (FerretDB over TLS, PLAIN checked by PostgreSQL)', () => {
    it('refuses a client without credentials, with a wrong password, and a plaintext one', async () => {
      const url = infra.env.MONGO_URL;
      const { tlsCAFile, auth } = mongoOptionsOf(infra.env, 'storage');
      const tls = { tls: true, ...(tlsCAFile ? { tlsCAFile } : {}) };
      // FerretDB v1 takes any PLAIN credentials at saslStart and passes them to PostgreSQL at the
      // first command: the refusal is PostgreSQL's (scram-sha-256), in that command's error.
      await expect(mongoInsert(url.replace('authMechanism=PLAIN', ''), tls)).rejects.toThrow(/password authentication failed/);
      await expect(mongoInsert(url, { ...tls, auth: { username: 'storage', password: 'not-the-password' } })).rejects.toThrow(/password authentication failed/);
      await expect(mongoInsert(`mongodb://127.0.0.1:${infra.ports.mongo}/`, {})).rejects.toMatchObject({ name: 'MongoServerSelectionError' });
      // Control: storage's own credentials work.
      await expect(mongoInsert(url, { ...tls, ...(auth ? { auth } : {}) })).resolves.toBeUndefined();
    });
  });
});
