// The failure suite, part 3: behaviour under scaling (issue 6). On infrastructure of its own,
// one instance of each service, then:
// 1. 2,000 SDK clients on one connector (364 of them in conversations under load, the others
//    idle); a second connector starts and the first is drained
//    (SIGTERM) under a steady load: every client must end up on the second, the drained
//    process must exit 0, and no acked message may be lost, duplicated or reordered. Prints
//    the drain time (SIGTERM -> exit) and the time until every client is back.
// 2. Storage and push scale out and in under load (1 -> 3 -> 1 instances each, SIGTERM for
//    scale-in): the consumer groups rebalance and nothing is lost, duplicated or reordered.
//    Prints the rebalance pause: the longest gap in deliveries after each membership change.
// Run alone: ./parley test --selectProjects failure --runInBand test/failure/scaling.test.ts
// Knobs: SCALING_CLIENTS (default 2000), SCALING_DRAIN_RATE and SCALING_RATE (msg/s, 50 and 100).
import { appendFileSync, mkdirSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { freePort, Platform, REPO_ROOT, sleep, type ServiceProcess } from '../e2e/support/platform';
import { FailureInfra } from './support/infra';
import { countParked, expectClean } from './support/suite';
import { Workload, formatTable, type ScenarioRow } from './support/workload';

jest.setTimeout(20 * 60_000);

const CLIENTS = Number(process.env['SCALING_CLIENTS'] ?? 2000);
/** Messages per second while the connector drains (over 2,000 clients) and while storage and push rescale. */
const DRAIN_RATE = Number(process.env['SCALING_DRAIN_RATE'] ?? 50);
const RATE = Number(process.env['SCALING_RATE'] ?? 100);
// The default window: 2,000 reconnects over it are ~200 handshakes and catch-up convs per second.
const DRAIN_WINDOW_MS = 10_000;
const GROUP_SIZE = 10;

const infra = new FailureInfra();
let platform: Platform;
const rows: ScenarioRow[] = [];
const figures: string[] = [];

function note(line: string): void {
  figures.push(line);
  process.stdout.write(`${line}\n`);
}

/** The sum of a Prometheus counter's samples whose labels include `match`, from a service's /metrics. */
async function counter(httpPort: number, name: string, match: string): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${httpPort}/metrics`).then((r) => r.text(), () => '');
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(match))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Sends a steady `rate` from leadInMs before `changes` starts until 3 s after it ended (in slices
 * of 2 s, at most maxMs in all), then lets every send settle and every device converge,
 * scores it and prints the row. The load follows the changes, however slow the machine.
 */
async function score(workload: Workload, name: string, rate: number, changes: () => Promise<void>, leadInMs = 3_000, maxMs = 240_000): Promise<ScenarioRow> {
  let done = false;
  let failure: unknown;
  const until = Date.now() + maxMs;
  const run = (async () => {
    await sleep(leadInMs);
    await changes();
  })().then(
    () => (done = true),
    (err: unknown) => {
      failure = err;
      done = true;
    },
  );
  while (!done && Date.now() < until) await workload.drive(name, 2_000, rate, []);
  await run;
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
  await workload.drive(name, 3_000, rate, []);
  const recoveredAt = Date.now();
  // 2,000 clients catching up at once after a move keep a busy machine's storage behind for a while.
  await workload.settle(180_000);
  const row = await workload.verify(name, recoveredAt, 180_000);
  row.parked = await countParked(infra.env.KAFKA_BROKERS, platform.topicPrefix);
  rows.push(row);
  process.stdout.write(`${formatTable([row])}\n${Object.keys(row.refused).length > 0 ? `refused: ${JSON.stringify(row.refused)}\n` : ''}`);
  if (!row.converged || row.lostAcked > 0 || row.reordered > 0) for (const a of (await workload.anomalies()).slice(0, 20)) process.stdout.write(`  ${a}\n`);
  return row;
}

beforeAll(async () => {
  await infra.up();
  platform = new Platform(
    {
      partitions: 8,
      instances: 1,
      connectors: 1,
      env: {
        // info: the connectors' drain and the consumers' group changes are in the logs.
        LOG_LEVEL: process.env['FAILURE_LOG_LEVEL'] ?? 'info',
        SESSION_TTL_MS: '15000',
        HEARTBEAT_INTERVAL_MS: '10000',
        RETRANSMIT_BASE_MS: '1000',
        DELIVER_DEADLINE_MS: '3000',
        ROUTER_DEADLINE_MS: '5000',
        STORAGE_DEADLINE_MS: '10000',
        SHUTDOWN_TIMEOUT_MS: '20000',
        DRAIN_WINDOW_MS: String(DRAIN_WINDOW_MS),
        SENDER_RATE_PER_SEC: '1000',
        SENDER_BURST: '1000',
        CONNECTION_SEND_RATE_PER_SEC: '1000',
        CONNECTION_SEND_BURST: '1000',
      },
    },
    infra.env,
  );
  await platform.start();
});

afterAll(async () => {
  await platform?.stop().catch(() => undefined);
  await infra.down();
  const table = formatTable(rows);
  const title = `failure suite, part 3: scaling (${DRAIN_RATE} msg/s during the drain, ${RATE} msg/s while storage and push rescale)`;
  process.stdout.write(`\n${title}:\n${table}\n${figures.join('\n')}\n`);
  mkdirSync(path.join(REPO_ROOT, '.local', 'logs'), { recursive: true });
  appendFileSync(path.join(REPO_ROOT, '.local', 'logs', 'failure-table.md'), `\n${title}\n${table}\n${figures.join('\n')}\n`);
});

it(`drain a connector holding ${CLIENTS} clients under load: all move to a second one, nothing lost`, async () => {
  // Every client knows both URLs, the second first unused: the order a load balancer would
  // give once the first pod is not ready.
  const secondPort = await freePort();
  const urls = [platform.wsUrlOf(0), `ws://127.0.0.1:${secondPort}/`];
  // 364 of the clients are members of conversations (20 direct, 36 groups of 10) and get the
  // load; the others are members of none. Each client's catch-up after a move costs one
  // ListConversations, and on FerretDB on 2 shared vCPU 2,000 of them with messages to sync
  // keep storage saturated for minutes (see bench/RESULTS.md); the drain itself treats every
  // socket the same.
  const pairs = 20;
  const groups = 36;
  const idleClients = Math.max(0, CLIENTS - 2 * pairs - groups * (GROUP_SIZE - 1));
  // Arrivals spread over 20 s and a 10 s retry ceiling: 2,000 clients that all retry every
  // 2 s would be a load test of their own.
  const workload = new Workload(platform, {
    directPairs: pairs,
    groups,
    groupSize: GROUP_SIZE,
    secondDevices: 0,
    catchUpIntervalMs: 120_000,
    idleClients,
    urls,
    connectSpreadMs: 20_000,
    backoffMaxMs: 10_000,
  });
  try {
    const connectStarted = Date.now();
    await workload.start();
    const onConnector = new Map(workload.devices.map((d) => [d, '']));
    for (const d of workload.devices) d.client.on('welcome', (w) => onConnector.set(d, w.connectorId));
    const first = platform.running('connector')[0]!;
    // Quiet before the load: every client's catch-up (convs) after its welcome was answered.
    const convsAnswered = () => counter(first.httpPort, 'parley_grpc_client_handled_total', 'method="Storage.ListConversations",code="OK"');
    for (let until = Date.now() + 120_000; (await convsAnswered()) < workload.devices.length && Date.now() < until; ) await sleep(250);
    note(`scaling: ${workload.devices.length} clients connected to connector-0 (arrivals spread over 20 s) and caught up in ${((Date.now() - connectStarted) / 1000).toFixed(1)} s`);
    let exitCode: number | null = -1;
    let drainMs = 0;
    let allBackMs = 0;
    let upgradeStatus = 0;
    const row = await score(workload, `drain connector (${workload.devices.length} clients)`, DRAIN_RATE, async () => {
      await platform.addConnector(secondPort);
      const sigterm = Date.now();
      const exited = platform.stopProcess(first, 'SIGTERM').then((code) => {
        exitCode = code;
        drainMs = Date.now() - sigterm;
      });
      // /readyz fails at once: well before the drain window is over. (A fetch error is not an
      // answer: a pooled keep-alive connection may have been closed by the server.)
      let ready = 0;
      while (ready !== 503 && Date.now() < sigterm + 3_000) {
        ready = await fetch(`http://127.0.0.1:${first.httpPort}/readyz`).then((r) => r.status, () => 0);
        if (ready !== 503) await sleep(20);
      }
      expect(ready).toBe(503);
      // New sockets are refused with 503 while the drain runs (the listener stays open).
      upgradeStatus = await upgradeAnswer(first.env['WS_PORT']!);
      await waitFor(() => workload.devices.every((d) => d.client.state === 'open' && onConnector.get(d) === 'connector-1'), 180_000, 'every client on connector-1');
      allBackMs = Date.now() - sigterm;
      await exited;
    });
    note(
      `scaling: drain of connector-0 (DRAIN_WINDOW_MS=${DRAIN_WINDOW_MS}, ${workload.devices.length} clients, ${DRAIN_RATE} msg/s): SIGTERM -> exit ${(drainMs / 1000).toFixed(1)} s (exit code ${String(exitCode)}); every client back on connector-1 ${(allBackMs / 1000).toFixed(1)} s after SIGTERM; an upgrade during the drain got ${upgradeStatus}`,
    );
    expect(exitCode).toBe(0);
    expect(upgradeStatus).toBe(503);
    expect(workload.devices.filter((d) => onConnector.get(d) !== 'connector-1')).toHaveLength(0);
    expectClean(row);
  } finally {
    await workload.close();
  }
});

it('scale storage and push out and in under load (1 -> 3 -> 1 each): rebalances lose, duplicate and reorder nothing', async () => {
  const workload = new Workload(platform, { directPairs: 10, groups: 3, groupSize: 5, secondDevices: 6, catchUpIntervalMs: 10_000, urls: [platform.wsUrlOf(1)] });
  try {
    await workload.start();
    // When each device emitted a message (live or by sync): a rebalance shows as a gap.
    const deliveries: number[] = [];
    for (const d of workload.devices) d.client.on('message', () => deliveries.push(Date.now()));
    const added: { storage: ServiceProcess[]; push: ServiceProcess[] } = { storage: [], push: [] };
    const changes: { what: string; at: number; took: number }[] = [];
    const steps: [string, () => Promise<void>][] = [
      ['storage 1 -> 3', async () => void added.storage.push(...(await Promise.all([platform.addStorage(), platform.addStorage()])))],
      ['push 1 -> 3', async () => void added.push.push(...(await Promise.all([platform.addPush(), platform.addPush()])))],
      ['storage 3 -> 1 (SIGTERM)', async () => expect(await Promise.all(added.storage.map((p) => stopTimed(p)))).toEqual([0, 0])],
      ['push 3 -> 1 (SIGTERM)', async () => expect(await Promise.all(added.push.map((p) => stopTimed(p)))).toEqual([0, 0])],
    ];
    const exits: string[] = [];
    const stopTimed = async (p: ServiceProcess) => {
      const at = Date.now();
      const code = await platform.stopProcess(p, 'SIGTERM');
      exits.push(`${p.env['INSTANCE_ID']} ${((Date.now() - at) / 1000).toFixed(1)} s (exit ${String(code)})`);
      return code;
    };
    const row = await score(workload, 'scale storage+push 1->3->1', RATE, async () => {
      for (const [what, step] of steps) {
        const at = Date.now();
        await step();
        changes.push({ what, at, took: Date.now() - at });
        await sleep(8_000); // the group settles and the stream runs before the next change
      }
    }, 14_000);
    // The longest gap in deliveries from each change's start to the next one's; before any
    // change the gaps are tens of ms at this rate.
    const sorted = [...deliveries].sort((a, b) => a - b);
    const longestGap = (from: number, to: number) => {
      let longest = 0;
      let resumedAt = from;
      for (let i = 1; i < sorted.length; i++) {
        const [a, b] = [sorted[i - 1]!, sorted[i]!];
        if (b < from || a > to) continue;
        const gap = b - Math.max(a, from);
        if (gap > longest) [longest, resumedAt] = [gap, b];
      }
      return { longest, resumedAt };
    };
    // The baseline: the second half of the lead-in (the first messages also warm the pipeline up).
    const firstChange = changes[0]?.at ?? Date.now();
    const baselineFrom = firstChange - Math.floor((firstChange - (sorted[0] ?? firstChange)) / 2);
    note(`scaling: rebalance pauses at ${RATE} msg/s (longest delivery gap in the ${((firstChange - baselineFrom) / 1000).toFixed(0)} s before the first change, no change: ${(longestGap(baselineFrom, firstChange).longest / 1000).toFixed(2)} s)`);
    changes.forEach((c, i) => {
      const { longest, resumedAt } = longestGap(c.at, changes[i + 1]?.at ?? c.at + c.took + 8_000);
      note(`  ${c.what} (processes ready / exited after ${(c.took / 1000).toFixed(1)} s): longest delivery gap ${(longest / 1000).toFixed(2)} s, ending ${((resumedAt - c.at) / 1000).toFixed(2)} s after the change began`);
    });
    note(`  SIGTERM -> exit: ${exits.join(', ')}`);
    expect(changes.map((c) => c.what)).toEqual(steps.map(([what]) => what));
    expectClean(row);
  } finally {
    await workload.close();
  }
});

/** The HTTP status a WebSocket upgrade request gets from a connector's listener (0: no answer). */
function upgradeAnswer(wsPort: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: Number(wsPort), path: '/?access_token=x', headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }, timeout: 5_000 });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}
