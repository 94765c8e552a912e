// The message-store contract, run against every adapter (memory; MongoDB/FerretDB).
import { randomUUID } from 'node:crypto';
import type { MessageStore, StoredMessageDoc } from './port';

export interface StoreContractFixture {
  store: MessageStore;
  close(): Promise<void>;
}

function message(conversationId: string, seq: number, overrides: Partial<StoredMessageDoc> = {}): StoredMessageDoc {
  return {
    serverMsgId: `m_${randomUUID()}`,
    conversationId,
    seq,
    senderId: 'alice',
    senderDeviceId: 'phone',
    clientMsgId: randomUUID(),
    body: `body ${seq}`,
    sentAt: 1_700_000_000_000 + seq,
    ...overrides,
  };
}

export function runStoreContract(name: string, makeFixture: () => Promise<StoreContractFixture>): void {
  describe(`MessageStore contract: ${name}`, () => {
    let fixture: StoreContractFixture;
    beforeAll(async () => {
      fixture = await makeFixture();
    });
    afterAll(async () => {
      await fixture.close();
    });

    it('creates a conversation once and tracks its members', async () => {
      const id = `g_${randomUUID()}`;
      expect(await fixture.store.createConversation({ conversationId: id, kind: 'group', memberIds: ['a', 'b', 'a'], createdAt: 1 })).toBe('created');
      expect(await fixture.store.createConversation({ conversationId: id, kind: 'group', memberIds: ['x'], createdAt: 2 })).toBe('exists');
      expect(await fixture.store.listMembers(id)).toEqual(['a', 'b']);
      await fixture.store.addMembers(id, ['c', 'b']);
      await fixture.store.removeMembers(id, ['a']);
      expect(await fixture.store.listMembers(id)).toEqual(['b', 'c']);
      expect(await fixture.store.isMember(id, 'c')).toBe(true);
      expect(await fixture.store.isMember(id, 'a')).toBe(false);
      expect(await fixture.store.isMember(`g_${randomUUID()}`, 'c')).toBe(false);
      const conversation = await fixture.store.getConversation(id);
      expect(conversation).toMatchObject({ conversationId: id, kind: 'group', memberCount: 2, lastSeq: 0 });
      expect(await fixture.store.getConversation(`g_${randomUUID()}`)).toBeUndefined();
    });

    it('adds members up to a limit, atomically, and adds nobody past it', async () => {
      const id = `g_${randomUUID()}`;
      await fixture.store.createConversation({ conversationId: id, kind: 'group', memberIds: ['a', 'b'], createdAt: 1 });
      expect(await fixture.store.addMembers(id, ['a', 'c', 'd'], 3)).toBe('full');
      expect(await fixture.store.listMembers(id)).toEqual(['a', 'b']);
      expect(await fixture.store.addMembers(id, ['a', 'b'], 2)).toBe('added');
      const raced = await Promise.all(['c', 'd', 'e', 'f'].map((u) => fixture.store.addMembers(id, [u], 4)));
      expect(raced.filter((r) => r === 'added').length).toBeLessThanOrEqual(2);
      const members = await fixture.store.listMembers(id);
      expect(members.length).toBeLessThanOrEqual(4);
      expect(members.length).toBe(2 + raced.filter((r) => r === 'added').length);
      expect((await fixture.store.getConversation(id))?.memberCount).toBe(members.length);
    });

    it('moves device positions forward only, clamps them to the last seq, and lists a user\'s conversations', async () => {
      const user = `u_${randomUUID()}`;
      const [first, second] = [`g_${randomUUID()}`, `g_${randomUUID()}`].sort() as [string, string];
      for (const id of [first, second]) await fixture.store.createConversation({ conversationId: id, kind: 'group', memberIds: [user, 'alice'], createdAt: 1 });
      for (let seq = 1; seq <= 4; seq++) {
        expect(await fixture.store.insertMessage(message(first, seq))).toBe('inserted');
      }
      const position = (deviceId: string, kind: 'delivered' | 'read', seq: number) => fixture.store.recordPosition({ conversationId: first, userId: user, deviceId, kind, seq });
      expect(await position('phone', 'delivered', 3)).toBe(3);
      expect(await position('phone', 'delivered', 2)).toBeUndefined(); // never back
      expect(await position('phone', 'delivered', 3)).toBeUndefined(); // already there
      expect(await position('tablet', 'read', 99)).toBe(4); // clamped; a read is also delivered
      expect(await position('phone', 'read', 2)).toBe(2); // per device
      expect(await fixture.store.recordPosition({ conversationId: first, userId: 'stranger', deviceId: 'x', kind: 'read', seq: 1 })).toBeUndefined();
      expect(await fixture.store.recordPosition({ conversationId: `g_${randomUUID()}`, userId: user, deviceId: 'x', kind: 'read', seq: 1 })).toBeUndefined();
      expect(await fixture.store.recordPosition({ conversationId: second, userId: user, deviceId: 'x', kind: 'read', seq: 1 })).toBeUndefined(); // empty

      const all = await fixture.store.listConversationsOf(user, '', 10);
      expect(all.map((s) => s.conversation.conversationId)).toEqual([first, second]);
      // The member's position is the highest of its devices.
      expect(all[0]).toMatchObject({ deliveredSeq: 4, readSeq: 4, conversation: { lastSeq: 4, memberCount: 2 } });
      expect(all[1]).toMatchObject({ deliveredSeq: 0, readSeq: 0, conversation: { lastSeq: 0 } });
      expect((await fixture.store.listConversationsOf(user, first, 10)).map((s) => s.conversation.conversationId)).toEqual([second]);
      expect(await fixture.store.listConversationsOf(user, '', 1)).toHaveLength(1);
      expect(await fixture.store.listConversationsOf(`nobody_${randomUUID()}`, '', 10)).toEqual([]);
    });

    it('inserts a run up to the first message that breaks a unique rule, and finds messages in bulk', async () => {
      const id = `g_${randomUUID()}`;
      await fixture.store.createConversation({ conversationId: id, kind: 'group', memberIds: ['alice'], createdAt: 1 });
      const run = [1, 2, 3].map((seq) => message(id, seq));
      expect(await fixture.store.insertRun(run)).toBe(3);
      const clash = [message(id, 4), message(id, 2), message(id, 5)]; // seq 2 is taken
      expect(await fixture.store.insertRun(clash)).toBe(1);
      const resend = [message(id, 6), { ...run[0]!, seq: 7 }]; // the second is a duplicate
      expect(await fixture.store.insertRun(resend)).toBe(1);
      expect((await fixture.store.range(id, { order: 'asc', limit: 10 })).map((m) => m.seq)).toEqual([1, 2, 3, 4, 6]);
      const found = await fixture.store.findMessages([run[2]!.serverMsgId, 'm_nope', run[0]!.serverMsgId]);
      expect(found.map((m) => m.seq).sort()).toEqual([1, 3]);
      expect(await fixture.store.findMessages([])).toEqual([]);
    });

    it('stops a long run (over 100) at its first collision, writing nothing after it', async () => {
      const id = `g_${randomUUID()}`;
      await fixture.store.createConversation({ conversationId: id, kind: 'group', memberIds: ['alice'], createdAt: 1 });
      expect(await fixture.store.insertRun([message(id, 2)])).toBe(1);
      const run = Array.from({ length: 160 }, (_, i) => message(id, i + 1)); // seq 2 collides
      expect(await fixture.store.insertRun(run)).toBe(1);
      expect((await fixture.store.range(id, { order: 'asc', limit: 500 })).map((m) => m.seq)).toEqual([1, 2]);
      const long = Array.from({ length: 230 }, (_, i) => message(id, i + 3));
      expect(await fixture.store.insertRun(long)).toBe(230);
      expect(await fixture.store.maxSeq(id)).toBe(232);
    });

    it('repairs the last-seq hint forward only', async () => {
      const id = `g_${randomUUID()}`;
      await fixture.store.createConversation({ conversationId: id, kind: 'group', memberIds: ['a'], createdAt: 1 });
      await fixture.store.bumpLastSeq(id, 7);
      expect(await fixture.store.lastSeqHint(id)).toBe(7);
      await fixture.store.bumpLastSeq(id, 3);
      expect(await fixture.store.lastSeqHint(id)).toBe(7);
    });

    it('refuses a second message with the same seq, serverMsgId or clientMsgId', async () => {
      const id = `g_${randomUUID()}`;
      await fixture.store.createConversation({ conversationId: id, kind: 'group', memberIds: ['alice'], createdAt: 1 });
      const first = message(id, 1);
      expect(await fixture.store.insertMessage(first)).toBe('inserted');
      expect(await fixture.store.insertMessage(message(id, 1))).toBe('seq-taken');
      expect(await fixture.store.insertMessage({ ...first, seq: 2 })).toBe('duplicate');
      expect(await fixture.store.insertMessage(message(id, 2, { clientMsgId: first.clientMsgId }))).toBe('duplicate');
      // The same clientMsgId from another sender is another message.
      expect(await fixture.store.insertMessage(message(id, 2, { clientMsgId: first.clientMsgId, senderId: 'bob' }))).toBe('inserted');
      expect(await fixture.store.findMessage(first.serverMsgId)).toEqual(first);
      expect(await fixture.store.maxSeq(id)).toBe(2);
      expect(await fixture.store.lastSeqHint(id)).toBe(2);
      const all = await fixture.store.range(id, { order: 'asc', limit: 10 });
      expect(all.map((m) => m.seq)).toEqual([1, 2]);
    });

    it('returns ranges in seq order in both directions, bounded and limited', async () => {
      const id = `g_${randomUUID()}`;
      await fixture.store.createConversation({ conversationId: id, kind: 'group', memberIds: ['alice'], createdAt: 1 });
      // Inserted out of order on purpose.
      for (const seq of [3, 1, 5, 2, 4, 6]) expect(await fixture.store.insertMessage(message(id, seq))).toBe('inserted');
      expect((await fixture.store.range(id, { order: 'asc', limit: 100 })).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect((await fixture.store.range(id, { order: 'desc', limit: 2 })).map((m) => m.seq)).toEqual([6, 5]);
      expect((await fixture.store.range(id, { order: 'asc', fromSeq: 3, limit: 2 })).map((m) => m.seq)).toEqual([3, 4]);
      expect((await fixture.store.range(id, { order: 'desc', toSeq: 4, fromSeq: 2, limit: 10 })).map((m) => m.seq)).toEqual([4, 3, 2]);
      expect(await fixture.store.range(`g_${randomUUID()}`, { order: 'asc', limit: 10 })).toEqual([]);
    });
  });
}
