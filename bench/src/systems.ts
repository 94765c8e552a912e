// The systems under load, started by the harness on its infrastructure: Parley (the four
// services as real processes, through test/e2e/support/platform.ts), the bare relay
// (baseline a), the kafkajs round trip (baseline b, inside the load generator) and the
// floor chain (baseline c). Each knows which processes it runs, for CPU and memory.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { ensureTopics } from '@parley/bus';
import { Platform, freePort } from '../../test/e2e/support/platform';
import { log, onCleanUp, sleep, startChild, stopChild, type BenchInfra, type Child } from './harness';
import type { Watched } from './procstats';

export const PARTITIONS = 8;

export interface ParleyOptions {
  /** Extra environment of every service (NODE_OPTIONS for --cpu-prof, PARLEY_TRACE_FILE). */
  env?: Record<string, string>;
}

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
      connectors: 2,
      env: {
        LOG_LEVEL: 'warn',
        CONSUMER_CONCURRENCY: String(PARTITIONS),
        // Idle sockets in the thousands: the default 60 s session TTL means a Redis refresh
        // every 20 s per socket, which is what a deployment pays, so it stays.
        ...options.env,
      },
    },
    infra.env,
  );
  onCleanUp(() => platform.stop());
  try {
    await platform.start();
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

  watched(): Watched[] {
    return [{ name: 'relay', kind: 'baseline', pid: this.child.proc.pid!, tree: false }];
  }

}

export class Floor {
  readonly children = new Map<string, Child>();
  readonly namespace = `floor${randomBytes(4).toString('hex')}`;
  wsPort = 0;

  constructor(private readonly infra: BenchInfra) {}

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
    const [edgeGrpc, hopGrpc, wsPort] = [await freePort(), await freePort(), await freePort()];
    this.wsPort = wsPort;
    const common = { ...this.infra.env, ...topics, MONGO_DB: this.namespace };
    const role = async (name: string, env: Record<string, string>) => {
      this.children.set(name, await startChild(`floor-${name}`, 'floor', { ...common, FLOOR_ROLE: name, ...env }));
    };
    await role('hop', { GRPC_PORT: String(hopGrpc) });
    await role('edge', { GRPC_PORT: String(edgeGrpc), WS_PORT: String(wsPort), HOP_ADDR: `127.0.0.1:${hopGrpc}` });
    await role('store', {});
    await role('push', { EDGE_ADDR: `127.0.0.1:${edgeGrpc}` });
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

  url(deviceKey: string): string {
    return `ws://127.0.0.1:${this.wsPort}/?id=${encodeURIComponent(deviceKey)}`;
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
