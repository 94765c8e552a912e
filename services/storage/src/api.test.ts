import { Metadata, status, type ServerUnaryCall, type handleUnaryCall } from '@grpc/grpc-js';
import { MAX_MEMBERSHIP_IDS_PER_RECORD, MemoryBus, membershipRecords, messagesRecords, topicNames, type MembershipEntry, type MessagesEntry, type ValidMembershipChange } from '@parley/bus';
import { ID_PATTERN, attachPrincipal, createLogger, directConversationId, serverMsgIdFor, type Principal } from '@parley/core';
import { MembershipCache } from '@parley/membership';
import type { StorageHandlers } from '@parley/proto';
import { ConversationDocs, MembershipEvents, membershipOf, storageHandlers, type StorageApiLimits } from './api';
import { MessageReader } from './reads';
import { ConversationHeads, DirectMembers, MemberPositions, headKey, positionKey } from './state';
import { MemoryConversationStore, MemoryMessageLog, MemoryPositionStore, MemoryRegisters, SMALL_CONVERSATION, type StoredMessageDoc } from './store';

const log = createLogger('storage-test', 'test', 'silent');
const topics = topicNames('test.');

/** Calls a handler the way grpc-js does: a call with request and metadata, and a callback. */
function invoke<Req, Res>(handler: handleUnaryCall<Req, Res>, request: Req, principal?: Principal): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const call = { request, metadata: new Metadata(), getDeadline: () => Infinity } as unknown as ServerUnaryCall<Req, Res>;
    if (principal) attachPrincipal(call, principal);
    handler(call, (err, value) => {
      if (err) reject(err as unknown as Error);
      else resolve(value as Res);
    });
  });
}

interface GrpcFailure {
  code: status;
  details: string;
  metadata: Metadata;
}

async function failure<Req, Res>(handler: handleUnaryCall<Req, Res>, request: Req, principal?: Principal): Promise<GrpcFailure> {
  try {
    const response = await invoke(handler, request, principal);
    throw new Error(`expected a gRPC error, got ${JSON.stringify(response)}`);
  } catch (err) {
    const failure = err as Partial<GrpcFailure>;
    if (typeof failure.code !== 'number' || !(failure.metadata instanceof Metadata)) throw err;
    return failure as GrpcFailure;
  }
}

async function expectStatus<Req, Res>(handler: handleUnaryCall<Req, Res>, request: Req, code: status, parleyCode: string): Promise<GrpcFailure> {
  const f = await failure(handler, request);
  expect({ code: status[f.code], parleyCode: f.metadata.get('parley-error-code')[0] }).toEqual({ code: status[code], parleyCode });
  return f;
}

const DEFAULT_LIMITS: StorageApiLimits = { maxGroupMembers: 10_000, maxPageSize: 500 };

/** The storage API over the memory adapters, wired as main.ts wires it. */
class Harness {
  readonly conversations = new MemoryConversationStore();
  readonly messages = new MemoryMessageLog();
  readonly positionStore = new MemoryPositionStore();
  readonly registers = new MemoryRegisters();
  readonly bus = new MemoryBus();
  readonly heads = new ConversationHeads(this.registers, this.messages, log);
  readonly positions = new MemberPositions(this.registers, this.positionStore, log);
  readonly directs = new DirectMembers(this.registers, this.conversations, log);
  readonly readers = new MembershipCache(membershipOf(this.directs, this.conversations));
  readonly conversationDocs = new ConversationDocs(this.conversations);
  /** Changes applied locally (as the read cache and conversation docs are in main.ts). */
  readonly applied: ValidMembershipChange[] = [];
  /** What was published to the messages and membership topics, decoded, one entry per call. */
  readonly published: { messages: MessagesEntry[][]; membership: MembershipEntry[][] } = { messages: [], membership: [] };
  /** The keys of those records, in publish order. */
  readonly keys: { messages: string[]; membership: string[] } = { messages: [], membership: [] };
  readonly api: StorageHandlers;

  constructor(limits: StorageApiLimits = DEFAULT_LIMITS, createTopics = true) {
    if (createTopics) this.createTopics();
    const publish = this.bus.publish.bind(this.bus);
    jest.spyOn(this.bus, 'publish').mockImplementation(async (topic, records) => {
      await publish(topic, records);
      if (topic === topics.messages) {
        this.published.messages.push(records.map((r) => messagesRecords.decode(Buffer.from(r.value))));
        this.keys.messages.push(...records.map((r) => r.key));
      }
      if (topic === topics.membership) {
        this.published.membership.push(records.map((r) => membershipRecords.decode(Buffer.from(r.value))));
        this.keys.membership.push(...records.map((r) => r.key));
      }
    });
    const onChange = (change: ValidMembershipChange) => {
      this.applied.push(change);
      this.readers.apply(change);
      this.conversationDocs.invalidate(change.conversationId);
    };
    this.api = storageHandlers({
      conversations: this.conversations,
      directs: this.directs,
      heads: this.heads,
      positions: this.positions,
      reader: new MessageReader(this.messages),
      readers: this.readers,
      conversationDocs: this.conversationDocs,
      events: new MembershipEvents(this.bus, { messages: topics.messages, membership: topics.membership }, [onChange]),
      log,
      limits,
    });
  }

  createTopics(): void {
    this.bus.createTopic(topics.messages);
    this.bus.createTopic(topics.membership);
  }

  /** Stores messages 1..count of a conversation as the sequencer does: the log first, then the head. */
  async seedMessages(conversationId: string, count: number): Promise<StoredMessageDoc[]> {
    const previous = (await this.heads.get([conversationId])).get(conversationId) ?? 0;
    const messages: StoredMessageDoc[] = [];
    for (let seq = previous + 1; seq <= previous + count; seq++) {
      const clientMsgId = `c${seq}`;
      messages.push({
        serverMsgId: serverMsgIdFor(conversationId, 'alice', clientMsgId),
        conversationId,
        seq,
        senderId: 'alice',
        senderDeviceId: 'phone',
        clientMsgId,
        body: `message ${seq}`,
        sentAt: 1_764_100_000_000 + seq,
      });
    }
    expect(await this.messages.append(messages)).toEqual({ inserted: count });
    await this.heads.stored(new Map([[conversationId, { seq: previous + count, previous }]]));
    return messages;
  }
}

const range = (from: number, to: number): number[] => {
  const out: number[] = [];
  for (let s = from; from <= to ? s <= to : s >= to; s += from <= to ? 1 : -1) out.push(s);
  return out;
};

const members = (conversationId: string, afterUserId = '', limit = 0) => ({ conversationId, afterUserId, limit });
const users = (n: number, prefix = 'u') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

describe('CreateDirect', () => {
  it('creates the one direct conversation of two users, whichever of them asks', async () => {
    const { api } = new Harness();
    const ab = await invoke(api.CreateDirect, { userA: 'alice', userB: 'bob' });
    expect(ab).toMatchObject({ conversationId: directConversationId('alice', 'bob'), kind: 'CONVERSATION_KIND_DIRECT', memberCount: 2, lastSeq: 0 });
    expect(ab.conversationId).toMatch(/^d_/);
    const ba = await invoke(api.CreateDirect, { userA: 'bob', userB: 'alice' });
    expect(ba).toEqual(ab);
    expect(await invoke(api.ListMembers, members(ab.conversationId!))).toEqual({ userIds: ['alice', 'bob'], hasMore: false });
  });

  it('raises the head and both members\u2019 positions to 0, so later reads need no lookup', async () => {
    const h = new Harness();
    const { conversationId } = await invoke(h.api.CreateDirect, { userA: 'alice', userB: 'bob' });
    const id = conversationId!;
    expect(Object.fromEntries(h.registers.values)).toEqual({
      [headKey(id)]: 0,
      [positionKey(id, 'alice', 'delivered')]: 0,
      [positionKey(id, 'alice', 'read')]: 0,
      [positionKey(id, 'bob', 'delivered')]: 0,
      [positionKey(id, 'bob', 'read')]: 0,
    });
    // Asking again creates nothing and reports the stored conversation with its head.
    await h.seedMessages(id, 2);
    expect(await invoke(h.api.CreateDirect, { userA: 'bob', userB: 'alice' })).toMatchObject({ conversationId: id, memberCount: 2, lastSeq: 2 });
    expect(h.published).toEqual({ messages: [], membership: [] });
  });

  it('gives different pairs different conversations', async () => {
    const { api } = new Harness();
    const ab = await invoke(api.CreateDirect, { userA: 'alice', userB: 'bob' });
    const ac = await invoke(api.CreateDirect, { userA: 'alice', userB: 'carol' });
    expect(ac.conversationId).not.toBe(ab.conversationId);
  });

  it('rejects a conversation of a user with themself', async () => {
    const { api } = new Harness();
    await expectStatus(api.CreateDirect, { userA: 'alice', userB: 'alice' }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
  });

  it('rejects invalid user ids', async () => {
    const { api } = new Harness();
    for (const [userA, userB] of [
      ['', 'bob'],
      ['alice', ''],
      ['a b', 'bob'],
      ['alice', 'x'.repeat(129)],
    ] as const) {
      await expectStatus(api.CreateDirect, { userA, userB }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    }
  });
});

describe('CreateGroup', () => {
  it('creates a group with its members, once each', async () => {
    const { api } = new Harness();
    const group = await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob', 'alice'], botIds: [] });
    expect(group).toMatchObject({ conversationId: 'g_team', kind: 'CONVERSATION_KIND_GROUP', memberCount: 2, lastSeq: 0 });
    expect(await invoke(api.ListMembers, members('g_team'))).toEqual({ userIds: ['alice', 'bob'], hasMore: false });
  });

  it('answers ALREADY_EXISTS for a taken id and changes nothing', async () => {
    const { api } = new Harness();
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    await expectStatus(api.CreateGroup, { conversationId: 'g_team', memberIds: ['mallory', 'eve'], botIds: [] }, status.ALREADY_EXISTS, 'ALREADY_EXISTS');
    expect(await invoke(api.ListMembers, members('g_team'))).toEqual({ userIds: ['alice'], hasMore: false });
  });

  it('generates a fresh g_ id when none is given', async () => {
    const { api } = new Harness();
    const first = await invoke(api.CreateGroup, { conversationId: '', memberIds: ['alice'], botIds: [] });
    const second = await invoke(api.CreateGroup, { conversationId: '', memberIds: ['alice'], botIds: [] });
    expect(first.conversationId).toMatch(/^g_/);
    expect(first.conversationId).toMatch(ID_PATTERN);
    expect(second.conversationId).not.toBe(first.conversationId);
  });

  it('refuses the d_ prefix reserved for direct conversations, creating nothing', async () => {
    const { api } = new Harness();
    const taken = directConversationId('alice', 'bob');
    for (const conversationId of ['d_anything', taken]) {
      await expectStatus(api.CreateGroup, { conversationId, memberIds: ['alice', 'mallory'], botIds: [] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
      await expectStatus(api.GetConversation, { conversationId }, status.NOT_FOUND, 'NOT_FOUND');
    }
    // The direct conversation of alice and bob is still theirs to create.
    expect(await invoke(api.CreateDirect, { userA: 'alice', userB: 'bob' })).toMatchObject({ conversationId: taken, memberCount: 2 });
  });

  it('refuses a group without members', async () => {
    const { api } = new Harness();
    await expectStatus(api.CreateGroup, { conversationId: 'g_empty', memberIds: [], botIds: [] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.GetConversation, { conversationId: 'g_empty' }, status.NOT_FOUND, 'NOT_FOUND');
  });

  it('refuses invalid group and member ids', async () => {
    const { api } = new Harness();
    await expectStatus(api.CreateGroup, { conversationId: 'g team', memberIds: ['alice'], botIds: [] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    const f = await expectStatus(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'b/b'], botIds: [] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(f.details).toContain('member_ids[1]');
    await expectStatus(api.GetConversation, { conversationId: 'g_team' }, status.NOT_FOUND, 'NOT_FOUND');
  });

  it('refuses more members than MAX_GROUP_MEMBERS with INVALID_ARGUMENT (not retryable)', async () => {
    const { api } = new Harness({ maxGroupMembers: 3, maxPageSize: 500 });
    const f = await expectStatus(api.CreateGroup, { conversationId: 'g_big', memberIds: ['a', 'b', 'c', 'd'], botIds: [] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(f.details).toBe('member_ids has more than 3 distinct entries');
    expect(f.metadata.get('parley-retryable')).toEqual(['false']);
    await expectStatus(api.GetConversation, { conversationId: 'g_big' }, status.NOT_FOUND, 'NOT_FOUND');
    expect(await invoke(api.CreateGroup, { conversationId: 'g_full', memberIds: ['a', 'b', 'c'], botIds: [] })).toMatchObject({ memberCount: 3 });
  });

  it('counts a repeated id once against the maximum', async () => {
    const { api } = new Harness({ maxGroupMembers: 3, maxPageSize: 500 });
    expect(await invoke(api.CreateGroup, { conversationId: 'g_rep', memberIds: ['alice', 'alice', 'alice', 'alice'], botIds: [] })).toMatchObject({ memberCount: 1 });
  });

  it('publishes no membership event for a new group (its members come with it)', async () => {
    const h = new Harness();
    await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob'], botIds: [] });
    expect(h.published).toEqual({ messages: [], membership: [] });
    expect(h.registers.values.get(headKey('g_team'))).toBe(0);
  });
});

describe('AddMembers and RemoveMembers', () => {
  it('adds and removes group members and answers with the new count', async () => {
    const { api } = new Harness();
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    expect(await invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['bob', 'carol', 'bob'] })).toMatchObject({ conversationId: 'g_team', memberCount: 3 });
    expect(await invoke(api.RemoveMembers, { conversationId: 'g_team', userIds: ['alice', 'nobody'] })).toMatchObject({ conversationId: 'g_team', memberCount: 2 });
    expect(await invoke(api.ListMembers, members('g_team'))).toEqual({ userIds: ['bob', 'carol'], hasMore: false });
  });

  it('refuses to change the members of a direct conversation', async () => {
    const h = new Harness();
    const { conversationId } = await invoke(h.api.CreateDirect, { userA: 'alice', userB: 'bob' });
    await expectStatus(h.api.AddMembers, { conversationId: conversationId!, userIds: ['mallory'] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(h.api.RemoveMembers, { conversationId: conversationId!, userIds: ['bob'] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(await invoke(h.api.ListMembers, members(conversationId!))).toEqual({ userIds: ['alice', 'bob'], hasMore: false });
    expect(h.published).toEqual({ messages: [], membership: [] });
  });

  it('answers NOT_FOUND for an unknown conversation', async () => {
    const { api } = new Harness();
    await expectStatus(api.AddMembers, { conversationId: 'g_nope', userIds: ['alice'] }, status.NOT_FOUND, 'NOT_FOUND');
    await expectStatus(api.RemoveMembers, { conversationId: 'g_nope', userIds: ['alice'] }, status.NOT_FOUND, 'NOT_FOUND');
    await expectStatus(api.ListMembers, members('g_nope'), status.NOT_FOUND, 'NOT_FOUND');
  });

  it('refuses invalid user ids', async () => {
    const h = new Harness();
    await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    await expectStatus(h.api.AddMembers, { conversationId: 'g_team', userIds: ['bob', ''] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(h.api.RemoveMembers, { conversationId: 'g_team', userIds: ['a b'] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(await invoke(h.api.ListMembers, members('g_team'))).toEqual({ userIds: ['alice'], hasMore: false });
    expect(h.published).toEqual({ messages: [], membership: [] });
  });

  it('refuses with RESOURCE_EXHAUSTED (not retryable) to grow a group past MAX_GROUP_MEMBERS, adding no one', async () => {
    const h = new Harness({ maxGroupMembers: 3, maxPageSize: 500 });
    await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob'], botIds: [] });
    const f = await expectStatus(h.api.AddMembers, { conversationId: 'g_team', userIds: ['carol', 'dave'] }, status.RESOURCE_EXHAUSTED, 'RESOURCE_EXHAUSTED');
    expect(f.metadata.get('parley-retryable')).toEqual(['false']);
    expect(f.details).toBe('a group holds at most 3 members');
    expect(await invoke(h.api.ListMembers, members('g_team'))).toEqual({ userIds: ['alice', 'bob'], hasMore: false });
    expect(h.published).toEqual({ messages: [], membership: [] });
    // Filling it exactly is fine.
    expect(await invoke(h.api.AddMembers, { conversationId: 'g_team', userIds: ['carol'] })).toMatchObject({ memberCount: 3 });
    await expectStatus(h.api.AddMembers, { conversationId: 'g_team', userIds: ['dave'] }, status.RESOURCE_EXHAUSTED, 'RESOURCE_EXHAUSTED');
  });

  it('refuses a request naming more distinct users than a group may hold with INVALID_ARGUMENT', async () => {
    const { api } = new Harness({ maxGroupMembers: 3, maxPageSize: 500 });
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    await expectStatus(api.AddMembers, { conversationId: 'g_team', userIds: ['a', 'b', 'c', 'd'] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.RemoveMembers, { conversationId: 'g_team', userIds: ['a', 'b', 'c', 'd'] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    // Repeats count once.
    expect(await invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['b', 'b', 'b', 'b'] })).toMatchObject({ memberCount: 2 });
  });

  it('never lets concurrent adds take a group past its maximum', async () => {
    const { api } = new Harness({ maxGroupMembers: 3, maxPageSize: 500 });
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob'], botIds: [] });
    const results = await Promise.allSettled([
      invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['carol'] }),
      invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['dave'] }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await invoke(api.ListMembers, members('g_team'))).userIds).toHaveLength(3);
  });

  it('counts only new members against the maximum', async () => {
    const { api } = new Harness({ maxGroupMembers: 3, maxPageSize: 500 });
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob', 'carol'], botIds: [] });
    // Already members: the group does not grow, so this is allowed.
    expect(await invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['alice', 'bob', 'carol'] })).toMatchObject({ memberCount: 3 });
    await invoke(api.RemoveMembers, { conversationId: 'g_team', userIds: ['carol'] });
    expect(await invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['alice', 'dave'] })).toMatchObject({ memberCount: 3 });
    expect(await invoke(api.ListMembers, members('g_team'))).toEqual({ userIds: ['alice', 'bob', 'dave'], hasMore: false });
  });
});

describe('membership events', () => {
  it('publishes each change to the messages topic (for the sequencer) and the membership topic (for every cache), keyed by conversation', async () => {
    const h = new Harness();
    await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    const before = Date.now();
    await invoke(h.api.AddMembers, { conversationId: 'g_team', userIds: ['bob', 'carol', 'bob'] });
    await invoke(h.api.RemoveMembers, { conversationId: 'g_team', userIds: ['alice'] });
    const added = { conversationId: 'g_team', change: 'added', userIds: ['bob', 'carol'] };
    const removed = { conversationId: 'g_team', change: 'removed', userIds: ['alice'] };
    expect(h.published.messages).toEqual([[{ kind: 'membership', change: expect.objectContaining(added) }], [{ kind: 'membership', change: expect.objectContaining(removed) }]]);
    expect(h.published.membership).toEqual([[{ kind: 'membership', change: expect.objectContaining(added) }], [{ kind: 'membership', change: expect.objectContaining(removed) }]]);
    expect(h.keys).toEqual({ messages: ['g_team', 'g_team'], membership: ['g_team', 'g_team'] });
    for (const entry of [...h.published.messages, ...h.published.membership].flat()) {
      if (entry.kind !== 'membership') throw new Error(`expected a membership entry, got ${entry.kind}`);
      expect(entry.change.at).toBeGreaterThanOrEqual(before);
      expect(entry.change.at).toBeLessThanOrEqual(Date.now());
    }
    // And applies them in this process too.
    expect(h.applied.map((c) => [c.change, c.userIds])).toEqual([
      ['added', ['bob', 'carol']],
      ['removed', ['alice']],
    ]);
  });

  it('publishes every user asked for, members already or not, so a retry after a failed publish still reaches the caches', async () => {
    const h = new Harness(DEFAULT_LIMITS, false);
    await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    // The topics are missing: the change is stored but cannot be published, and the call fails.
    await expectStatus(h.api.AddMembers, { conversationId: 'g_team', userIds: ['bob'] }, status.UNAVAILABLE, 'UNAVAILABLE');
    expect(await invoke(h.api.ListMembers, members('g_team'))).toEqual({ userIds: ['alice', 'bob'], hasMore: false });
    expect(h.applied).toEqual([]);
    h.createTopics();
    expect(await invoke(h.api.AddMembers, { conversationId: 'g_team', userIds: ['bob'] })).toMatchObject({ memberCount: 2 });
    expect(h.published.messages.flat().map((e) => e.kind === 'membership' && e.change.userIds)).toEqual([['bob']]);
    expect(h.published.membership.flat().map((e) => e.change.userIds)).toEqual([['bob']]);
    expect(h.applied.map((c) => c.userIds)).toEqual([['bob']]);
  });

  it('splits a change for more users than one record holds into records of MAX_MEMBERSHIP_IDS_PER_RECORD', async () => {
    const h = new Harness({ maxGroupMembers: 3 * MAX_MEMBERSHIP_IDS_PER_RECORD, maxPageSize: 500 });
    await invoke(h.api.CreateGroup, { conversationId: 'g_big', memberIds: ['owner'], botIds: [] });
    const many = users(2 * MAX_MEMBERSHIP_IDS_PER_RECORD + 1);
    expect(await invoke(h.api.AddMembers, { conversationId: 'g_big', userIds: many })).toMatchObject({ memberCount: many.length + 1 });
    for (const topic of ['messages', 'membership'] as const) {
      expect(h.published[topic]).toHaveLength(1); // one publish per topic
      const records = h.published[topic][0]!;
      expect(records.map((e) => (e.kind === 'membership' ? e.change.userIds.length : 0))).toEqual([MAX_MEMBERSHIP_IDS_PER_RECORD, MAX_MEMBERSHIP_IDS_PER_RECORD, 1]);
      expect(records.flatMap((e) => (e.kind === 'membership' ? e.change.userIds : []))).toEqual(many);
    }
  });

  it('keeps the read checks true: a removed reader is refused and an added one let in, even once cached', async () => {
    const h = new Harness();
    await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob'], botIds: [] });
    await h.seedMessages('g_team', 3);
    const sync = (userId: string) => ({ userId, conversationId: 'g_team', afterSeq: 0, limit: 0 });
    // Both answers are now cached.
    expect((await invoke(h.api.Sync, sync('bob'))).messages).toHaveLength(3);
    await expectStatus(h.api.Sync, sync('carol'), status.PERMISSION_DENIED, 'PERMISSION_DENIED');
    await invoke(h.api.RemoveMembers, { conversationId: 'g_team', userIds: ['bob'] });
    await invoke(h.api.AddMembers, { conversationId: 'g_team', userIds: ['carol'] });
    await expectStatus(h.api.Sync, sync('bob'), status.PERMISSION_DENIED, 'PERMISSION_DENIED');
    expect((await invoke(h.api.Sync, sync('carol'))).messages).toHaveLength(3);
  });
});

describe('bots', () => {
  it('refuses the reserved service identities as members, in every call that names users', async () => {
    const h = new Harness();
    await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    for (const reserved of ['bot:support', 'bot:Support', 'system', 'system:notices']) {
      await expectStatus(h.api.CreateGroup, { conversationId: '', memberIds: ['alice', reserved], botIds: [] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
      await expectStatus(h.api.CreateDirect, { userA: 'alice', userB: reserved }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
      await expectStatus(h.api.AddMembers, { conversationId: 'g_team', userIds: [reserved] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
      await expectStatus(h.api.Sync, { userId: reserved, conversationId: 'g_team', afterSeq: 0, limit: 0 }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
      await expectStatus(h.api.ListConversations, { userId: reserved, afterConversationId: '', limit: 0 }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    }
    expect((await invoke(h.api.ListMembers, { conversationId: 'g_team', afterUserId: '', limit: 0 })).userIds).toEqual(['alice']);
  });

  it('allows bots from creation and by AddBots, shows them, never counts them as members, and publishes each grant in the stream', async () => {
    const h = new Harness();
    const created = await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob'], botIds: ['bot:support'] });
    expect(created).toMatchObject({ memberCount: 2, botIds: ['bot:support'] });
    const added = await invoke(h.api.AddBots, { conversationId: 'g_team', botIds: ['bot:alerts', 'bot:support'] });
    expect(added).toMatchObject({ memberCount: 2, botIds: ['bot:alerts', 'bot:support'] });
    expect(await invoke(h.api.GetConversation, { conversationId: 'g_team' })).toMatchObject({ botIds: ['bot:alerts', 'bot:support'] });
    expect(await invoke(h.api.Membership, { conversationId: 'g_team', userId: 'bot:alerts' })).toMatchObject({ member: true, memberCount: 2 });
    const removed = await invoke(h.api.RemoveBots, { conversationId: 'g_team', botIds: ['bot:support'] });
    expect(removed.botIds).toEqual(['bot:alerts']);
    expect(await invoke(h.api.Membership, { conversationId: 'g_team', userId: 'bot:support' })).toMatchObject({ member: false });
    const changes = h.published.messages.flat().map((e) => (e.kind === 'membership' ? [e.change.change, e.change.userIds] : e.kind));
    expect(changes).toEqual([
      ['added', ['bot:support']],
      ['added', ['bot:alerts', 'bot:support']],
      ['removed', ['bot:support']],
    ]);
    expect(h.published.membership.flat()).toHaveLength(3);
    // A bot reads nothing as itself, even where it may post.
    await expectStatus(h.api.History, { userId: 'bot:alerts', conversationId: 'g_team', fromSeq: 0, toSeq: 0, order: 'HISTORY_ORDER_UNSPECIFIED', limit: 0 }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
  });

  it('allows bots into a direct conversation, answered apart from its pair', async () => {
    const h = new Harness();
    const direct = directConversationId('alice', 'bob');
    await invoke(h.api.CreateDirect, { userA: 'alice', userB: 'bob' });
    await invoke(h.api.AddBots, { conversationId: direct, botIds: ['bot:safety'] });
    expect(await invoke(h.api.Membership, { conversationId: direct, userId: 'bot:safety' })).toMatchObject({ member: true });
    expect(await invoke(h.api.Membership, { conversationId: direct, userId: 'bot:other' })).toMatchObject({ member: false });
    expect(await invoke(h.api.Membership, { conversationId: direct, userId: 'alice' })).toMatchObject({ member: true, memberIds: ['alice', 'bob'] });
  });

  it('refuses what is not a bot id, too many bots, and an unknown conversation', async () => {
    const h = new Harness();
    await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    for (const bad of [[], ['alice'], ['bot:Support'], ['system'], ['bot:']]) await expectStatus(h.api.AddBots, { conversationId: 'g_team', botIds: bad }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(h.api.CreateGroup, { conversationId: 'g_x', memberIds: ['alice'], botIds: ['alice'] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(h.api.AddBots, { conversationId: 'g_nope', botIds: ['bot:a'] }, status.NOT_FOUND, 'NOT_FOUND');
    await expectStatus(h.api.AddBots, { conversationId: 'g_team', botIds: Array.from({ length: 33 }, (_, i) => `bot:b${i}`) }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await invoke(h.api.AddBots, { conversationId: 'g_team', botIds: Array.from({ length: 30 }, (_, i) => `bot:b${i}`) });
    const full = await expectStatus(h.api.AddBots, { conversationId: 'g_team', botIds: ['bot:x', 'bot:y', 'bot:z'] }, status.RESOURCE_EXHAUSTED, 'RESOURCE_EXHAUSTED');
    expect(full.metadata.get('parley-retryable')[0]).toBe('false');
    expect((await invoke(h.api.GetConversation, { conversationId: 'g_team' })).botIds).toHaveLength(30);
  });
});

describe('Membership', () => {
  it('answers whether the user is a member, with the count and every member of a small conversation', async () => {
    const { api } = new Harness();
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['carol', 'alice', 'bob'], botIds: [] });
    expect(await invoke(api.Membership, { conversationId: 'g_team', userId: 'alice' })).toEqual({ member: true, memberCount: 3, memberIds: ['alice', 'bob', 'carol'], complete: true });
    expect(await invoke(api.Membership, { conversationId: 'g_team', userId: 'mallory' })).toEqual({ member: false, memberCount: 3, memberIds: ['alice', 'bob', 'carol'], complete: true });
  });

  it('follows membership changes', async () => {
    const { api } = new Harness();
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    await invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['bob'] });
    expect(await invoke(api.Membership, { conversationId: 'g_team', userId: 'bob' })).toEqual({ member: true, memberCount: 2, memberIds: ['alice', 'bob'], complete: true });
    await invoke(api.RemoveMembers, { conversationId: 'g_team', userIds: ['bob'] });
    expect(await invoke(api.Membership, { conversationId: 'g_team', userId: 'bob' })).toEqual({ member: false, memberCount: 1, memberIds: ['alice'], complete: true });
  });

  it('lists the members up to SMALL_CONVERSATION members, and only the count past it', async () => {
    const { api } = new Harness();
    const all = users(SMALL_CONVERSATION + 1);
    await invoke(api.CreateGroup, { conversationId: 'g_small', memberIds: all.slice(0, SMALL_CONVERSATION), botIds: [] });
    const small = await invoke(api.Membership, { conversationId: 'g_small', userId: all[0]! });
    expect(small).toMatchObject({ member: true, memberCount: SMALL_CONVERSATION, complete: true });
    expect(small.memberIds).toEqual(all.slice(0, SMALL_CONVERSATION));
    await invoke(api.AddMembers, { conversationId: 'g_small', userIds: [all[SMALL_CONVERSATION]!] });
    expect(await invoke(api.Membership, { conversationId: 'g_small', userId: all[SMALL_CONVERSATION]! })).toEqual({ member: true, memberCount: SMALL_CONVERSATION + 1, memberIds: [], complete: false });
    expect(await invoke(api.Membership, { conversationId: 'g_small', userId: 'mallory' })).toEqual({ member: false, memberCount: SMALL_CONVERSATION + 1, memberIds: [], complete: false });
  });

  it('answers for a direct conversation', async () => {
    const { api } = new Harness();
    const { conversationId } = await invoke(api.CreateDirect, { userA: 'bob', userB: 'alice' });
    expect(await invoke(api.Membership, { conversationId: conversationId!, userId: 'bob' })).toEqual({ member: true, memberCount: 2, memberIds: ['alice', 'bob'], complete: true });
  });

  it('answers a direct conversation from its pair recorded at creation: no store lookup, also in another process over the same registers', async () => {
    const h = new Harness();
    const { conversationId } = await invoke(h.api.CreateDirect, { userA: 'bob', userB: 'alice' });
    const lookups = jest.spyOn(h.conversations, 'membership');
    const other = new DirectMembers(h.registers, h.conversations, log);
    expect(await other.membership(conversationId!, 'alice')).toEqual({ exists: true, member: true, memberCount: 2, memberIds: ['alice', 'bob'] });
    expect(await other.membership(conversationId!, 'mallory')).toMatchObject({ exists: true, member: false });
    expect(await invoke(h.api.Membership, { conversationId: conversationId!, userId: 'alice' })).toMatchObject({ member: true, complete: true });
    expect(await invoke(h.api.ListMembers, members(conversationId!, 'alice'))).toEqual({ userIds: ['bob'], hasMore: false });
    expect(lookups).not.toHaveBeenCalled();
  });

  it('looks up a direct conversation whose pair was never recorded (or was lost) once, then records it; a pair that does not match the id is not believed', async () => {
    const h = new Harness();
    const c = directConversationId('alice', 'bob');
    await h.conversations.createConversation({ conversationId: c, kind: 'direct', memberIds: ['alice', 'bob'], createdAt: 1 });
    const lookups = jest.spyOn(h.conversations, 'membership');
    expect(await new DirectMembers(h.registers, h.conversations, log).membership(c, 'bob')).toMatchObject({ exists: true, member: true });
    expect(await new DirectMembers(h.registers, h.conversations, log).membership(c, 'bob')).toMatchObject({ exists: true, member: true });
    expect(lookups).toHaveBeenCalledTimes(1);
    await h.registers.putFacts(new Map([[`dp|${c}`, 'alice\nmallory']]));
    expect(await new DirectMembers(h.registers, h.conversations, log).membership(c, 'mallory')).toMatchObject({ exists: true, member: false });
    expect(lookups).toHaveBeenCalledTimes(2);
    await expectStatus(h.api.ListMembers, members(directConversationId('alice', 'nobody')), status.NOT_FOUND, 'NOT_FOUND');
  });

  it('answers NOT_FOUND for an unknown conversation and INVALID_ARGUMENT for invalid ids', async () => {
    const { api } = new Harness();
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    const f = await expectStatus(api.Membership, { conversationId: 'g_nope', userId: 'alice' }, status.NOT_FOUND, 'NOT_FOUND');
    expect(f.details).toBe('conversation g_nope does not exist');
    // Unlike History and Sync, there is no trusted empty user here.
    await expectStatus(api.Membership, { conversationId: 'g_team', userId: '' }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.Membership, { conversationId: 'g team', userId: 'alice' }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
  });
});

describe('ListMembers', () => {
  it('pages members in user id order with after_user_id and has_more', async () => {
    const { api } = new Harness();
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['erin', 'bob', 'dave', 'alice', 'carol'], botIds: [] });
    expect(await invoke(api.ListMembers, members('g_team', '', 2))).toEqual({ userIds: ['alice', 'bob'], hasMore: true });
    expect(await invoke(api.ListMembers, members('g_team', 'bob', 2))).toEqual({ userIds: ['carol', 'dave'], hasMore: true });
    // A page that ends exactly at the last member does not claim more.
    expect(await invoke(api.ListMembers, members('g_team', 'carol', 2))).toEqual({ userIds: ['dave', 'erin'], hasMore: false });
    expect(await invoke(api.ListMembers, members('g_team', 'dave', 2))).toEqual({ userIds: ['erin'], hasMore: false });
    expect(await invoke(api.ListMembers, members('g_team', 'erin', 2))).toEqual({ userIds: [], hasMore: false });
    // after_user_id need not be a member: the page starts after where it would sort.
    expect(await invoke(api.ListMembers, members('g_team', 'bz', 0))).toEqual({ userIds: ['carol', 'dave', 'erin'], hasMore: false });
  });

  it('a caller that pages from its last id while has_more gets every member once', async () => {
    const { api } = new Harness();
    const all = users(23);
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: [...all].reverse(), botIds: [] });
    const seen: string[] = [];
    for (let more = true; more; ) {
      const page = await invoke(api.ListMembers, members('g_team', seen.at(-1) ?? '', 4));
      seen.push(...page.userIds!);
      more = page.hasMore!;
    }
    expect(seen).toEqual(all);
  });

  it('lists every member when no limit is given', async () => {
    const { api } = new Harness();
    const all = users(600);
    await invoke(api.CreateGroup, { conversationId: 'g_big', memberIds: all, botIds: [] });
    expect(await invoke(api.ListMembers, members('g_big'))).toEqual({ userIds: all, hasMore: false });
  });

  it('refuses a negative limit and an invalid after_user_id', async () => {
    const { api } = new Harness();
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    await expectStatus(api.ListMembers, members('g_team', '', -1), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.ListMembers, members('g_team', 'a b'), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.ListMembers, members('g team'), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
  });
});

describe('History and Sync', () => {
  async function seeded(count: number, limits?: StorageApiLimits) {
    const h = new Harness(limits);
    await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob'], botIds: [] });
    const messages = await h.seedMessages('g_team', count);
    return { h, api: h.api, messages };
  }

  const history = (overrides: Partial<{ userId: string; fromSeq: number; toSeq: number; order: 'HISTORY_ORDER_UNSPECIFIED' | 'HISTORY_ORDER_NEWEST_FIRST' | 'HISTORY_ORDER_OLDEST_FIRST'; limit: number }> = {}) => ({
    userId: 'bob',
    conversationId: 'g_team',
    fromSeq: 0,
    toSeq: 0,
    order: 'HISTORY_ORDER_UNSPECIFIED' as const,
    limit: 0,
    ...overrides,
  });
  const sync = (afterSeq: number, limit = 0, userId = 'bob') => ({ userId, conversationId: 'g_team', afterSeq, limit });

  it('caps the default page size at MAX_PAGE_SIZE too', async () => {
    const { api } = await seeded(120, { maxGroupMembers: 10, maxPageSize: 5 });
    expect((await invoke(api.History, history({ order: 'HISTORY_ORDER_NEWEST_FIRST' }))).messages).toHaveLength(5);
    expect((await invoke(api.Sync, sync(0))).messages).toHaveLength(5);
  });

  it('syncs everything after a seq, oldest first, in pages that say whether more exist', async () => {
    const { api, messages } = await seeded(7);
    const page1 = await invoke(api.Sync, sync(0, 3));
    expect(page1.messages!.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(page1.hasMore).toBe(true);
    expect(page1.messages![0]).toEqual(messages[0]);
    const page2 = await invoke(api.Sync, sync(3, 3));
    expect(page2.messages!.map((m) => m.seq)).toEqual([4, 5, 6]);
    expect(page2.hasMore).toBe(true);
    const page3 = await invoke(api.Sync, sync(6, 3));
    expect(page3.messages!.map((m) => m.seq)).toEqual([7]);
    expect(page3.hasMore).toBe(false);
    // A page that ends exactly at the last message does not claim more.
    expect(await invoke(api.Sync, sync(4, 3))).toMatchObject({ hasMore: false });
    expect(await invoke(api.Sync, sync(7, 3))).toEqual({ messages: [], hasMore: false });
    expect(await invoke(api.Sync, sync(100, 3))).toEqual({ messages: [], hasMore: false });
  });

  it('a client that syncs from its last seq while hasMore gets every message once, in order', async () => {
    const { api } = await seeded(23);
    const seen: number[] = [];
    let last = 0;
    for (let more = true; more; ) {
      const page = await invoke(api.Sync, sync(last, 4));
      seen.push(...page.messages!.map((m) => Number(m.seq)));
      last = seen.at(-1) ?? last;
      more = page.hasMore!;
    }
    expect(seen).toEqual(range(1, 23));
  });

  it('sees messages stored after an earlier read (a cached bucket is not served past its head)', async () => {
    const { h, api } = await seeded(3);
    expect((await invoke(api.Sync, sync(0))).messages!.map((m) => m.seq)).toEqual([1, 2, 3]);
    await h.seedMessages('g_team', 2);
    expect((await invoke(api.Sync, sync(0))).messages!.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await invoke(api.History, history({ limit: 2 }))).messages!.map((m) => m.seq)).toEqual([5, 4]);
  });

  it('reads across bucket boundaries', async () => {
    const { api } = await seeded(300);
    const page = await invoke(api.Sync, sync(120, 200));
    expect(page.messages!.map((m) => m.seq)).toEqual(range(121, 300));
    expect(page.hasMore).toBe(false);
  });

  it('answers from the stored messages when the registers were lost', async () => {
    const { h, api } = await seeded(5);
    h.registers.clear();
    expect((await invoke(api.Sync, sync(0))).messages!.map((m) => m.seq)).toEqual(range(1, 5));
    expect(await invoke(api.GetConversation, { conversationId: 'g_team' })).toMatchObject({ lastSeq: 5 });
    // And puts the head back.
    expect(h.registers.values.get(headKey('g_team'))).toBe(5);
  });

  it('syncs 100 messages when no limit is given and caps the limit at maxPageSize', async () => {
    const { api } = await seeded(120);
    const all = await invoke(api.Sync, sync(0));
    expect(all.messages!.map((m) => m.seq)).toEqual(range(1, 100));
    expect(all.hasMore).toBe(true);
    const { api: small } = await seeded(7, { maxGroupMembers: 10, maxPageSize: 5 });
    const capped = await invoke(small.Sync, sync(0, 1_000));
    expect(capped.messages!.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(capped.hasMore).toBe(true);
  });

  it('reads history newest first by default, oldest first on request', async () => {
    const { api } = await seeded(7);
    const newest = await invoke(api.History, history());
    expect(newest.messages!.map((m) => m.seq)).toEqual(range(7, 1));
    expect(newest.hasMore).toBe(false);
    expect((await invoke(api.History, history({ order: 'HISTORY_ORDER_NEWEST_FIRST' }))).messages!.map((m) => m.seq)).toEqual(range(7, 1));
    expect((await invoke(api.History, history({ order: 'HISTORY_ORDER_OLDEST_FIRST' }))).messages!.map((m) => m.seq)).toEqual(range(1, 7));
  });

  it('reads history within inclusive bounds, 0 meaning unbounded, in both orders', async () => {
    const { api } = await seeded(10);
    const seqsOf = async (overrides: Parameters<typeof history>[0]) => (await invoke(api.History, history(overrides))).messages!.map((m) => m.seq);
    expect(await seqsOf({ fromSeq: 3, toSeq: 6 })).toEqual([6, 5, 4, 3]);
    expect(await seqsOf({ fromSeq: 3, toSeq: 6, order: 'HISTORY_ORDER_OLDEST_FIRST' })).toEqual([3, 4, 5, 6]);
    expect(await seqsOf({ fromSeq: 8 })).toEqual([10, 9, 8]);
    expect(await seqsOf({ toSeq: 3, order: 'HISTORY_ORDER_OLDEST_FIRST' })).toEqual([1, 2, 3]);
    expect(await seqsOf({ fromSeq: 5, toSeq: 5 })).toEqual([5]);
    expect(await seqsOf({ fromSeq: 6, toSeq: 5 })).toEqual([]);
    expect(await seqsOf({ fromSeq: 11 })).toEqual([]);
    // Newest first with a limit: the newest ones of the range.
    const page = await invoke(api.History, history({ fromSeq: 2, toSeq: 9, limit: 3 }));
    expect(page.messages!.map((m) => m.seq)).toEqual([9, 8, 7]);
    expect(page.hasMore).toBe(true);
    const oldest = await invoke(api.History, history({ fromSeq: 2, toSeq: 9, limit: 3, order: 'HISTORY_ORDER_OLDEST_FIRST' }));
    expect(oldest.messages!.map((m) => m.seq)).toEqual([2, 3, 4]);
    expect(oldest.hasMore).toBe(true);
    expect(await invoke(api.History, history({ fromSeq: 2, toSeq: 9, limit: 8 }))).toMatchObject({ hasMore: false });
  });

  it('pages history backwards with toSeq = smallest seq - 1 while hasMore', async () => {
    const { api } = await seeded(11);
    const seen: number[] = [];
    let toSeq = 0;
    for (let more = true; more; ) {
      const page = await invoke(api.History, history({ toSeq, limit: 4 }));
      seen.push(...page.messages!.map((m) => Number(m.seq)));
      toSeq = Math.min(...seen) - 1;
      more = page.hasMore!;
    }
    expect(seen).toEqual(range(11, 1));
  });

  it('reads 50 messages of history when no limit is given and caps the limit at maxPageSize', async () => {
    const { api } = await seeded(60);
    const page = await invoke(api.History, history());
    expect(page.messages!.map((m) => m.seq)).toEqual(range(60, 11));
    expect(page.hasMore).toBe(true);
    const { api: small } = await seeded(7, { maxGroupMembers: 10, maxPageSize: 5 });
    const capped = await invoke(small.History, history({ limit: 1_000 }));
    expect(capped.messages!.map((m) => m.seq)).toEqual([7, 6, 5, 4, 3]);
    expect(capped.hasMore).toBe(true);
  });

  it('refuses negative bounds and limits', async () => {
    const { api } = await seeded(3);
    await expectStatus(api.History, history({ fromSeq: -1 }), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.History, history({ toSeq: -1 }), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.History, history({ limit: -1 }), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.Sync, sync(-1), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.Sync, sync(0, -5), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
  });

  it('refuses a non-member with PERMISSION_DENIED', async () => {
    const { api } = await seeded(3);
    const f = await expectStatus(api.History, history({ userId: 'mallory' }), status.PERMISSION_DENIED, 'PERMISSION_DENIED');
    expect(f.details).toBe('not a member of this conversation');
    await expectStatus(api.Sync, sync(0, 10, 'mallory'), status.PERMISSION_DENIED, 'PERMISSION_DENIED');
  });

  it('refuses a removed member', async () => {
    const { api } = await seeded(3);
    await invoke(api.RemoveMembers, { conversationId: 'g_team', userIds: ['bob'] });
    await expectStatus(api.Sync, sync(0), status.PERMISSION_DENIED, 'PERMISSION_DENIED');
    await expectStatus(api.History, history(), status.PERMISSION_DENIED, 'PERMISSION_DENIED');
  });

  it('answers NOT_FOUND for an unknown conversation', async () => {
    const { api } = new Harness();
    const f = await expectStatus(api.History, { ...history(), conversationId: 'g_nope' }, status.NOT_FOUND, 'NOT_FOUND');
    expect(f.details).toBe('conversation g_nope does not exist');
    await expectStatus(api.Sync, { ...sync(0), conversationId: 'g_nope' }, status.NOT_FOUND, 'NOT_FOUND');
  });

  it('refuses invalid conversation and user ids', async () => {
    const { api } = await seeded(1);
    await expectStatus(api.History, { ...history(), conversationId: 'g team' }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.Sync, { ...sync(0), conversationId: '' }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.History, history({ userId: 'b/b' }), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
  });

  it('reads without a user (no membership check) only for a key with the scope messages:read-all', async () => {
    const { api } = await seeded(3);
    const trusted: Principal = { kind: 'key', keyId: 'k1', name: 'archiver', scopes: ['messages:read-all'] };
    expect((await invoke(api.Sync, sync(0, 0, ''), trusted)).messages!.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect((await invoke(api.History, history({ userId: '' }), trusted)).messages!.map((m) => m.seq)).toEqual([3, 2, 1]);
    // The shortcut of an empty user id is gone: a connector, a key that reads as users, or no principal at all.
    for (const principal of [{ kind: 'service', service: 'connector' }, { kind: 'key', keyId: 'k2', name: 'reader', scopes: ['messages:read'] }, undefined] as (Principal | undefined)[]) {
      const refused = await failure(api.Sync, sync(0, 0, ''), principal);
      expect(refused.code).toBe(status.PERMISSION_DENIED);
    }
  });

  it('does not mix conversations', async () => {
    const { h, api } = await seeded(3);
    await invoke(api.CreateGroup, { conversationId: 'g_other', memberIds: ['bob'], botIds: [] });
    await h.seedMessages('g_other', 2);
    expect((await invoke(api.Sync, sync(0))).messages!.every((m) => m.conversationId === 'g_team')).toBe(true);
    expect((await invoke(api.Sync, { ...sync(0), conversationId: 'g_other' })).messages!.map((m) => m.seq)).toEqual([1, 2]);
  });
});

describe('GetConversation', () => {
  it('reports the last stored seq of a conversation', async () => {
    const h = new Harness();
    await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    await h.seedMessages('g_team', 4);
    expect(await invoke(h.api.GetConversation, { conversationId: 'g_team' })).toMatchObject({ conversationId: 'g_team', lastSeq: 4, memberCount: 1, kind: 'CONVERSATION_KIND_GROUP' });
    await expectStatus(h.api.GetConversation, { conversationId: 'g_nope' }, status.NOT_FOUND, 'NOT_FOUND');
    await expectStatus(h.api.GetConversation, { conversationId: 'g nope' }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
  });

  it('answers AddMembers and RemoveMembers with the last seq too', async () => {
    const h = new Harness();
    await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    await h.seedMessages('g_team', 4);
    expect(await invoke(h.api.AddMembers, { conversationId: 'g_team', userIds: ['bob'] })).toMatchObject({ lastSeq: 4, memberCount: 2 });
    expect(await invoke(h.api.RemoveMembers, { conversationId: 'g_team', userIds: ['bob'] })).toMatchObject({ lastSeq: 4, memberCount: 1 });
  });
});

describe('ListConversations', () => {
  const list = (userId: string, afterConversationId = '', limit = 0) => ({ userId, afterConversationId, limit });

  it('lists the conversations of a user in id order, with last seq, positions and unread', async () => {
    const h = new Harness();
    const { conversationId: direct } = await invoke(h.api.CreateDirect, { userA: 'alice', userB: 'bob' });
    await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob', 'carol'], botIds: [] });
    await invoke(h.api.CreateGroup, { conversationId: 'g_other', memberIds: ['bob'], botIds: [] });
    await h.seedMessages('g_team', 10);
    await h.seedMessages(direct!, 3);
    await h.positions.raise([
      { conversationId: 'g_team', userId: 'alice', kind: 'delivered', seq: 8, previous: 0 },
      { conversationId: 'g_team', userId: 'alice', kind: 'read', seq: 6, previous: 0 },
    ]);
    const { conversations, hasMore } = await invoke(h.api.ListConversations, list('alice'));
    expect(hasMore).toBe(false);
    expect(conversations).toEqual(
      [
        { conversationId: direct!, kind: 'CONVERSATION_KIND_DIRECT', memberCount: 2, lastSeq: 3, deliveredSeq: 0, readSeq: 0, unread: 3, createdAt: 0 },
        { conversationId: 'g_team', kind: 'CONVERSATION_KIND_GROUP', memberCount: 3, lastSeq: 10, deliveredSeq: 8, readSeq: 6, unread: 4, createdAt: expect.any(Number) },
      ].sort((a, b) => (a.conversationId < b.conversationId ? -1 : 1)),
    );
    expect((await invoke(h.api.ListConversations, list('dave'))).conversations).toEqual([]);
  });

  it('never reports a position past the last seq, nor delivered behind read', async () => {
    const h = new Harness();
    await invoke(h.api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob'], botIds: [] });
    await h.seedMessages('g_team', 5);
    await h.positions.raise([
      { conversationId: 'g_team', userId: 'alice', kind: 'delivered', seq: 2, previous: 0 },
      { conversationId: 'g_team', userId: 'alice', kind: 'read', seq: 4, previous: 0 },
      { conversationId: 'g_team', userId: 'bob', kind: 'delivered', seq: 9, previous: 0 },
      { conversationId: 'g_team', userId: 'bob', kind: 'read', seq: 9, previous: 0 },
    ]);
    expect((await invoke(h.api.ListConversations, list('alice'))).conversations).toEqual([expect.objectContaining({ deliveredSeq: 4, readSeq: 4, unread: 1 })]);
    expect((await invoke(h.api.ListConversations, list('bob'))).conversations).toEqual([expect.objectContaining({ deliveredSeq: 5, readSeq: 5, unread: 0 })]);
  });

  it('pages by conversation id with has_more, the page size capped at MAX_PAGE_SIZE', async () => {
    const { api } = new Harness({ maxGroupMembers: 10, maxPageSize: 2 });
    for (const id of ['g_e', 'g_a', 'g_d', 'g_c', 'g_b']) await invoke(api.CreateGroup, { conversationId: id, memberIds: ['alice'], botIds: [] });
    await invoke(api.CreateGroup, { conversationId: 'g_bobs', memberIds: ['bob'], botIds: [] });
    const ids = (r: { conversations?: { conversationId?: string }[] }) => r.conversations!.map((c) => c.conversationId);
    const first = await invoke(api.ListConversations, list('alice', '', 100));
    expect([ids(first), first.hasMore]).toEqual([['g_a', 'g_b'], true]);
    const second = await invoke(api.ListConversations, list('alice', 'g_b'));
    expect([ids(second), second.hasMore]).toEqual([['g_c', 'g_d'], true]);
    const third = await invoke(api.ListConversations, list('alice', 'g_d', 2));
    expect([ids(third), third.hasMore]).toEqual([['g_e'], false]);
    // A page that ends exactly at the last conversation does not claim more.
    const exact = await invoke(api.ListConversations, list('alice', 'g_c', 2));
    expect([ids(exact), exact.hasMore]).toEqual([['g_d', 'g_e'], false]);
  });

  it('reports member counts that follow membership changes', async () => {
    const { api } = new Harness();
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'], botIds: [] });
    expect((await invoke(api.ListConversations, list('alice'))).conversations).toEqual([expect.objectContaining({ memberCount: 1 })]);
    await invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['bob', 'carol'] });
    expect((await invoke(api.ListConversations, list('alice'))).conversations).toEqual([expect.objectContaining({ memberCount: 3 })]);
    expect((await invoke(api.ListConversations, list('bob'))).conversations).toEqual([expect.objectContaining({ conversationId: 'g_team', memberCount: 3 })]);
    await invoke(api.RemoveMembers, { conversationId: 'g_team', userIds: ['bob'] });
    expect((await invoke(api.ListConversations, list('alice'))).conversations).toEqual([expect.objectContaining({ memberCount: 2 })]);
    expect((await invoke(api.ListConversations, list('bob'))).conversations).toEqual([]);
  });

  it('refuses invalid ids and a negative limit', async () => {
    const { api } = new Harness();
    await expectStatus(api.ListConversations, list(''), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.ListConversations, list('a b'), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.ListConversations, list('alice', 'g x'), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.ListConversations, list('alice', '', -1), status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
  });
});
