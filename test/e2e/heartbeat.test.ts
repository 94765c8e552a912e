// A socket whose peer stops answering pings is closed by the connector, and its
// session leaves the directory so push stops routing to it.
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { Redis } from 'ioredis';
import { Platform } from './support/platform';

jest.setTimeout(120_000);

let platform: Platform;

beforeAll(async () => {
  platform = await new Platform({ partitions: 1, env: { HEARTBEAT_INTERVAL_MS: '300' } }).start();
});

afterAll(async () => {
  await platform?.stop();
});

it('terminates a socket that stops answering pings and drops its session', async () => {
  const userId = `hb-${randomUUID()}`;
  const silent = new WebSocket(`${platform.wsUrl}?access_token=${platform.token(userId, 'silent')}`, { autoPong: false });
  const healthy = new WebSocket(`${platform.wsUrl}?access_token=${platform.token(userId, 'healthy')}`);
  const closed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
  await Promise.all([silent, healthy].map((ws) => new Promise((resolve, reject) => ws.once('message', resolve).once('error', reject))));
  const redis = new Redis(process.env['REDIS_URL']!);
  const key = `${platform.namespace}:sess:{${userId}}`;
  expect(Object.keys(await redis.hgetall(key)).sort()).toEqual(['healthy', 'silent']);

  // No pong for one interval: the server cuts the TCP connection without a close frame.
  expect(await closed).toBe(1006);
  let fields: string[] = [];
  for (let i = 0; i < 50; i++) {
    fields = Object.keys(await redis.hgetall(key));
    if (!fields.includes('silent')) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(fields).toEqual(['healthy']);
  // The socket that answers pings is still open well after several intervals.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(healthy.readyState).toBe(WebSocket.OPEN);
  healthy.close();
  redis.disconnect();
});
