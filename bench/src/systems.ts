// The systems under load, started by the harness on its infrastructure: Parley (the four
// services as real processes, through test/e2e/support/platform.ts), the bare relay
// (baseline a), the kafkajs round trip (baseline b, inside the load generator) and the
// floor chain (baseline c). Each knows which processes it runs, for CPU and memory.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { ensureTopics, topicNames } from '@parley/bus';
import { Platform, freePort } from '../../test/e2e/support/platform';
import { BENCH_DIR, OUT_DIR, log, onCleanUp, sleep, startChild, stopChild, type BenchInfra, type Child } from './harness';
import type { Watched } from './procstats';

export const PARTITIONS = 8;

export interface ParleyOptions {
  /** Extra environment of every service (NODE_OPTIONS for --cpu-prof, PARLEY_TRACE_FILE). */
  env?: Record<string, string>;
  /** Router instances (default 1); the connectors get all of them, balanced round-robin. */
  routers?: number;
  connectors?: number;
  /** Plaintext gRPC with every caller trusted (GRPC_INSECURE), to price the shipped mutual TLS. */
  insecure?: boolean;
}

/**
 * Environment of every bench Parley. The per-sender rate limit (a product rule, 50/s per
 * user by default) and the per-connection one (100/s) are raised: the group scenario's single sender and the removal probe
 * (100 sends/s per device) must measure the pipeline, not that rule.
 */
export const PARLEY_BENCH_ENV: Record<string, string> = {
  LOG_LEVEL: 'warn',
  CONSUMER_CONCURRENCY: String(PARTITIONS),
  SENDER_RATE_PER_SEC: '1000000',
  SENDER_BURST: '1000000',
  // The group sender's socket sends hundreds of messages a second: the per-connection limit too.
  CONNECTION_SEND_RATE_PER_SEC: '1000000',
  CONNECTION_SEND_BURST: '1000000',
};

/** A fresh Parley (own topics, database and key prefix); retried, because Kafka may still be deleting the previous one's topics. */
export async function startParley(infra: BenchInfra, options: ParleyOptions = {}): Promise<Platform> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startParleyOnce(infra, options);
    } catch (err) {
      if (attempt >= 3) throw err;
      log(`starting Parley failed (${String((err as Error).message).split('\n')[0]}); again in 5 s`);
      await sleep(5_000);
    }
  }
}

async function startParleyOnce(infra: BenchInfra, options: ParleyOptions): Promise<Platform> {
  const platform = new Platform(
    {
      partitions: PARTITIONS,
      ...(options.insecure ? { insecure: true } : {}),
      // Connectors are added below, once every router runs (Platform starts one router).
      connectors: 0,
      env: {
        // Idle sockets in the thousands: the default 60 s session TTL means a Redis refresh
        // every 20 s per socket, which is what a deployment pays, so it stays.
        ...PARLEY_BENCH_ENV,
        ...options.env,
      },
    },
    infra.env,
  );
  onCleanUp(() => platform.stop());
  try {
    await platform.start();
    // More routers: Platform's `instances` would multiply storage and push too, so the
    // extra routers are spawned here and the connectors get the whole list.
    const routers = [platform.routerAddr];
    for (let i = 1; i < (options.routers ?? 1); i++) {
      const port = await freePort();
      await platform.spawnService('router', { GRPC_PORT: String(port), STORAGE_ADDR: platform.storageAddr });
      routers.push(`127.0.0.1:${port}`);
    }
    platform.routerAddr = routers.join(',');
    for (let i = 0; i < (options.connectors ?? 2); i++) await platform.addConnector();
  } catch (err) {
    await platform.stop().catch(() => undefined);
    throw err;
  }
  return platform;
}

export function parleyWatched(platform: Platform): Watched[] {
  return platform.processes
    .filter((p) => p.child.exitCode === null && p.child.signalCode === null && p.child.pid)
    .map((p) => ({ name: `${p.name}-${p.index}`, kind: 'parley', pid: p.child.pid!, tree: false }));
}

export class Relay {
  constructor(
    readonly child: Child,
    readonly port: number,
  ) {}

  static async start(name = 'relay'): Promise<Relay> {
    const port = await freePort();
    return new Relay(await startChild(name, 'relay', { WS_PORT: String(port) }), port);
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }

  url(room: string): string {
    return `ws://127.0.0.1:${this.port}/?room=${encodeURIComponent(room)}`;
  }

  /** An addressable socket (frames "to1,to2\n<body>"). */
  idUrl(id: string): string {
    return `ws://127.0.0.1:${this.port}/?id=${encodeURIComponent(id)}`;
  }

  watched(): Watched[] {
    return [{ name: 'relay', kind: 'baseline', pid: this.child.proc.pid!, tree: false }];
  }

}

/**
 * A TLS-terminating proxy in front of one plaintext connector: what "TLS at the ingress" is in
 * the TLS comparison. Debian's HAProxy (bench/tools/haproxy.sh), in HTTP mode as an ingress
 * controller runs (it reads the upgrade request and tunnels the WebSocket after it), one
 * thread, timeouts far above the bench's idle time.
 */
export class TlsProxy {
  private constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    readonly port: number,
  ) {}

  /** The haproxy binary and its library folder (fetched once, see the script). */
  private static binary(): { bin: string; lib: string } {
    const [bin = '', lib = ''] = execFileSync('bash', [path.join(BENCH_DIR, 'tools', 'haproxy.sh')], { encoding: 'utf8' }).split('\n');
    return { bin, lib };
  }

  static async start(name: string, targetPort: number, certFile: string, keyFile: string, maxConnections: number): Promise<TlsProxy> {
    const { bin, lib } = TlsProxy.binary();
    const dir = path.join(OUT_DIR, 'tls');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pem = path.join(dir, `${name}.pem`);
    writeFileSync(pem, Buffer.concat([readFileSync(certFile), readFileSync(keyFile)]), { mode: 0o600 });
    const port = await freePort();
    const cfg = path.join(dir, `${name}.cfg`);
    writeFileSync(
      cfg,
      [
        'global',
        `  maxconn ${maxConnections + 100}`,
        '  nbthread 1',
        'defaults',
        '  mode http',
        `  maxconn ${maxConnections + 100}`,
        '  timeout connect 5s',
        '  timeout http-request 10s',
        '  timeout client 2h',
        '  timeout server 2h',
        '  timeout tunnel 2h',
        'frontend wss',
        `  bind 127.0.0.1:${port} ssl crt ${pem}`,
        '  default_backend connector',
        'backend connector',
        `  server connector 127.0.0.1:${targetPort}`,
        '',
      ].join('\n'),
    );
    const proc = spawn(bin, ['-db', '-f', cfg], { env: { ...process.env, ...(lib ? { LD_LIBRARY_PATH: lib } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = createWriteStream(path.join(OUT_DIR, 'logs', `${name}.log`), { flags: 'a' });
    proc.stdout?.pipe(out);
    proc.stderr?.pipe(out);
    const proxy = new TlsProxy(name, proc, port);
    onCleanUp(() => proxy.stop());
    for (let i = 0; ; i++) {
      if (proc.exitCode !== null) throw new Error(`${name} (haproxy) exited with ${proc.exitCode} (see bench/out/logs/${name}.log)`);
      const up = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => resolve(true));
        socket.once('error', () => resolve(false));
        socket.once('connect', () => socket.destroy());
      });
      if (up) break;
      if (i >= 100) throw new Error(`${name} (haproxy) not listening after 10 s`);
      await sleep(100);
    }
    return proxy;
  }

  url(): string {
    return `wss://127.0.0.1:${this.port}/`;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** kind 'parley' when the proxy serves Parley's clients (its CPU is then Parley's). */
  watched(kind = 'baseline'): Watched[] {
    return [{ name: this.name, kind, pid: this.proc.pid!, tree: false }];
  }
}

/**
 * The floor (baseline c). Its edge role runs as `edges` processes (2, as Parley runs 2
 * connectors), each with its own WebSocket port; devices are spread over them by the caller.
 */
export class Floor {
  readonly children = new Map<string, Child>();
  readonly namespace = `floor${randomBytes(4).toString('hex')}`;
  wsPorts: number[] = [];

  constructor(
    private readonly infra: BenchInfra,
    readonly edges = 2,
  ) {}

  get messagesTopic(): string {
    return `${this.namespace}.messages`;
  }

  async start(): Promise<this> {
    onCleanUp(() => this.dropData());
    const topics = { MESSAGES_TOPIC: this.messagesTopic, DELIVERIES_TOPIC: `${this.namespace}.deliveries` };
    await ensureTopics(this.infra.env.KAFKA_BROKERS.split(','), [
      { topic: topics.MESSAGES_TOPIC, partitions: PARTITIONS },
      { topic: topics.DELIVERIES_TOPIC, partitions: PARTITIONS },
    ]);
    const hopGrpc = await freePort();
    const edgeGrpc: number[] = [];
    for (let i = 0; i < this.edges; i++) {
      edgeGrpc.push(await freePort());
      this.wsPorts.push(await freePort());
    }
    const common = { ...this.infra.env, ...topics, MONGO_DB: this.namespace };
    const role = async (name: string, role: string, env: Record<string, string>) => {
      this.children.set(name, await startChild(`floor-${name}`, 'floor', { ...common, FLOOR_ROLE: role, ...env }));
    };
    await role('hop', 'hop', { GRPC_PORT: String(hopGrpc) });
    for (let i = 0; i < this.edges; i++) {
      await role(`edge-${i}`, 'edge', { GRPC_PORT: String(edgeGrpc[i]), WS_PORT: String(this.wsPorts[i]), HOP_ADDR: `127.0.0.1:${hopGrpc}` });
    }
    await role('store', 'store', {});
    await role('push', 'push', { EDGE_ADDRS: edgeGrpc.map((p) => `127.0.0.1:${p}`).join(',') });
    return this;
  }

  /** Its database and topics (the kafkajs baseline's too): nothing is left on shared infrastructure. */
  private async dropData(): Promise<void> {
    const mongo = await MongoClient.connect(this.infra.env.MONGO_URL);
    await mongo.db(this.namespace).dropDatabase().finally(() => mongo.close());
    const admin = new Kafka({ clientId: 'bench-clean-up', brokers: this.infra.env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${this.namespace}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }

  get deliveriesTopic(): string {
    return `${this.namespace}.deliveries`;
  }

  /** The consumer groups of its store and push roles, with their topics (for lag). */
  get groups(): { groupId: string; topic: string }[] {
    return [
      { groupId: `${this.messagesTopic}-store`, topic: this.messagesTopic },
      { groupId: `${this.deliveriesTopic}-push`, topic: this.deliveriesTopic },
    ];
  }

  url(deviceKey: string, edge = 0): string {
    return `ws://127.0.0.1:${this.wsPorts[edge % this.edges]}/?id=${encodeURIComponent(deviceKey)}`;
  }

  /** How a sender names a receiver on edge `edge`. */
  static address(deviceKey: string, edge: number): string {
    return `${edge}:${deviceKey}`;
  }

  watched(): Watched[] {
    return [...this.children.entries()].map(([name, c]) => ({ name: `floor-${name}`, kind: 'baseline', pid: c.proc.pid!, tree: false }));
  }

  /** Stops (SIGTERM) or starts the store role again, for the lag scenario. */
  async stopStore(): Promise<void> {
    const store = this.children.get('store');
    if (store) await stopChild(store);
  }

  async startStore(): Promise<void> {
    const old = this.children.get('store')!;
    this.children.set('store', await startChild('floor-store', 'floor', old.env));
  }
}

/** Parley's consumer groups that carry messages (storage on messages, push on deliveries), for lag. */
export function parleyGroups(platform: Platform): { groupId: string; topic: string }[] {
  const t = topicNames(platform.topicPrefix);
  return [
    { groupId: `${platform.topicPrefix}storage`, topic: t.messages },
    { groupId: `${platform.topicPrefix}push`, topic: t.deliveries },
  ];
}
