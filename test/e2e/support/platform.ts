// Starts the four Parley services as real processes against the real Kafka, Redis
// and MongoDB-wire server of the test set-up, each test file in its own namespace
// (topic prefix, Redis key prefix, database), and stops every process it started.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import { ensureTopics, kafkaClientSecurity, topicNames, topicSpecs } from '@parley/bus';
import { callUnary, createApiClient, kafkaSecurityFrom, redisClientAuth, redisConnectionFrom, signHs256, type ApiClientOptions, type KafkaSecurity } from '@parley/core';
import { parleyGrpc, type StorageClient } from '@parley/proto';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const LOG_DIR = path.join(REPO_ROOT, '.local', 'logs', 'e2e');

export type ServiceName = 'storage' | 'router' | 'push' | 'connector';

export interface ServiceProcess {
  name: ServiceName;
  index: number;
  child: ChildProcess;
  env: Record<string, string>;
  httpPort: number;
  logFile: string;
  exited: Promise<number | null>;
}

/** Who holds credentials on a secure infrastructure instance: each service, and the operator. */
export type InfraPrincipal = ServiceName | 'admin';

/** Where the platform's servers are; a secure instance (infra.sh's secure mode) adds TLS and credentials. */
export interface InfraEnv {
  KAFKA_BROKERS: string;
  REDIS_URL: string;
  MONGO_URL: string;
  secure?: {
    /** What every process gets: KAFKA_SSL, KAFKA_TLS_CA_FILE, KAFKA_SASL_MECHANISM, REDIS_TLS_CA_FILE, MONGO_TLS_CA_FILE. */
    tls: Record<string, string>;
    /** Each principal's own KAFKA_SASL_*, REDIS_USERNAME/PASSWORD, MONGO_USERNAME/PASSWORD (infra.sh's secrets/<name>.env). */
    credentials: Record<InfraPrincipal, Record<string, string>>;
  };
}

export function infraEnv(): InfraEnv {
  const { KAFKA_BROKERS, REDIS_URL, MONGO_URL } = process.env;
  if (!KAFKA_BROKERS || !REDIS_URL || !MONGO_URL) throw new Error('KAFKA_BROKERS, REDIS_URL and MONGO_URL must be set: run the suite with ./parley test');
  return { KAFKA_BROKERS, REDIS_URL, MONGO_URL };
}

/** A principal's whole environment for the infrastructure: URLs, TLS settings and its credentials. */
export function principalEnv(infra: InfraEnv, principal: InfraPrincipal): Record<string, string> {
  const { KAFKA_BROKERS, REDIS_URL, MONGO_URL } = infra;
  return { KAFKA_BROKERS, REDIS_URL, MONGO_URL, ...(infra.secure ? { ...infra.secure.tls, ...infra.secure.credentials[principal] } : {}) };
}

/** The Kafka client settings a principal's process would read from principalEnv (plaintext when not secure). */
export function kafkaSecurityOf(infra: InfraEnv, principal: InfraPrincipal): KafkaSecurity {
  const e = principalEnv(infra, principal);
  return kafkaSecurityFrom({
    KAFKA_SSL: e['KAFKA_SSL'] === 'true',
    KAFKA_TLS_CA_FILE: e['KAFKA_TLS_CA_FILE'],
    KAFKA_SASL_MECHANISM: e['KAFKA_SASL_MECHANISM'] as NonNullable<KafkaSecurity['sasl']>['mechanism'] | undefined,
    KAFKA_SASL_USERNAME: e['KAFKA_SASL_USERNAME'],
    KAFKA_SASL_PASSWORD: e['KAFKA_SASL_PASSWORD'],
  });
}

/** The MongoDB client options a principal's process would use (TLS trust, credentials). */
export function mongoOptionsOf(infra: InfraEnv, principal: InfraPrincipal): { tls?: boolean; tlsCAFile?: string; auth?: { username: string; password: string } } {
  const e = principalEnv(infra, principal);
  return {
    ...(e['MONGO_TLS_CA_FILE'] ? { tls: true, tlsCAFile: e['MONGO_TLS_CA_FILE'] } : {}),
    ...(e['MONGO_USERNAME'] && e['MONGO_PASSWORD'] ? { auth: { username: e['MONGO_USERNAME'], password: e['MONGO_PASSWORD'] } } : {}),
  };
}

/** The ioredis options beyond the URL a principal's process would use. */
export function redisOptionsOf(infra: InfraEnv, principal: InfraPrincipal): ReturnType<typeof redisClientAuth> {
  const e = principalEnv(infra, principal);
  return redisClientAuth(redisConnectionFrom({ REDIS_URL: infra.REDIS_URL, REDIS_TLS_CA_FILE: e['REDIS_TLS_CA_FILE'], REDIS_USERNAME: e['REDIS_USERNAME'], REDIS_PASSWORD: e['REDIS_PASSWORD'] }));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(proc: ServiceProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void proc.exited.then((code) => {
    exitCode = code;
  });
  while (Date.now() < until) {
    if (exitCode !== undefined) throw new Error(`${proc.name} exited (${exitCode}) before it was ready:\n${tail(proc.logFile)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${proc.httpPort}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${proc.name} not ready after ${timeoutMs} ms:\n${tail(proc.logFile)}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * A throw-away CA and a certificate per service (deploy/local/pki.sh) in DIR; extra names get
 * certificates of their own (tests play a service with them, or an outsider the CA vouches for).
 */
export function issueCertificates(dir: string, names: string[] = []): void {
  execFileSync('bash', [path.join(REPO_ROOT, 'deploy', 'local', 'pki.sh'), dir, ...(names.length > 0 ? names : ['connector', 'router', 'storage', 'push'])], { stdio: 'pipe' });
}

export interface PlatformOptions {
  /** Plaintext gRPC (GRPC_INSECURE=true) instead of mutual TLS with a throw-away CA. */
  insecure?: boolean;
  partitions?: number;
  connectors?: number;
  /** Instances of storage, router and push (default 1 each); their addresses go out as lists. */
  instances?: number;
  /** Router instances, when they differ from `instances` (shared rate limits need two, nothing else more). */
  routers?: number;
  env?: Record<string, string>;
  /** wss:// on the connectors (WS_TLS_*, their certificate from the platform's CA) instead of plaintext ws://. */
  wsTls?: boolean;
  /** The namespace (topic prefix, Redis key prefix, database); a secure instance's ACLs are granted for one. Random by default. */
  namespace?: string;
}

/** The Node flags a service runs with everywhere (its package.json "parleyNodeFlags"; the Dockerfile's CMD has the same). */
export function nodeFlagsOf(name: ServiceName): string[] {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'services', name, 'package.json'), 'utf8')) as { parleyNodeFlags?: string[] };
  return pkg.parleyNodeFlags ?? [];
}

export class Platform {
  readonly namespace: string;
  readonly secret = randomBytes(32).toString('hex');
  /** The bootstrap admin API key (every scope) the platform's storage is started with. */
  readonly adminKey = randomBytes(32).toString('base64url');
  /** The platform's CA and service certificates (mutual TLS), removed at stop(). */
  readonly pkiDir: string;
  readonly processes: ServiceProcess[] = [];
  readonly wsPorts: number[] = [];
  /** Per connector (as wsPorts): whether it serves wss://. */
  readonly wsSchemes: ('ws' | 'wss')[] = [];
  private readonly nextIndex = new Map<ServiceName, number>();
  storageAddr = '';
  routerAddr = '';
  private storageClient: StorageClient | undefined;
  private readonly infra: InfraEnv;

  constructor(
    private readonly options: PlatformOptions = {},
    infra: InfraEnv = infraEnv(),
  ) {
    this.infra = infra;
    this.namespace = options.namespace ?? `e2e${randomBytes(5).toString('hex')}`;
    this.pkiDir = path.join(REPO_ROOT, '.local', 'test-pki', this.namespace);
  }

  get topicPrefix(): string {
    return `${this.namespace}.`;
  }

  get wsUrl(): string {
    return this.wsUrlOf(0);
  }

  get wsTls(): boolean {
    return this.options.wsTls === true;
  }

  /** The CA a client trusts for the connectors' wss:// (and the services' gRPC) certificates. */
  caPem(): Buffer {
    return readFileSync(path.join(this.pkiDir, 'ca.pem'));
  }

  token(userId: string, deviceId?: string, ttlSeconds = 3600): string {
    return signHs256({ sub: userId, ...(deviceId ? { did: deviceId } : {}), exp: Math.floor(Date.now() / 1000) + ttlSeconds }, this.secret);
  }

  get insecure(): boolean {
    return this.options.insecure === true;
  }

  /** How a caller outside Parley (a test, the bench) reaches `service`: TLS trusting the CA, and an API key. */
  apiOptions(service: ServiceName, key: string = this.adminKey): ApiClientOptions {
    return this.insecure ? { insecure: true, key } : { tls: { caPem: readFileSync(path.join(this.pkiDir, 'ca.pem')), service }, key };
  }

  /** A service's gRPC identity: its certificate and the CA, or plaintext. */
  securityEnv(name: ServiceName): Record<string, string> {
    if (this.insecure) return { GRPC_INSECURE: 'true' };
    return { GRPC_TLS_CA_FILE: path.join(this.pkiDir, 'ca.pem'), GRPC_TLS_CERT_FILE: path.join(this.pkiDir, `${name}.pem`), GRPC_TLS_KEY_FILE: path.join(this.pkiDir, `${name}.key`) };
  }

  baseEnv(): Record<string, string> {
    const { KAFKA_BROKERS, REDIS_URL, MONGO_URL } = this.infra;
    return {
      KAFKA_BROKERS,
      REDIS_URL,
      MONGO_URL,
      ...(this.infra.secure?.tls ?? {}),
      KAFKA_TOPIC_PREFIX: this.topicPrefix,
      REDIS_KEY_PREFIX: `${this.namespace}:`,
      MONGO_DB: this.namespace,
      LOG_LEVEL: 'info',
      HTTP_HOST: '127.0.0.1',
      GRPC_HOST: '127.0.0.1',
      WS_HOST: '127.0.0.1',
      JWT_SECRETS: this.secret,
      CONSUMER_CONCURRENCY: String(this.options.partitions ?? 4),
      SHUTDOWN_TIMEOUT_MS: '15000',
      // Tests stop connectors that still hold sockets: spread their 4009 closes over 1 s, not 10.
      DRAIN_WINDOW_MS: '1000',
      // PARLEY_TEST_KAFKA_CLIENT=platformatic runs the suite on the second Kafka adapter.
      ...(process.env['PARLEY_TEST_KAFKA_CLIENT'] ? { KAFKA_CLIENT: process.env['PARLEY_TEST_KAFKA_CLIENT'] } : {}),
      ...(this.options.env ?? {}),
    };
  }

  async start(): Promise<this> {
    if (!this.insecure || this.wsTls) issueCertificates(this.pkiDir);
    const partitions = this.options.partitions ?? 4;
    await ensureTopics(this.infra.KAFKA_BROKERS.split(','), topicSpecs(this.topicPrefix, { partitions, signalsRetentionMs: 600_000 }), kafkaSecurityOf(this.infra, 'admin'));
    const instances = this.options.instances ?? 1;
    const storagePorts: number[] = [];
    const routerPorts: number[] = [];
    for (let i = 0; i < instances; i++) storagePorts.push(await freePort());
    for (let i = 0; i < (this.options.routers ?? instances); i++) routerPorts.push(await freePort());
    this.storageAddr = storagePorts.map((p) => `127.0.0.1:${p}`).join(',');
    this.routerAddr = routerPorts.map((p) => `127.0.0.1:${p}`).join(',');
    const pushPorts = await Promise.all(Array.from({ length: instances }, () => freePort()));
    await Promise.all([
      ...storagePorts.map((p) => this.spawnService('storage', { GRPC_PORT: String(p) })),
      ...pushPorts.map((p) => this.spawnService('push', { GRPC_PORT: String(p), STORAGE_ADDR: this.storageAddr })),
    ]);
    await Promise.all(routerPorts.map((p) => this.spawnService('router', { GRPC_PORT: String(p), STORAGE_ADDR: this.storageAddr })));
    for (let i = 0; i < (this.options.connectors ?? 1); i++) await this.addConnector();
    return this;
  }

  /** One more storage instance (joins the consumer groups; not in the gRPC address lists). */
  async addStorage(): Promise<ServiceProcess> {
    return this.spawnService('storage', { GRPC_PORT: String(await freePort()) });
  }

  /** One more push instance (joins the push consumer groups). */
  async addPush(): Promise<ServiceProcess> {
    return this.spawnService('push', { GRPC_PORT: String(await freePort()), STORAGE_ADDR: this.storageAddr });
  }

  /** The WebSocket URL of connector i. */
  wsUrlOf(i: number): string {
    return `${this.wsSchemes[i] ?? 'ws'}://127.0.0.1:${this.wsPorts[i]}/`;
  }

  /**
   * One more connector; wsPort lets a test hand its URL to clients before it runs. wsTls
   * (default: the platform's option) serves wss:// with the platform CA's certificate; env is
   * added to its environment (the bench gives connectors behind a proxy their own limits).
   */
  async addConnector(wsPort?: number, options: { wsTls?: boolean; env?: Record<string, string> } = {}): Promise<ServiceProcess> {
    wsPort ??= await freePort();
    const grpcPort = await freePort();
    const tls = options.wsTls ?? this.wsTls;
    if (tls) issueCertificates(this.pkiDir);
    this.wsPorts.push(wsPort);
    this.wsSchemes.push(tls ? 'wss' : 'ws');
    return this.spawnService('connector', {
      WS_PORT: String(wsPort),
      GRPC_PORT: String(grpcPort),
      ADVERTISE_ADDR: `127.0.0.1:${grpcPort}`,
      // The connector's certificate names localhost and 127.0.0.1 too (deploy/local/pki.sh).
      ...(tls
        ? { WS_TLS_CERT_FILE: path.join(this.pkiDir, 'connector.pem'), WS_TLS_KEY_FILE: path.join(this.pkiDir, 'connector.key') }
        : { WS_INSECURE: 'true' }),
      ROUTER_ADDR: this.routerAddr,
      STORAGE_ADDR: this.storageAddr,
      ...(options.env ?? {}),
    });
  }

  async spawnService(name: ServiceName, env: Record<string, string>): Promise<ServiceProcess> {
    mkdirSync(LOG_DIR, { recursive: true });
    // Reserved before the first await: concurrent spawns must not share an index.
    const index = this.nextIndex.get(name) ?? 0;
    this.nextIndex.set(name, index + 1);
    const httpPort = env['HTTP_PORT'] ? Number(env['HTTP_PORT']) : await freePort();
    // Storage and the router serve the HTTP/JSON form of their API too (docs/API.md).
    const apiHttp: Record<string, string> = name === 'storage' || name === 'router' ? { API_HTTP_PORT: String(await freePort()) } : {};
    const fullEnv = {
      ...this.baseEnv(),
      ...this.securityEnv(name),
      // On a secure instance each service logs in as itself (its own ACLs).
      ...(this.infra.secure?.credentials[name] ?? {}),
      ...(name === 'storage' ? { BOOTSTRAP_ADMIN_KEY: this.adminKey } : {}),
      HTTP_PORT: String(httpPort),
      INSTANCE_ID: `${name}-${index}`,
      ...apiHttp,
      ...env,
    };
    const logFile = path.join(LOG_DIR, `${this.namespace}-${name}-${index}.log`);
    const out = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(process.execPath, [...nodeFlagsOf(name), path.join(REPO_ROOT, 'services', name, 'dist', 'main.js')], {
      env: { PATH: process.env['PATH'] ?? '', ...fullEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const proc: ServiceProcess = { name, index, child, env: fullEnv, httpPort, logFile, exited };
    this.processes.push(proc);
    await waitReady(proc, 60_000);
    return proc;
  }

  /** The base URL of the HTTP/JSON API of the first storage or router instance (https unless insecure). */
  apiHttpUrl(service: 'storage' | 'router'): string {
    const proc = this.processes.find((p) => p.name === service && p.env['API_HTTP_PORT']);
    if (!proc) throw new Error(`no ${service} instance serves the HTTP API`);
    return `${this.insecure ? 'http' : 'https'}://127.0.0.1:${proc.env['API_HTTP_PORT']}`;
  }

  storage(): StorageClient {
    this.storageClient ??= createApiClient(parleyGrpc().parley.v1.Storage, this.storageAddr, this.apiOptions('storage'));
    return this.storageClient;
  }

  async createDirect(userA: string, userB: string): Promise<string> {
    const c = this.storage();
    const conversation = await callUnary<{ conversationId: string }>('Storage.CreateDirect', 5_000, (md, opts, cb) => c.createDirect({ userA, userB }, md, opts, cb));
    return conversation.conversationId;
  }

  async createGroup(memberIds: string[]): Promise<string> {
    const c = this.storage();
    const conversation = await callUnary<{ conversationId: string }>('Storage.CreateGroup', 5_000, (md, opts, cb) => c.createGroup({ memberIds }, md, opts, cb));
    return conversation.conversationId;
  }

  /** Stops one process: SIGTERM (graceful) or SIGKILL (crash). */
  async stopProcess(proc: ServiceProcess, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<number | null> {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 20_000);
    const code = await proc.exited;
    clearTimeout(timer);
    return code;
  }

  /** Kills (or stops) a process and starts it again with the same ports and settings. */
  async restartProcess(proc: ServiceProcess, signal: 'SIGTERM' | 'SIGKILL' = 'SIGKILL'): Promise<ServiceProcess> {
    await this.stopProcess(proc, signal);
    return this.spawnService(proc.name, proc.env);
  }

  /** The processes of one service that are still running. */
  running(name: ServiceName): ServiceProcess[] {
    return this.processes.filter((p) => p.name === name && p.child.exitCode === null && p.child.signalCode === null);
  }

  async stop(): Promise<void> {
    this.storageClient?.close();
    // Connectors first, then the pipeline from the front.
    const order: ServiceName[] = ['connector', 'router', 'storage', 'push'];
    for (const name of order) await Promise.all(this.processes.filter((p) => p.name === name).map((p) => this.stopProcess(p)));
    await this.cleanUp().catch(() => undefined);
    rmSync(this.pkiDir, { recursive: true, force: true });
  }

  private async cleanUp(): Promise<void> {
    const mongo = await MongoClient.connect(this.infra.MONGO_URL, mongoOptionsOf(this.infra, 'admin'));
    await mongo.db(this.namespace).dropDatabase();
    await mongo.close();
    const redis = new Redis(this.infra.REDIS_URL, redisOptionsOf(this.infra, 'admin'));
    const keys = await redis.keys(`${this.namespace}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    const admin = new Kafka({ clientId: 'e2e-cleanup', brokers: this.infra.KAFKA_BROKERS.split(','), ...kafkaClientSecurity(kafkaSecurityOf(this.infra, 'admin')), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const t = topicNames(this.topicPrefix);
    await admin.deleteTopics({ topics: Object.values(t) }).catch(() => undefined);
    await admin.disconnect();
  }
}
