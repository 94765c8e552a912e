import { z } from 'zod';
import { commonConfigShape, env, kafkaConfigShape, redisConfigShape } from '@parley/core';

export const routerConfigSchema = z.object({
  ...commonConfigShape,
  KAFKA_BROKERS: env.list(),
  ...kafkaConfigShape,
  /** host:port of the storage service's gRPC server. */
  STORAGE_ADDR: z.string().min(3),
  GRPC_PORT: env.port(7001),
  /** The HTTP/JSON form of this service's API (Connect unary; docs/API.md), on GRPC_HOST; off with API_HTTP_ENABLED=false. */
  API_HTTP_ENABLED: env.bool(true),
  API_HTTP_PORT: env.port(7101),
  HTTP_PORT: env.port(9101),
  /** Largest message body accepted, in UTF-8 bytes. */
  MAX_BODY_BYTES: env.int(16_384, 1, 1_000_000),
  STORAGE_DEADLINE_MS: env.int(2_000, 50, 60_000),
  /**
   * Where the per-user limits below are kept: redis (one limit per user across every router,
   * reconciled every RATE_LIMIT_FLUSH_MS: the default, as in the Helm chart, so that tests and
   * the bench run what production runs) or memory (each router its own, so N routers allow N
   * times the rate; for a single router without Redis).
   */
  RATE_LIMIT_STORE: z.enum(['memory', 'redis']).default('redis'),
  /** The Redis of the shared limits (RATE_LIMIT_STORE=redis), with its TLS trust and ACL user as every service's. */
  ...redisConfigShape,
  REDIS_URL: redisConfigShape.REDIS_URL.optional(),
  /** How often a router sends Redis what it admitted and learns what the others did; the overshoot bound scales with it. */
  RATE_LIMIT_FLUSH_MS: env.int(50, 5, 5_000),
  /** Sustained messages per second one sender (user) may send, and its burst. */
  SENDER_RATE_PER_SEC: env.int(50, 1, 1_000_000),
  SENDER_BURST: env.int(200, 1, 1_000_000),
  /** QoS 0 signals (typing, ...) per second and burst, per sender. */
  SIGNAL_RATE_PER_SEC: env.int(10, 1, 1_000_000),
  SIGNAL_BURST: env.int(20, 1, 1_000_000),
  /** Conversations whose membership the router keeps in memory (kept true by membership events). */
  MEMBERSHIP_CACHE_CONVERSATIONS: env.int(200_000, 1, 10_000_000),
  /** Backstop only: an answer older than this is asked again (events keep answers true meanwhile). */
  MEMBERSHIP_CACHE_MAX_AGE_MS: env.int(600_000, 1_000, 86_400_000),
  /** How long an API key's answer from storage (valid or not) is kept in memory: a revocation is in force here within it. */
  API_KEY_CACHE_MS: env.int(2_000, 0, 600_000),
}).refine((c) => c.RATE_LIMIT_STORE !== 'redis' || c.REDIS_URL !== undefined, { path: ['REDIS_URL'], message: 'RATE_LIMIT_STORE=redis needs REDIS_URL' });

export type RouterConfig = z.infer<typeof routerConfigSchema>;
