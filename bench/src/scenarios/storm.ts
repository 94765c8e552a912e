// Reconnect storm: stormClients SDK clients (in groups of stormGroupSize, a sender per group
// sending throughout) on one connector, SIGKILLed: seconds until every client is open again on
// the other connector and holds every acked message. The SDK clients live in load-generator
// worker 0 (the acked ids and every client's view are in one place); the baseline is the same
// number of bare sockets connecting to the relay at once.
import { grpcStats, grpcStatsDelta, type MethodStats } from '../service-metrics';
import { log, sleep } from '../harness';
import { loadgenWatched, systemWatched, type Context } from '../measure';
import { UsageWindow, round } from '../procstats';
import type { DeviceSpec, SdkStatus } from '../protocol';
import { ADDRESSES } from '../shape';
import { StorageApi } from '../storage-api';

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
  /** CPU-seconds of the load-generator worker that holds every SDK client, over the same window. */
  clientCpuSeconds: number;
  relayReconnect: { clients: number; seconds: number };
  /** gRPC calls each surviving service served during the storm (kill → all synced), per method. */
  grpc: Record<string, Record<string, MethodStats & { meanMs: number }>>;
}

export async function storm(ctx: Context): Promise<StormResult> {
  const { stormClients: n, stormGroupSize: size } = ctx.settings;
  const groups = Math.ceil(n / size);
  const tag = Math.random().toString(36).slice(2, 8);
  const api = new StorageApi(ctx.platform);
  const receivers: DeviceSpec[] = [];
  const senders: DeviceSpec[] = [];
  for (let g = 0; g < groups; g++) {
    const members = Array.from({ length: Math.min(size, n - g * size) }, (_, m) => `s${g}x${m}-${tag}`);
    const sender = `sender${g}-${tag}`;
    const conversationId = await api.createGroup([sender, ...members]);
    senders.push({ key: `sender-${g}`, transport: 'parley', url: ctx.platform.wsUrlOf(0), urls: [ctx.platform.wsUrlOf(0)], token: ctx.platform.token(sender, 'd1', 7200), conversationId });
    for (const user of members) {
      // The connector to be killed first; the other one after it.
      receivers.push({ key: `r-${user}`, transport: 'parley', url: ctx.platform.wsUrlOf(1), urls: [ctx.platform.wsUrlOf(1), ctx.platform.wsUrlOf(0)], token: ctx.platform.token(user, 'd1', 7200), conversationId });
    }
  }
  log(`storm: connecting ${receivers.length} SDK clients to connector 1`);
  const opened = await ctx.loadgens.first<{ opened: number; failed: number }>({ op: 'sdk-open', devices: [...senders, ...receivers], addresses: ADDRESSES });
  log(`storm: ${opened.opened} open, ${opened.failed} not`);
  await ctx.loadgens.first({ op: 'sdk-send-start', senders: senders.map((s) => ({ key: s.key, conversationId: s.conversationId! })), intervalMs: ctx.settings.quick ? 500 : 2000 });
  await sleep(ctx.settings.quick ? 3_000 : 6_000);

  const { own, infra } = systemWatched(ctx, 'parley');
  // The SDK clients all live in worker 0: its CPU says whether the clients themselves are what is slow.
  const window = new UsageWindow([...own, ...infra, ...loadgenWatched(ctx).slice(0, 1)]);
  const victim = ctx.platform.running('connector')[1]!;
  const survivors = ctx.platform.processes.filter((p) => p !== victim && p.child.exitCode === null && p.child.signalCode === null);
  const grpcBefore = await Promise.all(survivors.map((p) => grpcStats(p)));
  log(`storm: SIGKILL connector ${victim.index} (pid ${victim.child.pid})`);
  const killedAt = Date.now();
  await ctx.platform.stopProcess(victim, 'SIGKILL');
  // Started again (same ports) once the storm is measured, so the platform is whole for what follows.
  const restart = () => ctx.platform.spawnService('connector', victim.env);
  const deadline = killedAt + (ctx.settings.quick ? 90_000 : 240_000);
  let secondsToAllBack: number | undefined;
  let secondsToAllSynced: number | undefined;
  let status = await ctx.loadgens.first<SdkStatus>({ op: 'sdk-status' });
  const series: [number, number, number][] = [];
  while (Date.now() < deadline) {
    status = await ctx.loadgens.first<SdkStatus>({ op: 'sdk-status' });
    series.push([round((Date.now() - killedAt) / 1000, 1), status.open, status.complete]);
    if (series.length % 10 === 0) log(`storm: ${series[series.length - 1]![0]} s: ${status.open} open, ${status.complete} complete, errors ${JSON.stringify(status.errors)}`);
    if (secondsToAllBack === undefined && status.open === status.total) {
      secondsToAllBack = (Date.now() - killedAt) / 1000;
      // Stop sending: "synced" means holding every message acked until now.
      await ctx.loadgens.first({ op: 'sdk-send-stop' });
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
  await ctx.loadgens.first({ op: 'sdk-send-stop' });
  status = await ctx.loadgens.first<SdkStatus>({ op: 'sdk-status', exact: true });
  const usage = window.end();
  const grpcAfter = await Promise.all(survivors.map((p) => grpcStats(p)));
  const grpc = Object.fromEntries(survivors.map((p, i) => [`${p.name}-${p.index}`, grpcStatsDelta(grpcBefore[i]!, grpcAfter[i]!)]));
  log(`storm: gRPC served during the storm: ${JSON.stringify(grpc)}`);
  log(`storm: synced after ${secondsToAllSynced} s; ${JSON.stringify(status)}`);
  await ctx.loadgens.first({ op: 'sdk-close' });
  await restart();

  // Baseline: the same number of bare sockets (re)connecting to the relay at once.
  const started = Date.now();
  await ctx.loadgens.open(Array.from({ length: n }, (_, i) => ({ key: `storm-r${i}`, transport: 'relay' as const, url: ctx.relay.url(`s${i}`) })), ADDRESSES, { concurrency: 500 });
  const relaySeconds = (Date.now() - started) / 1000;
  await ctx.loadgens.closeDevices('storm-r');
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
    clientCpuSeconds: sum('loadgen'),
    relayReconnect: { clients: n, seconds: round(relaySeconds, 1) },
    grpc,
  };
}

