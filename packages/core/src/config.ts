// Owns reading a service's configuration from environment variables through one
// validated schema; a bad or missing value stops the service naming the variable.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses env against a schema whose keys are the environment variable names.
 * Empty strings count as unset, so `FOO=` falls back to the default.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const variable = issue.path.join('.') || '(config)';
        return `${variable}: ${issue.message}${input[variable] === undefined ? ' (not set)' : ''}`;
      }),
    );
  }
  return result.data;
}

/** Reusable env field types. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(fallback),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  host: (fallback: string) => z.string().min(1).default(fallback),
  list: () =>
    z
      .string()
      .min(1)
      .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0)),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
} as const;

/** Every service's gRPC security settings (commonConfigShape spreads them; peer.ts reads them). */
export const grpcSecurityConfigShape = {
  /** This service's certificate (PEM; its URI SAN names the service), used as server and as client. */
  GRPC_TLS_CERT_FILE: z.string().min(1).optional(),
  GRPC_TLS_KEY_FILE: z.string().min(1).optional(),
  /** The CA that issues Parley's service certificates (and, for API-key callers, their servers' trust). */
  GRPC_TLS_CA_FILE: z.string().min(1).optional(),
  /** How often the certificate files are read again (a renewed certificate is used without a restart). */
  GRPC_TLS_REFRESH_MS: env.int(60_000, 1_000, 86_400_000),
  /** Plaintext gRPC with no peer identity: every caller without an API key counts as a Parley service. Development only. */
  GRPC_INSECURE: env.bool(false),
} as const;

/** Configuration every service shares. */
export const commonConfigShape = {
  LOG_LEVEL: env.logLevel(),
  /** Identifies this process in logs, metrics and the session directory; defaults to hostname-pid. */
  INSTANCE_ID: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/).optional(),
  HTTP_HOST: env.host('0.0.0.0'),
  GRPC_HOST: env.host('0.0.0.0'),
  GRPC_REFLECTION: env.bool(false),
  /** Prefix of every Kafka topic and consumer group ("parley." gives parley.messages ...). */
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]{0,100}$/).default('parley.'),
  SHUTDOWN_TIMEOUT_MS: env.int(20_000, 100, 600_000),
  /** Unary gRPC calls one process works on at once; past it calls are refused UNAVAILABLE at once (load shedding). */
  GRPC_MAX_CONCURRENT_CALLS: env.int(512, 1, 1_000_000),
  ...grpcSecurityConfigShape,
} as const;

/** Kafka client security, for the services that talk to Kafka (router, storage, push). */
export const kafkaConfigShape = {
  /** Which Kafka client library talks to the brokers: kafkajs (the default) or @platformatic/kafka. Both pass the same bus contract. */
  KAFKA_CLIENT: z.enum(['kafkajs', 'platformatic']).default('kafkajs'),
  /** Connect to the brokers over TLS, verified against the system CA bundle (or KAFKA_TLS_CA_FILE). */
  KAFKA_SSL: env.bool(false),
  /** PEM file of the CA(s) that issued the brokers' certificates (a private CA); needs KAFKA_SSL=true. */
  KAFKA_TLS_CA_FILE: z.string().min(1).optional(),
  /** SASL mechanism; unset means no SASL. Username and password are then required. */
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
} as const;

export interface KafkaSecurity {
  ssl: boolean;
  /** PEM of the CA(s) the brokers' certificates are verified against instead of the system bundle. */
  caPem?: string;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

/**
 * A CA file named by a variable, read once at start: a file that is missing or holds no
 * certificate stops the service naming the variable (not a TLS error at the first connect).
 */
export function readCaFile(variable: string, file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError([`${variable}: ${file} holds no PEM certificate`]);
  return pem;
}

/** The Kafka client's TLS and SASL settings from a config that spread kafkaConfigShape; names the missing variable. */
export function kafkaSecurityFrom(config: {
  KAFKA_SSL: boolean;
  KAFKA_TLS_CA_FILE?: string | undefined;
  KAFKA_SASL_MECHANISM?: NonNullable<KafkaSecurity['sasl']>['mechanism'] | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
}): KafkaSecurity {
  const problems: string[] = [];
  // A CA without TLS would be ignored silently, and the client would talk plaintext.
  if (config.KAFKA_TLS_CA_FILE && !config.KAFKA_SSL) problems.push('KAFKA_TLS_CA_FILE: needs KAFKA_SSL=true');
  const mechanism = config.KAFKA_SASL_MECHANISM;
  if (mechanism && !config.KAFKA_SASL_USERNAME) problems.push('KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM is set (not set)');
  if (mechanism && !config.KAFKA_SASL_PASSWORD) problems.push('KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set (not set)');
  if (problems.length > 0) throw new ConfigError(problems);
  const tls: KafkaSecurity = { ssl: config.KAFKA_SSL, ...(config.KAFKA_TLS_CA_FILE ? { caPem: readCaFile('KAFKA_TLS_CA_FILE', config.KAFKA_TLS_CA_FILE) } : {}) };
  if (!mechanism) return tls;
  return { ...tls, sasl: { mechanism, username: config.KAFKA_SASL_USERNAME ?? '', password: config.KAFKA_SASL_PASSWORD ?? '' } };
}

/** Redis, for the services that use it (connector, push, storage). */
export const redisConfigShape = {
  /** redis:// or rediss:// (TLS). Credentials belong in REDIS_USERNAME / REDIS_PASSWORD, not here. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  REDIS_KEY_PREFIX: z.string().max(64).default('parley:'),
  /** PEM file of the CA that issued the Redis server's certificate (a private CA); needs a rediss:// URL. */
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  /** The Redis ACL user (Redis 6+); with only REDIS_PASSWORD, the default user's password (requirepass). */
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
} as const;

/** How a Redis adapter connects: the URL plus what must not be in it (credentials, the CA). */
export interface RedisConnection {
  url: string;
  username?: string;
  password?: string;
  /** TLS trusting this CA (PEM); a rediss:// URL alone trusts the system bundle. */
  caPem?: string;
}

/** ioredis's options for a RedisConnection beyond its URL (TLS trust, ACL user, password). */
export function redisClientAuth(connection: RedisConnection): { username?: string; password?: string; tls?: { ca: string } } {
  return {
    ...(connection.username !== undefined ? { username: connection.username } : {}),
    ...(connection.password !== undefined ? { password: connection.password } : {}),
    ...(connection.caPem !== undefined ? { tls: { ca: connection.caPem } } : {}),
  };
}

/** The Redis connection from a config that spread redisConfigShape; names the variable that is wrong. */
export function redisConnectionFrom(config: { REDIS_URL: string; REDIS_TLS_CA_FILE?: string | undefined; REDIS_USERNAME?: string | undefined; REDIS_PASSWORD?: string | undefined }): RedisConnection {
  const problems: string[] = [];
  const tls = config.REDIS_URL.startsWith('rediss://');
  if (config.REDIS_TLS_CA_FILE && !tls) problems.push('REDIS_TLS_CA_FILE: needs a rediss:// REDIS_URL');
  if (config.REDIS_USERNAME && !config.REDIS_PASSWORD) problems.push('REDIS_PASSWORD: required when REDIS_USERNAME is set (not set)');
  // A password in the URL ends up wherever the URL is printed.
  if (/^rediss?:\/\/[^/@]*@/.test(config.REDIS_URL)) problems.push('REDIS_URL: put the credentials in REDIS_USERNAME / REDIS_PASSWORD, not in the URL');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    url: config.REDIS_URL,
    ...(config.REDIS_USERNAME ? { username: config.REDIS_USERNAME } : {}),
    ...(config.REDIS_PASSWORD ? { password: config.REDIS_PASSWORD } : {}),
    ...(config.REDIS_TLS_CA_FILE ? { caPem: readCaFile('REDIS_TLS_CA_FILE', config.REDIS_TLS_CA_FILE) } : {}),
  };
}
