import fc from 'fast-check';
import { MemoryBus, type ConsumedBatch, type ConsumedRecord } from '@parley/bus';
import { ParleyError, createLogger, serverMsgIdFor } from '@parley/core';
import type { AcceptedMessage__Output, DeliveryRecord, StoredMessage } from '@parley/proto';
import { Sequencer, parseAccepted, type SequencerMetrics } from './sequencer';
import { MemoryMessageStore, type StoredMessageDoc } from './store';

const MESSAGES = 'test.messages';
const DELIVERIES = 'test.deliveries';
const log = createLogger('storage-test', 'test', 'silent');

function accepted(conversationId: string, senderId: string, clientMsgId: string, overrides: Partial<AcceptedMessage__Output> = {}): AcceptedMessage__Output {
  return {
    serverMsgId: serverMsgIdFor(conversationId, senderId, clientMsgId),
    conversationId,
    senderId,
    senderDeviceId: 'phone',
    clientMsgId,
    body: `${senderId}: ${clientMsgId}`,
    sentAt: 1_764_100_000_000,
    ...overrides,
  };
}

let offset = 0;
function record(value: AcceptedMessage__Output | string, key = typeof value === 'string' ? 'k' : value.conversationId): ConsumedRecord {
  return {
    topic: MESSAGES,
    partition: 0,
    offset: String(offset++),
    key,
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: {},
  };
}

function batch(values: (AcceptedMessage__Output | string)[], isActive: () => boolean = () => true): ConsumedBatch {
  return { topic: MESSAGES, partition: 0, records: values.map((v) => record(v)), isActive };
}

interface Delivered {
  key: string;
  record: DeliveryRecord & { message: StoredMessage };
}

class Harness {
  readonly store = new MemoryMessageStore();
  readonly bus = new MemoryBus();
  /** Every publish to the deliveries topic, one entry per call. */
  readonly publishes: Delivered[][] = [];
  readonly counts = { stored: 0, duplicates: 0, rejected: 0 };
  readonly metrics: SequencerMetrics = {
    stored: (n) => (this.counts.stored += n),
    duplicates: (n) => (this.counts.duplicates += n),
    rejected: (n) => (this.counts.rejected += n),
  };
  sequencer: Sequencer;

  constructor(createDeliveriesTopic = true) {
    if (createDeliveriesTopic) this.bus.createTopic(DELIVERIES);
    const publish = this.bus.publish.bind(this.bus);
    jest.spyOn(this.bus, 'publish').mockImplementation(async (topic, records) => {
      await publish(topic, records);
      if (topic === DELIVERIES) {
        this.publishes.push(records.map((r) => ({ key: r.key, record: JSON.parse(String(r.value)) as Delivered['record'] })));
      }
    });
    this.sequencer = this.newSequencer();
  }

  /** Another instance (a restart, or the next owner of the partition) over the same store. */
  newSequencer(): Sequencer {
    return new Sequencer(this.store, this.bus, DELIVERIES, log, this.metrics);
  }

  get delivered(): Delivered[] {
    return this.publishes.flat();
  }

  async stored(conversationId: string): Promise<StoredMessageDoc[]> {
    return this.store.range(conversationId, { order: 'asc', limit: 10_000 });
  }
}

const seqs = (messages: { seq?: unknown }[]) => messages.map((m) => m.seq);
const clientIds = (messages: { clientMsgId?: string | undefined }[]) => messages.map((m) => m.clientMsgId);

afterEach(() => {
  jest.restoreAllMocks();
});

describe('Sequencer: numbering', () => {
  it('numbers each conversation from 1 without gaps, in arrival order, independently of the others', async () => {
    const h = new Harness();
    await h.store.createConversation({ conversationId: 'g_a', kind: 'group', memberIds: ['alice', 'bob'], createdAt: 1 });
    await h.sequencer.handleBatch(
      batch([
        accepted('g_a', 'alice', 'a1'),
        accepted('g_b', 'bob', 'b1'),
        accepted('g_a', 'bob', 'a2'),
        accepted('g_a', 'alice', 'a3'),
        accepted('g_b', 'alice', 'b2'),
        accepted('g_c', 'carol', 'c1'),
        accepted('g_a', 'bob', 'a4'),
      ]),
    );
    const a = await h.stored('g_a');
    expect(seqs(a)).toEqual([1, 2, 3, 4]);
    expect(clientIds(a)).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(seqs(await h.stored('g_b'))).toEqual([1, 2]);
    expect(clientIds(await h.stored('g_b'))).toEqual(['b1', 'b2']);
    expect(seqs(await h.stored('g_c'))).toEqual([1]);
    expect(h.counts).toEqual({ stored: 7, duplicates: 0, rejected: 0 });
  });

  it('stores every field of the accepted message', async () => {
    const h = new Harness();
    const message = accepted('g_a', 'alice', 'a1', { senderDeviceId: 'laptop', body: 'héllo 😀', sentAt: 42 });
    await h.sequencer.handleBatch(batch([message]));
    expect(await h.store.findMessage(message.serverMsgId)).toEqual({ ...message, seq: 1 });
  });

  it('continues the numbering across batches', async () => {
    const h = new Harness();
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', 'a1'), accepted('g_a', 'alice', 'a2')]));
    await h.sequencer.handleBatch(batch([accepted('g_a', 'bob', 'a3')]));
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', 'a4'), accepted('g_a', 'bob', 'a5')]));
    expect(seqs(await h.stored('g_a'))).toEqual([1, 2, 3, 4, 5]);
    expect(clientIds(await h.stored('g_a'))).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
  });

  it.each([
    ['a conversation the store knows (lastSeq hint)', true],
    ['a conversation without a conversation document (no hint)', false],
  ])('lets a new instance over the same store continue after the stored maximum: %s', async (_name, createConversation) => {
    const h = new Harness();
    if (createConversation) await h.store.createConversation({ conversationId: 'g_a', kind: 'group', memberIds: ['alice'], createdAt: 1 });
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', 'a1'), accepted('g_a', 'alice', 'a2')]));
    await h.newSequencer().handleBatch(batch([accepted('g_a', 'alice', 'a3'), accepted('g_a', 'alice', 'a4')]));
    expect(seqs(await h.stored('g_a'))).toEqual([1, 2, 3, 4]);
    expect(clientIds(await h.stored('g_a'))).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('resequences after the stored maximum when another writer took the next seq', async () => {
    const h = new Harness();
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', 'a1')]));
    // A previous owner of the partition (a zombie) stored seq 2 behind this instance's back.
    const zombie = accepted('g_a', 'bob', 'z1');
    expect(await h.store.insertMessage({ ...zombie, seq: 2 })).toBe('inserted');
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', 'a2'), accepted('g_a', 'alice', 'a3')]));
    const stored = await h.stored('g_a');
    expect(seqs(stored)).toEqual([1, 2, 3, 4]);
    expect(clientIds(stored)).toEqual(['a1', 'z1', 'a2', 'a3']);
  });

  it('keeps seqs unique and gap-free when two instances write the same conversation alternately', async () => {
    const h = new Harness();
    await h.store.createConversation({ conversationId: 'g_a', kind: 'group', memberIds: ['alice'], createdAt: 1 });
    const first = h.sequencer;
    const second = h.newSequencer();
    for (let i = 1; i <= 6; i++) await (i % 2 === 1 ? first : second).handleBatch(batch([accepted('g_a', 'alice', `m${i}`)]));
    const stored = await h.stored('g_a');
    expect(seqs(stored)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(clientIds(stored)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  });
});

describe('Sequencer: duplicates', () => {
  it('drops a second copy of (conversation, sender, clientMsgId) without renumbering, in one batch or across batches', async () => {
    const h = new Harness();
    const first = accepted('g_a', 'alice', 'a1', { body: 'original', senderDeviceId: 'phone', sentAt: 1 });
    // A resend from another device with a later router timestamp: the same message.
    const resend = accepted('g_a', 'alice', 'a1', { body: 'original', senderDeviceId: 'laptop', sentAt: 2 });
    await h.sequencer.handleBatch(batch([first, accepted('g_a', 'bob', 'b1'), resend, first]));
    await h.sequencer.handleBatch(batch([resend, accepted('g_a', 'bob', 'b2'), first]));
    const stored = await h.stored('g_a');
    expect(seqs(stored)).toEqual([1, 2, 3]);
    expect(clientIds(stored)).toEqual(['a1', 'b1', 'b2']);
    expect(stored[0]).toEqual({ ...first, seq: 1 });
    expect(h.counts).toEqual({ stored: 3, duplicates: 4, rejected: 0 });
  });

  it('hands a duplicate on again with its original seq', async () => {
    const h = new Harness();
    const a1 = accepted('g_a', 'alice', 'a1');
    await h.sequencer.handleBatch(batch([a1, accepted('g_a', 'alice', 'a2')]));
    await h.newSequencer().handleBatch(batch([a1]));
    const last = h.publishes.at(-1)!;
    expect(last).toHaveLength(1);
    expect(last[0]!.record.message).toEqual({ ...a1, seq: 1 });
  });

  it('treats the same clientMsgId from another sender or in another conversation as another message', async () => {
    const h = new Harness();
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', 'x'), accepted('g_a', 'bob', 'x'), accepted('g_b', 'alice', 'x')]));
    expect(seqs(await h.stored('g_a'))).toEqual([1, 2]);
    expect((await h.stored('g_a')).map((m) => m.senderId)).toEqual(['alice', 'bob']);
    expect(seqs(await h.stored('g_b'))).toEqual([1]);
  });
});

describe('Sequencer: malformed records', () => {
  const valid = accepted('g_a', 'alice', 'ok');
  const malformed: [string, string][] = [
    ['not JSON', '{not json'],
    ['JSON null', 'null'],
    ['a JSON number', '42'],
    ['a JSON array', '[]'],
    ['a bad conversationId', JSON.stringify({ ...accepted('g a', 'alice', 'm') })],
    ['a bad senderId', JSON.stringify(accepted('g_a', '', 'm'))],
    ['a bad senderDeviceId', JSON.stringify(accepted('g_a', 'alice', 'm', { senderDeviceId: 'a/b' }))],
    ['a bad clientMsgId', JSON.stringify(accepted('g_a', 'alice', 'x'.repeat(129)))],
    ['a missing body', JSON.stringify({ ...valid, clientMsgId: 'm1', serverMsgId: serverMsgIdFor('g_a', 'alice', 'm1'), body: undefined })],
    ['a numeric body', JSON.stringify(accepted('g_a', 'alice', 'm2', { body: 7 as unknown as string }))],
    ['a string sentAt', JSON.stringify(accepted('g_a', 'alice', 'm3', { sentAt: '1' as unknown as number }))],
    ['a forged serverMsgId', JSON.stringify(accepted('g_a', 'alice', 'm4', { serverMsgId: serverMsgIdFor('g_a', 'bob', 'm4') }))],
    ['a serverMsgId of another conversation', JSON.stringify(accepted('g_a', 'alice', 'm5', { serverMsgId: serverMsgIdFor('g_b', 'alice', 'm5') }))],
  ];

  it.each(malformed)('parseAccepted refuses %s', (_name, raw) => {
    expect(parseAccepted(Buffer.from(raw))).toBeUndefined();
  });

  it('parseAccepted returns a valid record as it is', () => {
    expect(parseAccepted(Buffer.from(JSON.stringify(valid)))).toEqual(valid);
  });

  it('drops malformed records, keeps going with the rest and leaves no gap', async () => {
    const h = new Harness();
    const raws = malformed.map(([, raw]) => raw);
    await h.sequencer.handleBatch(batch([raws[0]!, accepted('g_a', 'alice', 'first'), ...raws.slice(1), accepted('g_a', 'alice', 'second')]));
    const stored = await h.stored('g_a');
    expect(seqs(stored)).toEqual([1, 2]);
    expect(clientIds(stored)).toEqual(['first', 'second']);
    expect(h.counts).toEqual({ stored: 2, duplicates: 0, rejected: malformed.length });
    expect(h.delivered.map((d) => d.record.message.clientMsgId)).toEqual(['first', 'second']);
  });

  it('publishes nothing for a batch of malformed records only', async () => {
    const h = new Harness();
    await h.sequencer.handleBatch(batch(malformed.map(([, raw]) => raw)));
    expect(h.publishes).toEqual([]);
  });
});

describe('Sequencer: deliveries', () => {
  it('publishes one delivery per stored record, in order, keyed by conversation, with the stored message and the members', async () => {
    const h = new Harness();
    await h.store.createConversation({ conversationId: 'g_a', kind: 'group', memberIds: ['carol', 'alice', 'bob'], createdAt: 1 });
    await h.store.createConversation({ conversationId: 'g_b', kind: 'group', memberIds: ['bob'], createdAt: 1 });
    const messages = [accepted('g_a', 'alice', 'a1'), accepted('g_b', 'bob', 'b1'), accepted('g_a', 'bob', 'a2')];
    await h.sequencer.handleBatch(batch(messages));
    expect(h.publishes).toHaveLength(1);
    expect(h.delivered).toEqual([
      { key: 'g_a', record: { message: { ...messages[0]!, seq: 1 }, memberIds: ['alice', 'bob', 'carol'] } },
      { key: 'g_b', record: { message: { ...messages[1]!, seq: 1 }, memberIds: ['bob'] } },
      { key: 'g_a', record: { message: { ...messages[2]!, seq: 2 }, memberIds: ['alice', 'bob', 'carol'] } },
    ]);
  });

  it('fails the batch, publishing nothing, when the partition is revoked mid-batch; the replay keeps the seqs', async () => {
    const h = new Harness();
    const messages = [accepted('g_a', 'alice', 'a1'), accepted('g_a', 'alice', 'a2'), accepted('g_a', 'alice', 'a3'), accepted('g_b', 'bob', 'b1')];
    let checks = 0;
    const revokedAfterFirst = () => ++checks <= 1;
    await expect(h.sequencer.handleBatch(batch(messages, revokedAfterFirst))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(h.publishes).toEqual([]);
    // Work stops at the next check: g_a's run went in, g_b was not started.
    expect(seqs(await h.stored('g_a'))).toEqual([1, 2, 3]);
    expect(await h.stored('g_b')).toEqual([]);
    // The next owner gets the same records again.
    await h.newSequencer().handleBatch(batch(messages));
    expect(seqs(await h.stored('g_a'))).toEqual([1, 2, 3]);
    expect(clientIds(await h.stored('g_a'))).toEqual(['a1', 'a2', 'a3']);
    expect(h.delivered.map((d) => [d.record.message.clientMsgId, d.record.message.seq])).toEqual([
      ['a1', 1],
      ['a2', 2],
      ['a3', 3],
      ['b1', 1],
    ]);
  });

  it('fails the batch when the deliveries cannot be published, and a replay delivers the same seqs', async () => {
    const h = new Harness(false);
    const messages = [accepted('g_a', 'alice', 'a1'), accepted('g_a', 'bob', 'a2')];
    const error = await h.sequencer.handleBatch(batch(messages)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ParleyError).retryable).toBe(true);
    h.bus.createTopic(DELIVERIES);
    await h.sequencer.handleBatch(batch([...messages, accepted('g_a', 'alice', 'a3')]));
    expect(h.delivered.map((d) => [d.record.message.clientMsgId, d.record.message.seq])).toEqual([
      ['a1', 1],
      ['a2', 2],
      ['a3', 3],
    ]);
  });

  it('sends deliveries with the member list of at most about a second ago', async () => {
    let now = 1_764_100_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    const h = new Harness();
    await h.store.createConversation({ conversationId: 'g_a', kind: 'group', memberIds: ['alice'], createdAt: 1 });
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', 'a1')]));
    await h.store.addMembers('g_a', ['bob']);
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', 'a2')]));
    now += 1_001;
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', 'a3')]));
    expect(h.delivered.map((d) => d.record.memberIds)).toEqual([['alice'], ['alice'], ['alice', 'bob']]);
  });
});

describe('Sequencer: property', () => {
  const message = fc.record({
    conversation: fc.integer({ min: 0, max: 2 }),
    sender: fc.constantFrom('alice', 'bob'),
    clientMsgId: fc.integer({ min: 0, max: 5 }).map((n) => `c${n}`),
    device: fc.constantFrom('phone', 'laptop'),
  });

  it('stores each conversation as exactly 1..n in arrival order of first occurrences, whatever the interleaving and duplicates', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
        fc.boolean(),
        async (arrivals, batchSizes, restarts, createConversations) => {
          const h = new Harness();
          if (createConversations) {
            for (const c of [0, 1, 2]) await h.store.createConversation({ conversationId: `g_${c}`, kind: 'group', memberIds: ['alice', 'bob'], createdAt: 1 });
          }
          const values = arrivals.map((a) => accepted(`g_${a.conversation}`, a.sender, a.clientMsgId, { senderDeviceId: a.device }));

          // The model: per conversation, first occurrences in arrival order get 1, 2, 3, ...
          const expected = new Map<string, string[]>();
          const expectedSeq = new Map<string, number>();
          for (const v of values) {
            const order = expected.get(v.conversationId) ?? [];
            if (!expectedSeq.has(v.serverMsgId)) {
              order.push(v.serverMsgId);
              expectedSeq.set(v.serverMsgId, order.length);
            }
            expected.set(v.conversationId, order);
          }

          // Feed the arrivals in batches of varying size, sometimes through a fresh instance.
          let sequencer = h.sequencer;
          let i = 0;
          for (let b = 0; i < values.length; b++) {
            const size = batchSizes[b % batchSizes.length]!;
            if (restarts[b % restarts.length]) sequencer = h.newSequencer();
            await sequencer.handleBatch(batch(values.slice(i, i + size)));
            i += size;
          }

          for (const [conversationId, order] of expected) {
            const stored = await h.stored(conversationId);
            expect(stored.map((m) => m.serverMsgId)).toEqual(order);
            expect(seqs(stored)).toEqual(order.map((_, k) => k + 1));
          }
          // Every record, duplicates included, was handed on once with its message's one seq.
          expect(h.delivered.map((d) => d.record.message.serverMsgId)).toEqual(values.map((v) => v.serverMsgId));
          for (const d of h.delivered) expect(d.record.message.seq).toBe(expectedSeq.get(d.record.message.serverMsgId!));
          expect(h.counts.stored).toBe(expectedSeq.size);
          expect(h.counts.duplicates).toBe(values.length - expectedSeq.size);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('Sequencer: database failures', () => {
  /**
   * A store whose calls fail at random, before or after doing their work (the response
   * lost: the write happened, the caller saw an error), as a database that crashes does.
   */
  function flaky(store: MemoryMessageStore, failures: Iterator<number>): MemoryMessageStore {
    const methods = ['findMessage', 'findMessages', 'insertRun', 'insertMessage', 'bumpLastSeq', 'lastSeqHint', 'maxSeq', 'listMembers'] as const;
    for (const name of methods) {
      const original = (store[name] as (...args: unknown[]) => Promise<unknown>).bind(store);
      (store as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
        const roll = failures.next().value ?? 0;
        if (roll === 1) throw Object.assign(new Error('connection reset'), { name: 'MongoNetworkError' });
        const result = await original(...args);
        if (roll === 2) throw Object.assign(new Error('connection reset after the write'), { name: 'MongoNetworkError' });
        return result;
      };
    }
    return store;
  }

  it('keeps every conversation gap-free 1..n when any call fails before or after its work', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ conversation: fc.integer({ min: 0, max: 2 }), msg: fc.integer({ min: 0, max: 30 }) }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 6 }),
        fc.infiniteStream(fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) })),
        async (messages, cuts, failures) => {
          const h = new Harness();
          for (const c of [0, 1, 2]) await h.store.createConversation({ conversationId: `g_${c}`, kind: 'group', memberIds: ['alice'], createdAt: 1 });
          flaky(h.store, failures[Symbol.iterator]());
          const values = messages.map((m) => accepted(`g_${m.conversation}`, 'alice', `c${m.msg}`));
          // Split into batches; each batch is retried until it succeeds, as the bus does.
          let at = 0;
          for (const cut of [...cuts, values.length]) {
            const chunk = values.slice(at, at + cut);
            at += chunk.length;
            if (chunk.length === 0) continue;
            for (let attempt = 0; ; attempt++) {
              try {
                await h.sequencer.handleBatch(batch(chunk));
                break;
              } catch {
                if (attempt > 200) throw new Error('never succeeded');
              }
            }
            if (at >= values.length) break;
          }
          for (const c of [0, 1, 2]) {
            const stored = await MemoryMessageStore.prototype.range.call(h.store, `g_${c}`, { order: 'asc', limit: 10_000 });
            expect(seqs(stored)).toEqual(stored.map((_, i) => i + 1));
            const distinct = new Set(values.filter((v) => v.conversationId === `g_${c}`).map((v) => v.clientMsgId));
            expect(stored).toHaveLength(distinct.size);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Sequencer: a last-seq hint ahead of the data', () => {
  it('numbers after the stored maximum, never past a gap, when the hint (or cache) points at a seq that is not stored', async () => {
    const h = new Harness();
    await h.store.createConversation({ conversationId: 'g_a', kind: 'group', memberIds: ['alice'], createdAt: 1 });
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', 'a1'), accepted('g_a', 'alice', 'a2')]));
    // As if the database had answered writes up to seq 90 as done and then lost them.
    await h.store.bumpLastSeq('g_a', 90);
    await h.newSequencer().handleBatch(batch([accepted('g_a', 'alice', 'a3')]));
    const fresh = h.newSequencer();
    (fresh as unknown as { lastSeq: { set(k: string, v: number): void } }).lastSeq.set('g_a', 70);
    await fresh.handleBatch(batch([accepted('g_a', 'alice', 'a4'), accepted('g_a', 'alice', 'a5')]));
    expect(seqs(await h.stored('g_a'))).toEqual([1, 2, 3, 4, 5]);
  });
});
