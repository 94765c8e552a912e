// The failure suite, part 2: the servers under Parley stop. A fresh cluster (own Kafka,
// Redis, PostgreSQL + FerretDB; two instances of every service) with SDK clients under a
// steady load while the Kafka broker is stopped and restarted, Redis is SIGKILLed (and
// comes back empty), and the MongoDB-wire server is SIGKILLed and restarted.
import { at, expectClean, infraOutage, scenario, useFailureCluster } from './support/suite';

useFailureCluster('failure suite, part 2: infrastructure');

it('baseline: no failure', async () => {
  expectClean(await scenario('baseline (part 2)', []));
});

it('stop and restart the Kafka broker', async () => {
  expectClean(await scenario('restart kafka', [{ atMs: at(0.3), run: infraOutage('kafka', 'stop', 2_000) }]));
});

it('SIGKILL and restart Redis (it comes back empty)', async () => {
  expectClean(await scenario('kill redis', [{ atMs: at(0.3), run: infraOutage('redis', 'kill', 2_000) }]));
});

it('SIGKILL and restart the MongoDB-wire server (FerretDB)', async () => {
  expectClean(await scenario('kill ferretdb', [{ atMs: at(0.3), run: infraOutage('ferretdb', 'kill', 2_000) }]));
});
