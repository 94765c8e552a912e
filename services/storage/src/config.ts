import { z } from 'zod';
import { commonConfigShape, env, kafkaConfigShape, redisConfigShape } from '@parley/core';

export const storageConfigSchema = z.object({
  ...commonConfigShape,
  KAFKA_BROKERS: env.list(),
  ...kafkaConfigShape,
  MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URL'),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('parley'),
  /** PEM file of the CA that issued the MongoDB server's certificate (a private CA); turns TLS on. */
  MONGO_TLS_CA_FILE: z.string().min(1).optional(),
  /** The MongoDB user (SCRAM on MongoDB; PLAIN, passed on to PostgreSQL, on FerretDB v1: authMechanism in MONGO_URL). Not in the URL, so it is never logged. */
  MONGO_USERNAME: z.string().min(1).optional(),
  MONGO_PASSWORD: z.string().min(1).optional(),
  /** Redis holds the registers (conversations' last seqs, members' positions): derived, rebuilt from MongoDB when lost. */
  ...redisConfigShape,
  GRPC_PORT: env.port(7002),
  /** The HTTP/JSON form of this service's API (Connect unary; docs/API.md), on GRPC_HOST; off with API_HTTP_ENABLED=false. */
  API_HTTP_ENABLED: env.bool(true),
  API_HTTP_PORT: env.port(7102),
  HTTP_PORT: env.port(9102),
  /** Partitions of parley.messages this instance works on at once (each in order). */
  CONSUMER_CONCURRENCY: env.int(12, 1, 1024),
  MAX_GROUP_MEMBERS: env.int(100_000, 2, 1_000_000),
  MAX_PAGE_SIZE: env.int(500, 1, 1_000),
  /** Bytes of message buckets the read path keeps in memory (history and sync). */
  READ_CACHE_BYTES: env.int(64 * 1024 * 1024, 0, 16 * 1024 * 1024 * 1024),
  /** The first admin API key (every scope), from the install's secret: at least 32 characters. Not stored; compared by hash. */
  BOOTSTRAP_ADMIN_KEY: z.string().min(32, 'at least 32 characters').max(512).optional(),
  /** How long an API key's answer (valid or not) is kept in memory: a revocation is in force everywhere within it. */
  API_KEY_CACHE_MS: env.int(2_000, 0, 600_000),
});

export type StorageConfig = z.infer<typeof storageConfigSchema>;
