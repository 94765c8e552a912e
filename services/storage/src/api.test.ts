import { Metadata, status, type ServerUnaryCall, type handleUnaryCall } from '@grpc/grpc-js';
import { ID_PATTERN, createLogger, directConversationId, serverMsgIdFor } from '@parley/core';
import type { StorageHandlers } from '@parley/proto';
import { storageHandlers, type StorageApiLimits } from './api';
import { MemoryMessageStore, type StoredMessageDoc } from './store';

const log = createLogger('storage-test', 'test', 'silent');

/** Calls a handler the way grpc-js does: a call with request and metadata, and a callback. */
function invoke<Req, Res>(handler: handleUnaryCall<Req, Res>, request: Req): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const call = { request, metadata: new Metadata(), getDeadline: () => Infinity } as unknown as ServerUnaryCall<Req, Res>;
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

async function failure<Req, Res>(handler: handleUnaryCall<Req, Res>, request: Req): Promise<GrpcFailure> {
  try {
    const response = await invoke(handler, request);
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

function setup(limits: StorageApiLimits = { maxGroupMembers: 10_000, maxPageSize: 500 }): { store: MemoryMessageStore; api: StorageHandlers } {
  const store = new MemoryMessageStore();
  return { store, api: storageHandlers(store, log, limits) };
}

async function seedMessages(store: MemoryMessageStore, conversationId: string, count: number): Promise<StoredMessageDoc[]> {
  const messages: StoredMessageDoc[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const clientMsgId = `c${seq}`;
    const message = {
      serverMsgId: serverMsgIdFor(conversationId, 'alice', clientMsgId),
      conversationId,
      seq,
      senderId: 'alice',
      senderDeviceId: 'phone',
      clientMsgId,
      body: `message ${seq}`,
      sentAt: 1_764_100_000_000 + seq,
    };
    expect(await store.insertMessage(message)).toBe('inserted');
    messages.push(message);
  }
  return messages;
}

const range = (from: number, to: number): number[] => {
  const out: number[] = [];
  for (let s = from; from <= to ? s <= to : s >= to; s += from <= to ? 1 : -1) out.push(s);
  return out;
};

describe('CreateDirect', () => {
  it('creates the one direct conversation of two users, whichever of them asks', async () => {
    const { api } = setup();
    const ab = await invoke(api.CreateDirect, { userA: 'alice', userB: 'bob' });
    expect(ab).toMatchObject({ conversationId: directConversationId('alice', 'bob'), kind: 'CONVERSATION_KIND_DIRECT', memberCount: 2, lastSeq: 0 });
    expect(ab.conversationId).toMatch(/^d_/);
    const ba = await invoke(api.CreateDirect, { userA: 'bob', userB: 'alice' });
    expect(ba).toEqual(ab);
    expect(await invoke(api.ListMembers, { conversationId: ab.conversationId! })).toEqual({ userIds: ['alice', 'bob'] });
  });

  it('gives different pairs different conversations', async () => {
    const { api } = setup();
    const ab = await invoke(api.CreateDirect, { userA: 'alice', userB: 'bob' });
    const ac = await invoke(api.CreateDirect, { userA: 'alice', userB: 'carol' });
    expect(ac.conversationId).not.toBe(ab.conversationId);
  });

  it('rejects a conversation of a user with themself', async () => {
    const { api } = setup();
    await expectStatus(api.CreateDirect, { userA: 'alice', userB: 'alice' }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
  });

  it('rejects invalid user ids', async () => {
    const { api } = setup();
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
    const { api } = setup();
    const group = await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob', 'alice'] });
    expect(group).toMatchObject({ conversationId: 'g_team', kind: 'CONVERSATION_KIND_GROUP', memberCount: 2, lastSeq: 0 });
    expect(await invoke(api.ListMembers, { conversationId: 'g_team' })).toEqual({ userIds: ['alice', 'bob'] });
  });

  it('answers ALREADY_EXISTS for a taken id and changes nothing', async () => {
    const { api } = setup();
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'] });
    await expectStatus(api.CreateGroup, { conversationId: 'g_team', memberIds: ['mallory', 'eve'] }, status.ALREADY_EXISTS, 'ALREADY_EXISTS');
    expect(await invoke(api.ListMembers, { conversationId: 'g_team' })).toEqual({ userIds: ['alice'] });
  });

  it('generates a fresh g_ id when none is given', async () => {
    const { api } = setup();
    const first = await invoke(api.CreateGroup, { conversationId: '', memberIds: ['alice'] });
    const second = await invoke(api.CreateGroup, { conversationId: '', memberIds: ['alice'] });
    expect(first.conversationId).toMatch(/^g_/);
    expect(first.conversationId).toMatch(ID_PATTERN);
    expect(second.conversationId).not.toBe(first.conversationId);
  });

  it('refuses the d_ prefix reserved for direct conversations, creating nothing', async () => {
    const { api } = setup();
    const taken = directConversationId('alice', 'bob');
    for (const conversationId of ['d_anything', taken]) {
      await expectStatus(api.CreateGroup, { conversationId, memberIds: ['alice', 'mallory'] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
      await expectStatus(api.GetConversation, { conversationId }, status.NOT_FOUND, 'NOT_FOUND');
    }
    // The direct conversation of alice and bob is still theirs to create.
    expect(await invoke(api.CreateDirect, { userA: 'alice', userB: 'bob' })).toMatchObject({ conversationId: taken, memberCount: 2 });
  });

  it('refuses a group without members', async () => {
    const { api } = setup();
    await expectStatus(api.CreateGroup, { conversationId: 'g_empty', memberIds: [] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.GetConversation, { conversationId: 'g_empty' }, status.NOT_FOUND, 'NOT_FOUND');
  });

  it('refuses invalid group and member ids', async () => {
    const { api } = setup();
    await expectStatus(api.CreateGroup, { conversationId: 'g team', memberIds: ['alice'] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    const f = await expectStatus(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'b/b'] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(f.details).toContain('member_ids[1]');
  });

  it('refuses more members than a group may hold', async () => {
    const { api } = setup({ maxGroupMembers: 3, maxPageSize: 500 });
    await expectStatus(api.CreateGroup, { conversationId: 'g_big', memberIds: ['a', 'b', 'c', 'd'] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(await invoke(api.CreateGroup, { conversationId: 'g_full', memberIds: ['a', 'b', 'c'] })).toMatchObject({ memberCount: 3 });
  });
});

describe('AddMembers and RemoveMembers', () => {
  it('adds and removes group members and answers with the new count', async () => {
    const { api } = setup();
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'] });
    expect(await invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['bob', 'carol', 'bob'] })).toMatchObject({ memberCount: 3 });
    expect(await invoke(api.RemoveMembers, { conversationId: 'g_team', userIds: ['alice', 'nobody'] })).toMatchObject({ memberCount: 2 });
    expect(await invoke(api.ListMembers, { conversationId: 'g_team' })).toEqual({ userIds: ['bob', 'carol'] });
  });

  it('refuses to change the members of a direct conversation', async () => {
    const { api } = setup();
    const { conversationId } = await invoke(api.CreateDirect, { userA: 'alice', userB: 'bob' });
    await expectStatus(api.AddMembers, { conversationId: conversationId!, userIds: ['mallory'] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.RemoveMembers, { conversationId: conversationId!, userIds: ['bob'] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(await invoke(api.ListMembers, { conversationId: conversationId! })).toEqual({ userIds: ['alice', 'bob'] });
  });

  it('answers NOT_FOUND for an unknown conversation', async () => {
    const { api } = setup();
    await expectStatus(api.AddMembers, { conversationId: 'g_nope', userIds: ['alice'] }, status.NOT_FOUND, 'NOT_FOUND');
    await expectStatus(api.RemoveMembers, { conversationId: 'g_nope', userIds: ['alice'] }, status.NOT_FOUND, 'NOT_FOUND');
    await expectStatus(api.ListMembers, { conversationId: 'g_nope' }, status.NOT_FOUND, 'NOT_FOUND');
  });

  it('refuses invalid user ids', async () => {
    const { api } = setup();
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'] });
    await expectStatus(api.AddMembers, { conversationId: 'g_team', userIds: ['bob', ''] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    await expectStatus(api.RemoveMembers, { conversationId: 'g_team', userIds: ['a b'] }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
    expect(await invoke(api.ListMembers, { conversationId: 'g_team' })).toEqual({ userIds: ['alice'] });
  });

  it('refuses with RESOURCE_EXHAUSTED (not retryable) to grow a group past its maximum, adding no one', async () => {
    const { api } = setup({ maxGroupMembers: 3, maxPageSize: 500 });
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob'] });
    const f = await expectStatus(api.AddMembers, { conversationId: 'g_team', userIds: ['carol', 'dave'] }, status.RESOURCE_EXHAUSTED, 'RESOURCE_EXHAUSTED');
    expect(f.metadata.get('parley-retryable')).toEqual(['false']);
    expect(await invoke(api.ListMembers, { conversationId: 'g_team' })).toEqual({ userIds: ['alice', 'bob'] });
    // Filling it exactly is fine.
    expect(await invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['carol'] })).toMatchObject({ memberCount: 3 });
    await expectStatus(api.AddMembers, { conversationId: 'g_team', userIds: ['dave'] }, status.RESOURCE_EXHAUSTED, 'RESOURCE_EXHAUSTED');
  });

  it('never lets concurrent adds take a group past its maximum', async () => {
    const { api } = setup({ maxGroupMembers: 3, maxPageSize: 500 });
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob'] });
    const results = await Promise.allSettled([
      invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['carol'] }),
      invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['dave'] }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await invoke(api.ListMembers, { conversationId: 'g_team' })).userIds).toHaveLength(3);
  });

  it('counts a repeated id once against the maximum', async () => {
    const { api } = setup({ maxGroupMembers: 3, maxPageSize: 500 });
    expect(await invoke(api.CreateGroup, { conversationId: 'g_rep', memberIds: ['alice', 'alice', 'alice', 'alice'] })).toMatchObject({ memberCount: 1 });
  });

  it('counts only new members against the maximum', async () => {
    const { api } = setup({ maxGroupMembers: 3, maxPageSize: 500 });
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob', 'carol'] });
    // Already members: the group does not grow, so this is allowed.
    expect(await invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['alice', 'bob', 'carol'] })).toMatchObject({ memberCount: 3 });
    await invoke(api.RemoveMembers, { conversationId: 'g_team', userIds: ['carol'] });
    expect(await invoke(api.AddMembers, { conversationId: 'g_team', userIds: ['alice', 'dave'] })).toMatchObject({ memberCount: 3 });
    expect(await invoke(api.ListMembers, { conversationId: 'g_team' })).toEqual({ userIds: ['alice', 'bob', 'dave'] });
  });
});

describe('History and Sync', () => {
  async function seeded(count: number, limits?: StorageApiLimits) {
    const { store, api } = setup(limits);
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice', 'bob'] });
    const messages = await seedMessages(store, 'g_team', count);
    return { store, api, messages };
  }

  it('caps the default page size at MAX_PAGE_SIZE too', async () => {
    const { api } = await seeded(120, { maxGroupMembers: 10, maxPageSize: 5 });
    expect((await invoke(api.History, { userId: 'bob', conversationId: 'g_team', fromSeq: 0, toSeq: 0, order: 'HISTORY_ORDER_NEWEST_FIRST', limit: 0 })).messages).toHaveLength(5);
    expect((await invoke(api.Sync, { userId: 'bob', conversationId: 'g_team', afterSeq: 0, limit: 0 })).messages).toHaveLength(5);
  });
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
  });

  it('answers NOT_FOUND for an unknown conversation', async () => {
    const { api } = setup();
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

  it('lets a trusted internal caller (empty user id) read without a membership check', async () => {
    const { api } = await seeded(3);
    expect((await invoke(api.Sync, sync(0, 0, ''))).messages!.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect((await invoke(api.History, history({ userId: '' }))).messages!.map((m) => m.seq)).toEqual([3, 2, 1]);
  });

  it('does not mix conversations', async () => {
    const { api, store } = await seeded(3);
    await invoke(api.CreateGroup, { conversationId: 'g_other', memberIds: ['bob'] });
    await seedMessages(store, 'g_other', 2);
    expect((await invoke(api.Sync, sync(0))).messages!.every((m) => m.conversationId === 'g_team')).toBe(true);
    expect((await invoke(api.Sync, { ...sync(0), conversationId: 'g_other' })).messages!.map((m) => m.seq)).toEqual([1, 2]);
  });
});

describe('CheckSend and GetConversation', () => {
  it('says whether the user is a member and returns a stored message of that conversation', async () => {
    const { api, store } = setup();
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'] });
    await invoke(api.CreateGroup, { conversationId: 'g_other', memberIds: ['alice'] });
    const [stored] = await seedMessages(store, 'g_team', 1);
    expect(await invoke(api.CheckSend, { conversationId: 'g_team', userId: 'alice', serverMsgId: stored!.serverMsgId })).toEqual({ member: true, existing: stored });
    expect(await invoke(api.CheckSend, { conversationId: 'g_team', userId: 'alice', serverMsgId: serverMsgIdFor('g_team', 'alice', 'new') })).toEqual({ member: true });
    expect(await invoke(api.CheckSend, { conversationId: 'g_team', userId: 'alice', serverMsgId: '' })).toEqual({ member: true });
    // A message of another conversation is not a resend into this one.
    expect(await invoke(api.CheckSend, { conversationId: 'g_other', userId: 'alice', serverMsgId: stored!.serverMsgId })).toEqual({ member: true });
    expect(await invoke(api.CheckSend, { conversationId: 'g_team', userId: 'bob', serverMsgId: '' })).toEqual({ member: false });
    await expectStatus(api.CheckSend, { conversationId: 'g_nope', userId: 'alice', serverMsgId: '' }, status.NOT_FOUND, 'NOT_FOUND');
    await expectStatus(api.CheckSend, { conversationId: 'g_team', userId: '', serverMsgId: '' }, status.INVALID_ARGUMENT, 'INVALID_ARGUMENT');
  });

  it('reports the last stored seq of a conversation', async () => {
    const { api, store } = setup();
    await invoke(api.CreateGroup, { conversationId: 'g_team', memberIds: ['alice'] });
    await seedMessages(store, 'g_team', 4);
    expect(await invoke(api.GetConversation, { conversationId: 'g_team' })).toMatchObject({ conversationId: 'g_team', lastSeq: 4, memberCount: 1, kind: 'CONVERSATION_KIND_GROUP' });
    await expectStatus(api.GetConversation, { conversationId: 'g_nope' }, status.NOT_FOUND, 'NOT_FOUND');
  });
});
