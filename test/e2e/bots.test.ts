// A bot (an internal service with a key of its own) posting into a conversation, over real
// processes, Kafka, Redis and MongoDB, with mutual TLS between the services: refused until an
// admin allows it, then an ordinary message every member's devices receive in seq order with
// the users' own, refused again once it is removed. The identities never mix: no token may
// name a bot, a bot key sends as no user, a send-as key as no bot.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { callUnary, createApiClient, type ParleyError } from '@parley/core';
import { parleyGrpc, type Conversation, type CreateKeyResponse__Output, type ListKeysResponse__Output, type MessagesResponse__Output } from '@parley/proto';
import { TestClient, upgradeStatus, type MsgFrame } from './support/client';
import { Platform, sleep } from './support/platform';

jest.setTimeout(180_000);

let platform: Platform;
const clients: TestClient[] = [];
const api = () => parleyGrpc().parley.v1;
const code = (p: Promise<unknown>): Promise<string> => p.then(() => 'OK', (err: ParleyError) => err.code);

async function createKey(name: string, scopes: string[], botId = ''): Promise<CreateKeyResponse__Output> {
  const keys = createApiClient(api().Keys, platform.storageAddr, platform.apiOptions('storage'));
  try {
    return await callUnary<CreateKeyResponse__Output>('Keys.CreateKey', 5_000, (md, opts, cb) => keys.createKey({ name, scopes, botId }, md, opts, cb));
  } finally {
    keys.close();
  }
}

function admin<T>(method: 'AddBots' | 'RemoveBots' | 'GetConversation', request: object): Promise<T> {
  const storage = platform.storage() as unknown as Record<string, (req: object, md: unknown, opts: unknown, cb: unknown) => void>;
  const name = method.charAt(0).toLowerCase() + method.slice(1);
  return callUnary<T>(`Storage.${method}`, 5_000, (md, opts, cb) => storage[name]!.call(storage, request, md, opts, cb));
}

/** Router.Send with an API key, as a team's backend calls it. */
function sendWith(bearer: string, request: { senderId: string; senderDeviceId?: string; conversationId: string; clientMsgId?: string; body: string }): Promise<string> {
  const router = createApiClient(api().Router, platform.routerAddr, platform.apiOptions('router', bearer));
  return code(
    callUnary('Router.Send', 5_000, (md, opts, cb) =>
      router.send({ senderDeviceId: '', clientMsgId: randomUUID(), ...request }, md, opts, cb),
    ),
  ).finally(() => router.close());
}

beforeAll(async () => {
  platform = await new Platform({ partitions: 2 }).start();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await platform?.stop();
});

describe('bots', () => {
  it('post only where allowed, as an ordinary message in order with the members\u2019, and not after their removal', async () => {
    const botId = `bot:support-${randomBytes(4).toString('hex')}`;
    const [alice, bob] = [`alice-${randomUUID()}`, `bob-${randomUUID()}`];
    const groupId = await platform.createGroup([alice, bob]);
    const botKey = await createKey('support desk', ['messages:send-as-bot'], botId);
    expect(botKey.key).toMatchObject({ botId, scopes: ['messages:send-as-bot'] });
    const a = await TestClient.connect(platform.wsUrl, platform.token(alice, 'phone'), alice, 'phone');
    const b = await TestClient.connect(platform.wsUrl, platform.token(bob, 'phone'), bob, 'phone');
    clients.push(a, b);

    // Not allowed yet: refused by the router, nothing stored.
    expect(await sendWith(botKey.bearer, { senderId: botId, conversationId: groupId, body: 'too early' })).toBe('PERMISSION_DENIED');

    const allowed = await admin<Conversation>('AddBots', { conversationId: groupId, botIds: [botId] });
    expect(allowed.botIds).toEqual([botId]);
    expect(allowed.memberCount).toBe(2);
    expect((await admin<Conversation>('GetConversation', { conversationId: groupId })).botIds).toEqual([botId]);

    // A member, the bot, the other member: one stream, one order. The router learns of the
    // grant from the membership broadcast; until then it answers PERMISSION_DENIED (bounded wait).
    expect((await a.send(groupId, 'hello')).type).toBe('ack');
    let sent = 'PERMISSION_DENIED';
    for (let i = 0; i < 100 && sent === 'PERMISSION_DENIED'; i++) {
      sent = await sendWith(botKey.bearer, { senderId: botId, conversationId: groupId, clientMsgId: 'welcome-1', body: 'How can we help?' });
      if (sent === 'PERMISSION_DENIED') await sleep(100);
    }
    expect(sent).toBe('OK');
    await a.waitFor(() => a.messages(groupId).length >= 2);
    expect((await b.send(groupId, 'my order is late')).type).toBe('ack');
    for (const device of [a, b]) await device.waitFor(() => device.messages(groupId).length >= 3);
    const seen = (device: TestClient) => device.messages(groupId).map((m: MsgFrame) => [m.seq, m.senderId, m.body]);
    const expected = [
      [1, alice, 'hello'],
      [2, botId, 'How can we help?'],
      [3, bob, 'my order is late'],
    ];
    expect(seen(a)).toEqual(expected);
    expect(seen(b)).toEqual(expected);
    // The bot's device is the key it sent with.
    expect(a.messages(groupId)[1]!.senderDeviceId).toBe(botKey.key!.keyId);

    // The router's audit log names the key and the bot, never the secret.
    const routerLog = readFileSync(platform.running('router')[0]!.logFile, 'utf8');
    const audit = routerLog.split('\n').filter((l) => l.includes('"audit":true') && l.includes(botKey.key!.keyId));
    expect(audit.some((l) => l.includes(`"botId":"${botId}"`))).toBe(true);
    for (const proc of platform.processes) expect(readFileSync(proc.logFile, 'utf8')).not.toContain(botKey.bearer.split('_')[2]);

    // Removed: refused once the router knows (bounded wait), and the sequencer refuses in
    // order whatever was acked before that, so nothing of the bot's follows the removal.
    await admin<Conversation>('RemoveBots', { conversationId: groupId, botIds: [botId] });
    let afterRemoval = 'OK';
    for (let i = 0; i < 100 && afterRemoval === 'OK'; i++) {
      afterRemoval = await sendWith(botKey.bearer, { senderId: botId, conversationId: groupId, clientMsgId: `late-${i}`, body: 'still here?' });
      if (afterRemoval === 'OK') await sleep(100);
    }
    expect(afterRemoval).toBe('PERMISSION_DENIED');
    expect((await a.send(groupId, 'thanks')).type).toBe('ack');
    for (const device of [a, b]) await device.waitFor(() => device.messages(groupId).some((m) => m.body === 'thanks'));
    const history = await callUnary<MessagesResponse__Output>('Storage.History', 5_000, (md, opts, cb) =>
      platform.storage().history({ conversationId: groupId, userId: alice, fromSeq: 0, toSeq: 0, order: 'HISTORY_ORDER_OLDEST_FIRST', limit: 50 }, md, opts, cb),
    );
    expect(history.messages.map((m) => [m.seq, m.senderId, m.body])).toEqual([...expected, [4, alice, 'thanks']]);
    expect(a.messages(groupId).map((m) => m.body)).toEqual(['hello', 'How can we help?', 'my order is late', 'thanks']);
  });

  it('keep the identities apart: no token names a bot, a bot key sends as no user, a send-as key as no bot', async () => {
    const botId = `bot:billing-${randomBytes(4).toString('hex')}`;
    const [alice, bob] = [`alice-${randomUUID()}`, `bob-${randomUUID()}`];
    const groupId = await platform.createGroup([alice, bob]);
    await admin<Conversation>('AddBots', { conversationId: groupId, botIds: [botId] });
    const botKey = await createKey('billing bot', ['messages:send-as-bot'], botId);
    const userKey = await createKey('billing backend', ['messages:send-as']);

    // A client token whose subject is a bot (or the system identity) opens no socket.
    for (const sub of [botId, 'bot:x', 'system']) expect(await upgradeStatus(platform.wsUrl, '/?device_id=phone', { authorization: `Bearer ${platform.token(sub, 'phone')}` })).toBe(401);
    // Nor can a bot be made a member.
    const storage = platform.storage();
    expect(await code(callUnary('Storage.AddMembers', 5_000, (md, opts, cb) => storage.addMembers({ conversationId: groupId, userIds: ['bot:x'] }, md, opts, cb)))).toBe('INVALID_ARGUMENT');

    expect(await sendWith(botKey.bearer, { senderId: alice, senderDeviceId: 'phone', conversationId: groupId, body: 'as alice' })).toBe('PERMISSION_DENIED');
    expect(await sendWith(userKey.bearer, { senderId: botId, senderDeviceId: 'api', conversationId: groupId, body: 'as the bot' })).toBe('PERMISSION_DENIED');
    expect(await sendWith(botKey.bearer, { senderId: 'bot:other', conversationId: groupId, body: 'as another bot' })).toBe('PERMISSION_DENIED');
    // A key for a bot holds that one scope; the scope needs a bot.
    expect(await code(createKey('greedy', ['messages:send-as-bot', 'messages:send-as'], botId))).toBe('INVALID_ARGUMENT');
    expect(await code(createKey('nobody', ['messages:send-as-bot']))).toBe('INVALID_ARGUMENT');
    expect(await code(createKey('upper', ['messages:send-as-bot'], 'bot:Billing'))).toBe('INVALID_ARGUMENT');

    // ListKeys shows which key is which bot's.
    const keys = createApiClient(api().Keys, platform.storageAddr, platform.apiOptions('storage'));
    const listed = await callUnary<ListKeysResponse__Output>('Keys.ListKeys', 5_000, (md, opts, cb) => keys.listKeys({ afterKeyId: '', limit: 500 }, md, opts, cb)).finally(() => keys.close());
    expect(listed.keys.find((k) => k.keyId === botKey.key!.keyId)?.botId).toBe(botId);
    expect(listed.keys.find((k) => k.keyId === userKey.key!.keyId)?.botId).toBe('');

    // Nothing of it was stored.
    const history = await callUnary<MessagesResponse__Output>('Storage.History', 5_000, (md, opts, cb) =>
      storage.history({ conversationId: groupId, userId: alice, fromSeq: 0, toSeq: 0, order: 'HISTORY_ORDER_OLDEST_FIRST', limit: 50 }, md, opts, cb),
    );
    expect(history.messages).toEqual([]);
  });
});
