import { kafkaClientSecurity } from './kafka';
import { topicSpecs } from './topics';

describe('topicSpecs', () => {
  it('gives every topic one partition count and the prefix; signals, membership and the dead-letter topic their own retention', () => {
    const specs = topicSpecs('acme.', { partitions: 24, replicationFactor: 3, retentionMs: 86_400_000 });
    expect(specs.map((s) => s.topic)).toEqual(['acme.messages', 'acme.deliveries', 'acme.receipts', 'acme.signals', 'acme.membership', 'acme.dlq']);
    expect(new Set(specs.map((s) => s.partitions))).toEqual(new Set([24]));
    expect(new Set(specs.map((s) => s.replicationFactor))).toEqual(new Set([3]));
    expect(specs.map((s) => s.configs?.['retention.ms'])).toEqual(['86400000', '86400000', '86400000', '60000', '3600000', '2419200000']);
  });

  it('leaves retention and replication to the brokers when not given', () => {
    const [messages] = topicSpecs('parley.', { partitions: 12 });
    expect(messages).toEqual({ topic: 'parley.messages', partitions: 12, configs: {} });
  });
});

describe('kafkaClientSecurity', () => {
  it('is plaintext by default', () => {
    expect(kafkaClientSecurity(undefined)).toEqual({});
    expect(kafkaClientSecurity({ ssl: false })).toEqual({});
  });

  it('maps TLS and SASL onto kafkajs options', () => {
    expect(kafkaClientSecurity({ ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'parley', password: 'pw' } })).toEqual({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'parley', password: 'pw' },
    });
  });
});
