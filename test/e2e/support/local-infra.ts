// One private instance of deploy/local/infra.sh: its own data directory and ports, always
// local (never the clusters KAFKA_BROKERS, REDIS_URL or MONGO_URL name), started from empty
// data. The failure suite uses one to SIGKILL and restart servers, the bench one to measure
// them, neither touching the infrastructure other tests (or a developer) use.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './platform';

const run = promisify(execFile);

export type InfraComponent = 'kafka' | 'redis' | 'postgres' | 'ferretdb';

export interface InfraPorts {
  kafka: number;
  redis: number;
  postgres: number;
  mongo: number;
}

export interface LocalInfraOptions {
  dir: string;
  /** Keep them below 32768: Linux hands out 32768-60999 as ephemeral ports, and with thousands
   * of client sockets open one of them can hold a server's port just when it is restarted. */
  ports: InfraPorts;
  partitions: number;
  /** Limit for one infra.sh call (a cold `up` downloads and builds). */
  timeoutMs: number;
  topicPrefix?: string;
}

export class LocalInfra {
  readonly dir: string;
  readonly ports: InfraPorts;

  constructor(private readonly options: LocalInfraOptions) {
    this.dir = options.dir;
    this.ports = options.ports;
  }

  get env(): { KAFKA_BROKERS: string; REDIS_URL: string; MONGO_URL: string } {
    return {
      KAFKA_BROKERS: `127.0.0.1:${this.ports.kafka}`,
      REDIS_URL: `redis://127.0.0.1:${this.ports.redis}`,
      MONGO_URL: `mongodb://127.0.0.1:${this.ports.mongo}/`,
    };
  }

  private async script(...args: string[]): Promise<void> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PARLEY_INFRA_DIR: this.dir,
      PARLEY_KAFKA_PORT: String(this.ports.kafka),
      PARLEY_REDIS_PORT: String(this.ports.redis),
      PARLEY_PG_PORT: String(this.ports.postgres),
      PARLEY_MONGO_PORT: String(this.ports.mongo),
      PARLEY_PARTITIONS: String(this.options.partitions),
      ...(this.options.topicPrefix !== undefined ? { KAFKA_TOPIC_PREFIX: this.options.topicPrefix } : {}),
    };
    // Always local: these servers get stopped and killed, so never an external cluster.
    delete env['KAFKA_BROKERS'];
    delete env['REDIS_URL'];
    delete env['MONGO_URL'];
    await run('bash', [path.join(REPO_ROOT, 'deploy', 'local', 'infra.sh'), ...args], { env, timeout: this.options.timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  }

  /** Starts from empty data (a previous run's leftovers are stopped and removed). */
  async up(): Promise<void> {
    await this.script('down').catch(() => undefined);
    rmSync(path.join(this.dir, 'data'), { recursive: true, force: true });
    await this.script('up');
  }

  async down(): Promise<void> {
    await this.script('down');
  }

  /** SIGKILL (kill) or a graceful stop of one server. */
  async stop(component: InfraComponent, how: 'kill' | 'stop'): Promise<void> {
    await this.script(how, component);
  }

  async start(component: InfraComponent): Promise<void> {
    await this.script('start', component);
  }

  /** The pid infra.sh recorded for a server, if it runs. */
  pidOf(component: InfraComponent): number | undefined {
    const file = path.join(this.dir, 'run', `${component}.pid`);
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : undefined;
  }
}
