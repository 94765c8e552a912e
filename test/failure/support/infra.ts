// The failure suite's own Kafka, Redis, PostgreSQL and FerretDB (a LocalInfra), so that the
// suite can SIGKILL and restart servers without touching the infrastructure other tests (or
// a developer) use.
import * as path from 'node:path';
import { LocalInfra } from '../../e2e/support/local-infra';
import { REPO_ROOT } from '../../e2e/support/platform';

export type { InfraComponent } from '../../e2e/support/local-infra';

export class FailureInfra extends LocalInfra {
  constructor() {
    // FAILURE_INFRA_DIR and FAILURE_PORT_OFFSET let a second failure run (a developer
    // chasing one scenario) share the machine with the first.
    const offset = Number(process.env['FAILURE_PORT_OFFSET'] ?? 0);
    super({
      dir: process.env['FAILURE_INFRA_DIR'] ? path.resolve(process.env['FAILURE_INFRA_DIR']) : path.join(REPO_ROOT, '.local', 'failure-infra'),
      ports: { kafka: 29092 + offset, redis: 26379 + offset, postgres: 25432 + offset, mongo: 28117 + offset },
      partitions: 8,
      timeoutMs: 240_000,
      topicPrefix: 'parley.',
    });
  }
}
