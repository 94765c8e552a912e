// The failure suite's own Kafka, Redis, PostgreSQL and FerretDB: a second instance of
// deploy/local/infra.sh (own data directory and ports), so that the suite can SIGKILL and
// restart servers without touching the infrastructure other tests (or a developer) use.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../e2e/support/platform';

const run = promisify(execFile);

export type InfraComponent = 'kafka' | 'redis' | 'postgres' | 'ferretdb';

export class FailureInfra {
  // FAILURE_INFRA_DIR and FAILURE_PORT_OFFSET let a second failure run (a developer
  // chasing one scenario) share the machine with the first.
  readonly dir = process.env['FAILURE_INFRA_DIR'] ? path.resolve(process.env['FAILURE_INFRA_DIR']) : path.join(REPO_ROOT, '.local', 'failure-infra');
  private readonly offset = Number(process.env['FAILURE_PORT_OFFSET'] ?? 0);
  // Below 32768: Linux hands out 32768-60999 as ephemeral ports, and with thousands of
  // client sockets open one of them can hold a server's port just when the suite restarts it.
  readonly ports = { kafka: 29092 + this.offset, redis: 26379 + this.offset, postgres: 25432 + this.offset, mongo: 28117 + this.offset };

  private scriptEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PARLEY_INFRA_DIR: this.dir,
      PARLEY_KAFKA_PORT: String(this.ports.kafka),
      PARLEY_REDIS_PORT: String(this.ports.redis),
      PARLEY_PG_PORT: String(this.ports.postgres),
      PARLEY_MONGO_PORT: String(this.ports.mongo),
      PARLEY_PARTITIONS: '8',
      KAFKA_TOPIC_PREFIX: 'parley.',
    };
    // Always local: the suite kills these servers, so it never uses external clusters.
    delete env['KAFKA_BROKERS'];
    delete env['REDIS_URL'];
    delete env['MONGO_URL'];
    return env;
  }

  get env(): { KAFKA_BROKERS: string; REDIS_URL: string; MONGO_URL: string } {
    return {
      KAFKA_BROKERS: `127.0.0.1:${this.ports.kafka}`,
      REDIS_URL: `redis://127.0.0.1:${this.ports.redis}`,
      MONGO_URL: `mongodb://127.0.0.1:${this.ports.mongo}/`,
    };
  }

  private async script(...args: string[]): Promise<void> {
    await run('bash', [path.join(REPO_ROOT, 'deploy', 'local', 'infra.sh'), ...args], { env: this.scriptEnv(), timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
  }

  /** Starts from empty data every run (a previous run's leftovers are stopped and removed). */
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
}
