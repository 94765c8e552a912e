import { z } from 'zod';
import { commonConfigShape, env, kafkaConfigShape, redisConfigShape } from '@parley/core';

export const pushConfigSchema = z.object({
  ...commonConfigShape,
  KAFKA_BROKERS: env.list(),
  ...kafkaConfigShape,
  ...redisConfigShape,
  HTTP_PORT: env.port(9103),
  /** Serves only grpc.health.v1 (for gRPC-native probes and meshes); push takes no other calls. */
  GRPC_PORT: env.port(7003),
  /** Deadline of one Connector.Deliver call. */
  DELIVER_DEADLINE_MS: env.int(3_000, 50, 60_000),
  /** Attempts per connector before its sessions are taken as gone (the devices sync when they return). */
  DELIVER_ATTEMPTS: env.int(3, 1, 20),
  CONSUMER_CONCURRENCY: env.int(12, 1, 1024),
  /** Storage's gRPC (member lists, read once per conversation and kept true by membership events). */
  STORAGE_ADDR: z.string().min(3),
  STORAGE_DEADLINE_MS: env.int(5_000, 50, 60_000),
  /** Member ids push keeps in memory over all conversations. */
  MEMBER_CACHE_SIZE: env.int(2_000_000, 1_000, 100_000_000),
});

export type PushConfig = z.infer<typeof pushConfigSchema>;
