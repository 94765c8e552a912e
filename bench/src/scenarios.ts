// The scenarios of issue 5. Each runs Parley and its baselines at the same offered load, in
// the same run, and returns plain data (results.ts turns it into tables and a chart).
import { Kafka, logLevel } from 'kafkajs';
import type { Platform } from '../../test/e2e/support/platform';
import { freePort } from '../../test/e2e/support/platform';
import { Histogram, type LatencySummary } from './histogram';
import { cpuProfiles, hopTimeline, type HopRow, type ServiceProfile } from './profile';
import { log, onCleanUp, sleep, sourceAddresses, type BenchInfra, type LoadGen } from './harness';
import { UsageWindow, round, sample, type UsageRow, type Watched } from './procstats';
import type { DeviceSpec, Flow, RunResult, SdkStatus, Transport } from './protocol';
import { Relay, parleyWatched, type Floor } from './systems';

export interface Settings {
  quick: boolean;
  ladderRates: number[];
  stepSeconds: number;
  holdSeconds: number;
  pairs: number;
  groupSize: number;
  groupRates: number[];
  idleConnections: number;
  stormClients: number;
  stormGroupSize: number;
  lagRate: number;
  lagStopSeconds: number;
  drainMs: number;
}

export function settings(quick: boolean, holdSeconds?: number): Settings {
  return quick
    ? { quick, ladderRates: [50, 100], stepSeconds: 5, holdSeconds: 0, pairs: 20, groupSize: 50, groupRates: [5], idleConnections: 500, stormClients: 300, stormGroupSize: 100, lagRate: 50, lagStopSeconds: 8, drainMs: 15_000 }
    : {
        quick,
        ladderRates: [10, 25, 50, 100, 200, 400, 700, 1000, 1400, 2000],
        stepSeconds: 15,
        holdSeconds: holdSeconds ?? 60,
        pairs: 200,
        groupSize: 1000,
        groupRates: [2, 5, 10, 20, 40],
        idleConnections: 18_000,
        stormClients: 10_000,
        stormGroupSize: 1000,
        lagRate: 200,
        lagStopSeconds: 60,
        drainMs: 20_000,
      };
}

export interface Context {
  settings: Settings;
  infra: BenchInfra;
  platform: Platform;
  relay: Relay;
  floor: Floor;
  loadgen: LoadGen;
  kafkaTopic: string;
}

/** One system's figures at one offered load. */
export interface Measurement {
  system: Transport;
  rate: number;
  seconds: number;
  sent: number;
  /** Sends refused for good (after the retries a client makes): not due. */
  refused: number;
  acked: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  redelivered: number;
  gaps: number;
  errors: Record<string, number>;
  latency: LatencySummary;
  /** Median latency of the first and the last third of the messages (a growing backlog shows). */
  earlyP50: number;
  lateP50: number;
  deliveriesPerSecond: number;
  /** CPU seconds of the system's own processes, and of the infrastructure it uses. */
  cpuSeconds: number;
  infraCpuSeconds: number;
  cpuPer1000: number;
  cpuPer1000WithInfra: number;
  usage: UsageRow[];
}

const ADDRESSES = sourceAddresses(40);
const rand = () => Math.random().toString(36).slice(2, 8);

function systemWatched(ctx: Context, system: Transport): { own: Watched[]; infra: Watched[] } {
  const infra = ctx.infra.watched();
  const pick = (names: string[]) => infra.filter((w) => names.includes(w.name));
  switch (system) {
    case 'parley':
      return { own: parleyWatched(ctx.platform), infra };
    case 'floor':
      return { own: ctx.floor.watched(), infra: pick(['kafka', 'postgres', 'ferretdb']) };
    case 'relay':
      return { own: ctx.relay.watched(), infra: [] };
    case 'kafka':
      return { own: [], infra: pick(['kafka']) };
  }
}

/** Runs one load through one system and measures it, with the CPU of its processes. */
export async function measure(ctx: Context, system: Transport, flows: Flow[], rate: number, seconds: number, drainMs = ctx.settings.drainMs): Promise<Measurement> {
  const { own, infra } = systemWatched(ctx, system);
  const window = new UsageWindow([...own, ...infra, { name: 'loadgen', kind: 'loadgen', pid: ctx.loadgen.pid, tree: false }]);
  const result = await ctx.loadgen.call<RunResult>({ op: 'run', flows, rate, seconds, drainMs });
  const usage = window.end();
  const sum = (kind: string) => round(usage.filter((u) => u.kind === kind).reduce((a, u) => a + u.cpuSeconds, 0));
  const cpuSeconds = system === 'kafka' ? 0 : sum(system === 'parley' ? 'parley' : 'baseline');
  const infraCpuSeconds = sum('infra');
  const per1000 = (cpu: number) => (result.delivered > 0 ? round((cpu / result.delivered) * 1000, 3) : 0);
  const m: Measurement = {
    system,
    rate,
    seconds,
    sent: result.sent,
    refused: result.refused,
    acked: result.acked,
    expected: result.expected,
    delivered: result.delivered,
    lost: result.lost,
    duplicated: result.duplicated,
    redelivered: result.redelivered,
    gaps: result.gaps,
    errors: result.errors,
    latency: Histogram.fromJSON(result.hist).summary(),
    earlyP50: round(result.earlyP50),
    lateP50: round(result.lateP50),
    deliveriesPerSecond: round(result.delivered / Math.max(result.sendSeconds, 1e-3), 1),
    cpuSeconds,
    infraCpuSeconds,
    cpuPer1000: per1000(cpuSeconds),
    cpuPer1000WithInfra: per1000(cpuSeconds + infraCpuSeconds),
    usage,
  };
  log(
    `${system.padEnd(6)} ${String(rate).padStart(5)}/s: delivered ${m.delivered}/${m.expected}, lost ${m.lost}, dup ${m.duplicated}, refused ${m.refused}, errors ${JSON.stringify(m.errors)}, ` +
      `p50 ${m.latency.p50} (first third ${m.earlyP50}, last ${m.lateP50}) p99 ${m.latency.p99} max ${m.latency.max} ms, cpu ${m.cpuSeconds}+${m.infraCpuSeconds} s`,
  );
  return m;
}

/** The bar: p99 at most 100 ms, nothing lost or duplicated, no errors (not even retried ones). */
export function healthy(m: Measurement): boolean {
  return m.latency.p99 <= 100 && Object.keys(m.errors).length === 0 && keepsUp(m);
}

/**
 * Weaker: every send accepted (retries allowed) and delivered once, and no backlog that grew
 * through the step: the last third of the messages not much slower than the first third.
 */
export function keepsUp(m: Measurement): boolean {
  return m.lost === 0 && m.duplicated === 0 && m.refused === 0 && m.lateP50 <= 2 * m.earlyP50 + 250 && m.latency.max < (m.seconds * 1000) / 2;
}

function parleyUrl(ctx: Context, connector: number, userId: string, deviceId: string): string {
  return `${ctx.platform.wsUrlOf(connector)}?access_token=${ctx.platform.token(userId, deviceId)}&ack=1`;
}

async function open(ctx: Context, devices: DeviceSpec[]): Promise<void> {
  const res = await ctx.loadgen.call<{ opened: number; failed: number; firstError?: string }>({ op: 'open', devices, addresses: ADDRESSES });
  if (res.failed > 0) throw new Error(`${res.failed} of ${devices.length} sockets failed to open: ${res.firstError}`);
}

/** A few seconds of the same load, not recorded: connections, caches and the JIT warm up first. */
async function warmUp(ctx: Context, flowSets: Flow[][], rate: number): Promise<void> {
  log(`warm-up at ${rate} msg/s`);
  for (const flows of flowSets) await ctx.loadgen.call<RunResult>({ op: 'run', flows, rate, seconds: ctx.settings.quick ? 2 : 5, drainMs: ctx.settings.drainMs });
}

// ---------------------------------------------------------------- 1:1 ladder
export interface LadderResult {
  pairs: number;
  steps: Measurement[][];
  held: { rate: number; seconds: number; measurements: Measurement[]; criterion: 'p99 <= 100 ms' | 'keeps up' } | undefined;
  highestHealthyRate: number;
  highestKeepingUpRate: number;
}

export async function oneToOne(ctx: Context): Promise<LadderResult> {
  const { pairs } = ctx.settings;
  const tag = rand();
  const specs: DeviceSpec[] = [];
  const flows: Record<Transport, Flow[]> = { parley: [], relay: [], floor: [], kafka: [] };
  for (let k = 0; k < pairs; k++) {
    const [a, b] = [`a${k}-${tag}`, `b${k}-${tag}`];
    const conversationId = await ctx.platform.createDirect(a, b);
    specs.push({ key: `p-s${k}`, transport: 'parley', url: parleyUrl(ctx, 0, a, 'd1') }, { key: `p-r${k}`, transport: 'parley', url: parleyUrl(ctx, 1, b, 'd1') });
    flows.parley.push({ transport: 'parley', from: `p-s${k}`, conversationId, receivers: 1 });
    specs.push({ key: `r-s${k}`, transport: 'relay', url: ctx.relay.url(`pair${k}`) }, { key: `r-r${k}`, transport: 'relay', url: ctx.relay.url(`pair${k}`) });
    flows.relay.push({ transport: 'relay', from: `r-s${k}`, conversationId: `pair${k}`, receivers: 1 });
    specs.push({ key: `f-s${k}`, transport: 'floor', url: ctx.floor.url(`f-s${k}`) }, { key: `f-r${k}`, transport: 'floor', url: ctx.floor.url(`f-r${k}`) });
    flows.floor.push({ transport: 'floor', from: `f-s${k}`, conversationId: `pair${k}`, to: [`f-r${k}`], receivers: 1 });
    flows.kafka.push({ transport: 'kafka', from: 'kafka-producer', conversationId: `pair${k}`, receivers: 1 });
  }
  await open(ctx, specs);
  const systems: Transport[] = ['relay', 'kafka', 'floor', 'parley'];
  await warmUp(ctx, systems.map((system) => flows[system]), ctx.settings.ladderRates[0]!);
  const steps: Measurement[][] = [];
  let highestHealthyRate = 0;
  let highestKeepingUpRate = 0;
  // Up the ladder while Parley keeps up (past the 100 ms bar too, to find its ceiling).
  for (const rate of ctx.settings.ladderRates) {
    log(`1:1 ladder: ${rate} msg/s for ${ctx.settings.stepSeconds} s`);
    const step: Measurement[] = [];
    for (const system of systems) step.push(await measure(ctx, system, flows[system], rate, ctx.settings.stepSeconds));
    steps.push(step);
    const parley = step.find((m) => m.system === 'parley')!;
    if (healthy(parley) && highestHealthyRate === highestKeepingUpRate) highestHealthyRate = rate;
    if (!keepsUp(parley)) break;
    highestKeepingUpRate = rate;
    await sleep(3_000);
  }
  let held: LadderResult['held'];
  // Hold the highest rate that met the 100 ms bar; if none did, the highest that kept up.
  const criterion = highestHealthyRate > 0 ? 'p99 <= 100 ms' : 'keeps up';
  const top = highestHealthyRate || highestKeepingUpRate;
  const candidates = ctx.settings.ladderRates.filter((r) => r <= top).reverse().slice(0, 2);
  for (const rate of ctx.settings.holdSeconds > 0 ? candidates : []) {
    log(`1:1 hold: ${rate} msg/s for ${ctx.settings.holdSeconds} s`);
    await sleep(10_000); // let any backlog of the failed step drain
    const measurements: Measurement[] = [];
    for (const system of systems) measurements.push(await measure(ctx, system, flows[system], rate, ctx.settings.holdSeconds));
    held = { rate, seconds: ctx.settings.holdSeconds, measurements, criterion };
    const parley = measurements.find((m) => m.system === 'parley')!;
    if (criterion === 'keeps up' ? keepsUp(parley) : healthy(parley)) break;
  }
  await ctx.loadgen.call({ op: 'close-devices' });
  return { pairs, steps, held, highestHealthyRate, highestKeepingUpRate };
}

// ---------------------------------------------------------------- 1,000-member group
export interface GroupResult {
  members: number;
  steps: Measurement[][];
}

export async function group(ctx: Context): Promise<GroupResult> {
  const n = ctx.settings.groupSize;
  const tag = rand();
  const users = Array.from({ length: n }, (_, i) => `g${i}-${tag}`);
  const conversationId = await ctx.platform.createGroup(users);
  const specs: DeviceSpec[] = [];
  for (let i = 0; i < n; i++) {
    specs.push({ key: `pg-${i}`, transport: 'parley', url: parleyUrl(ctx, i % 2, users[i]!, 'd1') });
    specs.push({ key: `rg-${i}`, transport: 'relay', url: ctx.relay.url(`group-${tag}`) });
    specs.push({ key: `fg-${i}`, transport: 'floor', url: ctx.floor.url(`fg-${i}`) });
  }
  await open(ctx, specs);
  const others = (prefix: string) => Array.from({ length: n - 1 }, (_, i) => `${prefix}${i + 1}`);
  const flows: Partial<Record<Transport, Flow[]>> = {
    parley: [{ transport: 'parley', from: 'pg-0', conversationId, receivers: n - 1 }],
    relay: [{ transport: 'relay', from: 'rg-0', conversationId: 'group', receivers: n - 1 }],
    floor: [{ transport: 'floor', from: 'fg-0', conversationId: 'group', to: others('fg-'), receivers: n - 1 }],
  };
  await warmUp(ctx, Object.values(flows), ctx.settings.groupRates[0]!);
  const steps: Measurement[][] = [];
  for (const rate of ctx.settings.groupRates) {
    log(`group of ${n}: ${rate} msg/s (${rate * (n - 1)} deliveries/s) for ${ctx.settings.stepSeconds} s`);
    const step: Measurement[] = [];
    for (const system of ['relay', 'floor', 'parley'] as const) step.push(await measure(ctx, system, flows[system]!, rate, ctx.settings.stepSeconds));
    steps.push(step);
    if (!keepsUp(step.find((m) => m.system === 'parley')!)) break;
  }
  await ctx.loadgen.call({ op: 'close-devices' });
  return { members: n, steps };
}

// ---------------------------------------------------------------- idle connections
export interface IdleResult {
  parley: { target: number; opened: number; failed: number; firstError?: string; seconds: number; connectorRssMb: [number, number]; redisRssMb: [number, number]; kbPerConnection: number; redisKbPerConnection: number };
  relay: { target: number; opened: number; seconds: number; rssMb: [number, number]; kbPerConnection: number };
  loadgenKbPerConnection: number;
}

export async function idle(ctx: Context): Promise<IdleResult> {
  const n = ctx.settings.idleConnections;
  const tag = rand();
  // A fresh connector and a fresh relay: heap grown by earlier scenarios would hide the cost.
  const connector = await ctx.platform.addConnector();
  const index = ctx.platform.wsPorts.length - 1;
  const relay = await Relay.start('relay-idle');
  const redis = ctx.infra.watched().find((w) => w.name === 'redis');
  const rss = (pid: number | undefined) => (pid ? round(sample(pid).rssMb, 1) : 0);
  const perConn = (mb: [number, number], count: number) => (count > 0 ? round(((mb[1] - mb[0]) * 1024) / count, 2) : 0);
  await sleep(3_000);
  try {
    const specs: DeviceSpec[] = Array.from({ length: n }, (_, i) => ({ key: `idle-${i}`, transport: 'parley' as const, url: parleyUrl(ctx, index, `idle${i}-${tag}`, 'd1') }));
    const before = { connector: rss(connector.child.pid), redis: rss(redis?.pid), loadgen: rss(ctx.loadgen.pid) };
    log(`idle: opening ${n} Parley sockets on a fresh connector`);
    let started = Date.now();
    const p = await ctx.loadgen.call<{ opened: number; failed: number; firstError?: string }>({ op: 'open', devices: specs, addresses: ADDRESSES, concurrency: 100 });
    const parleySeconds = (Date.now() - started) / 1000;
    await sleep(5_000);
    const connectorRssMb: [number, number] = [before.connector, rss(connector.child.pid)];
    const redisRssMb: [number, number] = [before.redis, rss(redis?.pid)];
    const loadgenAfter = rss(ctx.loadgen.pid);
    log(`idle: ${p.opened} open (${p.failed} failed), connector RSS ${connectorRssMb[0]} -> ${connectorRssMb[1]} MB`);
    await ctx.loadgen.call({ op: 'close-devices' });

    const relayPid = relay.child.proc.pid;
    const relayBefore = rss(relayPid);
    started = Date.now();
    const r = await ctx.loadgen.call<{ opened: number; failed: number }>({
      op: 'open',
      devices: Array.from({ length: n }, (_, i) => ({ key: `idle-r${i}`, transport: 'relay' as const, url: relay.url(`idle${i}`) })),
      addresses: ADDRESSES,
      concurrency: 100,
    });
    const relaySeconds = (Date.now() - started) / 1000;
    await sleep(5_000);
    const relayRssMb: [number, number] = [relayBefore, rss(relayPid)];
    log(`idle: relay ${r.opened} open, RSS ${relayRssMb[0]} -> ${relayRssMb[1]} MB`);
    await ctx.loadgen.call({ op: 'close-devices' });
    return {
      parley: {
        target: n,
        opened: p.opened,
        failed: p.failed,
        ...(p.firstError ? { firstError: p.firstError } : {}),
        seconds: round(parleySeconds, 1),
        connectorRssMb,
        redisRssMb,
        kbPerConnection: perConn(connectorRssMb, p.opened),
        redisKbPerConnection: perConn(redisRssMb, p.opened),
      },
      relay: { target: n, opened: r.opened, seconds: round(relaySeconds, 1), rssMb: relayRssMb, kbPerConnection: perConn(relayRssMb, r.opened) },
      loadgenKbPerConnection: perConn([before.loadgen, loadgenAfter], p.opened),
    };
  } finally {
    await ctx.loadgen.call({ op: 'close-devices' });
    await ctx.platform.stopProcess(connector);
    await relay.stop();
  }
}

// ---------------------------------------------------------------- reconnect storm
export interface StormResult {
  clients: number;
  groups: number;
  opened: number;
  secondsToAllBack: number | undefined;
  secondsToAllSynced: number | undefined;
  final: SdkStatus;
  /** [seconds after the kill, clients open, receivers holding every acked message]. */
  series: [number, number, number][];
  cpuSeconds: number;
  infraCpuSeconds: number;
  relayReconnect: { clients: number; seconds: number };
}

export async function storm(ctx: Context): Promise<StormResult> {
  const { stormClients: n, stormGroupSize: size } = ctx.settings;
  const groups = Math.ceil(n / size);
  const tag = rand();
  const receivers: DeviceSpec[] = [];
  const senders: DeviceSpec[] = [];
  for (let g = 0; g < groups; g++) {
    const members = Array.from({ length: Math.min(size, n - g * size) }, (_, m) => `s${g}x${m}-${tag}`);
    const sender = `sender${g}-${tag}`;
    const conversationId = await ctx.platform.createGroup([sender, ...members]);
    senders.push({ key: `sender-${g}`, transport: 'parley', url: ctx.platform.wsUrlOf(0), urls: [ctx.platform.wsUrlOf(0)], token: ctx.platform.token(sender, 'd1', 7200), conversationId });
    for (const user of members) {
      // The connector to be killed first; the other one after it.
      receivers.push({ key: `r-${user}`, transport: 'parley', url: ctx.platform.wsUrlOf(1), urls: [ctx.platform.wsUrlOf(1), ctx.platform.wsUrlOf(0)], token: ctx.platform.token(user, 'd1', 7200), conversationId });
    }
  }
  log(`storm: connecting ${receivers.length} SDK clients to connector 1`);
  const opened = await ctx.loadgen.call<{ opened: number; failed: number }>({ op: 'sdk-open', devices: [...senders, ...receivers], addresses: ADDRESSES });
  log(`storm: ${opened.opened} open, ${opened.failed} not`);
  await ctx.loadgen.call({ op: 'sdk-send-start', senders: senders.map((s) => ({ key: s.key, conversationId: s.conversationId! })), intervalMs: ctx.settings.quick ? 500 : 2000 });
  await sleep(ctx.settings.quick ? 3_000 : 6_000);

  const { own, infra } = systemWatched(ctx, 'parley');
  const window = new UsageWindow([...own, ...infra]);
  const victim = ctx.platform.running('connector')[1]!;
  log(`storm: SIGKILL connector ${victim.index} (pid ${victim.child.pid})`);
  const killedAt = Date.now();
  await ctx.platform.stopProcess(victim, 'SIGKILL');
  const deadline = killedAt + (ctx.settings.quick ? 90_000 : 240_000);
  let secondsToAllBack: number | undefined;
  let secondsToAllSynced: number | undefined;
  let status = await ctx.loadgen.call<SdkStatus>({ op: 'sdk-status' });
  const series: [number, number, number][] = [];
  while (Date.now() < deadline) {
    status = await ctx.loadgen.call<SdkStatus>({ op: 'sdk-status' });
    series.push([round((Date.now() - killedAt) / 1000, 1), status.open, status.complete]);
    if (secondsToAllBack === undefined && status.open === status.total) {
      secondsToAllBack = (Date.now() - killedAt) / 1000;
      // Stop sending: "synced" means holding every message acked until now.
      await ctx.loadgen.call({ op: 'sdk-send-stop' });
      log(`storm: all ${status.total} clients open again after ${secondsToAllBack} s`);
      await sleep(1_000);
      continue;
    }
    if (secondsToAllBack !== undefined && status.complete === status.receivers && status.missing === 0) {
      secondsToAllSynced = (Date.now() - killedAt) / 1000;
      break;
    }
    await sleep(1_000);
  }
  await ctx.loadgen.call({ op: 'sdk-send-stop' });
  status = await ctx.loadgen.call<SdkStatus>({ op: 'sdk-status', exact: true });
  const usage = window.end();
  log(`storm: synced after ${secondsToAllSynced} s; ${JSON.stringify(status)}`);
  await ctx.loadgen.call({ op: 'sdk-close' });

  // Baseline: the same number of bare sockets (re)connecting to the relay at once.
  const started = Date.now();
  await ctx.loadgen.call({ op: 'open', devices: Array.from({ length: n }, (_, i) => ({ key: `storm-r${i}`, transport: 'relay' as const, url: ctx.relay.url(`s${i}`) })), addresses: ADDRESSES, concurrency: 500 });
  const relaySeconds = (Date.now() - started) / 1000;
  await ctx.loadgen.call({ op: 'close-devices' });
  const sum = (kind: string) => round(usage.filter((u) => u.kind === kind).reduce((a, u) => a + u.cpuSeconds, 0));
  return {
    clients: receivers.length,
    groups,
    opened: opened.opened,
    secondsToAllBack: secondsToAllBack === undefined ? undefined : round(secondsToAllBack, 1),
    secondsToAllSynced: secondsToAllSynced === undefined ? undefined : round(secondsToAllSynced, 1),
    final: status,
    series,
    cpuSeconds: sum('parley'),
    infraCpuSeconds: sum('infra'),
    relayReconnect: { clients: n, seconds: round(relaySeconds, 1) },
  };
}

// ---------------------------------------------------------------- Kafka lag recovery
export interface LagRun {
  system: Transport;
  rate: number;
  stopSeconds: number;
  peakLag: number;
  /** From the restart until the lag was back under one second of traffic. */
  catchUpSeconds: number | undefined;
  /** Records consumed per second during the catch-up (backlog plus new traffic). */
  catchUpRate: number | undefined;
  measurement: Measurement;
  lagSeries: [number, number][];
}

async function lagOf(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [high, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    return high.reduce((sum, p) => sum + Math.max(0, Number(p.high) - Math.max(0, done.get(p.partition) ?? 0)), 0);
  } finally {
    await admin.disconnect();
  }
}

async function lagRun(ctx: Context, system: 'parley' | 'floor', flows: Flow[], groupId: string, topic: string, stop: () => Promise<void>, start: () => Promise<void>): Promise<LagRun> {
  const { lagRate: rate, lagStopSeconds: stopSeconds, quick } = ctx.settings;
  const pre = quick ? 3 : 10;
  const post = quick ? 12 : 40;
  const kafka = new Kafka({ clientId: 'bench-lag', brokers: ctx.infra.env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const series: [number, number][] = [];
  const t0 = Date.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      series.push([round((Date.now() - t0) / 1000, 1), await lagOf(kafka, groupId, topic).catch(() => -1)]);
      await sleep(1_000);
    }
  })();
  const running = measure(ctx, system, flows, rate, pre + stopSeconds + post, 120_000);
  await sleep(pre * 1000);
  log(`lag (${system}): stopping the consumer for ${stopSeconds} s`);
  await stop();
  await sleep(stopSeconds * 1000);
  const restartAt = (Date.now() - t0) / 1000;
  await start();
  log(`lag (${system}): consumer back`);
  const measurement = await running;
  sampling = false;
  await sampler;
  const peakLag = Math.max(0, ...series.map(([, lag]) => lag));
  // Caught up: the backlog under one second of traffic, or under 5 % of its peak (commits trail a little).
  const caughtUp = series.find(([t, lag]) => t > restartAt && lag >= 0 && lag <= Math.max(rate, 0.05 * peakLag));
  const catchUpSeconds = caughtUp ? round(caughtUp[0] - restartAt, 1) : undefined;
  return {
    system,
    rate,
    stopSeconds,
    peakLag,
    catchUpSeconds,
    catchUpRate: catchUpSeconds && caughtUp ? round((peakLag - caughtUp[1]) / catchUpSeconds + rate, 0) : undefined,
    measurement,
    lagSeries: series,
  };
}

export async function lag(ctx: Context): Promise<LagRun[]> {
  const { platform } = ctx;
  // Storage does two jobs: it consumes parley.messages and it answers the router's CheckSend.
  // To stop only the consumer, a second storage instance serves gRPC while consuming topics
  // of another prefix (empty), and the router and connector are pointed at it.
  const apiPrefix = `${platform.topicPrefix}api.`;
  const { ensureTopics, topicNames } = await import('@parley/bus');
  const t = topicNames(apiPrefix);
  const apiTopics = [t.messages, t.deliveries, t.receipts, t.signals];
  await ensureTopics(ctx.infra.env.KAFKA_BROKERS.split(','), apiTopics.map((topic) => ({ topic, partitions: 1 })));
  onCleanUp(async () => {
    const admin = new Kafka({ clientId: 'bench-clean-up', brokers: ctx.infra.env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: apiTopics }).catch(() => undefined);
    await admin.disconnect();
  });
  const apiPort = await freePort();
  await platform.spawnService('storage', { GRPC_PORT: String(apiPort), KAFKA_TOPIC_PREFIX: apiPrefix });
  const apiAddr = `127.0.0.1:${apiPort}`;
  const workers = platform.running('storage').filter((p) => p.env['KAFKA_TOPIC_PREFIX'] !== apiPrefix);
  for (const name of ['router', 'connector'] as const) {
    for (const proc of platform.running(name)) {
      await platform.stopProcess(proc);
      await platform.spawnService(name, { ...proc.env, STORAGE_ADDR: apiAddr });
    }
  }
  const tag = rand();
  const pairs = ctx.settings.quick ? 10 : 50;
  const specs: DeviceSpec[] = [];
  const parleyFlows: Flow[] = [];
  const floorFlows: Flow[] = [];
  for (let k = 0; k < pairs; k++) {
    const [a, b] = [`la${k}-${tag}`, `lb${k}-${tag}`];
    const conversationId = await platform.createDirect(a, b);
    specs.push({ key: `l-s${k}`, transport: 'parley', url: parleyUrl(ctx, 0, a, 'd1') }, { key: `l-r${k}`, transport: 'parley', url: parleyUrl(ctx, 0, b, 'd1') });
    parleyFlows.push({ transport: 'parley', from: `l-s${k}`, conversationId, receivers: 1 });
    specs.push({ key: `lf-s${k}`, transport: 'floor', url: ctx.floor.url(`lf-s${k}`) }, { key: `lf-r${k}`, transport: 'floor', url: ctx.floor.url(`lf-r${k}`) });
    floorFlows.push({ transport: 'floor', from: `lf-s${k}`, conversationId: `lpair${k}`, to: [`lf-r${k}`], receivers: 1 });
  }
  await open(ctx, specs);
  const runs: LagRun[] = [];
  runs.push(
    await lagRun(
      ctx,
      'floor',
      floorFlows,
      `${ctx.floor.messagesTopic}-store`,
      ctx.floor.messagesTopic,
      () => ctx.floor.stopStore(),
      () => ctx.floor.startStore(),
    ),
  );
  const envs = workers.map((w) => w.env);
  runs.push(
    await lagRun(
      ctx,
      'parley',
      parleyFlows,
      `${platform.topicPrefix}storage`,
      topicNames(platform.topicPrefix).messages,
      async () => {
        for (const w of workers) await platform.stopProcess(w);
      },
      async () => {
        for (const env of envs) await platform.spawnService('storage', env);
      },
    ),
  );
  await ctx.loadgen.call({ op: 'close-devices' });
  return runs;
}

// ---------------------------------------------------------------- profile run
export interface ProfileResult {
  rate: number;
  seconds: number;
  measurement: Measurement;
  hops: HopRow[];
  services: ServiceProfile[];
}

/** 1:1 load on a Parley started with profileEnv(); its services are stopped here so that they write their profiles. */
export async function profileRun(ctx: Context, rate: number, seconds: number): Promise<ProfileResult> {
  const tag = rand();
  const specs: DeviceSpec[] = [];
  const flows: Flow[] = [];
  for (let k = 0; k < 50; k++) {
    const [a, b] = [`pa${k}-${tag}`, `pb${k}-${tag}`];
    const conversationId = await ctx.platform.createDirect(a, b);
    specs.push({ key: `pp-s${k}`, transport: 'parley', url: parleyUrl(ctx, 0, a, 'd1') }, { key: `pp-r${k}`, transport: 'parley', url: parleyUrl(ctx, 1, b, 'd1') });
    flows.push({ transport: 'parley', from: `pp-s${k}`, conversationId, receivers: 1 });
  }
  await open(ctx, specs);
  log(`profile: ${rate} msg/s for ${seconds} s with --cpu-prof and spans`);
  const measurement = await measure(ctx, 'parley', flows, rate, seconds);
  await ctx.loadgen.call({ op: 'close-devices' });
  await ctx.platform.stop(); // profiles are written when the services exit
  await sleep(1_000);
  return { rate, seconds, measurement, hops: hopTimeline(), services: cpuProfiles() };
}
