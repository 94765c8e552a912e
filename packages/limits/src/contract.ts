// The rate-limiter contracts, run against every limiter and bucket store: what any limiter
// promises (runRateLimiterContract), and what a shared one adds (runSharedLimiterContract):
// instances on one store share each key's limit, and an unreachable store leaves each
// instance limiting on its own, never refusing everything.
import { randomUUID } from 'node:crypto';
import type { Admission, BucketLimit, RateLimiter } from './port';

export interface LimiterFixture {
  /** A limiter with this limit; shared ones on the fixture's one store, flushed only by settle(). */
  limiter(limit: BucketLimit): RateLimiter | Promise<RateLimiter>;
  /** Lets every limiter made so far exchange what it admitted with the store (a no-op for local ones). */
  settle(): Promise<void>;
  /** Moves time forward (the memory fixtures move a clock; real stores sleep). */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface SharedLimiterFixture extends LimiterFixture {
  /** A limiter whose store cannot be reached. */
  unreachable(limit: BucketLimit): Promise<RateLimiter & { readonly storeState: 'up' | 'down' }> | (RateLimiter & { readonly storeState: 'up' | 'down' });
}

/** Takes key on limiter until it is refused (at most `max`): what was admitted, and the refusal. */
function takeUntilRefused(limiter: RateLimiter, key: string, max = 1_000): { admitted: number; refusal: Admission | undefined } {
  for (let admitted = 0; admitted < max; admitted++) {
    const admission = limiter.take(key);
    if (!admission.ok) return { admitted, refusal: admission };
  }
  return { admitted: max, refusal: undefined };
}

/** Takes until refused, settling in between, until a round admits nothing (the limiter then knows the whole truth). */
async function exhaust(fixture: LimiterFixture, limiter: RateLimiter, key: string): Promise<{ admitted: number; refusal: Admission | undefined }> {
  let admitted = 0;
  let refusal: Admission | undefined;
  for (let round = 0; round < 20; round++) {
    const r = takeUntilRefused(limiter, key);
    admitted += r.admitted;
    refusal = r.refusal;
    await fixture.settle();
    if (r.admitted === 0) break;
  }
  return { admitted, refusal };
}

const SLOW: BucketLimit = { ratePerSec: 1, burst: 8 };

export function runRateLimiterContract(name: string, makeFixture: () => Promise<LimiterFixture>): void {
  describe(`RateLimiter contract: ${name}`, () => {
    let fixture: LimiterFixture;
    beforeAll(async () => {
      fixture = await makeFixture();
    });
    afterAll(async () => {
      await fixture.close();
    });

    it('admits a burst, then refuses with how long until the next token', async () => {
      const limiter = await fixture.limiter(SLOW);
      const started = Date.now();
      const { admitted, refusal } = await exhaust(fixture, limiter, randomUUID());
      // A real clock refills while the test runs: one token a second at this rate.
      const refilled = Math.ceil(((Date.now() - started) / 1000) * SLOW.ratePerSec);
      expect(admitted).toBeGreaterThanOrEqual(SLOW.burst);
      expect(admitted).toBeLessThanOrEqual(SLOW.burst + refilled);
      expect(refusal).toMatchObject({ ok: false });
      const retryAfterMs = refusal && !refusal.ok ? refusal.retryAfterMs : 0;
      expect(retryAfterMs).toBeGreaterThan(0);
      expect(retryAfterMs).toBeLessThanOrEqual(1000 / SLOW.ratePerSec);
    });

    it('limits each key on its own', async () => {
      const limiter = await fixture.limiter(SLOW);
      await exhaust(fixture, limiter, randomUUID());
      expect(limiter.take(randomUUID())).toEqual({ ok: true });
    });

    it('admits again once retryAfterMs has passed', async () => {
      const limiter = await fixture.limiter({ ratePerSec: 20, burst: 2 });
      const key = randomUUID();
      const { refusal } = await exhaust(fixture, limiter, key);
      expect(refusal?.ok).toBe(false);
      await fixture.advance(refusal && !refusal.ok ? refusal.retryAfterMs : 0);
      expect(limiter.take(key)).toEqual({ ok: true });
    });
  });
}

export function runSharedLimiterContract(name: string, makeFixture: () => Promise<SharedLimiterFixture>): void {
  describe(`shared RateLimiter contract: ${name}`, () => {
    let fixture: SharedLimiterFixture;
    beforeAll(async () => {
      fixture = await makeFixture();
    });
    afterAll(async () => {
      await fixture.close();
    });

    it('two instances share one key: the second gets what the first left, not a burst of its own', async () => {
      const [a, b] = [await fixture.limiter(SLOW), await fixture.limiter(SLOW)];
      const key = randomUUID();
      const started = Date.now();
      const first = await exhaust(fixture, a, key);
      const second = await exhaust(fixture, b, key);
      const refilled = Math.ceil(((Date.now() - started) / 1000) * SLOW.ratePerSec);
      expect(first.admitted).toBeGreaterThanOrEqual(SLOW.burst);
      // At most its first-contact tokens before the store's answer, plus what refilled meanwhile.
      expect(second.admitted).toBeLessThanOrEqual(Math.floor(SLOW.burst / 4) + refilled);
      expect(first.admitted + second.admitted).toBeLessThan(2 * SLOW.burst);
      expect(second.refusal).toMatchObject({ ok: false });
      expect(second.refusal && !second.refusal.ok ? second.refusal.retryAfterMs : 0).toBeGreaterThan(0);
    });

    it('instances taking in turn admit about one limit between them, and all of it', async () => {
      const limiters = [await fixture.limiter(SLOW), await fixture.limiter(SLOW)];
      const key = randomUUID();
      const started = Date.now();
      let admitted = 0;
      for (let i = 0; i < 4 * SLOW.burst; i++) {
        if (limiters[i % 2]!.take(key).ok) admitted++;
        if (i % 4 === 3) await fixture.settle();
      }
      const refilled = Math.ceil(((Date.now() - started) / 1000) * SLOW.ratePerSec);
      expect(admitted).toBeGreaterThanOrEqual(SLOW.burst);
      // Overshoot: what both admitted within one settle period (4 takes), at most.
      expect(admitted).toBeLessThanOrEqual(SLOW.burst + 4 + refilled);
    });

    it('an unreachable store leaves each instance its own limit: never everything refused, never a wait', async () => {
      const limiter = await fixture.unreachable(SLOW);
      const key = randomUUID();
      const started = Date.now();
      const { admitted, refusal } = await exhaust(fixture, limiter, key);
      const refilled = Math.ceil(((Date.now() - started) / 1000) * SLOW.ratePerSec);
      expect(limiter.storeState).toBe('down');
      expect(admitted).toBeGreaterThanOrEqual(SLOW.burst);
      expect(admitted).toBeLessThanOrEqual(SLOW.burst + refilled);
      expect(refusal).toMatchObject({ ok: false });
      // Another key gets a full local burst at once.
      expect(takeUntilRefused(limiter, randomUUID()).admitted).toBeGreaterThanOrEqual(SLOW.burst);
      await limiter.close();
    });
  });
}
