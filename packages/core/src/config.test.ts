import { z } from 'zod';
import { ConfigError, commonConfigShape, env, kafkaConfigShape, kafkaSecurityFrom, loadConfig } from './config';

const schema = z.object({
  ...commonConfigShape,
  PORT: env.port(8080),
  WORKERS: env.int(4, 1, 64),
  FLAG: env.bool(false),
  BROKERS: env.list(),
});

function problems(values: Record<string, string>): string[] {
  try {
    loadConfig(schema, values);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}

describe('loadConfig', () => {
  it('applies defaults, coerces numbers and booleans, splits lists', () => {
    const config = loadConfig(schema, { BROKERS: 'a:1, b:2,,', FLAG: 'yes', WORKERS: '8' });
    expect(config).toMatchObject({ PORT: 8080, WORKERS: 8, FLAG: true, BROKERS: ['a:1', 'b:2'], LOG_LEVEL: 'info', KAFKA_TOPIC_PREFIX: 'parley.' });
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig(schema, { BROKERS: 'k:9092', PORT: '' }).PORT).toBe(8080);
  });

  it('names every bad or missing variable in one error', () => {
    const found = problems({ PORT: '70000', WORKERS: 'many', FLAG: 'maybe', LOG_LEVEL: 'loud' });
    const variables = found.map((p) => p.split(':')[0]).sort();
    expect(variables).toEqual(['BROKERS', 'FLAG', 'LOG_LEVEL', 'PORT', 'WORKERS']);
    expect(found.find((p) => p.startsWith('BROKERS'))).toMatch(/not set/);
    expect(found.find((p) => p.startsWith('PORT'))).not.toMatch(/not set/);
  });

  it('ignores variables the schema does not name', () => {
    expect(loadConfig(schema, { BROKERS: 'k', UNRELATED: '!!' })).not.toHaveProperty('UNRELATED');
  });

  it('rejects a topic prefix that Kafka would refuse', () => {
    expect(problems({ BROKERS: 'k', KAFKA_TOPIC_PREFIX: 'bad prefix/' }).map((p) => p.split(':')[0])).toEqual(['KAFKA_TOPIC_PREFIX']);
  });
});

describe('Kafka security settings', () => {
  const schema = z.object({ ...kafkaConfigShape });

  it('is plaintext without SASL by default', () => {
    expect(kafkaSecurityFrom(loadConfig(schema, {}))).toEqual({ ssl: false });
  });

  it('reads TLS and a SASL mechanism with its credentials', () => {
    const config = loadConfig(schema, { KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'parley', KAFKA_SASL_PASSWORD: 's3cret' });
    expect(kafkaSecurityFrom(config)).toEqual({ ssl: true, sasl: { mechanism: 'scram-sha-256', username: 'parley', password: 's3cret' } });
  });

  it('refuses an unknown mechanism, naming the variable', () => {
    expect(() => loadConfig(schema, { KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(/KAFKA_SASL_MECHANISM/);
  });

  it('refuses a mechanism without username and password, naming both', () => {
    const config = loadConfig(schema, { KAFKA_SASL_MECHANISM: 'plain' });
    expect(() => kafkaSecurityFrom(config)).toThrow(ConfigError);
    expect(() => kafkaSecurityFrom(config)).toThrow(/KAFKA_SASL_USERNAME[\s\S]*KAFKA_SASL_PASSWORD/);
  });
});
