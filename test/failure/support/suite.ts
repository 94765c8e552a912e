// Shared by the failure suite's files. The failure suite: two instances of every service on infrastructure of its own, SDK
// clients sending a steady load over 1:1 and group conversations, and, scenario after
// scenario, a process SIGKILLed (at several moments) or a server stopped and restarted.
// Each scenario prints one table row; passing means 0 acked messages lost, 0 duplicated,
// 0 reordered as the application sees them, and every device converged.
//
// Run it alone: `./parley test --selectProjects failure --runInBand` (./parley test runs it
// after the other projects). Knobs: FAILURE_RATE (messages/s, default 1000) and
// FAILURE_SECONDS (load per scenario, default 12).
import { appendFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { listParked, topicNames } from '@parley/bus';
import { Platform, REPO_ROOT, sleep, type ServiceName } from '../../e2e/support/platform';
import { FailureInfra, type InfraComponent } from './infra';
import { Workload, formatTable, type ScenarioRow } from './workload';


const RATE = Number(process.env['FAILURE_RATE'] ?? 1000);
const SECONDS = Number(process.env['FAILURE_SECONDS'] ?? 12);
export const DURATION = SECONDS * 1000;

const infra = new FailureInfra();
let platform: Platform;
let workload: Workload;
const rows: ScenarioRow[] = [];

/** Starts the cluster before the file's tests and tears it all down after them. */
export function useFailureCluster(title: string): void {
  jest.setTimeout(30 * 60_000);
  rows.length = 0;
  beforeAll(async () => {
  await infra.up();
  platform = new Platform(
    {
      partitions: 8,
      instances: 2,
      connectors: 2,
      env: {
        LOG_LEVEL: process.env['FAILURE_LOG_LEVEL'] ?? 'warn',
        // The MongoDB driver's own logging (connection pool, server selection, commands), on request.
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MONGODB_LOG_'))),
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
        CONNECTION_SEND_RATE_PER_SEC: '1000',
        CONNECTION_SEND_BURST: '1000',
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
    process.stdout.write(`\n${title} (${RATE} msg/s, ${SECONDS} s of load per scenario):\n${table}\n`);
    mkdirSync(path.join(REPO_ROOT, '.local', 'logs'), { recursive: true });
    appendFileSync(path.join(REPO_ROOT, '.local', 'logs', 'failure-table.md'), `\n${title}\n${table}\n`);
  });
}

/** SIGKILL one instance of a service (by its instance id, e.g. storage-1), then start it again `downMs` later. */
export function killAndRestart(name: ServiceName, instance: number, downMs: number): () => Promise<void> {
  return async () => {
    const id = `${name}-${instance}`;
    const proc = platform.running(name).find((p) => p.env['INSTANCE_ID'] === id);
    if (!proc) throw new Error(`no running ${id}`);
    await platform.stopProcess(proc, 'SIGKILL');
    await sleep(downMs);
    await platform.spawnService(proc.name, proc.env);
  };
}

export function infraOutage(component: InfraComponent, how: 'kill' | 'stop', downMs: number): () => Promise<void> {
  return async () => {
    await infra.stop(component, how);
    await sleep(downMs);
    await infra.start(component);
  };
}

/** Records in the dead-letter topic: after a transient fault it must hold none (a parked record is an acked message lost). */
export async function countParked(brokers: string, topicPrefix: string): Promise<number> {
  return (await listParked({ brokers: brokers.split(','), dlqTopic: topicNames(topicPrefix).dlq })).length;
}

export async function scenario(name: string, faults: { atMs: number; run: () => Promise<void> }[]): Promise<ScenarioRow> {
  await workload.drive(name, DURATION, RATE, faults);
  const recoveredAt = Date.now();
  await workload.settle(90_000);
  const row = await workload.verify(name, recoveredAt, 90_000);
  // Every consumer's dead letters land in one topic: after a transient fault it must be empty.
  row.parked = await countParked(infra.env.KAFKA_BROKERS, platform.topicPrefix);
  rows.push(row);
  process.stdout.write(`${formatTable([row])}\n${Object.keys(row.refused).length > 0 ? `refused: ${JSON.stringify(row.refused)}\n` : ''}`);
  if (row.lostAcked > 0 || !row.converged || row.reordered > 0) {
    await diagnose(name).catch((err: unknown) => process.stdout.write(`  (diagnosis failed: ${String(err)})\n`));
  }
  return row;
}

/** Consumer-group lag per partition and the lost messages, so a failed run says where work stopped. */
async function diagnose(name: string): Promise<void> {
  const admin = new Kafka({ clientId: 'failure-diagnose', brokers: [infra.env.KAFKA_BROKERS], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const t = topicNames(platform.topicPrefix);
    for (const [group, topic] of [
      [`${platform.topicPrefix}storage`, t.messages],
      [`${platform.topicPrefix}push`, t.deliveries],
    ] as const) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const lag = ends.map((e) => `${e.partition}:${Number(e.high) - Number(committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? 0)}`);
      process.stdout.write(`  ${group} lag by partition ${lag.join(' ')}\n`);
    }
    const lost = workload.lostAcked(name, await workload.storedKeys());
    process.stdout.write(`  lost acked: ${JSON.stringify(lost.slice(0, 10))}\n`);
    const anomalies = await workload.anomalies();
    for (const a of anomalies.slice(0, 20)) process.stdout.write(`  ${a}\n`);
    // The raw rows, unsorted and unpaged, for conversations whose stored seqs look wrong.
    const mongo = await MongoClient.connect(infra.env.MONGO_URL);
    try {
      for (const id of new Set(anomalies.filter((a) => a.startsWith('stored ')).map((a) => a.split(' ')[1]!.replace(/:$/, '')))) {
        const rows = await mongo.db(platform.namespace).collection('messages').find({ conversationId: id }, { projection: { seq: 1, storedAt: 1 } }).toArray();
        const seqs = rows.map((r) => Number(r['seq'])).sort((a, b) => a - b);
        const conv = await mongo.db(platform.namespace).collection('conversations').findOne({ _id: id as never });
        process.stdout.write(`  raw ${id}: ${rows.length} rows, seqs ${seqs.slice(0, 5).join(',')}..${seqs.slice(-3).join(',')}, missing ${seqs.length > 0 ? Array.from({ length: seqs[seqs.length - 1]! }, (_, i) => i + 1).filter((s) => !seqs.includes(s)).length : 0}, lastSeq ${String(conv?.['lastSeq'])}\n`);
        const around = rows.filter((r) => [35, 36, 37, 103, 104, 105].includes(Number(r['seq']))).map((r) => `${String(r['seq'])}@${String(r['storedAt'])}`);
        process.stdout.write(`    ${around.join(' ')}\n`);
      }
    } finally {
      await mongo.close();
    }
  } finally {
    await admin.disconnect();
  }
}

export function expectClean(row: ScenarioRow): void {
  expect({ lostAcked: row.lostAcked, duplicated: row.duplicated, reordered: row.reordered, converged: row.converged, parked: row.parked }).toEqual({
    lostAcked: 0,
    duplicated: 0,
    reordered: 0,
    converged: true,
    parked: 0,
  });
  // The SDK retries until the system answers: after recovery every send is acked.
  expect(row.acked).toBe(row.sent);
  expect(row.delivered).toBe(row.acked);
}


export const at = (fraction: number) => Math.round(DURATION * fraction);

/** The cluster of the current file (for scenarios that add instances). */
export function cluster(): Platform {
  return platform;
}
