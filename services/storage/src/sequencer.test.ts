import fc from 'fast-check';
import { MemoryBus, PoisonRecordError, deliveriesRecords, messagesRecords, type ConsumedBatch, type ConsumedRecord, type DeliveriesEntry, type ValidAccepted } from '@parley/bus';
import { ParleyError, createLogger, directConversationId, serverMsgIdFor } from '@parley/core';
import { MembershipCache } from '@parley/membership';
import { Sequencer, type SequencerMetrics } from './sequencer';
import { ConversationHeads } from './state';
import { MemoryConversationStore, MemoryMessageLog, MemoryRegisters, type LoggedMessage } from './store';

const MESSAGES = 'test.messages';
const DELIVERIES = 'test.deliveries';
const log = createLogger('storage-test', 'test', 'silent');

function accepted(conversationId: string, senderId: string, clientMsgId: string, overrides: Partial<ValidAccepted> = {}): ValidAccepted {
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

type Value = ValidAccepted | { membership: { conversationId: string; change: 'added' | 'removed'; userIds: string[] } } | string;

let offset = 0;
function record(value: Value, at?: string): ConsumedRecord {
  const encoded =
    typeof value === 'string'
      ? value
      : 'membership' in value
        ? messagesRecords.encode({ kind: 'membership', change: { ...value.membership, at: 1 } })
        : messagesRecords.encode({ kind: 'message', message: value });
  return { topic: MESSAGES, partition: 0, offset: at ?? String(offset++), key: 'k', value: Buffer.from(encoded), headers: {} };
}

function batch(values: (Value | ConsumedRecord)[], isActive: () => boolean = () => true): ConsumedBatch {
  return { topic: MESSAGES, partition: 0, records: values.map((v) => (typeof v === 'object' && 'topic' in v ? v : record(v))), isActive };
}

class Harness {
  readonly conversations = new MemoryConversationStore();
  readonly log = new MemoryMessageLog();
  readonly registers = new MemoryRegisters();
  readonly bus = new MemoryBus();
  /** Every publish to the deliveries topic, decoded, one entry per call. */
  readonly publishes: DeliveriesEntry[][] = [];
  readonly counts = { stored: 0, duplicates: 0, rejected: 0, conflicts: 0 };
  readonly metrics: SequencerMetrics = {
    stored: (n) => (this.counts.stored += n),
    duplicates: (n) => (this.counts.duplicates += n),
    rejected: (n) => (this.counts.rejected += n),
    conflicts: (n) => (this.counts.conflicts += n),
  };
  lookups = 0;
  sequencer: Sequencer;

  constructor(createDeliveriesTopic = true) {
    if (createDeliveriesTopic) this.bus.createTopic(DELIVERIES);
    const publish = this.bus.publish.bind(this.bus);
    jest.spyOn(this.bus, 'publish').mockImplementation(async (topic, records) => {
      await publish(topic, records);
      if (topic === DELIVERIES) this.publishes.push(records.map((r) => deliveriesRecords.decode(Buffer.from(r.value))));
    });
    this.sequencer = this.newSequencer();
  }

  /** Another instance (a restart, or the next owner of the partition) over the same stores. */
  newSequencer(): Sequencer {
    const membership = new MembershipCache((c, u) => {
      this.lookups++;
      return this.conversations.membership(c, u);
    });
    return new Sequencer(this.log, new ConversationHeads(this.registers, this.log, log), membership, this.bus, DELIVERIES, log, this.metrics);
  }

  async group(conversationId: string, members: string[]): Promise<void> {
    await this.conversations.createConversation({ conversationId, kind: 'group', memberIds: members, createdAt: 1 });
    // As the API does on creation: the head of a new conversation is known to be 0.
    await this.registers.raise(new Map([[`h|${conversationId}`, 0]]));
  }

  get delivered(): DeliveriesEntry[] {
    return this.publishes.flat();
  }

  messages(): LoggedMessage[] {
    return this.delivered.filter((e): e is Extract<DeliveriesEntry, { kind: 'message' }> => e.kind === 'message').map((e) => e.message);
  }

  stored(conversationId: string): LoggedMessage[] {
    return this.log.all(conversationId);
  }
}

const seqs = (messages: { seq: number }[]) => messages.map((m) => m.seq);
const clientIds = (messages: { clientMsgId: string }[]) => messages.map((m) => m.clientMsgId);

afterEach(() => {
  jest.restoreAllMocks();
});

describe('Sequencer: numbering', () => {
  it('numbers each conversation from 1 without gaps, in arrival order, independently of the others', async () => {
    const h = new Harness();
    for (const c of ['g_a', 'g_b', 'g_c']) await h.group(c, ['alice', 'bob', 'carol']);
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
    expect(seqs(h.stored('g_a'))).toEqual([1, 2, 3, 4]);
    expect(clientIds(h.stored('g_a'))).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(clientIds(h.stored('g_b'))).toEqual(['b1', 'b2']);
    expect(seqs(h.stored('g_c'))).toEqual([1]);
    expect(h.counts).toMatchObject({ stored: 7, duplicates: 0, rejected: 0 });
  });

  it('stores every field of the accepted message, and the record it came from', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice']);
    const message = accepted('g_a', 'alice', 'a1', { senderDeviceId: 'laptop', body: 'héllo 😀', sentAt: 42 });
    await h.sequencer.handleBatch(batch([record(message, '77')]));
    expect(await h.log.find(message.serverMsgId)).toEqual({ ...message, seq: 1, origin: '0:77' });
  });

  it('writes a batch of many conversations with one insert and one register read: round trips do not grow with the conversations', async () => {
    const h = new Harness();
    const conversations = Array.from({ length: 100 }, (_, i) => `d_${i}`);
    for (const c of conversations) await h.group(c, ['alice', 'bob']);
    const append = jest.spyOn(h.log, 'append');
    const reads = jest.spyOn(h.registers, 'read');
    const raises = jest.spyOn(h.registers, 'raise');
    await h.sequencer.handleBatch(batch(conversations.map((c, i) => accepted(c, i % 2 ? 'alice' : 'bob', `m${i}`))));
    expect(append).toHaveBeenCalledTimes(1);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(raises).toHaveBeenCalledTimes(1);
    // The next batch over the same conversations: seqs from memory, no register read at all.
    reads.mockClear();
    append.mockClear();
    await h.sequencer.handleBatch(batch(conversations.map((c, i) => accepted(c, 'alice', `n${i}`))));
    expect(append).toHaveBeenCalledTimes(1);
    expect(reads).not.toHaveBeenCalled();
    expect(h.lookups).toBe(100); // one membership answer per direct conversation, ever
    for (const c of conversations) expect(seqs(h.stored(c))).toEqual([1, 2]);
  });

  it('continues the numbering across batches and across instances (seeded from the registers, or from the stored messages when they are lost)', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice']);
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', '1'), accepted('g_a', 'alice', '2')]));
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', '3')]));
    await h.newSequencer().handleBatch(batch([accepted('g_a', 'alice', '4')]));
    h.registers.clear(); // Redis restarted empty
    await h.newSequencer().handleBatch(batch([accepted('g_a', 'alice', '5')]));
    expect(seqs(h.stored('g_a'))).toEqual([1, 2, 3, 4, 5]);
    expect(clientIds(h.stored('g_a'))).toEqual(['1', '2', '3', '4', '5']);
  });

  it('renumbers after the stored maximum when another writer took the next seq (a previous owner), and after a lagging register', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice', 'zed']);
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', '1')]));
    // A zombie owner stores seqs 2 and 3 behind this instance's back.
    const zombie = h.newSequencer();
    await zombie.handleBatch(batch([accepted('g_a', 'zed', 'z1'), accepted('g_a', 'zed', 'z2')]));
    h.registers.clear();
    await h.registers.raise(new Map([['h|g_a', 1]])); // and the register lags behind them
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', '2'), accepted('g_a', 'alice', '3')]));
    expect(seqs(h.stored('g_a'))).toEqual([1, 2, 3, 4, 5]);
    expect(clientIds(h.stored('g_a'))).toEqual(['1', 'z1', 'z2', '2', '3']);
    expect(h.counts.conflicts).toBe(1);
    expect(seqs(h.messages().filter((m) => m.senderId === 'alice'))).toEqual([1, 4, 5]);
  });

  it('keeps seqs unique and gap-free when two instances write the same conversation alternately', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice']);
    const [one, two] = [h.newSequencer(), h.newSequencer()];
    for (let i = 0; i < 10; i++) await (i % 2 ? one : two).handleBatch(batch([accepted('g_a', 'alice', `${i}a`), accepted('g_a', 'alice', `${i}b`)]));
    expect(seqs(h.stored('g_a'))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});

describe('Sequencer: duplicates', () => {
  it('drops a second copy of (conversation, sender, clientMsgId) without a gap, in one batch or across batches, and does not deliver it again', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice', 'bob']);
    const a1 = accepted('g_a', 'alice', 'a1');
    await h.sequencer.handleBatch(batch([a1, accepted('g_a', 'bob', 'b1'), a1, accepted('g_a', 'alice', 'a2')]));
    // A later resend, mixed with new messages: the ones after it take the seqs it would have taken.
    await h.sequencer.handleBatch(batch([accepted('g_a', 'bob', 'b2'), a1, accepted('g_a', 'alice', 'a3'), accepted('g_a', 'bob', 'b1')]));
    expect(clientIds(h.stored('g_a'))).toEqual(['a1', 'b1', 'a2', 'b2', 'a3']);
    expect(seqs(h.stored('g_a'))).toEqual([1, 2, 3, 4, 5]);
    expect(seqs(h.messages())).toEqual([1, 2, 3, 4, 5]);
    expect(h.counts).toMatchObject({ stored: 5, duplicates: 3 });
  });

  it('delivers again, with its original seq, a message replayed from the very record that stored it (a crash before its delivery)', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice']);
    const first = record(accepted('g_a', 'alice', 'a1'), '10');
    h.bus.publish = jest.fn(async () => {
      throw new ParleyError('UNAVAILABLE', 'broker down');
    });
    await expect(h.sequencer.handleBatch(batch([first]))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    jest.restoreAllMocks();
    const replayer = new Harness(); // a clean publish spy over the same stores
    Object.assign(replayer, { conversations: h.conversations, log: h.log, registers: h.registers });
    replayer.sequencer = replayer.newSequencer();
    await replayer.sequencer.handleBatch(batch([first, record(accepted('g_a', 'alice', 'a1'), '11')]));
    expect(seqs(replayer.messages())).toEqual([1]);
    expect(seqs(h.stored('g_a'))).toEqual([1]);
  });

  it('treats the same clientMsgId from another sender or in another conversation as another message', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice', 'bob']);
    await h.group('g_b', ['alice']);
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', 'x'), accepted('g_a', 'bob', 'x'), accepted('g_b', 'alice', 'x')]));
    expect(seqs(h.stored('g_a'))).toEqual([1, 2]);
    expect(seqs(h.stored('g_b'))).toEqual([1]);
  });
});

describe('Sequencer: membership (the sequencer is the authority)', () => {
  it('rejects the message of a non-member and of an unknown conversation, telling the sending device, and stores nothing for it', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice']);
    await h.sequencer.handleBatch(batch([accepted('g_a', 'mallory', 'm1'), accepted('g_a', 'alice', 'a1'), accepted('g_nope', 'alice', 'a2')]));
    expect(clientIds(h.stored('g_a'))).toEqual(['a1']);
    const rejections = h.delivered.filter((e) => e.kind === 'rejected').map((e) => (e.kind === 'rejected' ? [e.rejection.clientMsgId, e.rejection.code, e.rejection.senderId, e.rejection.senderDeviceId] : []));
    expect(rejections).toEqual([
      ['m1', 'PERMISSION_DENIED', 'mallory', 'phone'],
      ['a2', 'NOT_FOUND', 'alice', 'phone'],
    ]);
    expect(h.counts.rejected).toBe(2);
  });

  it('applies a membership change at its place in the stream: what follows a removal is rejected, what follows an addition accepted', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice', 'bob']);
    await h.sequencer.handleBatch(batch([accepted('g_a', 'bob', 'b0')])); // bob's membership now cached
    await h.conversations.removeMembers('g_a', ['bob']);
    await h.sequencer.handleBatch(
      batch([
        accepted('g_a', 'bob', 'b1'), // sent before the removal reached the stream: still a member here
        { membership: { conversationId: 'g_a', change: 'removed', userIds: ['bob'] } },
        accepted('g_a', 'bob', 'b2'),
        { membership: { conversationId: 'g_a', change: 'added', userIds: ['carol'] } },
        accepted('g_a', 'carol', 'c1'),
      ]),
    );
    expect(clientIds(h.stored('g_a'))).toEqual(['b0', 'b1', 'c1']);
    // The changes go on to push, in order with the messages.
    expect(h.publishes[1]!.map((e) => e.kind)).toEqual(['message', 'membership', 'rejected', 'membership', 'message']);
  });
});

describe('Sequencer: bots', () => {
  const bot = (conversationId: string, clientMsgId: string) => accepted(conversationId, 'bot:support', clientMsgId, { senderDeviceId: 'k1234567890abcde' });

  it("stores an allowed bot's message in order with the members' messages; refuses it after the bot's removal reached the stream", async () => {
    const h = new Harness();
    await h.group('g_a', ['alice', 'bob']);
    await h.conversations.addBots('g_a', ['bot:support'], 32);
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', 'a1'), bot('g_a', 's1'), accepted('g_a', 'bob', 'b1')]));
    expect(h.stored('g_a').map((m) => [m.seq, m.senderId, m.senderDeviceId])).toEqual([
      [1, 'alice', 'phone'],
      [2, 'bot:support', 'k1234567890abcde'],
      [3, 'bob', 'phone'],
    ]);
    await h.conversations.removeBots('g_a', ['bot:support']);
    await h.sequencer.handleBatch(
      batch([
        bot('g_a', 's2'), // accepted before the removal reached the stream: still allowed here
        { membership: { conversationId: 'g_a', change: 'removed', userIds: ['bot:support'] } },
        bot('g_a', 's3'),
        accepted('g_a', 'alice', 'a2'),
      ]),
    );
    expect(clientIds(h.stored('g_a'))).toEqual(['a1', 's1', 'b1', 's2', 'a2']);
    expect(h.stored('g_a').map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(h.publishes[1]!.map((e) => (e.kind === 'rejected' ? `rejected ${e.rejection.senderId}` : e.kind))).toEqual(['message', 'membership', 'rejected bot:support', 'message']);
  });

  it('refuses a bot no conversation allowed, and one allowed elsewhere; a bot is never a member for a member list', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice']);
    await h.group('g_b', ['alice']);
    await h.conversations.addBots('g_b', ['bot:support'], 32);
    await h.sequencer.handleBatch(batch([bot('g_a', 's1'), accepted('g_a', 'alice', 'a1'), bot('g_b', 's2')]));
    expect(clientIds(h.stored('g_a'))).toEqual(['a1']);
    expect(clientIds(h.stored('g_b'))).toEqual(['s2']);
    expect(h.counts.rejected).toBe(1);
  });

  it('takes a bot into a direct conversation only when allowed there, though the pair is proven by the id', async () => {
    const h = new Harness();
    const c = directConversationId('alice', 'bob');
    await h.conversations.createConversation({ conversationId: c, kind: 'direct', memberIds: ['alice', 'bob'], createdAt: 1 });
    const direct = (message: ValidAccepted): ConsumedRecord => ({ ...record(message), value: Buffer.from(messagesRecords.encode({ kind: 'message', message, members: ['alice', 'bob'] })) });
    await h.sequencer.handleBatch(batch([direct(accepted(c, 'alice', 'a1')), direct(bot(c, 's1'))]));
    expect(clientIds(h.stored(c))).toEqual(['a1']);
    await h.conversations.addBots(c, ['bot:support'], 32);
    await h.sequencer.handleBatch(batch([{ membership: { conversationId: c, change: 'added', userIds: ['bot:support'] } }, direct(bot(c, 's2')), direct(accepted(c, 'bob', 'b1'))]));
    expect(clientIds(h.stored(c))).toEqual(['a1', 's2', 'b1']);
    // Push still gets the pair, the people only.
    const last = h.publishes[1]!.filter((e) => e.kind === 'message');
    expect(last.map((e) => (e.kind === 'message' ? [...(e.members ?? [])].sort() : []))).toEqual([
      ['alice', 'bob'],
      ['alice', 'bob'],
    ]);
  });
});

describe('Sequencer: direct conversations (members proven by the id)', () => {
  const directRecord = (message: ValidAccepted, members: string[]): ConsumedRecord => ({
    topic: MESSAGES,
    partition: 0,
    offset: String(offset++),
    key: message.conversationId,
    value: Buffer.from(messagesRecords.encode({ kind: 'message', message, members })),
    headers: {},
  });

  it('stores a message whose record names the two members without any membership lookup, and hands the members on to push', async () => {
    const h = new Harness();
    const c = directConversationId('alice', 'bob');
    await h.conversations.createConversation({ conversationId: c, kind: 'direct', memberIds: ['alice', 'bob'], createdAt: 1 });
    await h.sequencer.handleBatch(batch([directRecord(accepted(c, 'alice', 'a1'), ['alice', 'bob']), directRecord(accepted(c, 'bob', 'b1'), ['bob', 'alice'])]));
    expect(h.lookups).toBe(0);
    expect(clientIds(h.stored(c))).toEqual(['a1', 'b1']);
    const deliveries = h.delivered.filter((e) => e.kind === 'message');
    expect(deliveries.map((e) => (e.kind === 'message' ? [e.message.seq, [...(e.members ?? [])].sort()] : []))).toEqual([
      [1, ['alice', 'bob']],
      [2, ['alice', 'bob']],
    ]);
  });

  it('ignores members that do not prove themselves (another pair, or a group): it looks membership up and refuses a non-member', async () => {
    const h = new Harness();
    const c = directConversationId('alice', 'bob');
    await h.conversations.createConversation({ conversationId: c, kind: 'direct', memberIds: ['alice', 'bob'], createdAt: 1 });
    await h.group('g_a', ['alice']);
    await h.sequencer.handleBatch(
      batch([
        directRecord(accepted(c, 'mallory', 'm1'), ['alice', 'mallory']),
        directRecord(accepted(c, 'mallory', 'm2'), ['mallory', 'bob']),
        directRecord(accepted('g_a', 'mallory', 'm3'), ['alice', 'mallory']),
      ]),
    );
    expect(h.lookups).toBeGreaterThan(0);
    expect(h.stored(c)).toEqual([]);
    expect(h.stored('g_a')).toEqual([]);
    expect(h.delivered.map((e) => (e.kind === 'rejected' ? e.rejection.clientMsgId : e.kind))).toEqual(['m1', 'm2', 'm3']);
  });
});

describe('Sequencer: deliveries', () => {
  it('publishes one delivery per stored message, in order, in one publish call, keyed by conversation, with no member list', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice', 'bob']);
    await h.group('g_b', ['bob']);
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', '1'), accepted('g_b', 'bob', '2'), accepted('g_a', 'bob', '3')]));
    expect(h.publishes).toHaveLength(1);
    expect(h.messages().map((m) => [m.conversationId, m.seq, m.clientMsgId])).toEqual([
      ['g_a', 1, '1'],
      ['g_b', 1, '2'],
      ['g_a', 2, '3'],
    ]);
    const raw = JSON.parse(String((h.bus.publish as jest.Mock).mock.calls[0][1][0].value)) as Record<string, unknown>;
    expect(raw['v']).toBe(1);
    expect(raw['memberIds']).toBeUndefined();
  });

  it('fails the batch, publishing nothing, when the partition is revoked mid-batch; the replay keeps the seqs', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice']);
    const records = [record(accepted('g_a', 'alice', '1')), record(accepted('g_a', 'alice', '2'))];
    await expect(h.sequencer.handleBatch(batch(records, () => false))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(h.publishes).toHaveLength(0);
    await h.newSequencer().handleBatch(batch(records));
    expect(seqs(h.stored('g_a'))).toEqual([1, 2]);
    expect(seqs(h.messages())).toEqual([1, 2]);
  });

  it('fails the batch when the deliveries cannot be published, and a replay delivers the same seqs', async () => {
    const h = new Harness(false);
    await h.group('g_a', ['alice']);
    const records = [record(accepted('g_a', 'alice', '1')), record(accepted('g_a', 'alice', '2'))];
    await expect(h.sequencer.handleBatch(batch(records))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    h.bus.createTopic(DELIVERIES);
    await h.sequencer.handleBatch(batch(records));
    expect(seqs(h.messages())).toEqual([1, 2]);
    expect(seqs(h.stored('g_a'))).toEqual([1, 2]);
  });

  it('refuses a record it cannot read by naming it (the dead-letter wrapper parks it), and a record of a newer format', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice']);
    const bad = record('{"v":1,"message":{"conversationId":"g_a"}}');
    await expect(h.sequencer.handleBatch(batch([record(accepted('g_a', 'alice', '1')), bad]))).rejects.toBeInstanceOf(PoisonRecordError);
    const future = record(JSON.stringify({ v: 3, message: accepted('g_a', 'alice', '2') }));
    await expect(h.sequencer.handleBatch(batch([future]))).rejects.toMatchObject({ record: future });
    // The next version's records (additive fields) are read.
    await h.sequencer.handleBatch(batch([record(JSON.stringify({ v: 2, message: { ...accepted('g_a', 'alice', '3'), reactions: [] } }))]));
    expect(clientIds(h.stored('g_a'))).toEqual(['3']);
  });
});

describe('Sequencer: property', () => {
  it('stores each conversation as exactly 1..n in arrival order of first occurrences, whatever the interleaving, duplicates, batch split and instance changes', async () => {
    const send = fc.record({ conversation: fc.constantFrom('g_a', 'g_b', 'g_c'), sender: fc.constantFrom('alice', 'bob'), id: fc.integer({ min: 0, max: 12 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(send, { minLength: 1, maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 10 }), fc.boolean(), async (sends, cuts, switchInstances) => {
        const h = new Harness();
        for (const c of ['g_a', 'g_b', 'g_c']) await h.group(c, ['alice', 'bob']);
        const values = sends.map((s) => accepted(s.conversation, s.sender, `${s.conversation}-${s.sender}-${s.id}`));
        let sequencer = h.sequencer;
        for (let i = 0, k = 0; i < values.length; k++) {
          const size = cuts[k % cuts.length]!;
          if (switchInstances && k % 2 === 1) sequencer = h.newSequencer();
          await sequencer.handleBatch(batch(values.slice(i, i + size)));
          i += size;
        }
        for (const c of ['g_a', 'g_b', 'g_c']) {
          const firsts = [...new Set(values.filter((v) => v.conversationId === c).map((v) => v.clientMsgId))];
          const stored = h.stored(c);
          expect(clientIds(stored)).toEqual(firsts);
          expect(seqs(stored)).toEqual(firsts.map((_, i) => i + 1));
          // Every stored message was delivered exactly once.
          expect(seqs(h.messages().filter((m) => m.conversationId === c))).toEqual(seqs(stored));
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('Sequencer: failures of the store', () => {
  it('keeps every conversation gap-free 1..n when an append fails before its work, and the batch is retried', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 5, maxLength: 30 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }), async (convs, failures) => {
        const h = new Harness();
        for (const c of ['g_0', 'g_1', 'g_2']) await h.group(c, ['alice']);
        const values = convs.map((c, i) => record(accepted(`g_${c}`, 'alice', `m${i}`)));
        for (let i = 0, k = 0; i < values.length; i += 3, k++) {
          const b = batch(values.slice(i, i + 3));
          if (failures[k % failures.length]) {
            h.log.failNext.push(new ParleyError('UNAVAILABLE', 'database down'));
            await expect(h.sequencer.handleBatch(b)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
          }
          await h.sequencer.handleBatch(b);
        }
        for (const c of [0, 1, 2]) {
          const n = convs.filter((x) => x === c).length;
          expect(seqs(h.stored(`g_${c}`))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('answers from the stored messages when the registers are unreachable', async () => {
    const h = new Harness();
    await h.group('g_a', ['alice']);
    await h.sequencer.handleBatch(batch([accepted('g_a', 'alice', '1')]));
    jest.spyOn(h.registers, 'read').mockRejectedValue(new ParleyError('UNAVAILABLE', 'redis down'));
    jest.spyOn(h.registers, 'raise').mockRejectedValue(new ParleyError('UNAVAILABLE', 'redis down'));
    await h.newSequencer().handleBatch(batch([accepted('g_a', 'alice', '2')]));
    expect(seqs(h.stored('g_a'))).toEqual([1, 2]);
  });
});
