// The rate-limiter port, and the bucket-store port a limiter shared by several instances reads
// and writes behind the scenes.
// Guarantees every limiter keeps (checked by contract.ts):
// - take() answers at once, from memory: it never waits on a network;
// - a key is admitted up to `burst` at once and `ratePerSec` sustained, then refused with a
//   retryAfterMs > 0 that says when one more take can be admitted;
// - keys are independent, and a key idle long enough to be full again is forgotten.
// A bucket store keeps each key's bucket for every instance: take() of n tokens on many keys
// at once, answering what each bucket holds after it (below zero: a debt, down to -burst) and
// how many instances took from it lately (this one included), so that each takes its share.

export interface BucketLimit {
  ratePerSec: number;
  burst: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

export interface RateLimiter {
  /** Admits one action of key now, or says how long until one can be. Never waits. */
  take(key: string): Admission;
  close(): Promise<void>;
}

export interface BucketTake {
  key: string;
  /** Tokens taken since the last time this key was written (whole, >= 0). */
  n: number;
}

export interface BucketState {
  /** Tokens the bucket holds after the take (negative: a debt). */
  tokens: number;
  /** Instances that took from this bucket within the last activeMs, the caller included (>= 1). */
  instances: number;
}

export interface Taker {
  /** Which instance takes (a router's instance id). */
  instanceId: string;
  /** An instance that has not taken from a bucket for this long no longer counts in its `instances`. */
  activeMs: number;
}

export interface BucketStore {
  /** Takes n tokens from each key's bucket, refilled at limit.ratePerSec up to limit.burst; answers each bucket's state after, in order. */
  take(takes: readonly BucketTake[], limit: BucketLimit, taker: Taker): Promise<BucketState[]>;
  close(): Promise<void>;
}
