// Redis adapter of the session directory (ioredis).
// One hash per user: field = deviceId, value = JSON {sessionId, connectorId, address, expiresAt}.
// The key's TTL is pushed forward on every write (PEXPIRE GT) so a user whose
// connectors all died vanishes by itself; per-device expiry is checked on lookup,
// because Redis 7.0 has no per-field TTL.
import { Redis } from 'ioredis';
import { redisClientAuth, type RedisConnection } from '@parley/core';
import type { SessionDirectory, SessionRecord } from './port';

interface StoredSession {
  sessionId: string;
  connectorId: string;
  address: string;
  expiresAt: number;
}

const MAX_STORED_TEXT = 256;
/** host:port, as the connector advertises its gRPC server (ADVERTISE_ADDR). */
const ADDRESS = /^[^\s/]{1,253}:\d{1,5}$/;

const storedText = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= MAX_STORED_TEXT;

/**
 * One device's field of a user's hash, read back: its live session, or undefined when it has
 * expired or is not something this code wrote (a corrupted or foreign value, an older format).
 * Push dials the address it returns, so nothing unchecked leaves here; never throws.
 */
export function decodeStoredSession(userId: string, deviceId: string, raw: string, now: number): SessionRecord | undefined {
  let stored: unknown;
  try {
    stored = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return undefined;
  const { sessionId, connectorId, address, expiresAt } = stored as Partial<Record<keyof StoredSession, unknown>>;
  if (!storedText(sessionId) || !storedText(connectorId) || typeof address !== 'string' || !ADDRESS.test(address)) return undefined;
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt) || expiresAt <= now) return undefined;
  return { userId, deviceId, sessionId, connectorId, address };
}

// KEYS[1] user hash; ARGV: deviceId, sessionId, value, ttlMs. Refreshes our own session,
// and restores it when the field is gone (Redis restarted empty, or failed over without
// the data) or unreadable (not JSON, or no sessionId string: it names no session, and a decode error here would fail
// this device's refresh for good): a live socket must become reachable again within one refresh. A field that
// holds another session (the device moved to a newer socket) is left alone.
const REFRESH_IF_OURS = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' and type(decoded['sessionId']) == 'string' and decoded['sessionId'] ~= ARGV[2] then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
local ttl = tonumber(ARGV[4])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`;

// KEYS[1] user hash; ARGV: deviceId, sessionId. Deletes only our own session.
const DELETE_IF_OURS = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 0 end
local ok, decoded = pcall(cjson.decode, current)
if not ok or type(decoded) ~= 'table' or decoded['sessionId'] ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`;

/** The URL plus TLS trust and credentials (redisConnectionFrom(config)). */
export interface RedisSessionDirectoryOptions extends RedisConnection {
  /** Prefix of every key ("parley:" by default). */
  keyPrefix?: string;
  now?: () => number;
}

type ScriptedRedis = Redis & {
  refreshIfOurs(key: string, deviceId: string, sessionId: string, value: string, ttlMs: number): Promise<number>;
  deleteIfOurs(key: string, deviceId: string, sessionId: string): Promise<number>;
};

export class RedisSessionDirectory implements SessionDirectory {
  readonly redis: ScriptedRedis;
  private readonly prefix: string;
  private readonly now: () => number;

  constructor(options: RedisSessionDirectoryOptions) {
    this.redis = new Redis(options.url, {
      ...redisClientAuth(options),
      lazyConnect: false,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      connectTimeout: 3_000,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
    }) as ScriptedRedis;
    this.redis.defineCommand('refreshIfOurs', { numberOfKeys: 1, lua: REFRESH_IF_OURS });
    this.redis.defineCommand('deleteIfOurs', { numberOfKeys: 1, lua: DELETE_IF_OURS });
    this.prefix = options.keyPrefix ?? 'parley:';
    this.now = options.now ?? Date.now;
  }

  private key(userId: string): string {
    return `${this.prefix}sess:{${userId}}`;
  }

  private encode(session: SessionRecord, ttlMs: number): string {
    const stored: StoredSession = {
      sessionId: session.sessionId,
      connectorId: session.connectorId,
      address: session.address,
      expiresAt: this.now() + ttlMs,
    };
    return JSON.stringify(stored);
  }

  async register(session: SessionRecord, ttlMs: number): Promise<void> {
    const key = this.key(session.userId);
    await this.redis
      .multi()
      .hset(key, session.deviceId, this.encode(session, ttlMs))
      .pexpire(key, ttlMs, 'GT')
      .pexpire(key, ttlMs, 'NX')
      .exec();
  }

  async refresh(sessions: readonly SessionRecord[], ttlMs: number): Promise<void> {
    if (sessions.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const session of sessions) {
      void (pipeline as unknown as ScriptedRedis).refreshIfOurs(this.key(session.userId), session.deviceId, session.sessionId, this.encode(session, ttlMs), ttlMs);
    }
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
  }

  async unregister(session: SessionRecord): Promise<boolean> {
    return (await this.redis.deleteIfOurs(this.key(session.userId), session.deviceId, session.sessionId)) === 1;
  }

  async lookup(userIds: readonly string[]): Promise<Map<string, SessionRecord[]>> {
    const unique = [...new Set(userIds)];
    const out = new Map<string, SessionRecord[]>();
    if (unique.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const userId of unique) pipeline.hgetall(this.key(userId));
    const results = (await pipeline.exec()) ?? [];
    const now = this.now();
    unique.forEach((userId, i) => {
      const [err, value] = results[i] ?? [null, {}];
      if (err) throw err;
      const live: SessionRecord[] = [];
      for (const [deviceId, raw] of Object.entries((value ?? {}) as Record<string, string>)) {
        // A field we cannot read is treated as no session; it expires with the key (or the device's next refresh replaces it).
        const session = decodeStoredSession(userId, deviceId, raw, now);
        if (session) live.push(session);
      }
      if (live.length > 0) out.set(userId, live);
    });
    return out;
  }

  healthy(): boolean {
    return this.redis.status === 'ready';
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
