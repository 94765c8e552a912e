// The bus contract against the in-memory adapter (the same suite the Kafka adapter passes).
import { randomUUID } from 'node:crypto';
import { runBusContract } from './contract';
import { MemoryBus } from './memory';

runBusContract('memory', async () => {
  const bus = new MemoryBus();
  return {
    bus,
    newTopic: async (partitions) => {
      const topic = `contract.${randomUUID()}`;
      bus.createTopic(topic, partitions);
      return topic;
    },
    close: () => bus.close(),
  };
});
