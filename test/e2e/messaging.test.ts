// End to end: the four services as separate processes, real WebSocket clients,
// real Kafka, Redis and MongoDB-wire server. Asserts what users see.
import { randomUUID } from 'node:crypto';
import { callUnary } from '@parley/core';
import type { MessagesResponse__Output } from '@parley/proto';
import { TestClient, upgradeStatus as upgradeStatusOf, type MsgFrame } from './support/client';
import { Platform } from './support/platform';

jest.setTimeout(180_000);

let platform: Platform;
const clients: TestClient[] = [];

async function connect(userId: string, deviceId: string): Promise<TestClient> {
  const client = await TestClient.connect(platform.wsUrl, platform.token(userId, deviceId), userId, deviceId);
  clients.push(client);
  return client;
}

/** Checks one device's view of a conversation: exactly the expected messages, once each, seq 1..n in order. */
function expectCompleteInOrder(messages: MsgFrame[], expectedCount: number): void {
  const seqs = messages.map((m) => m.seq);
  expect(seqs).toEqual(Array.from({ length: expectedCount }, (_, i) => i + 1));
  expect(new Set(messages.map((m) => m.serverMsgId)).size).toBe(expectedCount);
}

beforeAll(async () => {
  platform = await new Platform({ partitions: 4 }).start();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await platform?.stop();
});

describe('one-to-one chat', () => {
  it('delivers 200 interleaved messages to every device exactly once, in seq order, gap-free from 1', async () => {
    const alice = `alice-${randomUUID()}`;
    const bob = `bob-${randomUUID()}`;
    const conversationId = await platform.createDirect(alice, bob);
    expect(await platform.createDirect(bob, alice)).toBe(conversationId);
    const alicePhone = await connect(alice, 'phone');
    const bobPhone = await connect(bob, 'phone');
    const bobLaptop = await connect(bob, 'laptop');

    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      sends.push(alicePhone.send(conversationId, `a${i}`));
      sends.push((i % 2 === 0 ? bobPhone : bobLaptop).send(conversationId, `b${i}`));
    }
    const answers = (await Promise.all(sends)) as { type: string }[];
    expect(answers.filter((a) => a.type !== 'ack')).toEqual([]);

    for (const device of [alicePhone, bobPhone, bobLaptop]) {
      await device.waitFor(() => device.messages(conversationId).length >= 200);
      expectCompleteInOrder(device.messages(conversationId), 200);
    }
    // Every device saw the same order.
    const order = (c: TestClient) => c.messages(conversationId).map((m) => m.serverMsgId);
    expect(order(bobPhone)).toEqual(order(alicePhone));
    expect(order(bobLaptop)).toEqual(order(alicePhone));
    // Each sender's own messages keep the order they were sent in (one socket, sequential per sender... per device).
    const aliceBodies = alicePhone.messages(conversationId).filter((m) => m.senderId === alice).map((m) => m.body);
    expect(new Set(aliceBodies).size).toBe(100);
    // The sender identity comes from the token.
    expect(alicePhone.messages(conversationId).filter((m) => m.senderId === bob)).toHaveLength(100);
  });

  it('answers a resend of a clientMsgId with the same serverMsgId, stores it once and delivers it once', async () => {
    const a = `a-${randomUUID()}`;
    const b = `b-${randomUUID()}`;
    const conversationId = await platform.createDirect(a, b);
    const device = await connect(a, 'd1');
    const clientMsgId = randomUUID();
    const first = await device.send(conversationId, 'hello', clientMsgId);
    expect(first.type).toBe('ack');
    await device.waitFor(() => device.messages(conversationId).length === 1);
    const again = await device.send(conversationId, 'hello', clientMsgId);
    // The router answers before storage sees the resend: no seq (PROTOCOL.md, ack).
    expect(again).toMatchObject({ type: 'ack', serverMsgId: first['serverMsgId'] });
    expect(again['seq']).toBeUndefined();
    // A resend racing the first (before storage has it) is also deduplicated.
    const raceId = randomUUID();
    const [r1, r2] = await Promise.all([device.send(conversationId, 'race', raceId), device.send(conversationId, 'race', raceId)]);
    expect(r1['serverMsgId']).toBe(r2['serverMsgId']);
    await device.waitFor(() => device.messages(conversationId).some((m) => m.clientMsgId === raceId));
    const history = await device.request({ type: 'history', conversationId, order: 'oldest_first', limit: 100 });
    const stored = history['messages'] as MsgFrame[];
    expect(stored.map((m) => m.clientMsgId)).toEqual([clientMsgId, raceId]);
    expect(stored.map((m) => m.seq)).toEqual([1, 2]);
    // A barrier after both resends: once it arrived, the resends would have too. Each
    // message reached the device exactly once (no second delivery of the same seq).
    await device.send(conversationId, 'barrier', randomUUID());
    await device.waitFor(() => device.messages(conversationId).some((m) => m.body === 'barrier'));
    expect(device.messages(conversationId).map((m) => m.seq)).toEqual([1, 2, 3]);
  });
});

describe('groups', () => {
  it('shows every member device the same order when three members send concurrently', async () => {
    const users = Array.from({ length: 5 }, (_, i) => `g${i}-${randomUUID()}`);
    const conversationId = await platform.createGroup(users);
    const devices = await Promise.all(users.flatMap((u, i) => (i < 2 ? [connect(u, 'phone'), connect(u, 'tablet')] : [connect(u, 'phone')])));
    const senders = [devices[0]!, devices[2]!, devices[4]!];
    await Promise.all(
      senders.map(async (sender, s) => {
        for (let i = 0; i < 17; i++) {
          if (s * 17 + i >= 50) break;
          const ack = await sender.send(conversationId, `s${s}-${i}`);
          expect(ack.type).toBe('ack');
        }
      }),
    );
    const reference = devices[0]!;
    await Promise.all(devices.map((d) => d.waitFor(() => d.messages(conversationId).length >= 50)));
    expectCompleteInOrder(reference.messages(conversationId), 50);
    for (const device of devices) {
      expect(device.messages(conversationId).map((m) => m.serverMsgId)).toEqual(reference.messages(conversationId).map((m) => m.serverMsgId));
    }
    // Per sender, messages appear in the order that sender sent them.
    for (let s = 0; s < 3; s++) {
      const bodies = reference.messages(conversationId).filter((m) => m.body.startsWith(`s${s}-`)).map((m) => Number(m.body.split('-')[1]));
      expect(bodies).toEqual([...bodies].sort((x, y) => x - y));
    }
  });
});

describe('group membership', () => {
  it('delivers to members added later and stops delivering to members removed', async () => {
    const [owner, late, leaver] = ['owner', 'late', 'leaver'].map((n) => `${n}-${randomUUID()}`) as [string, string, string];
    const storage = platform.storage();
    const conversationId = await platform.createGroup([owner, leaver]);
    const ownerDevice = await connect(owner, 'd');
    const lateDevice = await connect(late, 'd');
    const leaverDevice = await connect(leaver, 'd');
    expect((await ownerDevice.send(conversationId, 'before')).type).toBe('ack');
    await leaverDevice.waitFor(() => leaverDevice.messages(conversationId).length === 1);
    expect((await lateDevice.send(conversationId, 'not yet')).type).toBe('error');

    await callUnary('Storage.AddMembers', 5_000, (md, opts, cb) => storage.addMembers({ conversationId, userIds: [late] }, md, opts, cb));
    await callUnary('Storage.RemoveMembers', 5_000, (md, opts, cb) => storage.removeMembers({ conversationId, userIds: [leaver] }, md, opts, cb));
    const members = await callUnary<{ userIds: string[] }>('Storage.ListMembers', 5_000, (md, opts, cb) => storage.listMembers({ conversationId }, md, opts, cb));
    expect(members.userIds).toEqual([late, owner].sort());
    // Storage caches member lists for up to a second.
    await new Promise((resolve) => setTimeout(resolve, 1_200));

    expect((await ownerDevice.send(conversationId, 'after')).type).toBe('ack');
    expect((await lateDevice.send(conversationId, 'joined')).type).toBe('ack');
    await lateDevice.waitFor(() => lateDevice.messages(conversationId).length === 2);
    expect(lateDevice.messages(conversationId).map((m) => [m.seq, m.body])).toEqual([
      [2, 'after'],
      [3, 'joined'],
    ]);
    expect((await leaverDevice.send(conversationId, 'still here?')).type).toBe('error');
    await ownerDevice.waitFor(() => ownerDevice.messages(conversationId).length === 3);
    expect(leaverDevice.messages(conversationId).map((m) => m.body)).toEqual(['before']);
    // The late member can read what came before joining through history.
    const history = await lateDevice.request({ type: 'history', conversationId, order: 'oldest_first' });
    expect((history['messages'] as MsgFrame[]).map((m) => m.body)).toEqual(['before', 'after', 'joined']);
  });
});

describe('history and sync', () => {
  it('return the same messages, over the socket and over gRPC, and refuse non-members', async () => {
    const a = `h-${randomUUID()}`;
    const b = `h-${randomUUID()}`;
    const conversationId = await platform.createDirect(a, b);
    const device = await connect(a, 'd');
    for (let i = 0; i < 12; i++) expect((await device.send(conversationId, `m${i}`)).type).toBe('ack');
    await device.waitFor(() => device.messages(conversationId).length === 12);

    const sync = await device.request({ type: 'sync', conversationId, afterSeq: 0, limit: 100 });
    const historyDesc = await device.request({ type: 'history', conversationId, limit: 100 });
    const syncMsgs = sync['messages'] as MsgFrame[];
    expect(syncMsgs.map((m) => m.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect([...(historyDesc['messages'] as MsgFrame[])].reverse()).toEqual(syncMsgs);
    expect(syncMsgs).toEqual(device.messages(conversationId).map(({ type: _t, ...m }) => m));

    const page = await device.request({ type: 'sync', conversationId, afterSeq: 5, limit: 3 });
    expect((page['messages'] as MsgFrame[]).map((m) => m.seq)).toEqual([6, 7, 8]);
    expect(page['hasMore']).toBe(true);

    const storage = platform.storage();
    const grpcSync = await callUnary<MessagesResponse__Output>('Storage.Sync', 5_000, (md, opts, cb) => storage.sync({ userId: a, conversationId, afterSeq: 0, limit: 100 }, md, opts, cb));
    expect(grpcSync.messages.map((m) => m.serverMsgId)).toEqual(syncMsgs.map((m) => m.serverMsgId));

    const outsider = await connect(`o-${randomUUID()}`, 'd');
    const denied = await outsider.request({ type: 'history', conversationId });
    expect(denied).toMatchObject({ type: 'error', code: 'PERMISSION_DENIED' });
  });
});

describe('bad input', () => {
  const upgradeStatus = (headers: Record<string, string>, query = ''): Promise<number> => upgradeStatusOf(platform.wsUrl, `/${query}`, headers);


  it('refuses a body no store can keep (U+0000, a lone surrogate) before the ack, and the conversation goes on', async () => {
    const alice = `alice-${randomUUID()}`;
    const bob = `bob-${randomUUID()}`;
    const conversationId = await platform.createDirect(alice, bob);
    const alicePhone = await connect(alice, 'phone');
    const bobPhone = await connect(bob, 'phone');
    for (const body of ['before\u0000after', 'half \ud83d of an emoji']) {
      const answer = await alicePhone.send(conversationId, body);
      expect(answer).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT', retryable: false });
    }
    // The next message is stored with seq 1 (nothing refused took a seq) and delivered.
    expect((await alicePhone.send(conversationId, 'fine \ud83d\ude00')).type).toBe('ack');
    await bobPhone.waitFor(() => bobPhone.messages(conversationId).length >= 1);
    expect(bobPhone.messages(conversationId).map((m) => [m.seq, m.body])).toEqual([[1, 'fine \ud83d\ude00']]);
  });

  it('refuses upgrades without a valid token with HTTP 401 and no socket', async () => {
    expect(await upgradeStatus({})).toBe(401);
    expect(await upgradeStatus({ authorization: 'Bearer not.a.token' })).toBe(401);
    expect(await upgradeStatus({ authorization: `Bearer ${platform.token('u', 'd', -120)}` })).toBe(401);
    const forged = platform.token('u', 'd').slice(0, -4) + 'AAAA';
    expect(await upgradeStatus({ authorization: `Bearer ${forged}` })).toBe(401);
    expect(await upgradeStatus({}, `?access_token=${platform.token('u', 'd')}`)).toBe(101);
    expect(await upgradeStatus({ authorization: `Bearer ${platform.token('u', 'd')}`, origin: 'https://evil.example' })).toBe(403);
  });

  it('answers each bad frame with its documented error and loses nothing for anyone else', async () => {
    const a = `x-${randomUUID()}`;
    const b = `x-${randomUUID()}`;
    const conversationId = await platform.createDirect(a, b);
    const sender = await connect(a, 'd');
    const receiver = await connect(b, 'd');
    const stranger = await connect(`s-${randomUUID()}`, 'd');

    const expectError = async (client: TestClient, send: () => void, code: string) => {
      const before = client.errors().length;
      send();
      await client.waitFor(() => client.errors().length > before);
      expect(client.errors()[before]).toMatchObject({ type: 'error', code });
    };
    await expectError(sender, () => sender.sendRaw('{not json'), 'BAD_FRAME');
    await expectError(sender, () => sender.sendRaw(JSON.stringify({ type: 'teleport', clientMsgId: 'c1' })), 'UNKNOWN_FRAME_TYPE');
    expect(sender.errors().at(-1)?.['clientMsgId']).toBe('c1');
    await expectError(sender, () => sender.sendRaw(JSON.stringify({ type: 'send', clientMsgId: 'c2', conversationId: 'has space', body: 'x' })), 'INVALID_ARGUMENT');
    await expectError(sender, () => sender.sendRaw(Buffer.from([1, 2, 3])), 'BAD_FRAME');
    const nonMember = await stranger.send(conversationId, 'let me in');
    expect(nonMember).toMatchObject({ type: 'error', code: 'PERMISSION_DENIED' });
    const noSuch = await sender.send(`g_${randomUUID()}`, 'anyone?');
    expect(noSuch).toMatchObject({ type: 'error', code: 'NOT_FOUND' });

    // The socket is still usable after all of that.
    expect((await sender.send(conversationId, 'still here')).type).toBe('ack');

    // An oversize frame closes that socket with 1009, and only that socket.
    const victim = await connect(b, 'other');
    victim.sendRaw('x'.repeat(70 * 1024));
    await victim.waitFor(() => victim.closeCode !== undefined);
    expect(victim.closeCode).toBe(1009);

    expect((await sender.send(conversationId, 'after oversize')).type).toBe('ack');
    await receiver.waitFor(() => receiver.messages(conversationId).length >= 2);
    expect(receiver.messages(conversationId).map((m) => m.body)).toEqual(['still here', 'after oversize']);
    expect(stranger.messages()).toEqual([]);
  });
});
