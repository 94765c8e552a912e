// Memory per idle socket: idleConnections authenticated Parley sockets on a connector started
// for this scenario, each user in idleConversationsPerUser direct conversations and synced once
// (convs, then a sync of each conversation, as a client does after connecting), against as
// many sockets on a fresh bare relay. Memory is read 5 s after the last socket opened and again
// after idleSettleSeconds of idleness (heartbeats and session refreshes going on): a server's idle
// footprint is what it holds once the garbage of the connects is collected, the same wait for both.
import { log, sleep } from '../harness';
import type { Context } from '../measure';
import { round, sample } from '../procstats';
import type { DeviceSpec, OpenResult } from '../protocol';
import { ADDRESSES } from '../shape';
import { heapMb } from '../service-metrics';
import { StorageApi, createDirects } from '../storage-api';
import { Relay } from '../systems';

export interface IdleResult {
  parley: {
    target: number;
    opened: number;
    failed: number;
    firstError?: string;
    conversationsPerUser: number;
    /** Sockets whose convs + syncs were all answered, and the syncs made. */
    booted: number;
    synced: number;
    createSeconds: number;
    seconds: number;
    connectorRssMb: [number, number];
    redisRssMb: [number, number];
    /** After idleSettleSeconds idle (the figure); kbAt5s: 5 s after the last open. */
    kbPerConnection: number;
    kbAt5s?: number;
    /** The connector's V8 heap in use (MB): before, 5 s after the opens and after the settle window. */
    heapMb?: [number, number, number];
    heapKbPerConnection?: number;
    redisKbPerConnection: number;
  };
  relay: { target: number; opened: number; seconds: number; rssMb: [number, number]; kbPerConnection: number; kbAt5s?: number };
  /** Absent in runs before the settle wait (their figures are 5 s after the opens). */
  settleSeconds?: number;
  loadgenKbPerConnection: number;
}

export async function idle(ctx: Context): Promise<IdleResult> {
  const n = ctx.settings.idleConnections;
  const perUser = ctx.settings.idleConversationsPerUser;
  const settle = ctx.settings.idleSettleSeconds;
  const tag = Math.random().toString(36).slice(2, 7);
  const users = Array.from({ length: n }, (_, i) => `idle${i}-${tag}`);
  // Each user in perUser conversations: user i with i+1 ... i+perUser/2 (mod n).
  const pairs: [string, string][] = [];
  for (let offset = 1; offset <= Math.max(1, Math.floor(perUser / 2)); offset++) for (let i = 0; i < n; i++) pairs.push([users[i]!, users[(i + offset) % n]!]);
  log(`idle: creating ${pairs.length} direct conversations for ${n} users`);
  let started = Date.now();
  await createDirects(new StorageApi(ctx.platform), pairs, 20);
  const createSeconds = round((Date.now() - started) / 1000, 1);

  // A fresh connector and a fresh relay: heap grown by earlier scenarios would hide the cost.
  const connector = await ctx.platform.addConnector();
  const index = ctx.platform.wsPorts.length - 1;
  const relay = await Relay.start('relay-idle');
  const redis = ctx.infra.watched().find((w) => w.name === 'redis');
  const rss = (pid: number | undefined) => (pid ? round(sample(pid).rssMb, 1) : 0);
  const loadgenRss = () => ctx.loadgens.pids.reduce((a, pid) => a + rss(pid), 0);
  const perConn = (mb: [number, number], count: number) => (count > 0 ? round(((mb[1] - mb[0]) * 1024) / count, 2) : 0);
  await sleep(3_000);
  try {
    const url = (user: string) => `${ctx.platform.wsUrlOf(index)}?access_token=${ctx.platform.token(user, 'd1', 7200)}&ack=1`;
    const specs: DeviceSpec[] = users.map((user, i) => ({ key: `idle-${i}`, transport: 'parley' as const, url: url(user) }));
    const before = { connector: rss(connector.child.pid), redis: rss(redis?.pid), loadgen: loadgenRss(), heap: await heapMb(connector) };
    log(`idle: opening ${n} Parley sockets on a fresh connector, each syncing its ${perUser} conversations`);
    started = Date.now();
    const p: OpenResult = await ctx.loadgens.open(specs, ADDRESSES, { concurrency: 100, boot: 'sync' });
    const parleySeconds = (Date.now() - started) / 1000;
    await sleep(5_000);
    const at5s = { connector: rss(connector.child.pid), heap: await heapMb(connector) };
    await sleep(settle * 1000);
    const connectorRssMb: [number, number] = [before.connector, rss(connector.child.pid)];
    const heap: [number, number, number] = [before.heap, at5s.heap, await heapMb(connector)];
    const redisRssMb: [number, number] = [before.redis, rss(redis?.pid)];
    const loadgenAfter = loadgenRss();
    log(`idle: ${p.opened} open (${p.failed} failed, ${p.booted} synced ${p.synced} conversations), connector RSS ${connectorRssMb[0]} -> ${at5s.connector} (5 s) -> ${connectorRssMb[1]} MB (${settle} s idle), heap ${heap.join(' -> ')} MB`);
    await ctx.loadgens.closeDevices('idle-');

    const relayPid = relay.child.proc.pid;
    const relayBefore = rss(relayPid);
    started = Date.now();
    const r = await ctx.loadgens.open(
      Array.from({ length: n }, (_, i) => ({ key: `idle-r${i}`, transport: 'relay' as const, url: relay.url(`idle${i}`) })),
      ADDRESSES,
      { concurrency: 100 },
    );
    const relaySeconds = (Date.now() - started) / 1000;
    await sleep(5_000);
    const relayAt5s = rss(relayPid);
    await sleep(settle * 1000);
    const relayRssMb: [number, number] = [relayBefore, rss(relayPid)];
    log(`idle: relay ${r.opened} open, RSS ${relayRssMb[0]} -> ${relayAt5s} (5 s) -> ${relayRssMb[1]} MB (${settle} s idle)`);
    return {
      parley: {
        target: n,
        opened: p.opened,
        failed: p.failed,
        ...(p.firstError ? { firstError: p.firstError } : {}),
        conversationsPerUser: perUser,
        booted: p.booted,
        synced: p.synced,
        createSeconds,
        seconds: round(parleySeconds, 1),
        connectorRssMb,
        redisRssMb,
        kbPerConnection: perConn(connectorRssMb, p.opened),
        kbAt5s: perConn([before.connector, at5s.connector], p.opened),
        heapMb: heap,
        heapKbPerConnection: perConn([heap[0], heap[2]], p.opened),
        redisKbPerConnection: perConn(redisRssMb, p.opened),
      },
      relay: { target: n, opened: r.opened, seconds: round(relaySeconds, 1), rssMb: relayRssMb, kbPerConnection: perConn(relayRssMb, r.opened), kbAt5s: perConn([relayBefore, relayAt5s], r.opened) },
      settleSeconds: settle,
      loadgenKbPerConnection: perConn([before.loadgen, loadgenAfter], p.opened),
    };
  } finally {
    await ctx.loadgens.closeDevices('idle-');
    await ctx.platform.stopProcess(connector);
    await relay.stop();
  }
}
