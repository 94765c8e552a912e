// The bus contract against a real Kafka broker (KAFKA_BROKERS), @platformatic/kafka adapter.
// Topics are created with the kafkajs admin (ensureTopics), as everywhere in Parley.
import { randomUUID } from 'node:crypto';
import { createLogger } from '@parley/core';
import { runBusContract } from './contract';
import { ensureTopics } from './kafka';
import { PlatformaticBus } from './platformatic';

const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);
if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set: run the suite with ./parley test');

runBusContract('platformatic', async () => {
  const bus = new PlatformaticBus({ brokers, clientId: 'contract', log: createLogger('contract', 'bus', 'error') });
  await bus.connect();
  return {
    bus,
    newTopic: async (partitions) => {
      const topic = `contract.${randomUUID()}`;
      await ensureTopics(brokers, [{ topic, partitions }]);
      return topic;
    },
    close: () => bus.close(),
  };
});
