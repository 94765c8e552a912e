// In-memory bucket store: the buckets of every limiter of one process that share it (unit
// tests; several SharedRateLimiters on one MemoryBucketStore behave as several instances on
// one Redis). Same arithmetic as the Redis script: refill, take, debt down to -burst.
import type { BucketLimit, BucketState, BucketStore, BucketTake, Taker } from './port';

export class MemoryBucketStore implements BucketStore {
  private readonly buckets = new Map<string, { tokens: number; at: number; takers: Map<string, number> }>();

  constructor(private readonly now: () => number = Date.now) {}

  async take(takes: readonly BucketTake[], limit: BucketLimit, taker: Taker): Promise<BucketState[]> {
    const now = this.now();
    const answer = takes.map(({ key, n }) => {
      const bucket = this.buckets.get(key) ?? { tokens: limit.burst, at: now, takers: new Map<string, number>() };
      bucket.tokens = Math.max(-limit.burst, Math.min(limit.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * limit.ratePerSec) - n);
      bucket.at = Math.max(bucket.at, now);
      for (const [id, at] of bucket.takers) if (now - at >= taker.activeMs) bucket.takers.delete(id);
      bucket.takers.set(taker.instanceId, now);
      this.buckets.set(key, bucket);
      return { tokens: bucket.tokens, instances: bucket.takers.size };
    });
    // Full buckets are the same as absent ones: keep memory to the keys in debt or refilling.
    if (this.buckets.size > 10_000) {
      for (const [key, b] of this.buckets) if (b.tokens + ((now - b.at) / 1000) * limit.ratePerSec >= limit.burst) this.buckets.delete(key);
    }
    return answer;
  }

  async close(): Promise<void> {}
}
