export type { Admission, BucketLimit, BucketState, BucketStore, BucketTake, RateLimiter, Taker } from './port';
export { LocalRateLimiter } from './local';
export { SharedRateLimiter, type SharedRateLimiterOptions } from './shared';
export { MemoryBucketStore } from './memory';
export { RedisBucketStore, type RedisBucketStoreOptions } from './redis';
