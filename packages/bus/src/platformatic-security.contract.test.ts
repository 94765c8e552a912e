// TLS and SASL settings reach @platformatic/kafka: against the local plaintext broker, a bus
// configured for TLS or SASL must fail to connect (one without them connects, in the bus
// contract suite), for each SASL mechanism. The positive path needs a TLS/SASL cluster and is not run here.
import { createLogger } from '@parley/core';
import { PlatformaticBus } from './platformatic';

const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);
if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set: run the suite with ./parley test');
const log = createLogger('contract', 'bus', 'silent');

describe('Kafka security settings reach the @platformatic/kafka client', () => {
  it('connects without them (control)', async () => {
    const bus = new PlatformaticBus({ brokers, clientId: 'security-control', log, security: { ssl: false } });
    try {
      await expect(bus.connect()).resolves.toBeUndefined();
      expect(bus.healthy()).toBe(true);
    } finally {
      await bus.close();
    }
  });

  it.each([
    ['TLS', { ssl: true }],
    ['SASL/PLAIN', { ssl: false, sasl: { mechanism: 'plain' as const, username: 'parley', password: 'wrong' } }],
    ['SASL/SCRAM-SHA-256', { ssl: false, sasl: { mechanism: 'scram-sha-256' as const, username: 'parley', password: 'wrong' } }],
    ['SASL/SCRAM-SHA-512', { ssl: false, sasl: { mechanism: 'scram-sha-512' as const, username: 'parley', password: 'wrong' } }],
  ])('fails against a plaintext broker with %s', async (_label, security) => {
    const bus = new PlatformaticBus({ brokers, clientId: 'security-test', log, security });
    try {
      await expect(bus.connect()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(bus.healthy()).toBe(false);
    } finally {
      await bus.close().catch(() => undefined);
    }
  });
});
