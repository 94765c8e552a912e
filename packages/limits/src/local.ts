// The rate limiter of one process: a token bucket per key in memory (core's TokenBuckets).
// Right where one instance sees everything the limit is about (one connection's sends), and
// what RATE_LIMIT_STORE=memory gives a router: each instance its own buckets.
import { TokenBuckets } from '@parley/core';
import type { Admission, BucketLimit, RateLimiter } from './port';

export class LocalRateLimiter implements RateLimiter {
  private readonly buckets: TokenBuckets;

  constructor(limit: BucketLimit, now: () => number = Date.now) {
    this.buckets = new TokenBuckets(limit.ratePerSec, limit.burst, now);
  }

  take(key: string): Admission {
    if (this.buckets.take(key)) return { ok: true };
    return { ok: false, retryAfterMs: Math.max(1, this.buckets.retryAfterMs(key)) };
  }

  async close(): Promise<void> {}
}
