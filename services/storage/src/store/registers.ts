// Adapters of the MaxRegisters port: Redis (ioredis) and in memory. A register is a number
// that only moves up (a conversation's last seq, a member's position), or a fact that never
// changes (a direct conversation's member pair); Redis holds them so
// that the hot path and the catch-up reads (convs, sync) answer them in one pipelined round
// trip instead of a database lookup each. They are derived data: written after the
// documents they summarise, so never ahead of them, and rebuilt from the documents when
// missing (Redis restarted empty, or the key expired).
import { Redis } from 'ioredis';
import { ParleyError, redisClientAuth, type RedisConnection } from '@parley/core';
import type { MaxRegisters } from './port';

// KEYS[1] register; ARGV: value, ttlMs. One key per script call, so it runs on Redis Cluster too.
const RAISE = `
local v = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if v > current then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

type ScriptedRedis = Redis & { raiseRegister(key: string, value: number, ttlMs: number): Promise<number> };

/** The URL plus TLS trust and credentials (redisConnectionFrom(config)). */
export interface RedisRegistersOptions extends RedisConnection {
  /** Prefix of every key ("parley:" by default). */
  keyPrefix?: string;
  /** A register not raised for this long expires (and is rebuilt from the store when next asked). */
  ttlMs?: number;
}

export class RedisRegisters implements MaxRegisters {
  readonly redis: ScriptedRedis;
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(options: RedisRegistersOptions) {
    this.redis = new Redis(options.url, {
      ...redisClientAuth(options),
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      connectTimeout: 3_000,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
    }) as ScriptedRedis;
    this.redis.defineCommand('raiseRegister', { numberOfKeys: 1, lua: RAISE });
    this.prefix = `${options.keyPrefix ?? 'parley:'}reg:`;
    this.ttlMs = options.ttlMs ?? 30 * 86_400_000;
  }

  async read(keys: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (keys.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.get(this.prefix + key);
    const results = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const [err, value] = results[i] ?? [null, null];
      if (err) throw new ParleyError('UNAVAILABLE', `reading registers failed: ${err.message}`, { cause: err });
      if (typeof value === 'string' && value !== '') out.set(key, Number(value));
    });
    return out;
  }

  async raise(values: ReadonlyMap<string, number>): Promise<void> {
    if (values.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [key, value] of values) void (pipeline as unknown as ScriptedRedis).raiseRegister(this.prefix + key, value, this.ttlMs);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed?.[0]) throw new ParleyError('UNAVAILABLE', `raising registers failed: ${failed[0].message}`, { cause: failed[0] });
  }

  async readFacts(keys: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (keys.length === 0) return out;
    const values = await this.redis.mget(keys.map((key) => this.prefix + key)).catch((err: Error) => {
      throw new ParleyError('UNAVAILABLE', `reading registers failed: ${err.message}`, { cause: err });
    });
    keys.forEach((key, i) => {
      const value = values[i];
      if (typeof value === 'string' && value !== '') out.set(key, value);
    });
    return out;
  }

  async putFacts(values: ReadonlyMap<string, string>): Promise<void> {
    if (values.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [key, value] of values) pipeline.set(this.prefix + key, value, 'PX', this.ttlMs);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed?.[0]) throw new ParleyError('UNAVAILABLE', `writing registers failed: ${failed[0].message}`, { cause: failed[0] });
  }

  healthy(): boolean {
    return this.redis.status === 'ready';
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export class MemoryRegisters implements MaxRegisters {
  readonly values = new Map<string, number>();

  async read(keys: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const key of keys) {
      const v = this.values.get(key);
      if (v !== undefined) out.set(key, v);
    }
    return out;
  }

  async raise(values: ReadonlyMap<string, number>): Promise<void> {
    for (const [key, value] of values) this.values.set(key, Math.max(this.values.get(key) ?? -1, value));
  }

  readonly facts = new Map<string, string>();

  async readFacts(keys: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const key of keys) {
      const v = this.facts.get(key);
      if (v !== undefined) out.set(key, v);
    }
    return out;
  }

  async putFacts(values: ReadonlyMap<string, string>): Promise<void> {
    for (const [key, value] of values) this.facts.set(key, value);
  }

  /** Forgets everything, as a Redis that restarted empty. */
  clear(): void {
    this.values.clear();
    this.facts.clear();
  }

  healthy(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}
