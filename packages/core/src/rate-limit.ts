// Owns rate limiting by key (a sender, a remote address): a token bucket per key, refilled continuously.
// Buckets that have refilled completely are forgotten, so memory follows active senders only.
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private sweptAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(key: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    // A wall clock that steps back (NTP) must not take tokens away: elapsed time is never negative.
    bucket.tokens = Math.min(this.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.ratePerSec);
    bucket.at = Math.max(bucket.at, now);
    if (bucket.tokens < 1) {
      this.buckets.set(key, bucket);
      return false;
    }
    bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    // Sweep at most once per refill period, so many active senders cost one scan per
    // period instead of one per send.
    if (this.buckets.size > 100_000 && now - this.sweptAt >= this.refillMs) this.sweep(now);
    return true;
  }

  /** How long until key has a whole token again (0 when it has one now). */
  retryAfterMs(key: string): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return 0;
    const tokens = Math.min(this.burst, bucket.tokens + (Math.max(0, this.now() - bucket.at) / 1000) * this.ratePerSec);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.ratePerSec) * 1000);
  }

  private get refillMs(): number {
    return (this.burst / this.ratePerSec) * 1000;
  }

  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSec >= this.burst) this.buckets.delete(key);
    }
  }
}
