// Chooses the Kafka client behind the message-bus port (KAFKA_CLIENT): one line in a
// service's main.ts, and both adapters keep the same contract (contract.ts).
import { KafkaBus, type KafkaBusOptions } from './kafka';
import type { MessageBus } from './port';
import { PlatformaticBus } from './platformatic';

/** The values KAFKA_CLIENT may take (for the config schema). */
export const KAFKA_CLIENTS = ['kafkajs', 'platformatic'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];

/** A Kafka-backed bus: the port, plus connecting up front so readiness reflects the brokers. */
export interface KafkaMessageBus extends MessageBus {
  connect(): Promise<void>;
}

export function createMessageBus(options: KafkaBusOptions & { client: KafkaClientName }): KafkaMessageBus {
  const { client, ...busOptions } = options;
  switch (client) {
    case 'kafkajs':
      return new KafkaBus(busOptions);
    case 'platformatic':
      return new PlatformaticBus(busOptions);
  }
}
