// Redis adapter of the bucket store (ioredis): one hash per key {t: tokens, at: ms}, updated by
// one Lua script per key, all of a flush's keys pipelined in one round trip. The clock is
// Redis's (TIME), so instances with skewed clocks refill the same bucket alike. A key's TTL is
// the time its bucket takes from full debt back to full: an expired bucket is a full one.
// Commands fail fast when Redis is away (no offline queue, a command timeout): the limiter
// falls back to local limits, it never waits.
import { redisClientAuth, type RedisConnection } from '@parley/core';
import { Redis } from 'ioredis';
import type { BucketLimit, BucketState, BucketStore, BucketTake, Taker } from './port';

// KEYS[1] bucket {t, at, i:<instance>: last take}; ARGV: n, tokens per ms, burst, ttl ms,
// instance id, active ms. Answers {tokens left, instances active}: tokens as a string, since
// Lua numbers would be truncated to integers on the way out. Instances gone quiet are removed.
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local active = tonumber(ARGV[6])
local me = 'i:' .. ARGV[5]
local fields = redis.call('HGETALL', KEYS[1])
local tokens = nil
local at = nil
local instances = 1
for i = 1, #fields, 2 do
  local f = fields[i]
  local v = tonumber(fields[i + 1])
  if f == 't' then tokens = v
  elseif f == 'at' then at = v
  elseif f ~= me then
    if v ~= nil and now - v < active then instances = instances + 1 else redis.call('HDEL', KEYS[1], f) end
  end
end
if tokens == nil or at == nil then tokens = burst; at = now end
if now > at then tokens = math.min(burst, tokens + (now - at) * rate); at = now end
tokens = math.max(-burst, tokens - tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(at), me, tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {tostring(tokens), instances}`;

/** The URL plus TLS trust and credentials (redisConnectionFrom(config)). */
export interface RedisBucketStoreOptions extends RedisConnection {
  /** Prefix of every key ("parley:" by default). */
  keyPrefix?: string;
  /** A command unanswered after this fails (default 1,000 ms): the limiter goes local meanwhile. */
  commandTimeoutMs?: number;
}

type ScriptedPipeline = ReturnType<Redis['pipeline']> & { takeTokens(key: string, n: number, ratePerMs: number, burst: number, ttlMs: number, instanceId: string, activeMs: number): ScriptedPipeline };

export class RedisBucketStore implements BucketStore {
  readonly redis: Redis;
  private readonly prefix: string;

  constructor(options: RedisBucketStoreOptions) {
    this.redis = new Redis(options.url, {
      lazyConnect: false,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 3_000,
      commandTimeout: options.commandTimeoutMs ?? 1_000,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
      ...redisClientAuth(options),
    });
    // Errors surface as failed flushes; without a listener ioredis would print each one.
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('takeTokens', { numberOfKeys: 1, lua: TAKE });
    this.prefix = options.keyPrefix ?? 'parley:';
  }

  /**
   * Waits until the connection is up, or timeoutMs passed (it never rejects): a process that
   * starts serving before it would limit per instance for its first moments.
   */
  async ready(timeoutMs = 3_000): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    return new Promise((resolve) => {
      const done = (up: boolean) => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        resolve(up);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.redis.once('ready', onReady);
    });
  }

  async take(takes: readonly BucketTake[], limit: BucketLimit, taker: Taker): Promise<BucketState[]> {
    if (takes.length === 0) return [];
    const ttlMs = Math.ceil(((2 * limit.burst) / limit.ratePerSec) * 1000) + 1_000;
    const pipeline = this.redis.pipeline() as ScriptedPipeline;
    for (const { key, n } of takes) pipeline.takeTokens(`${this.prefix}rl:{${key}}`, n, limit.ratePerSec / 1000, limit.burst, ttlMs, taker.instanceId, taker.activeMs);
    const replies = (await pipeline.exec()) ?? [];
    return takes.map((_, i) => {
      const [err, value] = replies[i] ?? [new Error('no reply'), undefined];
      if (err) throw err;
      const [tokens, instances] = Array.isArray(value) ? [Number(value[0]), Number(value[1])] : [NaN, NaN];
      if (!Number.isFinite(tokens) || !Number.isSafeInteger(instances) || instances < 1) throw new Error('the rate-limit script answered something else than a bucket');
      return { tokens, instances };
    });
  }

  async close(): Promise<void> {
    // A client still trying to connect has nothing to say goodbye to: stop its reconnecting.
    if (this.redis.status !== 'ready') this.redis.disconnect();
    else {
      const ended = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        this.redis.once('end', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await this.redis.quit().catch(() => this.redis.disconnect());
      await ended;
    }
  }
}
