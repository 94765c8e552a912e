// The store contracts, one section per port, run against every adapter (memory; MongoDB
// on FerretDB locally; Redis for the registers).
import { randomUUID } from 'node:crypto';
import { serverMsgIdFor } from '@parley/core';
import type { ApiKeyDoc, KeyStore } from './keys';
import type { ConversationStore, LoggedMessage, MaxRegisters, MessageLog, PositionStore } from './port';
import { SMALL_CONVERSATION } from './port';

export interface StoreContractFixture {
  conversations: ConversationStore;
  log: MessageLog;
  positions: PositionStore;
  close(): Promise<void>;
}

export function message(conversationId: string, seq: number, overrides: Partial<LoggedMessage> = {}): LoggedMessage {
  const senderId = overrides.senderId ?? 'alice';
  const clientMsgId = overrides.clientMsgId ?? randomUUID();
  return {
    serverMsgId: serverMsgIdFor(conversationId, senderId, clientMsgId),
    conversationId,
    seq,
    senderId,
    senderDeviceId: 'phone',
    clientMsgId,
    body: `body ${seq}`,
    sentAt: 1_700_000_000_000 + seq,
    ...overrides,
  };
}

const seqs = (docs: { seq: number }[]) => docs.map((m) => m.seq);

export function runStoreContract(name: string, makeFixture: () => Promise<StoreContractFixture>): void {
  describe(`ConversationStore contract: ${name}`, () => {
    let f: StoreContractFixture;
    beforeAll(async () => {
      f = await makeFixture();
    });
    afterAll(async () => {
      await f.close();
    });

    it('creates a conversation once and tracks its members', async () => {
      const id = `g_${randomUUID()}`;
      expect(await f.conversations.createConversation({ conversationId: id, kind: 'group', memberIds: ['a', 'b', 'a'], createdAt: 1 })).toBe('created');
      expect(await f.conversations.createConversation({ conversationId: id, kind: 'group', memberIds: ['x'], createdAt: 2 })).toBe('exists');
      expect((await f.conversations.listMembers(id, '', 100)).userIds).toEqual(['a', 'b']);
      expect(await f.conversations.addMembers(id, ['c', 'b'])).toEqual({ result: 'added', added: ['c'] });
      expect(await f.conversations.removeMembers(id, ['a', 'zed'])).toEqual(['a']);
      expect((await f.conversations.listMembers(id, '', 100)).userIds).toEqual(['b', 'c']);
      expect(await f.conversations.membership(id, 'c')).toEqual({ exists: true, member: true, memberCount: 2, memberIds: ['b', 'c'] });
      expect(await f.conversations.membership(id, 'a')).toMatchObject({ exists: true, member: false });
      expect(await f.conversations.membership(`g_${randomUUID()}`, 'c')).toMatchObject({ exists: false, member: false });
      expect(await f.conversations.getConversation(id)).toMatchObject({ conversationId: id, kind: 'group', memberCount: 2 });
      expect(await f.conversations.getConversation(`g_${randomUUID()}`)).toBeUndefined();
    });

    it('creates a direct conversation idempotently, both members at once', async () => {
      const id = `d_${randomUUID()}`;
      const create = () => f.conversations.createConversation({ conversationId: id, kind: 'direct', memberIds: ['ann', 'bob'], createdAt: 5 });
      expect(await create()).toBe('created');
      expect(await create()).toBe('exists');
      expect(await f.conversations.membership(id, 'bob')).toEqual({ exists: true, member: true, memberCount: 2, memberIds: ['ann', 'bob'] });
      expect(await f.conversations.conversationsOf('ann', '', 10)).toContain(id);
    });

    it('answers membership of a large conversation per user, without listing it', async () => {
      const id = `g_${randomUUID()}`;
      const many = Array.from({ length: SMALL_CONVERSATION + 4 }, (_, i) => `u${String(i).padStart(4, '0')}`);
      await f.conversations.createConversation({ conversationId: id, kind: 'group', memberIds: many, createdAt: 1 });
      const answer = await f.conversations.membership(id, many[7]!);
      expect(answer).toMatchObject({ exists: true, member: true, memberCount: many.length });
      expect(answer.memberIds).toBeUndefined();
      expect((await f.conversations.membership(id, 'stranger')).member).toBe(false);
      // Pages in user id order.
      const first = await f.conversations.listMembers(id, '', 100);
      expect(first).toEqual({ userIds: many.slice(0, 100), hasMore: true });
      const last = await f.conversations.listMembers(id, many[199]!, 1_000);
      expect(last).toEqual({ userIds: many.slice(200), hasMore: false });
    });

    it('adds members up to a limit, atomically, and adds nobody past it', async () => {
      const id = `g_${randomUUID()}`;
      await f.conversations.createConversation({ conversationId: id, kind: 'group', memberIds: ['a', 'b'], createdAt: 1 });
      expect((await f.conversations.addMembers(id, ['a', 'c', 'd'], 3)).result).toBe('full');
      expect((await f.conversations.listMembers(id, '', 10)).userIds).toEqual(['a', 'b']);
      expect(await f.conversations.addMembers(id, ['a', 'b'], 2)).toEqual({ result: 'added', added: [] });
      const raced = await Promise.all(['c', 'd', 'e', 'f'].map((u) => f.conversations.addMembers(id, [u], 4)));
      const added = raced.filter((r) => r.result === 'added').length;
      expect(added).toBeLessThanOrEqual(2);
      const members = (await f.conversations.listMembers(id, '', 10)).userIds;
      expect(members.length).toBe(2 + added);
      expect((await f.conversations.getConversation(id))?.memberCount).toBe(members.length);
    });

    it('allows bots apart from the members: answered by membership, never listed, counted or in a member list', async () => {
      const id = `g_${randomUUID()}`;
      await f.conversations.createConversation({ conversationId: id, kind: 'group', memberIds: ['a', 'b'], createdAt: 1 });
      expect((await f.conversations.getConversation(id))?.botIds).toEqual([]);
      expect(await f.conversations.membership(id, 'bot:support')).toMatchObject({ exists: true, member: false });
      expect(await f.conversations.addBots(id, ['bot:support', 'bot:alerts', 'bot:support'], 32)).toBe('added');
      expect(await f.conversations.addBots(id, ['bot:support'], 32)).toBe('added');
      expect(await f.conversations.membership(id, 'bot:support')).toMatchObject({ exists: true, member: true, memberCount: 2 });
      expect(await f.conversations.membership(id, 'bot:other')).toMatchObject({ exists: true, member: false });
      expect(await f.conversations.getConversation(id)).toMatchObject({ memberCount: 2, botIds: ['bot:alerts', 'bot:support'] });
      expect((await f.conversations.listMembers(id, '', 10)).userIds).toEqual(['a', 'b']);
      expect((await f.conversations.membership(id, 'a')).memberIds).toEqual(['a', 'b']);
      expect(await f.conversations.conversationsOf('bot:support', '', 10)).toEqual([]);
      await f.conversations.removeBots(id, ['bot:support', 'bot:never']);
      expect(await f.conversations.membership(id, 'bot:support')).toMatchObject({ exists: true, member: false });
      expect((await f.conversations.getConversation(id))?.botIds).toEqual(['bot:alerts']);
      expect(await f.conversations.addBots(`g_${randomUUID()}`, ['bot:support'], 32)).toBe('absent');
    });

    it('allows bots into a direct conversation too, its pair unchanged', async () => {
      const id = `d_${randomUUID()}`;
      await f.conversations.createConversation({ conversationId: id, kind: 'direct', memberIds: ['ann', 'bob'], createdAt: 5 });
      expect(await f.conversations.addBots(id, ['bot:safety'], 32)).toBe('added');
      expect(await f.conversations.membership(id, 'bot:safety')).toMatchObject({ exists: true, member: true, memberCount: 2 });
      expect(await f.conversations.membership(id, 'ann')).toEqual({ exists: true, member: true, memberCount: 2, memberIds: ['ann', 'bob'] });
    });

    it('allows bots up to a limit, atomically, and none of a call past it', async () => {
      const id = `g_${randomUUID()}`;
      await f.conversations.createConversation({ conversationId: id, kind: 'group', memberIds: ['a'], createdAt: 1 });
      expect(await f.conversations.addBots(id, ['bot:a', 'bot:b'], 3)).toBe('added');
      expect(await f.conversations.addBots(id, ['bot:c', 'bot:d'], 3)).toBe('full');
      expect((await f.conversations.getConversation(id))?.botIds).toEqual(['bot:a', 'bot:b']);
      const raced = await Promise.all(['bot:w', 'bot:x', 'bot:y', 'bot:z'].map((b) => f.conversations.addBots(id, [b], 4)));
      const added = raced.filter((r) => r === 'added').length;
      expect(added).toBeLessThanOrEqual(2);
      expect((await f.conversations.getConversation(id))?.botIds).toHaveLength(2 + added);
    });

    it("lists a user's conversations in id order, in pages", async () => {
      const user = `u_${randomUUID()}`;
      const ids = [`g_${randomUUID()}`, `g_${randomUUID()}`, `g_${randomUUID()}`].sort();
      for (const id of ids) await f.conversations.createConversation({ conversationId: id, kind: 'group', memberIds: [user, 'alice'], createdAt: 1 });
      expect(await f.conversations.conversationsOf(user, '', 10)).toEqual(ids);
      expect(await f.conversations.conversationsOf(user, ids[0]!, 10)).toEqual(ids.slice(1));
      expect(await f.conversations.conversationsOf(user, '', 2)).toEqual(ids.slice(0, 2));
      expect(await f.conversations.conversationsOf(`nobody_${randomUUID()}`, '', 10)).toEqual([]);
    });
  });

  describe(`MessageLog contract: ${name}`, () => {
    let f: StoreContractFixture;
    beforeAll(async () => {
      f = await makeFixture();
    });
    afterAll(async () => {
      await f.close();
    });

    it('appends in order and stops at the first message that breaks a unique rule, saying which', async () => {
      const id = `g_${randomUUID()}`;
      const first = [1, 2, 3].map((s) => message(id, s, { origin: `0:${s}` }));
      expect(await f.log.append(first)).toEqual({ inserted: 3 });
      // seq 2 taken by another message
      expect(await f.log.append([message(id, 4), message(id, 2), message(id, 5)])).toEqual({ inserted: 1, conflict: { index: 1 } });
      // the same message again (a resend): the stored copy comes back, with its origin
      const again = await f.log.append([{ ...first[2]!, seq: 9, origin: '0:99' }, message(id, 10)]);
      expect(again.inserted).toBe(0);
      expect(again.conflict).toEqual({ index: 0, existing: first[2] });
      // the same clientMsgId of the same sender is the same message, whatever its id says
      const sameClient = await f.log.append([message(id, 5, { clientMsgId: first[0]!.clientMsgId, serverMsgId: 'm_other' })]);
      expect(sameClient.conflict?.existing?.serverMsgId).toBe(first[0]!.serverMsgId);
      // the same clientMsgId from another sender is another message
      expect(await f.log.append([message(id, 5, { clientMsgId: first[0]!.clientMsgId, senderId: 'bob' })])).toEqual({ inserted: 1 });
      expect(seqs(await f.log.range(id, 1, 100))).toEqual([1, 2, 3, 4, 5]);
      expect(await f.log.find(first[1]!.serverMsgId)).toEqual(first[1]);
      expect(await f.log.find('m_nope')).toBeUndefined();
    });

    it('stops a long append (over 100) at its first collision, writing nothing after it', async () => {
      const id = `g_${randomUUID()}`;
      expect((await f.log.append([message(id, 150)])).inserted).toBe(1);
      const run = Array.from({ length: 230 }, (_, i) => message(id, i + 1)); // seq 150 collides
      expect(await f.log.append(run)).toEqual({ inserted: 149, conflict: { index: 149 } });
      expect(seqs(await f.log.range(id, 140, 160))).toEqual([140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150]);
      expect(await f.log.lastSeq(id)).toBe(150);
    });

    it('mixes conversations in one append; a collision in one stops what follows it', async () => {
      const [a, b] = [`g_${randomUUID()}`, `g_${randomUUID()}`];
      await f.log.append([message(b, 2)]);
      expect(await f.log.append([message(a, 1), message(b, 1), message(a, 2), message(b, 2), message(a, 3)])).toEqual({ inserted: 3, conflict: { index: 3 } });
      expect(seqs(await f.log.range(a, 1, 10))).toEqual([1, 2]);
      expect(seqs(await f.log.range(b, 1, 10))).toEqual([1, 2]);
    });

    it('reads ranges in seq order across buckets, and the last seq whatever the history', async () => {
      const id = `g_${randomUUID()}`;
      // Out of order on purpose, across three buckets of 128.
      const all = Array.from({ length: 300 }, (_, i) => i + 1);
      const shuffled = [...all].sort((x, y) => ((x * 7919) % 301) - ((y * 7919) % 301));
      for (let i = 0; i < shuffled.length; i += 50) await f.log.append(shuffled.slice(i, i + 50).map((s) => message(id, s)));
      await f.log.noteStored(new Map([[id, 130]]));
      expect(seqs(await f.log.range(id, 1, 300))).toEqual(all);
      expect(seqs(await f.log.range(id, 120, 140))).toEqual(all.slice(119, 140));
      expect(seqs(await f.log.range(id, 299, 400))).toEqual([299, 300]);
      expect(await f.log.range(id, 10, 5)).toEqual([]);
      expect(await f.log.range(`g_${randomUUID()}`, 1, 10)).toEqual([]);
      // The marks name bucket 1 only: the last seq is still found (walked from there).
      expect(await f.log.lastSeq(id)).toBe(300);
      expect(await f.log.lastSeq(`g_${randomUUID()}`)).toBe(0);
    });
  });

  describe(`PositionStore contract: ${name}`, () => {
    let f: StoreContractFixture;
    beforeAll(async () => {
      f = await makeFixture();
    });
    afterAll(async () => {
      await f.close();
    });

    it('keeps the highest position per member and kind, idempotently', async () => {
      const c = `g_${randomUUID()}`;
      expect(await f.positions.read(c, 'ann', 'read')).toBe(0);
      await f.positions.raise([{ conversationId: c, userId: 'ann', kind: 'read', seq: 3 }]);
      await f.positions.raise([{ conversationId: c, userId: 'ann', kind: 'read', seq: 2, previous: 3 }]); // never back
      await f.positions.raise([{ conversationId: c, userId: 'ann', kind: 'read', seq: 3, previous: 3 }]); // again
      await f.positions.raise([{ conversationId: c, userId: 'ann', kind: 'delivered', seq: 200 }]);
      await f.positions.raise([{ conversationId: c, userId: 'ann', kind: 'delivered', seq: 1_000, previous: 200 }]);
      expect(await f.positions.read(c, 'ann', 'read')).toBe(3);
      expect(await f.positions.read(c, 'ann', 'delivered')).toBe(1_000);
      expect(await f.positions.read(c, 'bob', 'read')).toBe(0);
    });
  });
}

export interface RegistersFixture {
  registers: MaxRegisters;
  close(): Promise<void>;
}

export function runRegistersContract(name: string, makeFixture: () => Promise<RegistersFixture>): void {
  describe(`MaxRegisters contract: ${name}`, () => {
    let f: RegistersFixture;
    beforeAll(async () => {
      f = await makeFixture();
    });
    afterAll(async () => {
      await f.close();
    });

    it('only moves up, and answers only what it holds', async () => {
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      await f.registers.raise(new Map([[a, 5], [b, 0]]));
      await f.registers.raise(new Map([[a, 3]]));
      await Promise.all([7, 9, 8].map((v) => f.registers.raise(new Map([[b, v]]))));
      const held = await f.registers.read([a, b, c]);
      expect(held).toEqual(new Map([[a, 5], [b, 9]]));
      expect(await f.registers.read([])).toEqual(new Map());
    });

    it('holds facts as written, and answers only those it holds', async () => {
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      await f.registers.putFacts(new Map([[a, 'alice\nbob'], [b, 'carol\ndave']]));
      await f.registers.putFacts(new Map([[b, 'carol\ndave']]));
      expect(await f.registers.readFacts([a, b, c])).toEqual(new Map([[a, 'alice\nbob'], [b, 'carol\ndave']]));
      expect(await f.registers.readFacts([])).toEqual(new Map());
    });
  });
}

export function runKeyStoreContract(name: string, makeStore: () => Promise<{ keys: KeyStore; close(): Promise<void> }>): void {
  describe(`KeyStore contract: ${name}`, () => {
    let f: { keys: KeyStore; close(): Promise<void> };
    beforeAll(async () => {
      f = await makeStore();
    });
    afterAll(async () => {
      await f.close();
    });
    const doc = (keyId: string, over: Partial<ApiKeyDoc> = {}): ApiKeyDoc => ({
      keyId,
      name: `key ${keyId}`,
      scopes: ['conversations:admin'],
      secretHash: 'ab'.repeat(32),
      createdAt: 1_700_000_000_000,
      createdBy: 'bootstrap',
      revokedAt: 0,
      ...over,
    });
    const prefix = () => randomUUID().replace(/-/g, '').slice(0, 8);

    it('stores a key once: a second insert of the same id changes nothing', async () => {
      const id = `${prefix()}aaaaaaaa`;
      expect(await f.keys.insert(doc(id, { scopes: ['messages:read', 'messages:send-as'] }))).toBe('created');
      expect(await f.keys.insert(doc(id, { name: 'impostor', scopes: ['keys:admin'] }))).toBe('exists');
      expect(await f.keys.get(id)).toEqual(doc(id, { scopes: ['messages:read', 'messages:send-as'] }));
      expect(await f.keys.get(`${prefix()}missing0`)).toBeUndefined();
    });

    it("keeps a bot key's bot", async () => {
      const id = `${prefix()}bbbbbbbb`;
      expect(await f.keys.insert(doc(id, { scopes: ['messages:send-as-bot'], botId: 'bot:support' }))).toBe('created');
      expect(await f.keys.get(id)).toEqual(doc(id, { scopes: ['messages:send-as-bot'], botId: 'bot:support' }));
      expect((await f.keys.list(id.slice(0, 8), 10)).find((k) => k.keyId === id)?.botId).toBe('bot:support');
    });

    it('revokes once: the first time is kept, an unknown key is undefined', async () => {
      const id = `${prefix()}bbbbbbbb`;
      await f.keys.insert(doc(id));
      expect((await f.keys.revoke(id, 2_000))?.revokedAt).toBe(2_000);
      expect((await f.keys.revoke(id, 3_000))?.revokedAt).toBe(2_000);
      expect((await f.keys.get(id))?.revokedAt).toBe(2_000);
      expect(await f.keys.revoke(`${prefix()}missing1`, 1)).toBeUndefined();
    });

    it('lists in key-id order after a cursor, in pages', async () => {
      const p = prefix();
      const ids = ['c', 'a', 'd', 'b'].map((c) => `${p}${c.repeat(8)}`);
      for (const id of ids) await f.keys.insert(doc(id));
      const mine = async (after: string, limit: number) => (await f.keys.list(after, limit)).map((k) => k.keyId).filter((k) => k.startsWith(p));
      expect(await mine(p, 100)).toEqual([...ids].sort());
      const first = await f.keys.list(p, 2);
      expect(first.map((k) => k.keyId)).toEqual([...ids].sort().slice(0, 2));
      expect(await mine(first[1]!.keyId, 2)).toEqual([...ids].sort().slice(2, 4));
    });
  });
}
