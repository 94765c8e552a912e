import { randomUUID } from 'node:crypto';
import { MemoryBus, messagesRecords, partitionFor, type ConsumedRecord, type OutgoingRecord, type ValidAccepted } from '@parley/bus';
import { ParleyError, directConversationId, serverMsgIdFor, type Principal } from '@parley/core';
import { LocalRateLimiter, MemoryBucketStore, SharedRateLimiter } from '@parley/limits';
import type { SendBatchRequest__Output, SendRequest__Output } from '@parley/proto';
import { MAX_BATCH_ITEMS, MAX_MANY_BATCHES, routeSend, routeSendBatch, routeSendMany, type RouterDeps, type SendAuthorizer } from './router';

const TOPIC = 'test.messages';
/** A connector's call: it sends as the user of a verified token. */
const CONNECTOR: Principal = { kind: 'service', service: 'connector' };
const PARTITIONS = 4;
const NOW = 1_764_100_000_000;

/** Our own port, faked: which conversations exist and who is in them. */
class FakeAuthorizer implements SendAuthorizer {
  readonly conversations = new Map<string, Set<string>>();
  readonly calls: { conversationId: string; userId: string }[] = [];

  directMembers(conversationId: string): string[] | undefined {
    const members = this.conversations.get(conversationId);
    return members ? [...members] : undefined;
  }

  async isMember(conversationId: string, userId: string): Promise<{ exists: boolean; member: boolean }> {
    this.calls.push({ conversationId, userId });
    const members = this.conversations.get(conversationId);
    return { exists: members !== undefined, member: members?.has(userId) ?? false };
  }
}

/** The accepted message a parley.messages record carries (the versioned envelope decoded). */
function acceptedIn(record: { value: Buffer | string }): ValidAccepted {
  const entry = messagesRecords.decode(Buffer.isBuffer(record.value) ? record.value : Buffer.from(record.value));
  if (entry.kind !== 'message') throw new Error(`expected a message record, got ${entry.kind}`);
  return entry.message;
}

interface Harness {
  deps: RouterDeps;
  bus: MemoryBus;
  authorizer: FakeAuthorizer;
  published: { topic: string; records: OutgoingRecord[] }[];
  advance(ms: number): void;
}

let harnesses: Harness[] = [];

function harness(options: { rate?: number; burst?: number; maxBodyBytes?: number } = {}): Harness {
  const bus = new MemoryBus(PARTITIONS);
  bus.createTopic(TOPIC);
  const published: Harness['published'] = [];
  const publish = bus.publish.bind(bus);
  jest.spyOn(bus, 'publish').mockImplementation(async (topic, records) => {
    published.push({ topic, records });
    return publish(topic, records);
  });
  const authorizer = new FakeAuthorizer();
  authorizer.conversations.set('g_team', new Set(['alice', 'bob']));
  authorizer.conversations.set('g_other', new Set(['alice']));
  let t = NOW;
  const deps: RouterDeps = {
    bus,
    messagesTopic: TOPIC,
    authorizer,
    limiter: new LocalRateLimiter({ ratePerSec: options.rate ?? 1, burst: options.burst ?? 100 }, () => t),
    maxBodyBytes: options.maxBodyBytes ?? 16_384,
    now: () => t,
  };
  const h = {
    deps,
    bus,
    authorizer,
    published,
    advance: (ms: number) => {
      t += ms;
    },
  };
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  await Promise.all(harnesses.map((h) => h.bus.close()));
  harnesses = [];
});

function request(overrides: Partial<SendRequest__Output> = {}): SendRequest__Output {
  return { senderId: 'alice', senderDeviceId: 'phone', conversationId: 'g_team', clientMsgId: 'c-1', body: 'hello', ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<ParleyError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ParleyError) return err;
    throw err;
  }
  throw new Error('expected a ParleyError');
}

const SENTINEL = 'sentinel';

/**
 * Everything in the topic's partition for `key`, read back by a consumer: publishes a
 * sentinel with that key (same partition, after everything before it) and reads until it.
 */
async function recordsInPartitionOf(bus: MemoryBus, key: string): Promise<ConsumedRecord[]> {
  await bus.publish(TOPIC, [{ key, value: SENTINEL }]);
  const partition = partitionFor(key, PARTITIONS);
  const seen: ConsumedRecord[] = [];
  let reachedSentinel!: () => void;
  const done = new Promise<void>((resolve) => {
    reachedSentinel = resolve;
  });
  const subscription = await bus.subscribe({
    groupId: `reader-${randomUUID()}`,
    topic: TOPIC,
    handler: async (batch) => {
      if (batch.partition !== partition) return;
      for (const record of batch.records) {
        if (record.value.toString() === SENTINEL) reachedSentinel();
        else seen.push(record);
      }
    },
  });
  await done;
  await subscription.stop();
  return seen;
}

describe('routeSend: a new message', () => {
  it('publishes it once, keyed by conversationId, as a versioned messages record, and answers with seq 0', async () => {
    const h = harness();
    const response = await routeSend(h.deps, request(), CONNECTOR);
    const serverMsgId = serverMsgIdFor('g_team', 'alice', 'c-1');
    expect(response).toEqual({ serverMsgId, seq: 0, sentAt: NOW });
    expect(h.authorizer.calls).toEqual([{ conversationId: 'g_team', userId: 'alice' }]);

    expect(h.published).toHaveLength(1);
    expect(h.published[0]!.topic).toBe(TOPIC);
    expect(h.published[0]!.records).toHaveLength(1);
    const expected: ValidAccepted = { serverMsgId, conversationId: 'g_team', senderId: 'alice', senderDeviceId: 'phone', clientMsgId: 'c-1', body: 'hello', sentAt: NOW };
    expect(h.published[0]!.records[0]!.key).toBe('g_team');

    const records = await recordsInPartitionOf(h.bus, 'g_team');
    expect(records).toHaveLength(1);
    expect(records[0]!.key).toBe('g_team');
    expect(records[0]!.partition).toBe(partitionFor('g_team', PARTITIONS));
    expect(acceptedIn(records[0]!)).toEqual(expected);
    expect(JSON.parse(records[0]!.value.toString('utf8'))).toMatchObject({ v: 1 });
  });

  it('stamps sentAt from the clock when it accepts the message', async () => {
    const h = harness();
    h.advance(12_345);
    const response = await routeSend(h.deps, request(), CONNECTOR);
    expect(response.sentAt).toBe(NOW + 12_345);
    expect(acceptedIn(h.published[0]!.records[0]!)).toMatchObject({ sentAt: NOW + 12_345 });
  });

  it('carries a body with multi-byte characters through unchanged', async () => {
    const h = harness();
    const body = 'héllo 😀 — ünïcode "quotes" \n';
    await routeSend(h.deps, request({ body }), CONNECTOR);
    const records = await recordsInPartitionOf(h.bus, 'g_team');
    expect(acceptedIn(records[0]!).body).toBe(body);
  });

  it('gives the same serverMsgId to every send of the same (conversation, sender, clientMsgId), from any device', async () => {
    const h = harness();
    const first = await routeSend(h.deps, request(), CONNECTOR);
    const fromLaptop = await routeSend(h.deps, request({ senderDeviceId: 'laptop', body: 'hello again' }), CONNECTOR);
    expect(fromLaptop.serverMsgId).toBe(first.serverMsgId);
    const ids = new Set([
      first.serverMsgId,
      (await routeSend(h.deps, request({ clientMsgId: 'c-2' }), CONNECTOR)).serverMsgId,
      (await routeSend(h.deps, request({ senderId: 'bob' }), CONNECTOR)).serverMsgId,
      (await routeSend(h.deps, request({ conversationId: 'g_other' }), CONNECTOR)).serverMsgId,
    ]);
    expect(ids.size).toBe(4);
  });

  it('keys every message of a conversation by its conversationId', async () => {
    const h = harness();
    await routeSend(h.deps, request({ clientMsgId: 'c-1' }), CONNECTOR);
    await routeSend(h.deps, request({ clientMsgId: 'c-2', senderId: 'bob' }), CONNECTOR);
    await routeSend(h.deps, request({ clientMsgId: 'c-3', conversationId: 'g_other' }), CONNECTOR);
    expect(h.published.flatMap((p) => p.records.map((r) => r.key))).toEqual(['g_team', 'g_team', 'g_other']);
    const team = await recordsInPartitionOf(h.bus, 'g_team');
    // In publish order within the partition.
    expect(team.filter((r) => r.key === 'g_team').map((r) => acceptedIn(r).clientMsgId)).toEqual(['c-1', 'c-2']);
  });

  it('fails, with nothing to ack, when the message cannot be made durable', async () => {
    const h = harness();
    const error = await rejection(routeSend({ ...h.deps, messagesTopic: 'test.no-such-topic' }, request(), CONNECTOR));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.retryable).toBe(true);
  });
});

describe('routeSend: direct conversations', () => {
  it('puts the two members of a direct conversation in the record (proven by the id), and nothing for a group', async () => {
    const h = harness();
    const direct = directConversationId('alice', 'bob');
    h.authorizer.conversations.set(direct, new Set(['alice', 'bob']));
    await routeSend(h.deps, { senderId: 'alice', senderDeviceId: 'phone', conversationId: direct, clientMsgId: 'c1', body: 'hi' }, CONNECTOR);
    await routeSend(h.deps, { senderId: 'alice', senderDeviceId: 'phone', conversationId: 'g_team', clientMsgId: 'c2', body: 'hi' }, CONNECTOR);
    await routeSendBatch(h.deps, { senderId: 'bob', senderDeviceId: 'phone', conversationId: direct, items: [{ clientMsgId: 'c3', body: 'yo' }] }, CONNECTOR);
    const entries = h.published.flatMap((p) => p.records).map((r) => messagesRecords.decode(Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value)));
    expect(entries.map((e) => (e.kind === 'message' ? [e.message.clientMsgId, [...(e.members ?? [])].sort()] : []))).toEqual([
      ['c1', ['alice', 'bob']],
      ['c2', []],
      ['c3', ['alice', 'bob']],
    ]);
  });

  it('leaves out members that do not match the id (a wrong answer never travels as proof)', async () => {
    const h = harness();
    const direct = directConversationId('alice', 'bob');
    h.authorizer.conversations.set(direct, new Set(['alice', 'mallory']));
    await routeSend(h.deps, { senderId: 'alice', senderDeviceId: 'phone', conversationId: direct, clientMsgId: 'c1', body: 'hi' }, CONNECTOR);
    const entry = messagesRecords.decode(Buffer.from(h.published[0]!.records[0]!.value));
    expect(entry.kind === 'message' && entry.members).toBeFalsy();
  });
});

describe('routeSend: a resend', () => {
  it('publishes again with the same serverMsgId and answers without a seq (storage dedupes; the seq arrives in the msg frame)', async () => {
    const h = harness();
    const first = await routeSend(h.deps, request(), CONNECTOR);
    h.advance(60_000);
    const second = await routeSend(h.deps, request({ senderDeviceId: 'laptop' }), CONNECTOR);
    expect(second.serverMsgId).toBe(first.serverMsgId);
    expect(second.seq).toBe(0);
    expect(h.published).toHaveLength(2);
    expect((await recordsInPartitionOf(h.bus, 'g_team')).map((r) => acceptedIn(r).serverMsgId)).toEqual([first.serverMsgId, first.serverMsgId]);
  });

  it('asks no synchronous storage question about the message itself, only about membership', async () => {
    const h = harness();
    await routeSend(h.deps, request(), CONNECTOR);
    await routeSend(h.deps, request(), CONNECTOR);
    expect(h.authorizer.calls).toEqual([
      { conversationId: 'g_team', userId: 'alice' },
      { conversationId: 'g_team', userId: 'alice' },
    ]);
  });
});

describe('routeSend: refusals', () => {
  const badIds = ['', 'a b', 'a/b', 'ü', 'x'.repeat(129)];
  const fields = ['senderId', 'senderDeviceId', 'conversationId', 'clientMsgId'] as const;

  it.each(fields)('rejects an invalid %s with INVALID_ARGUMENT before asking storage or publishing', async (field) => {
    const h = harness();
    for (const bad of badIds) {
      const error = await rejection(routeSend(h.deps, request({ [field]: bad }), CONNECTOR));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.retryable).toBe(false);
    }
    expect(h.authorizer.calls).toEqual([]);
    expect(h.published).toEqual([]);
  });

  it('accepts ids at the 128-character limit', async () => {
    const h = harness();
    const long = 'x'.repeat(128);
    h.authorizer.conversations.set(long, new Set([long]));
    await expect(routeSend(h.deps, request({ senderId: long, senderDeviceId: long, conversationId: long, clientMsgId: long }), CONNECTOR)).resolves.toMatchObject({ seq: 0 });
  });

  it('rejects an empty body', async () => {
    const h = harness();
    const error = await rejection(routeSend(h.deps, request({ body: '' }), CONNECTOR));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(h.published).toEqual([]);
    expect(h.authorizer.calls).toEqual([]);
  });

  it('counts the body limit in UTF-8 bytes, not characters', async () => {
    const h = harness({ maxBodyBytes: 12 });
    const accepted = ['a'.repeat(12), 'é'.repeat(6), '😀'.repeat(3), '€€€€'];
    // Each of these is at most 12 UTF-16 code units: only the byte count refuses them.
    const refused = ['é'.repeat(7), '😀'.repeat(3) + 'a', '€€€€a', '€'.repeat(5), '😀'.repeat(6)];
    for (const [i, body] of accepted.entries()) {
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(12);
      await expect(routeSend(h.deps, request({ clientMsgId: `ok-${i}`, body }), CONNECTOR)).resolves.toMatchObject({ seq: 0 });
    }
    for (const [i, body] of refused.entries()) {
      expect(body.length).toBeLessThanOrEqual(12);
      expect(Buffer.byteLength(body)).toBeGreaterThan(12);
      const error = await rejection(routeSend(h.deps, request({ clientMsgId: `big-${i}`, body }), CONNECTOR));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain('12 bytes');
    }
    expect((await rejection(routeSend(h.deps, request({ clientMsgId: 'big-ascii', body: 'a'.repeat(13) }), CONNECTOR))).code).toBe('INVALID_ARGUMENT');
    expect(h.published.flatMap((p) => p.records)).toHaveLength(accepted.length);
  });

  it('refuses with RESOURCE_EXHAUSTED (retryable) once the sender used the burst, until tokens refill', async () => {
    const h = harness({ rate: 1, burst: 2 });
    await routeSend(h.deps, request({ clientMsgId: 'c-1' }), CONNECTOR);
    await routeSend(h.deps, request({ clientMsgId: 'c-2' }), CONNECTOR);
    const error = await rejection(routeSend(h.deps, request({ clientMsgId: 'c-3' }), CONNECTOR));
    expect(error.code).toBe('RESOURCE_EXHAUSTED');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(1_000);
    // A refused send is not authorized and not published.
    expect(h.authorizer.calls).toHaveLength(2);
    expect(h.published).toHaveLength(2);
    // Another sender has a bucket of their own.
    await expect(routeSend(h.deps, request({ senderId: 'bob', clientMsgId: 'c-3' }), CONNECTOR)).resolves.toMatchObject({ seq: 0 });
    h.advance(1_000);
    await expect(routeSend(h.deps, request({ clientMsgId: 'c-3' }), CONNECTOR)).resolves.toMatchObject({ seq: 0 });
  });

  it('does not spend a token on a request that fails validation', async () => {
    const h = harness({ rate: 1, burst: 1 });
    await rejection(routeSend(h.deps, request({ body: '' }), CONNECTOR));
    await rejection(routeSend(h.deps, request({ conversationId: 'bad id' }), CONNECTOR));
    await expect(routeSend(h.deps, request(), CONNECTOR)).resolves.toMatchObject({ seq: 0 });
  });

  it('refuses a non-member with PERMISSION_DENIED and publishes nothing', async () => {
    const h = harness();
    const error = await rejection(routeSend(h.deps, request({ senderId: 'mallory' }), CONNECTOR));
    expect(error.code).toBe('PERMISSION_DENIED');
    expect(error.retryable).toBe(false);
    expect(h.published).toEqual([]);
  });

  it('passes on NOT_FOUND for an unknown conversation and publishes nothing', async () => {
    const h = harness();
    const error = await rejection(routeSend(h.deps, request({ conversationId: 'g_nope' }), CONNECTOR));
    expect(error.code).toBe('NOT_FOUND');
    expect(h.published).toEqual([]);
  });
});

describe('routeSend: bodies the store could not keep exactly', () => {
  it.each([
    ['U+0000', 'a\u0000b', 'U+0000'],
    ['a lone high surrogate', 'x\ud83d', 'surrogate'],
    ['a lone low surrogate', '\ude00y', 'surrogate'],
  ])('refuses a body holding %s with INVALID_ARGUMENT before publishing', async (_name, body, hint) => {
    const h = harness();
    const error = await rejection(routeSend(h.deps, request({ body }), CONNECTOR));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain(hint);
    expect(h.published).toEqual([]);
  });

  it('accepts a well-formed surrogate pair and other control characters', async () => {
    const h = harness();
    await expect(routeSend(h.deps, request({ body: '\ud83d\ude00 \u0001\u001f' }), CONNECTOR)).resolves.toMatchObject({ seq: 0 });
  });
});

function batch(items: { clientMsgId: string; body: string }[], overrides: Partial<SendBatchRequest__Output> = {}): SendBatchRequest__Output {
  return { senderId: 'alice', senderDeviceId: 'phone', conversationId: 'g_team', items, ...overrides };
}

describe('routeSendBatch', () => {
  it('publishes a device pipeline in one produce, in its order, with one membership question', async () => {
    const h = harness();
    const items = Array.from({ length: 10 }, (_, i) => ({ clientMsgId: `p-${i}`, body: `m${i}` }));
    const response = await routeSendBatch(h.deps, batch(items), CONNECTOR);
    expect(response.results!.map((r) => [r.clientMsgId, r.serverMsgId, r.errorCode])).toEqual(items.map((i) => [i.clientMsgId, serverMsgIdFor('g_team', 'alice', i.clientMsgId), '']));
    expect(response.results!.every((r) => r.sentAt === NOW)).toBe(true);
    expect(h.published).toHaveLength(1);
    expect(h.authorizer.calls).toHaveLength(1);
    const stored = await recordsInPartitionOf(h.bus, 'g_team');
    expect(stored.map((r) => acceptedIn(r).body)).toEqual(items.map((i) => i.body));
  });

  it('answers bad items one by one and publishes the others', async () => {
    const h = harness({ maxBodyBytes: 8 });
    const response = await routeSendBatch(
      h.deps,
      batch([
        { clientMsgId: 'ok-1', body: 'a' },
        { clientMsgId: 'bad id', body: 'b' },
        { clientMsgId: 'nul', body: 'c\u0000' },
        { clientMsgId: 'big', body: 'x'.repeat(9) },
        { clientMsgId: 'empty', body: '' },
        { clientMsgId: 'ok-2', body: 'd' },
      ]),
      CONNECTOR,
    );
    expect(response.results!.map((r) => r.errorCode)).toEqual(['', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', '']);
    expect(response.results!.filter((r) => r.errorCode !== '').every((r) => r.serverMsgId === '' && !r.retryable)).toBe(true);
    expect((await recordsInPartitionOf(h.bus, 'g_team')).map((r) => acceptedIn(r).clientMsgId)).toEqual(['ok-1', 'ok-2']);
  });

  it('refuses items past the rate limit as retryable RESOURCE_EXHAUSTED', async () => {
    const h = harness({ rate: 1, burst: 2 });
    const response = await routeSendBatch(h.deps, batch(['a', 'b', 'c'].map((b, i) => ({ clientMsgId: `r-${i}`, body: b }))), CONNECTOR);
    expect(response.results!.map((r) => [r.errorCode, r.retryable, r.retryAfterMs])).toEqual([
      ['', false, 0],
      ['', false, 0],
      ['RESOURCE_EXHAUSTED', true, 1_000],
    ]);
  });

  it('shares one sender\'s limit between two routers on one bucket store', async () => {
    const [a, b] = [harness({ burst: 8 }), harness({ burst: 8 })];
    const store = new MemoryBucketStore(() => NOW);
    const limiters = [a, b].map((h) => (h.deps.limiter = new SharedRateLimiter(store, { name: 'send', limit: { ratePerSec: 1, burst: 8 }, now: () => NOW, autoFlush: false })));
    const items = (prefix: string) => Array.from({ length: 8 }, (_, i) => ({ clientMsgId: `${prefix}-${i}`, body: 'x' }));
    const sent = async (h: typeof a, prefix: string) => {
      const response = await routeSendBatch(h.deps, batch(items(prefix)), CONNECTOR);
      await Promise.all(limiters.map((l) => l.flush()));
      return response.results!;
    };
    const first = [...(await sent(a, 'a1')), ...(await sent(a, 'a2'))];
    const second = [...(await sent(b, 'b1')), ...(await sent(b, 'b2'))];
    expect(first.filter((r) => r.errorCode === '')).toHaveLength(8);
    // b's first contact gets a quarter of the burst before the store's answer, then nothing.
    expect(second.filter((r) => r.errorCode === '')).toHaveLength(2);
    const refused = second.filter((r) => r.errorCode !== '');
    expect(refused.every((r) => r.errorCode === 'RESOURCE_EXHAUSTED' && r.retryable && Number(r.retryAfterMs) > 0)).toBe(true);
  });

  it.each([0, MAX_BATCH_ITEMS + 1])('refuses a batch of %i items with INVALID_ARGUMENT', async (n) => {
    const h = harness();
    const error = await rejection(routeSendBatch(h.deps, batch(Array.from({ length: n }, (_, i) => ({ clientMsgId: `n-${i}`, body: 'x' }))), CONNECTOR));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(h.published).toEqual([]);
  });

  it('refuses the whole batch for a non-member (PERMISSION_DENIED) or an unknown conversation (NOT_FOUND)', async () => {
    const h = harness();
    expect((await rejection(routeSendBatch(h.deps, batch([{ clientMsgId: 'x', body: 'y' }], { senderId: 'mallory' }), CONNECTOR))).code).toBe('PERMISSION_DENIED');
    expect((await rejection(routeSendBatch(h.deps, batch([{ clientMsgId: 'x', body: 'y' }], { conversationId: 'g_nope' }), CONNECTOR))).code).toBe('NOT_FOUND');
    expect(h.published).toEqual([]);
  });

  it('fails as a whole, retryable, when the produce fails: nothing to ack', async () => {
    const h = harness();
    const error = await rejection(routeSendBatch({ ...h.deps, messagesTopic: 'test.no-such-topic' }, batch([{ clientMsgId: 'x', body: 'y' }]), CONNECTOR));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.retryable).toBe(true);
  });
});

describe('routeSendMany', () => {
  it('checks each batch on its own, answers each one, and makes every batch that passed durable in one produce', async () => {
    const h = harness();
    const res = await routeSendMany(
      h.deps,
      {
        batches: [
        { senderId: 'alice', senderDeviceId: 'phone', conversationId: 'g_team', items: [{ clientMsgId: 'a1', body: 'one' }, { clientMsgId: 'a2', body: 'two' }] },
        { senderId: 'mallory', senderDeviceId: 'phone', conversationId: 'g_team', items: [{ clientMsgId: 'm1', body: 'spam' }] },
        { senderId: 'alice', senderDeviceId: 'laptop', conversationId: 'g_other', items: [{ clientMsgId: 'b1', body: '' }, { clientMsgId: 'b2', body: 'three' }] },
        { senderId: 'bob', senderDeviceId: 'phone', conversationId: 'g_nope', items: [{ clientMsgId: 'n1', body: 'x' }] },
        ],
      },
      CONNECTOR,
    );
    expect(res.results!.map((r) => r.errorCode)).toEqual(['', 'PERMISSION_DENIED', '', 'NOT_FOUND']);
    expect(res.results![2]!.response!.results!.map((r) => r.errorCode)).toEqual(['INVALID_ARGUMENT', '']);
    expect(h.published).toHaveLength(1);
    expect(h.published[0]!.records.map((r) => acceptedIn(r).clientMsgId)).toEqual(['a1', 'a2', 'b2']);
  });

  it('refuses a call past its bounds as a whole, and fails as a whole when the produce fails', async () => {
    const h = harness();
    const many = Array.from({ length: MAX_MANY_BATCHES + 1 }, (_, i) => ({ senderId: 'alice', senderDeviceId: 'phone', conversationId: 'g_team', items: [{ clientMsgId: `c${i}`, body: 'x' }] }));
    await expect(routeSendMany(h.deps, { batches: many }, CONNECTOR)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const big = Array.from({ length: 17 }, (_, i) => ({ senderId: 'alice', senderDeviceId: 'phone', conversationId: 'g_team', items: Array.from({ length: 64 }, (_, j) => ({ clientMsgId: `c${i}-${j}`, body: 'x' })) }));
    await expect(routeSendMany(h.deps, { batches: big }, CONNECTOR)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    jest.spyOn(h.bus, 'publish').mockRejectedValue(new ParleyError('UNAVAILABLE', 'kafka down'));
    await expect(routeSendMany(h.deps, { batches: [many[0]!] }, CONNECTOR)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});

describe('sending as a bot', () => {
  const BOT_KEY: Principal = { kind: 'key', keyId: 'k1234567890abcde', name: 'support desk', scopes: ['messages:send-as-bot'], botId: 'bot:support' };
  const USER_KEY: Principal = { kind: 'key', keyId: 'u1234567890abcde', name: 'billing', scopes: ['messages:send-as'] };
  const botRequest = (overrides: Partial<SendRequest__Output> = {}) => request({ senderId: 'bot:support', senderDeviceId: '', clientMsgId: 'b-1', ...overrides });

  function allowing(): Harness {
    const h = harness();
    // The fake's "members" are the answers isMember gives: a conversation that allows the bot answers yes for it.
    h.authorizer.conversations.get('g_team')!.add('bot:support');
    return h;
  }

  it('stores an ordinary message as the bot, its device being the key it sent with', async () => {
    const h = allowing();
    const response = await routeSend(h.deps, botRequest(), BOT_KEY);
    expect(response.serverMsgId).toBe(serverMsgIdFor('g_team', 'bot:support', 'b-1'));
    const [record] = await recordsInPartitionOf(h.bus, 'g_team');
    expect(acceptedIn(record!)).toMatchObject({ senderId: 'bot:support', senderDeviceId: 'k1234567890abcde', body: 'hello' });
    await expect(routeSend(h.deps, botRequest({ clientMsgId: 'b-2', senderDeviceId: 'k1234567890abcde' }), BOT_KEY)).resolves.toMatchObject({ seq: 0 });
    expect((await rejection(routeSend(h.deps, botRequest({ clientMsgId: 'b-3', senderDeviceId: 'phone' }), BOT_KEY))).code).toBe('INVALID_ARGUMENT');
  });

  it('refuses a conversation that does not allow the bot, after the key was found good', async () => {
    const h = harness();
    const error = await rejection(routeSend(h.deps, botRequest(), BOT_KEY));
    expect(error.code).toBe('PERMISSION_DENIED');
    expect(error.message).toContain('does not allow bot:support');
    expect(h.authorizer.calls).toEqual([{ conversationId: 'g_team', userId: 'bot:support' }]);
    expect(h.published).toHaveLength(0);
  });

  it('keeps the identities apart: no user as a bot key, no bot as a user key, a connector or another bot', async () => {
    const h = allowing();
    const refusals = [
      routeSend(h.deps, request(), BOT_KEY),
      routeSend(h.deps, botRequest(), USER_KEY),
      routeSend(h.deps, botRequest({ senderDeviceId: 'phone' }), CONNECTOR),
      routeSend(h.deps, botRequest({ senderId: 'bot:billing' }), BOT_KEY),
      routeSend(h.deps, botRequest({ senderId: 'system' }), BOT_KEY),
      routeSendBatch(h.deps, batch([{ clientMsgId: 'x', body: 'y' }]), BOT_KEY),
      routeSendBatch(h.deps, batch([{ clientMsgId: 'x', body: 'y' }], { senderId: 'bot:support' }), USER_KEY),
    ];
    for (const refusal of refusals) expect((await rejection(refusal)).code).toBe('PERMISSION_DENIED');
    // Refused before membership was asked or anything produced.
    expect(h.authorizer.calls).toEqual([]);
    expect(h.published).toHaveLength(0);
  });

  it('sends a batch as the bot in the order given', async () => {
    const h = allowing();
    const response = await routeSendBatch(h.deps, batch(['one', 'two'].map((body, i) => ({ clientMsgId: `b-${i}`, body })), { senderId: 'bot:support', senderDeviceId: '' }), BOT_KEY);
    expect(response.results!.map((r) => r.errorCode)).toEqual(['', '']);
    const records = (await recordsInPartitionOf(h.bus, 'g_team')).map(acceptedIn);
    expect(records.map((m) => [m.senderId, m.senderDeviceId, m.body])).toEqual([
      ['bot:support', 'k1234567890abcde', 'one'],
      ['bot:support', 'k1234567890abcde', 'two'],
    ]);
  });
});
