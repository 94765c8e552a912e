// Where client TLS should end, measured both ways in one run on one Parley: "ingress" is a
// TLS-terminating proxy (Debian's HAProxy, as an ingress controller would be) in front of a
// plaintext connector (WS_INSECURE, the chart's default), "connector" is a connector speaking
// wss:// itself (WS_TLS_CERT_FILE/KEY_FILE). For each: memory per idle socket on fresh
// processes (connector RSS and heap, and the proxy's RSS, per socket, as the idle scenario
// measures), then the 1:1 ceiling on the load shape over two connectors of that kind (the
// ceiling scenario's ladder, on a shorter step list). The two kinds' connectors run side by
// side; each half of the comparison connects only to its own.
import type { ServiceProcess } from '../../../test/e2e/support/platform';
import { log, sleep } from '../harness';
import { heapMb } from '../service-metrics';
import { ladder, type Context, type LadderResult } from '../measure';
import { round, sample } from '../procstats';
import type { OpenResult } from '../protocol';
import { ADDRESSES, SHAPE_FLOWS, closeShape, ensureShape, shapeLoad } from '../shape';
import { TlsProxy } from '../systems';
import * as path from 'node:path';

export type TlsMode = 'ingress' | 'connector';

export interface TlsIdle {
  target: number;
  opened: number;
  failed: number;
  firstError?: string;
  seconds: number;
  connectorRssMb: [number, number];
  connectorHeapMb: [number, number];
  /** The proxy's, with TLS at the ingress. */
  proxyRssMb?: [number, number];
  kbPerConnection: number;
  heapKbPerConnection: number;
  proxyKbPerConnection?: number;
  /** Connector and proxy together: what the platform pays per idle socket. */
  totalKbPerConnection: number;
}

export interface TlsModeResult {
  mode: TlsMode;
  idle: TlsIdle;
  ladder: LadderResult;
}

export interface TlsResult {
  rates: number[];
  users: number;
  conversations: number;
  modes: TlsModeResult[];
}


/** One kind of front: two connectors and where clients connect to each. */
interface Front {
  mode: TlsMode;
  connectors: [ServiceProcess, ServiceProcess];
  proxies: TlsProxy[];
  urls: [string, string];
}

export async function tls(ctx: Context): Promise<TlsResult> {
  const { platform } = ctx;
  const n = ctx.settings.tlsIdleConnections;
  const rates = ctx.settings.tlsLadderRates;
  // Every socket behind the proxy comes from its address: the per-address upgrade limit would
  // count the whole ingress as one client (docs/OPERATIONS.md). Same limits for both kinds.
  const env = { UPGRADES_PER_IP_PER_SEC: '1000000', UPGRADE_BURST_PER_IP: '10000000' };
  const certFile = path.join(platform.pkiDir, 'connector.pem');
  const keyFile = path.join(platform.pkiDir, 'connector.key');
  const caFile = path.join(platform.pkiDir, 'ca.pem');

  const fronts: Front[] = [];
  const plain: ServiceProcess[] = [];
  const plainPorts: number[] = [];
  for (let i = 0; i < 2; i++) {
    plain.push(await platform.addConnector(undefined, { wsTls: false, env }));
    plainPorts.push(platform.wsPorts[platform.wsPorts.length - 1]!);
  }
  const proxies = [
    // Each proxy carries at most one front's idle sockets (or half the shape's): a connection costs
    // it two file descriptors, and the bench runs under a limit of 20,000 (tlsIdleConnections ≤ 9,000).
    await TlsProxy.start('tls-ingress-0', plainPorts[0]!, certFile, keyFile, Math.max(n, ctx.settings.users)),
    await TlsProxy.start('tls-ingress-1', plainPorts[1]!, certFile, keyFile, Math.max(n, ctx.settings.users)),
  ];
  fronts.push({ mode: 'ingress', connectors: [plain[0]!, plain[1]!], proxies, urls: [proxies[0]!.url(), proxies[1]!.url()] });
  const direct: ServiceProcess[] = [];
  const directUrls: string[] = [];
  for (let i = 0; i < 2; i++) {
    direct.push(await platform.addConnector(undefined, { wsTls: true, env }));
    directUrls.push(platform.wsUrlOf(platform.wsPorts.length - 1));
  }
  fronts.push({ mode: 'connector', connectors: [direct[0]!, direct[1]!], proxies: [], urls: [directUrls[0]!, directUrls[1]!] });
  const rss = (pid: number | undefined) => (pid ? round(sample(pid).rssMb, 1) : 0);
  const perConn = (mb: [number, number], count: number) => (count > 0 ? round(((mb[1] - mb[0]) * 1024) / count, 2) : 0);

  try {
    await sleep(3_000);
    // Memory first, on processes nothing has used yet (heap grown by a ladder would hide the cost).
    const idles = new Map<TlsMode, TlsIdle>();
    for (const front of fronts) {
      const connector = front.connectors[0];
      const proxy = front.proxies[0];
      const tag = Math.random().toString(36).slice(2, 7);
      const specs = Array.from({ length: n }, (_, i) => ({
        key: `tls-idle-${front.mode}-${i}`,
        transport: 'parley' as const,
        url: `${front.urls[0]}?access_token=${platform.token(`tls${i}-${tag}`, 'd1', 7200)}&ack=1`,
        caFile,
      }));
      const before = { rss: rss(connector.child.pid), heap: await heapMb(connector), proxy: rss(proxy?.proc.pid) };
      log(`tls (${front.mode}): opening ${n} idle wss:// sockets`);
      const started = Date.now();
      const opened: OpenResult = await ctx.loadgens.open(specs, ADDRESSES, { concurrency: 100 });
      const seconds = round((Date.now() - started) / 1000, 1);
      await sleep(5_000);
      const connectorRssMb: [number, number] = [before.rss, rss(connector.child.pid)];
      const connectorHeapMb: [number, number] = [before.heap, await heapMb(connector)];
      const proxyRssMb: [number, number] | undefined = proxy ? [before.proxy, rss(proxy.proc.pid)] : undefined;
      const kb = perConn(connectorRssMb, opened.opened);
      const proxyKb = proxyRssMb ? perConn(proxyRssMb, opened.opened) : undefined;
      idles.set(front.mode, {
        target: n,
        opened: opened.opened,
        failed: opened.failed,
        ...(opened.firstError ? { firstError: opened.firstError } : {}),
        seconds,
        connectorRssMb,
        connectorHeapMb,
        ...(proxyRssMb ? { proxyRssMb, proxyKbPerConnection: proxyKb } : {}),
        kbPerConnection: kb,
        heapKbPerConnection: perConn(connectorHeapMb, opened.opened),
        totalKbPerConnection: round(kb + (proxyKb ?? 0), 2),
      });
      log(`tls (${front.mode}): ${opened.opened} open (${opened.failed} failed), connector RSS ${connectorRssMb[0]} -> ${connectorRssMb[1]} MB${proxyRssMb ? `, proxy RSS ${proxyRssMb[0]} -> ${proxyRssMb[1]} MB` : ''}`);
      await ctx.loadgens.closeDevices('tls-idle-');
    }

    // The ceiling, each kind on the same load shape (conversations created once, the devices moved).
    const modes: TlsModeResult[] = [];
    let load = '';
    for (const front of fronts) {
      await closeShape(ctx, 'parley');
      ctx.parleyFront = { urls: front.urls, caFile, watched: front.proxies.flatMap((p) => p.watched('parley')) };
      const shape = await ensureShape(ctx, ['parley']);
      load = shapeLoad(shape);
      const result = await ladder(ctx, 'parley', SHAPE_FLOWS.parley, `${load}, TLS at the ${front.mode}`, rates);
      modes.push({ mode: front.mode, idle: idles.get(front.mode)!, ladder: result });
    }
    return { rates, users: ctx.shape?.users ?? 0, conversations: ctx.shape?.conversations ?? 0, modes };
  } finally {
    await closeShape(ctx, 'parley').catch(() => undefined);
    await ctx.loadgens.closeDevices('tls-idle-').catch(() => undefined);
    delete ctx.parleyFront;
    for (const p of fronts.flatMap((f) => f.proxies)) await p.stop();
    for (const c of [...plain, ...direct]) await platform.stopProcess(c);
  }
}
