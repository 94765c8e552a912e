// End to end: QoS 1 retransmission on ack=1 sockets, receipts and positions, unread
// counts, the conversation list (sync cursor), QoS 0 signals, and durable dedupe across
// a restart of router and storage.
import { randomUUID } from 'node:crypto';
import { TestClient, type Frame, type MsgFrame } from './support/client';
import { Platform, sleep } from './support/platform';

jest.setTimeout(180_000);

let platform: Platform;
const clients: TestClient[] = [];

async function connect(userId: string, deviceId: string, query = ''): Promise<TestClient> {
  const client = await TestClient.connect(platform.wsUrl, platform.token(userId, deviceId), userId, deviceId, query);
  clients.push(client);
  return client;
}


interface ConvState {
  conversationId: string;
  kind: string;
  lastSeq: number;
  deliveredSeq: number;
  readSeq: number;
  unread: number;
  memberCount: number;
}

async function convState(client: TestClient, conversationId: string): Promise<ConvState | undefined> {
  const answer = (await client.request({ type: 'convs', limit: 500 })) as Frame & { conversations: ConvState[] };
  expect(answer.type).toBe('convlist');
  return answer.conversations.find((c) => c.conversationId === conversationId);
}

beforeAll(async () => {
  platform = await new Platform({ partitions: 4, env: { RETRANSMIT_BASE_MS: '300', RECEIPT_FLUSH_MS: '50', MEMBERSHIP_CACHE_MS: '0' } }).start();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await platform?.stop();
});

describe('QoS 1: device acks and retransmission', () => {
  it('resends a msg until a recv covers it, then stops; sockets without ack=1 get it once', async () => {
    const [alice, bob] = [`alice-${randomUUID()}`, `bob-${randomUUID()}`];
    const conversationId = await platform.createDirect(alice, bob);
    const sender = await connect(alice, 'phone');
    const acking = await connect(bob, 'phone', 'ack=1');
    const plain = await connect(bob, 'laptop');
    expect((await sender.send(conversationId, 'hello')).type).toBe('ack');

    // No recv yet: the same frame comes again (first resend after 300 ms, then 600 ms...).
    await acking.waitFor(() => acking.messages(conversationId).length >= 3, 20_000);
    const copies = acking.messages(conversationId);
    expect(new Set(copies.map((m) => JSON.stringify(m))).size).toBe(1);
    expect(copies[0]!.seq).toBe(1);

    acking.post({ type: 'recv', conversationId, seq: 1 });
    await sleep(200);
    const afterAck = acking.messages(conversationId).length;
    await sleep(2_500); // longer than the next resends would have taken
    expect(acking.messages(conversationId)).toHaveLength(afterAck);
    expect(plain.messages(conversationId)).toHaveLength(1);
  });
});

describe('receipts, positions and unread counts', () => {
  it('stores delivered and read positions, broadcasts them, and keeps unread right', async () => {
    const [alice, bob] = [`alice-${randomUUID()}`, `bob-${randomUUID()}`];
    const conversationId = await platform.createGroup([alice, bob]);
    const alicePhone = await connect(alice, 'phone');
    const bobPhone = await connect(bob, 'phone', 'ack=1');
    const bobTablet = await connect(bob, 'tablet');
    for (let i = 0; i < 5; i++) expect((await alicePhone.send(conversationId, `m${i}`)).type).toBe('ack');
    await bobPhone.waitFor(() => new Set(bobPhone.messages(conversationId).map((m) => m.seq)).size === 5);

    expect(await convState(bobPhone, conversationId)).toMatchObject({ lastSeq: 5, deliveredSeq: 0, readSeq: 0, unread: 5, memberCount: 2, kind: 'group' });

    bobPhone.post({ type: 'recv', conversationId, seq: 5 });
    bobPhone.post({ type: 'read', conversationId, seq: 3 });
    const receipts = (c: TestClient) => c.ofType('receipt') as (Frame & { kind: string; seq: number; userId: string; deviceId: string })[];
    await alicePhone.waitFor(() => receipts(alicePhone).some((r) => r.kind === 'read' && r.seq === 3));
    await alicePhone.waitFor(() => receipts(alicePhone).some((r) => r.kind === 'delivered' && r.seq === 5));
    expect(receipts(alicePhone).every((r) => r.userId === bob && r.deviceId === 'phone')).toBe(true);
    // Bob's other device learns about the read (to clear its badge); the reading device does not.
    await bobTablet.waitFor(() => receipts(bobTablet).some((r) => r.kind === 'read' && r.seq === 3));
    expect(receipts(bobTablet).some((r) => r.kind === 'delivered')).toBe(false);
    expect(receipts(bobPhone)).toEqual([]);

    expect(await convState(bobPhone, conversationId)).toMatchObject({ lastSeq: 5, deliveredSeq: 5, readSeq: 3, unread: 2 });
    // From another device too: positions are per member (the highest of its devices).
    expect(await convState(bobTablet, conversationId)).toMatchObject({ readSeq: 3, unread: 2 });

    // Going back is ignored; going past the end is clamped: never negative.
    bobTablet.post({ type: 'read', conversationId, seq: 1 });
    bobTablet.post({ type: 'read', conversationId, seq: 999 });
    await alicePhone.waitFor(() => receipts(alicePhone).some((r) => r.kind === 'read' && r.seq === 5));
    const state = await convState(bobTablet, conversationId);
    expect(state).toMatchObject({ readSeq: 5, unread: 0 });
    expect(receipts(alicePhone).filter((r) => r.kind === 'read').map((r) => r.seq)).toEqual([3, 5]);
    // Alice's own positions are untouched.
    expect(await convState(alicePhone, conversationId)).toMatchObject({ lastSeq: 5, readSeq: 0, unread: 5 });
  });

  it('refuses positions in a conversation the user is not in, and bad positions', async () => {
    const [alice, bob, mallory] = [`alice-${randomUUID()}`, `bob-${randomUUID()}`, `mallory-${randomUUID()}`];
    const conversationId = await platform.createDirect(alice, bob);
    const intruder = await connect(mallory, 'phone');
    intruder.post({ type: 'read', conversationId, seq: 1 });
    await intruder.waitFor(() => intruder.errors().some((e) => e['code'] === 'PERMISSION_DENIED'));
    intruder.post({ type: 'recv', conversationId, seq: 0 });
    await intruder.waitFor(() => intruder.errors().some((e) => e['code'] === 'INVALID_ARGUMENT'));
  });
});

describe('QoS 0 signals', () => {
  it('reaches the other members devices only, and is refused to non-members and bad kinds', async () => {
    const [alice, bob, carol] = [`alice-${randomUUID()}`, `bob-${randomUUID()}`, `carol-${randomUUID()}`];
    const conversationId = await platform.createGroup([alice, bob]);
    const alicePhone = await connect(alice, 'phone');
    const aliceLaptop = await connect(alice, 'laptop');
    const bobPhone = await connect(bob, 'phone');
    const outsider = await connect(carol, 'phone');
    alicePhone.post({ type: 'signal', conversationId, kind: 'typing' });
    await bobPhone.waitFor(() => bobPhone.ofType('sig').length === 1);
    expect(bobPhone.ofType('sig')[0]).toMatchObject({ conversationId, senderId: alice, senderDeviceId: 'phone', kind: 'typing', data: '' });
    await aliceLaptop.waitFor(() => aliceLaptop.ofType('sig').length === 1);
    await sleep(300);
    expect(alicePhone.ofType('sig')).toEqual([]);
    expect(outsider.ofType('sig')).toEqual([]);

    outsider.post({ type: 'signal', conversationId, kind: 'typing' });
    await outsider.waitFor(() => outsider.errors().some((e) => e['code'] === 'PERMISSION_DENIED'));
    alicePhone.post({ type: 'signal', conversationId, kind: 'Typing!' });
    await alicePhone.waitFor(() => alicePhone.errors().some((e) => e['code'] === 'INVALID_ARGUMENT'));
    await sleep(300);
    expect(bobPhone.ofType('sig')).toHaveLength(1);
  });
});

describe('durable dedupe', () => {
  it('answers a resend after router and storage restarted with the original serverMsgId, and stores and delivers it once', async () => {
    const [alice, bob] = [`alice-${randomUUID()}`, `bob-${randomUUID()}`];
    const conversationId = await platform.createDirect(alice, bob);
    const alicePhone = await connect(alice, 'phone');
    const clientMsgId = randomUUID();
    const first = await alicePhone.send(conversationId, 'only once', clientMsgId);
    expect(first.type).toBe('ack');
    await alicePhone.waitFor(() => alicePhone.messages(conversationId).length === 1);
    const seq = alicePhone.messages(conversationId)[0]!.seq;

    for (const name of ['router', 'storage'] as const) await platform.restartProcess(platform.running(name)[0]!, 'SIGKILL');
    const again = await alicePhone.send(conversationId, 'only once', clientMsgId);
    expect(again).toMatchObject({ type: 'ack', serverMsgId: first['serverMsgId'] });
    await alicePhone.send(conversationId, 'barrier', randomUUID());
    await alicePhone.waitFor(() => alicePhone.messages(conversationId).some((m) => m.body === 'barrier'));
    const history = (await alicePhone.request({ type: 'sync', conversationId, afterSeq: 0 })) as Frame & { messages: MsgFrame[] };
    expect(history.messages.map((m) => [m.seq, m.clientMsgId])).toEqual([
      [seq, clientMsgId],
      [seq + 1, expect.any(String)],
    ]);
    expect(alicePhone.messages(conversationId).map((m) => m.seq)).toEqual([seq, seq + 1]);
  });
});
