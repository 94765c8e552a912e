// dist/create-topics.js (the Helm chart's topics Job) against a real Kafka broker.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { KafkaBus } from '@parley/bus';
import { createLogger } from '@parley/core';

const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);
if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set: run the suite with ./parley test');
const script = path.resolve(__dirname, '../dist/create-topics.js');

function run(env: Record<string, string>) {
  const result = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: brokers.join(','), LOG_LEVEL: 'info', ...env }, timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('create-topics (topics Job)', () => {
  const prefix = `ct${randomUUID().slice(0, 8)}.`;
  const topics = ['messages', 'deliveries', 'receipts', 'signals'].map((t) => prefix + t);
  const admin = new KafkaBus({ brokers, clientId: 'create-topics-test', log: createLogger('create-topics-test', 'test', 'silent') }).kafka.admin();
  const TOPIC_RESOURCE = 2; // kafkajs ConfigResourceTypes.TOPIC

  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  });

  it('creates the four topics with the partition count and a one-minute retention for signals', async () => {
    const result = run({ KAFKA_TOPIC_PREFIX: prefix, TOPIC_PARTITIONS: '3', TOPIC_RETENTION_MS: '86400000' });
    expect(result.output).toContain('topics ready');
    expect(result.status).toBe(0);
    const metadata = await admin.fetchTopicMetadata({ topics });
    expect(metadata.topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(topics.map((t) => [t, 3]).sort());
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [prefix + 'signals', prefix + 'messages'].map((name) => ({ type: TOPIC_RESOURCE, name, configNames: ['retention.ms'] })),
    });
    const retention = Object.fromEntries(configs.resources.map((r) => [r.resourceName, r.configEntries.find((e) => e.configName === 'retention.ms')?.configValue]));
    expect(retention).toEqual({ [prefix + 'signals']: '60000', [prefix + 'messages']: '86400000' });
  });

  it('leaves existing topics alone and reports a different partition count', async () => {
    const result = run({ KAFKA_TOPIC_PREFIX: prefix, TOPIC_PARTITIONS: '6' });
    expect(result.status).toBe(0);
    expect(result.output).toContain('another partition count');
    const metadata = await admin.fetchTopicMetadata({ topics });
    expect(metadata.topics.every((t) => t.partitions.length === 3)).toBe(true);
  });

  it('refuses a SASL mechanism without credentials, naming the variables (exit 78)', () => {
    const result = run({ KAFKA_TOPIC_PREFIX: prefix, KAFKA_SASL_MECHANISM: 'scram-sha-512' });
    expect(result.status).toBe(78);
    expect(result.output).toMatch(/KAFKA_SASL_USERNAME/);
  });
});
