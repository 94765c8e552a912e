// Shared rate limits: what the per-user limiter shared through Redis (RATE_LIMIT_STORE=redis)
// costs a send, beside the memory limiter, in the same run under the same load. Two extra
// routers join the running Parley (same storage, Kafka and Redis), one with each store, the
// limits raised so that nothing is refused (the cost of the check, not the rule, is measured).
// Each takes the same closed loop of Router.Send calls from limitsCallers callers for
// limitsSenders distinct senders (so each flush to Redis carries many keys), in alternating
// rounds (memory, redis, memory, redis, ...) so that drift on a shared machine lands on both.
// Per store: sends/s, call latency, refusals, the router's round trips to Redis per send (its
// parley_rate_limit_flushes_total: one per flush, not per send) and Redis commands per send
// (INFO's total_commands_processed over its rounds: one script call per key and flush, plus
// the platform's own Redis traffic and the bench's calls, which the memory rounds show).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { callUnary, createApiClient } from '@parley/core';
import { parleyGrpc } from '@parley/proto';
import { freePort } from '../../../test/e2e/support/platform';
import { metricsText } from '../service-metrics';
import { log } from '../harness';
import { Histogram, type LatencySummary } from '../histogram';
import type { Context } from '../measure';
import { round } from '../procstats';
import { StorageApi, withCallers } from '../storage-api';

type Store = 'memory' | 'redis';

export interface LimiterRun {
  store: Store;
  sends: number;
  refused: number;
  errors: number;
  firstError?: string;
  seconds: number;
  perSecond: number;
  latencyMs: LatencySummary;
  /** Redis commands processed during this store's rounds, per send (all clients of the Redis). */
  redisCommandsPerSend: number;
  /** The router's round trips to Redis for the send limiter (parley_rate_limit_flushes_total), per send; and keys per trip. */
  redisTripsPerSend: number;
  keysPerTrip: number;
}

export interface LimitsResult {
  callers: number;
  senders: number;
  rounds: number;
  roundSeconds: number;
  memory: LimiterRun;
  redis: LimiterRun;
  /** redis p50 and p99 minus memory's, in ms; throughput as a ratio. */
  cost: { p50Ms: number; p99Ms: number; throughputRatio: number };
}

const MEMBERS_PER_GROUP = 8;

/** The send limiter's round trips and keys so far, from a router's /metrics (0 for the memory store). */
async function flushes(httpPort: number): Promise<{ trips: number; keys: number }> {
  const text = await metricsText(httpPort);
  const value = (what: string) => Number(new RegExp(`^parley_rate_limit_flushes_total\\{[^}]*limiter="send"[^}]*what="${what}"[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { trips: value('trips'), keys: value('keys') };
}

async function redisCommands(redis: Redis): Promise<number> {
  const info = await redis.info('stats');
  const m = /total_commands_processed:(\d+)/.exec(info);
  return m ? Number(m[1]) : 0;
}

export async function limits(ctx: Context): Promise<LimitsResult> {
  const { limitsCallers: callers, limitsSenders: senders, limitsRounds: rounds, limitsSeconds: roundSeconds } = ctx.settings;
  const platform = ctx.platform;
  const tag = randomUUID().slice(0, 6);
  const api = new StorageApi(platform);
  const senderIds = Array.from({ length: senders }, (_, i) => `lim${tag}u${i}`);
  const groups: { conversationId: string; members: string[] }[] = [];
  for (let i = 0; i < senderIds.length; i += MEMBERS_PER_GROUP) {
    const members = senderIds.slice(i, i + MEMBERS_PER_GROUP);
    groups.push({ conversationId: await api.createGroup(members.length > 1 ? members : [...members, `lim${tag}x${i}`]), members });
  }
  const work = groups.flatMap((g) => g.members.map((senderId) => ({ senderId, conversationId: g.conversationId })));
  log(`limits: ${work.length} senders in ${groups.length} groups; starting a router per store`);

  const routers = new Map<Store, { client: InstanceType<ReturnType<typeof parleyGrpc>['parley']['v1']['Router']>; httpPort: number; stop: () => Promise<unknown> }>();
  for (const store of ['memory', 'redis'] as const) {
    const port = await freePort();
    const proc = await platform.spawnService('router', { GRPC_PORT: String(port), STORAGE_ADDR: platform.storageAddr, RATE_LIMIT_STORE: store });
    routers.set(store, { client: createApiClient(parleyGrpc().parley.v1.Router, `127.0.0.1:${port}`, platform.apiOptions('router')), httpPort: proc.httpPort, stop: () => platform.stopProcess(proc) });
  }
  const redis = new Redis(ctx.infra.env.REDIS_URL);
  const totals: Record<Store, { sends: number; refused: number; errors: number; firstError?: string; seconds: number; commands: number; trips: number; keys: number; latency: Histogram }> = {
    memory: { sends: 0, refused: 0, errors: 0, seconds: 0, commands: 0, trips: 0, keys: 0, latency: new Histogram() },
    redis: { sends: 0, refused: 0, errors: 0, seconds: 0, commands: 0, trips: 0, keys: 0, latency: new Histogram() },
  };
  try {
    const round1 = async (store: Store, seconds: number, record: boolean) => {
      const { client, httpPort } = routers.get(store)!;
      const t = totals[store];
      const before = await redisCommands(redis);
      const flushedBefore = await flushes(httpPort);
      const started = performance.now();
      const until = started + seconds * 1000;
      let next = 0;
      await withCallers(
        Array.from({ length: callers }, (_, i) => i),
        callers,
        async () => {
          while (performance.now() < until) {
            const item = work[next++ % work.length]!;
            const sent = performance.now();
            try {
              await callUnary('Router.Send', 5_000, (md, opts, cb) =>
                client.send({ senderId: item.senderId, senderDeviceId: 'bench', conversationId: item.conversationId, clientMsgId: randomUUID(), body: 'limits' }, md, opts, cb),
              );
              if (record) {
                t.sends++;
                t.latency.recordMs(performance.now() - sent);
              }
            } catch (err) {
              if (!record) continue;
              const code = (err as { code?: string }).code;
              if (code === 'RESOURCE_EXHAUSTED') t.refused++;
              else {
                t.errors++;
                t.firstError ??= String((err as Error).message ?? err);
              }
            }
          }
        },
      );
      if (record) {
        t.seconds += (performance.now() - started) / 1000;
        t.commands += (await redisCommands(redis)) - before;
        // The last flush of the round lands within one period: wait it out before counting.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const flushedAfter = await flushes(httpPort);
        t.trips += flushedAfter.trips - flushedBefore.trips;
        t.keys += flushedAfter.keys - flushedBefore.keys;
      }
    };
    // A short warm-up per router (channels, membership cache, JIT), not recorded.
    for (const store of ['memory', 'redis'] as const) await round1(store, Math.min(2, roundSeconds), false);
    for (let r = 0; r < rounds; r++) {
      for (const store of ['memory', 'redis'] as const) {
        await round1(store, roundSeconds, true);
        log(`limits: round ${r + 1}/${rounds} ${store}: ${totals[store].sends} sends so far`);
      }
    }
  } finally {
    redis.disconnect();
    for (const { client, stop } of routers.values()) {
      client.close();
      await stop();
    }
  }
  const run = (store: Store): LimiterRun => {
    const t = totals[store];
    return {
      store,
      sends: t.sends,
      refused: t.refused,
      errors: t.errors,
      ...(t.firstError ? { firstError: t.firstError } : {}),
      seconds: round(t.seconds, 2),
      perSecond: round(t.sends / Math.max(t.seconds, 1e-3), 1),
      latencyMs: t.latency.summary(),
      redisCommandsPerSend: round(t.commands / Math.max(t.sends, 1), 3),
      redisTripsPerSend: round(t.trips / Math.max(t.sends, 1), 4),
      keysPerTrip: round(t.keys / Math.max(t.trips, 1), 1),
    };
  };
  const memory = run('memory');
  const redisRun = run('redis');
  return {
    callers,
    senders,
    rounds,
    roundSeconds,
    memory,
    redis: redisRun,
    cost: {
      p50Ms: round(redisRun.latencyMs.p50 - memory.latencyMs.p50, 2),
      p99Ms: round(redisRun.latencyMs.p99 - memory.latencyMs.p99, 2),
      throughputRatio: round(redisRun.perSecond / Math.max(memory.perSecond, 1e-3), 3),
    },
  };
}
