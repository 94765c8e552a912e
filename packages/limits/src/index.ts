export type { Admission, BucketLimit, BucketStore, BucketTake, RateLimiter } from './port';
export { LocalRateLimiter } from './local';
export { SharedRateLimiter, type SharedRateLimiterOptions } from './shared';
export { MemoryBucketStore } from './memory';
export { RedisBucketStore, type RedisBucketStoreOptions } from './redis';
