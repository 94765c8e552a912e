// The session-directory contract against a real Redis (REDIS_URL, set by the test set-up).
import { randomUUID } from 'node:crypto';
import { runSessionContract } from './contract';
import { RedisSessionDirectory } from './redis';

const url = process.env['REDIS_URL'];
if (!url) throw new Error('REDIS_URL is not set: run the suite with ./parley test');

runSessionContract('redis', async () => {
  const directory = new RedisSessionDirectory({ url, keyPrefix: `contract:${randomUUID()}:` });
  return {
    directory,
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    close: () => directory.close(),
  };
});

describe('redis: fields it did not write', () => {
  it('a field that is not a stored session is no session: lookup skips it, a refresh replaces it, a delete leaves it', async () => {
    const prefix = `contract:${randomUUID()}:`;
    const directory = new RedisSessionDirectory({ url, keyPrefix: prefix });
    try {
      const session = { userId: 'u1', deviceId: 'phone', sessionId: 's1', connectorId: 'c1', address: '10.0.0.1:7000' };
      const key = `${prefix}sess:{u1}`;
      for (const garbage of ['not json', '5', 'null', '{"sessionId":5,"address":"x"}']) {
        await directory.redis.hset(key, 'phone', garbage);
        await directory.redis.hset(key, 'laptop', garbage);
        expect(await directory.lookup(['u1'])).toEqual(new Map());
        expect(await directory.unregister(session)).toBe(false);
        await directory.refresh([session], 60_000);
        expect((await directory.lookup(['u1'])).get('u1')).toEqual([session]);
      }
    } finally {
      await directory.close();
    }
  });
});
