// The failure suite: two instances of every service on infrastructure of its own, SDK
// clients sending a steady load over 1:1 and group conversations, and, scenario after
// scenario, a process SIGKILLed (at several moments) or a server stopped and restarted.
// Each scenario prints one table row; passing means 0 acked messages lost, 0 duplicated,
// 0 reordered as the application sees them, and every device converged.
//
// Run it alone: `./parley test --selectProjects failure --runInBand` (./parley test runs it
// after the other projects). Knobs: FAILURE_RATE (messages/s, default 200) and
// FAILURE_SECONDS (load per scenario, default 12).
import { writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Platform, REPO_ROOT, type ServiceName } from '../e2e/support/platform';
import { FailureInfra, type InfraComponent } from './support/infra';
import { Workload, formatTable, type ScenarioRow } from './support/workload';

jest.setTimeout(30 * 60_000);

const RATE = Number(process.env['FAILURE_RATE'] ?? 200);
const SECONDS = Number(process.env['FAILURE_SECONDS'] ?? 12);
const DURATION = SECONDS * 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const infra = new FailureInfra();
let platform: Platform;
let workload: Workload;
const rows: ScenarioRow[] = [];

beforeAll(async () => {
  await infra.up();
  platform = new Platform(
    {
      partitions: 8,
      instances: 2,
      connectors: 2,
      env: {
        LOG_LEVEL: 'warn',
        // Fast failure detection for a test that kills things every few seconds.
        SESSION_TTL_MS: '6000',
        HEARTBEAT_INTERVAL_MS: '2000',
        RETRANSMIT_BASE_MS: '500',
        DELIVER_DEADLINE_MS: '1500',
        ROUTER_DEADLINE_MS: '3000',
        STORAGE_DEADLINE_MS: '3000',
        SHUTDOWN_TIMEOUT_MS: '10000',
        SENDER_RATE_PER_SEC: '1000',
        SENDER_BURST: '1000',
      },
    },
    infra.env,
  );
  await platform.start();
  workload = new Workload(platform, { directPairs: 10, groups: 3, groupSize: 5, secondDevices: 6, catchUpIntervalMs: 3_000 });
  await workload.start();
});

afterAll(async () => {
  await workload?.close();
  await platform?.stop().catch(() => undefined);
  await infra.down();
  const table = formatTable(rows);
  process.stdout.write(`\nfailure suite (${RATE} msg/s, ${SECONDS} s of load per scenario):\n${table}\n`);
  mkdirSync(path.join(REPO_ROOT, '.local', 'logs'), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, '.local', 'logs', 'failure-table.md'), `${table}\n`);
});

/** SIGKILL one instance of a service (by its instance id, e.g. storage-1), then start it again `downMs` later. */
function killAndRestart(name: ServiceName, instance: number, downMs: number): () => Promise<void> {
  return async () => {
    const id = `${name}-${instance}`;
    const proc = platform.running(name).find((p) => p.env['INSTANCE_ID'] === id);
    if (!proc) throw new Error(`no running ${id}`);
    await platform.stopProcess(proc, 'SIGKILL');
    await sleep(downMs);
    await platform.spawnService(proc.name, proc.env);
  };
}

function infraOutage(component: InfraComponent, how: 'kill' | 'stop', downMs: number): () => Promise<void> {
  return async () => {
    await infra.stop(component, how);
    await sleep(downMs);
    await infra.start(component);
  };
}

async function scenario(name: string, faults: { atMs: number; run: () => Promise<void> }[]): Promise<ScenarioRow> {
  await workload.drive(name, DURATION, RATE, faults);
  const recoveredAt = Date.now();
  await workload.settle(120_000);
  const row = await workload.verify(name, recoveredAt, 120_000);
  rows.push(row);
  process.stdout.write(`${formatTable([row])}\n`);
  return row;
}

function expectClean(row: ScenarioRow): void {
  expect({ lostAcked: row.lostAcked, duplicated: row.duplicated, reordered: row.reordered, converged: row.converged }).toEqual({
    lostAcked: 0,
    duplicated: 0,
    reordered: 0,
    converged: true,
  });
  // The SDK retries until the system answers: after recovery every send is acked.
  expect(row.acked).toBe(row.sent);
  expect(row.delivered).toBe(row.acked);
}

const at = (fraction: number) => Math.round(DURATION * fraction);

it('baseline: no failure', async () => {
  expectClean(await scenario('baseline', []));
});

it('SIGKILL a connector (twice, each instance): its clients move to the other', async () => {
  expectClean(await scenario('kill connector', [{ atMs: at(0.2), run: killAndRestart('connector', 0, 1_500) }, { atMs: at(0.6), run: killAndRestart('connector', 1, 1_500) }]));
});

it('SIGKILL a router at several moments', async () => {
  expectClean(
    await scenario('kill router', [
      { atMs: at(0.15), run: killAndRestart('router', 0, 500) },
      { atMs: at(0.5), run: killAndRestart('router', 1, 500) },
      { atMs: at(0.8), run: killAndRestart('router', 0, 0) },
    ]),
  );
});

it('SIGKILL a storage at several moments', async () => {
  expectClean(
    await scenario('kill storage', [
      { atMs: at(0.15), run: killAndRestart('storage', 0, 1_000) },
      { atMs: at(0.55), run: killAndRestart('storage', 1, 1_000) },
    ]),
  );
});

it('SIGKILL a push at several moments', async () => {
  expectClean(
    await scenario('kill push', [
      { atMs: at(0.15), run: killAndRestart('push', 0, 1_000) },
      { atMs: at(0.55), run: killAndRestart('push', 1, 1_000) },
    ]),
  );
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

it('add a third storage mid-stream (rebalance)', async () => {
  expectClean(
    await scenario('add storage', [
      {
        atMs: at(0.3),
        run: async () => {
          await platform.addStorage();
        },
      },
    ]),
  );
});
