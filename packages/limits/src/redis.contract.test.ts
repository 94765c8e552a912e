// The rate-limiter contracts against a real Redis (REDIS_URL, set by the test set-up): shared
// limiters on RedisBucketStores (one connection each, as separate routers have), and one whose
// Redis is a port nobody listens on.
import { randomUUID } from 'node:crypto';
import { runRateLimiterContract, runSharedLimiterContract } from './contract';
import type { BucketLimit } from './port';
import { RedisBucketStore } from './redis';
import { SharedRateLimiter } from './shared';

const url = process.env['REDIS_URL'];
if (!url) throw new Error('REDIS_URL is not set: run the suite with ./parley test');
const redisUrl = url;

function redisFixture() {
  const keyPrefix = `contract:${randomUUID()}:`;
  const stores: RedisBucketStore[] = [];
  const limiters: SharedRateLimiter[] = [];
  const make = async (limit: BucketLimit, storeUrl: string) => {
    const store = new RedisBucketStore({ url: storeUrl, keyPrefix, commandTimeoutMs: 500 });
    stores.push(store);
    await store.ready(storeUrl === redisUrl ? 5_000 : 0);
    const limiter = new SharedRateLimiter(store, { name: 'test', limit, autoFlush: false });
    limiters.push(limiter);
    return limiter;
  };
  return {
    limiter: (limit: BucketLimit) => make(limit, redisUrl),
    unreachable: (limit: BucketLimit) => make(limit, 'redis://127.0.0.1:1'),
    settle: async () => {
      await Promise.all(limiters.map((l) => l.flush()));
    },
    advance: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    close: async () => {
      await Promise.all(limiters.map((l) => l.close()));
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}

runRateLimiterContract('shared, redis store', async () => redisFixture());
runSharedLimiterContract('redis store', async () => redisFixture());

describe('RedisBucketStore', () => {
  it('keeps one bucket per key with a TTL, refilled by Redis time, in debt down to -burst, counting its takers', async () => {
    const keyPrefix = `contract:${randomUUID()}:`;
    const store = new RedisBucketStore({ url: redisUrl, keyPrefix });
    try {
      expect(await store.ready()).toBe(true);
      const limit = { ratePerSec: 1, burst: 10 };
      const one = { instanceId: 'router-1', activeMs: 60_000 };
      const [a, b] = await store.take([{ key: 'a', n: 3 }, { key: 'b', n: 25 }], limit, one);
      expect(a!.tokens).toBeCloseTo(7, 0);
      expect(b).toEqual({ tokens: -10, instances: 1 });
      const [again] = await store.take([{ key: 'a', n: 0 }], limit, { instanceId: 'router-2', activeMs: 60_000 });
      expect(again!.tokens).toBeGreaterThanOrEqual(7);
      expect(again!.tokens).toBeLessThan(8);
      expect(again!.instances).toBe(2);
      // A taker quiet for longer than activeMs no longer counts.
      expect((await store.take([{ key: 'a', n: 0 }], limit, { instanceId: 'router-2', activeMs: 1 }))[0]!.instances).toBe(1);
      const ttl = await store.redis.pttl(`${keyPrefix}rl:{a}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(21_000);
    } finally {
      await store.close();
    }
  });
});
