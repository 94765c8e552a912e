// The rate-limiter contracts on the in-memory adapters, with a clock the test moves: the local
// limiter, and shared limiters on one MemoryBucketStore (several instances in one process).
// Then what only a shared limiter does: bounded flushes, forgetting idle keys, coming back
// after the store was away.
import { runRateLimiterContract, runSharedLimiterContract } from './contract';
import { LocalRateLimiter } from './local';
import { MemoryBucketStore } from './memory';
import type { BucketLimit, BucketState, BucketStore, BucketTake, Taker } from './port';
import { SharedRateLimiter } from './shared';

function manualClock(): { now: () => number; advance: (ms: number) => Promise<void> } {
  let t = 1_700_000_000_000;
  return {
    now: () => t,
    advance: async (ms) => {
      t += ms;
    },
  };
}

/** A store that cannot be reached while `up` is false (a Redis that went away). */
class SwitchableStore implements BucketStore {
  up = true;
  calls: BucketTake[][] = [];
  constructor(private readonly inner: BucketStore) {}
  async take(takes: readonly BucketTake[], limit: BucketLimit, taker: Taker): Promise<BucketState[]> {
    this.calls.push([...takes]);
    if (!this.up) throw new Error('connect ECONNREFUSED');
    return this.inner.take(takes, limit, taker);
  }
  async close(): Promise<void> {}
}

runRateLimiterContract('local', async () => {
  const clock = manualClock();
  return { limiter: (limit) => new LocalRateLimiter(limit, clock.now), settle: async () => undefined, advance: clock.advance, close: async () => undefined };
});

function sharedFixture() {
  const clock = manualClock();
  const store = new MemoryBucketStore(clock.now);
  const limiters: SharedRateLimiter[] = [];
  const make = (limit: BucketLimit, on: BucketStore = store) => {
    const limiter = new SharedRateLimiter(on, { name: 'test', limit, now: clock.now, autoFlush: false });
    limiters.push(limiter);
    return limiter;
  };
  return {
    limiter: (limit: BucketLimit) => make(limit),
    unreachable: (limit: BucketLimit) => {
      const down = new SwitchableStore(store);
      down.up = false;
      return make(limit, down);
    },
    settle: async () => {
      await Promise.all(limiters.map((l) => l.flush()));
    },
    advance: clock.advance,
    close: async () => {
      await Promise.all(limiters.map((l) => l.close()));
    },
  };
}

runRateLimiterContract('shared, memory store', async () => sharedFixture());
runSharedLimiterContract('memory store', async () => sharedFixture());

describe('SharedRateLimiter', () => {
  const limit = { ratePerSec: 10, burst: 40 };

  it('sends at most maxKeysPerFlush keys per flush, and the rest on the next', async () => {
    const clock = manualClock();
    const store = new SwitchableStore(new MemoryBucketStore(clock.now));
    const limiter = new SharedRateLimiter(store, { name: 'test', limit, now: clock.now, autoFlush: false, maxKeysPerFlush: 3 });
    for (const key of ['a', 'b', 'c', 'd', 'e']) limiter.take(key);
    limiter.take('a');
    await limiter.flush();
    await limiter.flush();
    await limiter.flush();
    expect(store.calls).toEqual([
      [
        { key: 'test:a', n: 2 },
        { key: 'test:b', n: 1 },
        { key: 'test:c', n: 1 },
      ],
      [
        { key: 'test:d', n: 1 },
        { key: 'test:e', n: 1 },
      ],
    ]);
  });

  it('counts what was admitted while a flush was on its way', async () => {
    const clock = manualClock();
    const store = new MemoryBucketStore(clock.now);
    const a = new SharedRateLimiter(store, { name: 'test', limit, now: clock.now, autoFlush: false });
    for (let i = 0; i < 5; i++) a.take('k');
    const flushing = a.flush();
    for (let i = 0; i < 3; i++) a.take('k');
    await flushing;
    await a.flush();
    // The store holds all eight.
    expect(await store.take([{ key: 'test:k', n: 0 }], limit, { instanceId: 'probe', activeMs: 0 })).toEqual([{ tokens: 40 - 8, instances: 1 }]);
  });

  it('takes its share of what is left when several instances take from one key', async () => {
    const clock = manualClock();
    const store = new MemoryBucketStore(clock.now);
    const [a, b] = [0, 1].map(() => new SharedRateLimiter(store, { name: 'test', limit, now: clock.now, autoFlush: false }));
    a!.take('k');
    b!.take('k');
    await a!.flush();
    await b!.flush();
    a!.take('k');
    await a!.flush();
    // 37 left, two instances: a admits 18 (its share, 18.5), not all 37.
    let admitted = 0;
    while (a!.take('k').ok) admitted++;
    expect(admitted).toBe(18);
  });

  it('gives a key it never saw its share of a burst, counting the instances the store saw', async () => {
    const clock = manualClock();
    const store = new MemoryBucketStore(clock.now);
    const [a, b, c] = [0, 1, 2].map(() => new SharedRateLimiter(store, { name: 'test', limit, now: clock.now, autoFlush: false }));
    // Before any answer: a quarter of the burst.
    let admitted = 0;
    while (a!.take('new-1').ok) admitted++;
    expect(admitted).toBe(10);
    // Three instances take from one key; then a new key gets a third of the burst.
    for (const l of [a!, b!, c!]) {
      l.take('shared');
      await l.flush();
    }
    a!.take('shared');
    await a!.flush();
    admitted = 0;
    while (a!.take('new-2').ok) admitted++;
    expect(admitted).toBe(Math.floor(40 / 3));
  });

  it('forgets a key once its bucket is full again and nothing is left to send', async () => {
    const clock = manualClock();
    const limiter = new SharedRateLimiter(new MemoryBucketStore(clock.now), { name: 'test', limit, now: clock.now, autoFlush: false });
    limiter.take('a');
    limiter.take('b');
    await limiter.flush();
    expect(limiter.size).toBe(2);
    await clock.advance(5_000);
    await limiter.flush();
    expect(limiter.size).toBe(0);
  });

  it('holds at most maxKeys mirrors', () => {
    const clock = manualClock();
    const limiter = new SharedRateLimiter(new MemoryBucketStore(clock.now), { name: 'test', limit, now: clock.now, autoFlush: false, maxKeys: 100 });
    for (let i = 0; i < 1_000; i++) limiter.take(`user-${i}`);
    expect(limiter.size).toBe(100);
  });

  it('goes back to shared limits when the store answers again', async () => {
    const clock = manualClock();
    const memory = new MemoryBucketStore(clock.now);
    const store = new SwitchableStore(memory);
    const a = new SharedRateLimiter(store, { name: 'test', limit, now: clock.now, autoFlush: false });
    store.up = false;
    a.take('k');
    await a.flush();
    expect(a.storeState).toBe('down');
    store.up = true;
    // Another instance used up the key meanwhile.
    const b = new SharedRateLimiter(memory, { name: 'test', limit, now: clock.now, autoFlush: false });
    while (b.take('k').ok) await b.flush();
    a.take('k');
    await a.flush();
    expect(a.storeState).toBe('up');
    const refusal = a.take('k');
    expect(refusal.ok).toBe(false);
    expect(refusal.ok ? 0 : refusal.retryAfterMs).toBeGreaterThan(0);
  });
});
