import fc from 'fast-check';
import { TokenBuckets } from './rate-limit';

/** A clock the test moves by hand. */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

function takeN(buckets: TokenBuckets, key: string, n: number): boolean[] {
  return Array.from({ length: n }, () => buckets.take(key));
}

describe('TokenBuckets', () => {
  it('allows a burst and then refuses while no time passes', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets(1, 3, clock.now);
    expect(takeN(buckets, 'alice', 5)).toEqual([true, true, true, false, false]);
  });

  it('keeps a sender\'s tokens when the wall clock steps back', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets(1, 3, clock.now);
    expect(buckets.take('alice')).toBe(true);
    clock.advance(-10_000); // an NTP correction
    expect(takeN(buckets, 'alice', 3)).toEqual([true, true, false]);
    // Refill resumes from the latest time seen, not from the earlier reading.
    clock.advance(11_000);
    expect(takeN(buckets, 'alice', 2)).toEqual([true, false]);
  });

  it('refills at the configured rate', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets(2, 2, clock.now);
    expect(takeN(buckets, 'alice', 3)).toEqual([true, true, false]);
    clock.advance(499); // 0.998 tokens
    expect(buckets.take('alice')).toBe(false);
    clock.advance(1); // 1 token since the bucket emptied
    expect(buckets.take('alice')).toBe(true);
    expect(buckets.take('alice')).toBe(false);
    clock.advance(1_000); // 2 tokens
    expect(takeN(buckets, 'alice', 3)).toEqual([true, true, false]);
  });

  it('does not lose the refill accumulated across refused takes', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets(2, 1, clock.now);
    expect(buckets.take('alice')).toBe(true);
    clock.advance(250);
    expect(buckets.take('alice')).toBe(false); // 0.5 tokens
    clock.advance(250);
    expect(buckets.take('alice')).toBe(true); // 0.5 + 0.5
  });

  it('caps the refill at the burst, however long the sender was idle', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets(10, 3, clock.now);
    takeN(buckets, 'alice', 3);
    clock.advance(3_600_000);
    expect(takeN(buckets, 'alice', 4)).toEqual([true, true, true, false]);
  });

  it('supports fractional refill (rate below one per second)', () => {
    const clock = manualClock();
    // One token every four seconds.
    const buckets = new TokenBuckets(0.25, 1, clock.now);
    expect(takeN(buckets, 'alice', 2)).toEqual([true, false]);
    clock.advance(3_999);
    expect(buckets.take('alice')).toBe(false);
    clock.advance(1);
    expect(buckets.take('alice')).toBe(true);
  });

  it('keeps one bucket per key', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets(1, 2, clock.now);
    expect(takeN(buckets, 'alice', 3)).toEqual([true, true, false]);
    expect(takeN(buckets, 'bob', 3)).toEqual([true, true, false]);
    clock.advance(1_000);
    expect(buckets.take('alice')).toBe(true);
    expect(buckets.take('alice')).toBe(false);
    // bob's refill is his own: alice's takes did not spend it.
    expect(buckets.take('bob')).toBe(true);
    expect(buckets.take('carol')).toBe(true);
  });

  it('uses Date.now when no clock is given', () => {
    jest.useFakeTimers({ now: 1_700_000_000_000 });
    try {
      const buckets = new TokenBuckets(1, 1);
      expect(takeN(buckets, 'alice', 2)).toEqual([true, false]);
      jest.setSystemTime(1_700_000_001_000);
      expect(takeN(buckets, 'alice', 2)).toEqual([true, false]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('when it forgets idle buckets to bound memory, keeps the ones still refilling', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets(1, 3, clock.now);
    expect(takeN(buckets, 'alice', 4)).toEqual([true, true, true, false]);
    for (let i = 0; i < 100_000; i++) buckets.take(`sender-${i}`);
    clock.advance(1_500);
    // This take pushes the map past 100 000 buckets: the sweep forgets the refilled
    // senders (2 + 1.5 tokens >= 3) but must keep alice (1.5 tokens).
    expect(buckets.take('newcomer')).toBe(true);
    expect(takeN(buckets, 'alice', 2)).toEqual([true, false]);
    // A forgotten sender starts again from a full bucket, as it would have anyway.
    expect(takeN(buckets, 'sender-0', 4)).toEqual([true, true, true, false]);
  });

  it('never allows more than burst + rate x elapsed takes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.record({ advanceMs: fc.integer({ min: 0, max: 400 }), takes: fc.integer({ min: 0, max: 10 }) }), { maxLength: 40 }),
        (rate, burst, steps) => {
          const clock = manualClock();
          const buckets = new TokenBuckets(rate, burst, clock.now);
          let elapsed = 0;
          let allowed = 0;
          let refusedSinceAdvance = false;
          for (const { advanceMs, takes } of steps) {
            clock.advance(advanceMs);
            elapsed += advanceMs;
            if (advanceMs > 0) refusedSinceAdvance = false;
            for (let i = 0; i < takes; i++) {
              const ok = buckets.take('alice');
              if (ok) allowed++;
              // Without time passing, a refused bucket stays refused.
              if (refusedSinceAdvance) expect(ok).toBe(false);
              if (!ok) refusedSinceAdvance = true;
            }
            expect(allowed).toBeLessThanOrEqual(burst + (rate * elapsed) / 1000 + 1e-9);
          }
        },
      ),
    );
  });

  it('gives a sender who keeps trying the burst, then what refills each second (at most a burst)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 30 }), (rate, burst, seconds) => {
        const clock = manualClock();
        const buckets = new TokenBuckets(rate, burst, clock.now);
        let allowed = takeN(buckets, 'alice', burst).filter(Boolean).length;
        for (let s = 0; s < seconds; s++) {
          clock.advance(1_000);
          allowed += takeN(buckets, 'alice', rate + 1).filter(Boolean).length;
        }
        // The bucket is empty at the start of every second, so each refill is capped by the burst.
        expect(allowed).toBe(burst + Math.min(rate, burst) * seconds);
      }),
    );
  });
});
