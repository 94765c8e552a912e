// Configuration of dist/create-topics.js (the Helm chart's topics Job), apart from its entry
// point so tests can check the chart's variable names against it.
import { z } from 'zod';
import { env, kafkaConfigShape } from '@parley/core';

export const createTopicsConfigSchema = z.object({
  LOG_LEVEL: env.logLevel(),
  KAFKA_BROKERS: env.list(),
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]{0,100}$/).default('parley.'),
  ...kafkaConfigShape,
  TOPIC_PARTITIONS: env.int(12, 1, 10_000),
  /** -1: the brokers' default.replication.factor. */
  TOPIC_REPLICATION_FACTOR: z.coerce.number().int().min(-1).max(32).default(-1),
  /** retention.ms of messages, deliveries and receipts (-1: forever). */
  TOPIC_RETENTION_MS: z.coerce.number().int().min(-1).default(604_800_000),
  SIGNALS_RETENTION_MS: env.int(60_000, 1_000),
});
