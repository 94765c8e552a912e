// One-shot: creates Parley's four topics when they are missing (the Helm chart's topics Job
// runs `node dist/create-topics.js` from the storage image). Never changes an existing
// topic: a topic with another partition count is reported, because repartitioning moves
// conversations between partitions and must be planned (docs/OPERATIONS.md).
import { ensureTopics, topicSpecs } from '@parley/bus';
import { createLogger, kafkaSecurityFrom, loadConfig, runMain } from '@parley/core';
import { createTopicsConfigSchema } from './create-topics-config';

runMain('parley-create-topics', async () => {
  const config = loadConfig(createTopicsConfigSchema);
  const log = createLogger('create-topics', 'job', config.LOG_LEVEL);
  const specs = topicSpecs(config.KAFKA_TOPIC_PREFIX, {
    partitions: config.TOPIC_PARTITIONS,
    replicationFactor: config.TOPIC_REPLICATION_FACTOR,
    retentionMs: config.TOPIC_RETENTION_MS,
    signalsRetentionMs: config.SIGNALS_RETENTION_MS,
  });
  const result = await ensureTopics(config.KAFKA_BROKERS, specs, kafkaSecurityFrom(config));
  for (const { topic, partitions } of result.existing) {
    if (partitions !== config.TOPIC_PARTITIONS) {
      log.warn({ topic, partitions, wanted: config.TOPIC_PARTITIONS }, 'topic exists with another partition count; left unchanged (storage and push cannot use more pods than its partitions)');
    }
  }
  log.info({ created: result.created, existing: result.existing.map((t) => t.topic) }, 'topics ready');
});
