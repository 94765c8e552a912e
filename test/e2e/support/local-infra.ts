// One private instance of deploy/local/infra.sh: its own data directory and ports, always
// local (never the clusters KAFKA_BROKERS, REDIS_URL or MONGO_URL name), started from empty
// data. The failure suite uses one to SIGKILL and restart servers, the bench one to measure
// them, neither touching the infrastructure other tests (or a developer) use.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, type InfraEnv, type InfraPrincipal } from './platform';

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
  /** infra.sh's secure mode: TLS everywhere, a user per service (ACLs for topicPrefix and redisKeyPrefix). */
  secure?: boolean;
  /** The Redis key prefix the secure mode's ACL users are limited to (default "parley:"). */
  redisKeyPrefix?: string;
}

const PRINCIPALS: InfraPrincipal[] = ['admin', 'connector', 'router', 'storage', 'push'];

/** KEY=value lines (infra.sh's secrets/<name>.env); # comments and blank lines skipped. */
function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (line.startsWith('#') || eq < 1) continue;
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export class LocalInfra {
  readonly dir: string;
  readonly ports: InfraPorts;

  constructor(private readonly options: LocalInfraOptions) {
    this.dir = options.dir;
    this.ports = options.ports;
  }

  get secure(): boolean {
    return this.options.secure === true;
  }

  /** The servers' addresses; for a secure instance (after up) also the TLS settings and every principal's credentials. */
  get env(): InfraEnv {
    const kafka = `127.0.0.1:${this.ports.kafka}`;
    if (!this.secure) return { KAFKA_BROKERS: kafka, REDIS_URL: `redis://127.0.0.1:${this.ports.redis}`, MONGO_URL: `mongodb://127.0.0.1:${this.ports.mongo}/` };
    const ca = path.join(this.dir, 'tls', 'ca.pem');
    const credentials = Object.fromEntries(PRINCIPALS.map((name) => [name, readEnvFile(path.join(this.dir, 'secrets', `${name}.env`))])) as Record<InfraPrincipal, Record<string, string>>;
    return {
      KAFKA_BROKERS: kafka,
      REDIS_URL: `rediss://127.0.0.1:${this.ports.redis}`,
      MONGO_URL: `mongodb://127.0.0.1:${this.ports.mongo}/?tls=true&authMechanism=PLAIN`,
      secure: {
        tls: { KAFKA_SSL: 'true', KAFKA_TLS_CA_FILE: ca, KAFKA_SASL_MECHANISM: 'scram-sha-512', REDIS_TLS_CA_FILE: ca, MONGO_TLS_CA_FILE: ca },
        credentials,
      },
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
      ...(this.options.redisKeyPrefix !== undefined ? { REDIS_KEY_PREFIX: this.options.redisKeyPrefix } : {}),
      ...(this.secure ? { PARLEY_INFRA_SECURE: '1' } : {}),
    };
    // Always local: these servers get stopped and killed, so never an external cluster.
    delete env['KAFKA_BROKERS'];
    delete env['REDIS_URL'];
    delete env['MONGO_URL'];
    if (!this.secure) delete env['PARLEY_INFRA_SECURE'];
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
