// End to end: rate limits. Two routers on one Redis (RATE_LIMIT_STORE=redis) hold one limit per
// user between them: a user sending through both gets about one burst, not two, and the refusal
// says when to retry (gRPC trailer parley-retry-after-ms). A connection past its own rate gets
// RESOURCE_EXHAUSTED error frames with retryAfterMs from its connector, before any router call.
import { randomUUID } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { callUnary, createApiClient, type ParleyError } from '@parley/core';
import { parleyGrpc } from '@parley/proto';
import { TestClient } from './support/client';
import { Platform, sleep } from './support/platform';

jest.setTimeout(180_000);

const RATE = 1;
const BURST = 20;
const CONNECTION_BURST = 3;

let platform: Platform;
const clients: TestClient[] = [];
type RouterClient = InstanceType<ReturnType<typeof parleyGrpc>['parley']['v1']['Router']>;
let routers: RouterClient[] = [];

beforeAll(async () => {
  platform = await new Platform({
    routers: 2,
    env: {
      RATE_LIMIT_STORE: 'redis',
      SENDER_RATE_PER_SEC: String(RATE),
      SENDER_BURST: String(BURST),
      CONNECTION_SEND_RATE_PER_SEC: '1',
      CONNECTION_SEND_BURST: String(CONNECTION_BURST),
    },
  }).start();
  // Each router on its own channel: the test picks which one takes each send.
  routers = platform.routerAddr.split(',').map((address) => createApiClient(parleyGrpc().parley.v1.Router, address, platform.apiOptions('router')));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const r of routers) r.close();
  await platform?.stop();
});

interface Refusal {
  code: string;
  retryAfterMs: number;
  trailer: string | undefined;
}

/** One Router.Send of userId through router `via`: undefined when admitted, else the refusal. */
async function sendVia(via: RouterClient, userId: string, conversationId: string): Promise<Refusal | undefined> {
  let trailers: Metadata | undefined;
  try {
    await callUnary('Router.Send', 5_000, (md, opts, cb) =>
      via.send({ senderId: userId, senderDeviceId: 'phone', conversationId, clientMsgId: randomUUID(), body: 'hi' }, md, opts, (err, res) => {
        trailers = (err as { metadata?: Metadata } | null)?.metadata;
        cb(err, res);
      }),
    );
    return undefined;
  } catch (err) {
    const error = err as ParleyError;
    return { code: error.code, retryAfterMs: error.retryAfterMs ?? 0, trailer: trailers?.get('parley-retry-after-ms')[0]?.toString() };
  }
}

/**
 * Sends through one router until it refuses with a long wait (the shared bucket is empty, as
 * that router knows from Redis); a short wait (a first contact, the answer from Redis still
 * to come) is waited out. Bounded.
 */
async function sendUntilEmpty(via: RouterClient, userId: string, conversationId: string): Promise<{ admitted: number; last: Refusal | undefined }> {
  let admitted = 0;
  for (let attempt = 0; attempt < 200; attempt++) {
    const refusal = await sendVia(via, userId, conversationId);
    if (!refusal) {
      admitted++;
      continue;
    }
    expect(refusal.code).toBe('RESOURCE_EXHAUSTED');
    if (refusal.retryAfterMs >= 500) return { admitted, last: refusal };
    await sleep(refusal.retryAfterMs);
  }
  return { admitted, last: undefined };
}

it('two routers hold one limit per user between them: about one burst, not two, and the refusal says when to retry', async () => {
  const alice = `alice-${randomUUID()}`;
  const conversationId = await platform.createGroup([alice, `bob-${randomUUID()}`]);
  const started = Date.now();
  const first = await sendUntilEmpty(routers[0]!, alice, conversationId);
  const second = await sendUntilEmpty(routers[1]!, alice, conversationId);
  const refilled = Math.ceil(((Date.now() - started) / 1000) * RATE);
  // Router 0 alone: the whole burst. Router 1: at most its first-contact share of a burst
  // before Redis answered that the bucket was empty (a quarter, or a half once it knows there
  // are two routers), plus what refilled meanwhile. Two limits would have given it a burst.
  expect(first.admitted).toBeGreaterThanOrEqual(BURST);
  expect(second.admitted).toBeLessThanOrEqual(BURST / 2 + refilled);
  expect(first.admitted + second.admitted).toBeLessThan(2 * BURST);
  for (const last of [first.last, second.last]) {
    expect(last?.code).toBe('RESOURCE_EXHAUSTED');
    expect(last?.retryAfterMs).toBeGreaterThan(0);
    expect(Number(last?.trailer)).toBe(last?.retryAfterMs);
  }
});

it('refuses a connection past its own rate with RESOURCE_EXHAUSTED and retryAfterMs, and takes it back after the wait', async () => {
  const carol = `carol-${randomUUID()}`;
  const conversationId = await platform.createGroup([carol, `dave-${randomUUID()}`]);
  const client = await TestClient.connect(platform.wsUrl, platform.token(carol, 'phone'), carol, 'phone');
  clients.push(client);
  const ids = Array.from({ length: CONNECTION_BURST + 3 }, () => randomUUID());
  // All at once: the connection's bucket decides, not the order of answers.
  for (const clientMsgId of ids) client.post({ type: 'send', clientMsgId, conversationId, body: 'hi' });
  await client.waitFor(() => ids.every((id) => client.frames.some((f) => (f.type === 'ack' || f.type === 'error') && f['clientMsgId'] === id)));
  const answers = ids.map((id) => client.frames.find((f) => (f.type === 'ack' || f.type === 'error') && f['clientMsgId'] === id)!);
  expect(answers.filter((f) => f.type === 'ack')).toHaveLength(CONNECTION_BURST);
  const refused = answers.filter((f) => f.type === 'error');
  expect(refused).toHaveLength(3);
  for (const f of refused) {
    expect(f).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retryable: true, message: expect.stringContaining('connection') });
    expect(f['retryAfterMs']).toBeGreaterThan(0);
  }
  // After the wait it said, the same message goes through (same clientMsgId: sends are idempotent).
  await sleep(Number(refused[0]!['retryAfterMs']));
  expect(await client.send(conversationId, 'hi', String(refused[0]!['clientMsgId']))).toMatchObject({ type: 'ack' });
});
