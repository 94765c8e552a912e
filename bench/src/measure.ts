// One load through one system, measured (delivery counts, latency, CPU of every process), and
// the rules that read a measurement: does the system hold this rate, and what is its ceiling
// (a ladder of short steps up to the first rate it does not hold, then a long hold of the
// candidate, one rate lower each time a hold fails).
import type { Platform } from '../../test/e2e/support/platform';
import { Histogram, type LatencySummary } from './histogram';
import { log, sleep, type BenchInfra, type LoadGens } from './harness';
import type { LagReader } from './kafka-lag';
import { UsageWindow, round, type UsageRow, type Watched } from './procstats';
import type { RunResult, Transport } from './protocol';
import type { Settings } from './settings';
import type { Shape } from './shape';
import { parleyGroups, parleyWatched, type Floor, type Relay } from './systems';

export interface Context {
  settings: Settings;
  infra: BenchInfra;
  platform: Platform;
  relay: Relay;
  floor: Floor;
  loadgens: LoadGens;
  kafkaTopic: string;
  lag: LagReader;
  /** The load shape built on this Parley (users, conversations, open sockets), when one is. */
  shape?: Shape;
  /**
   * Where the shape's Parley devices connect instead of the first two connectors (the TLS
   * comparison: a TLS proxy in front of a connector, or a connector speaking wss://), and the
   * CA their wss:// certificates are checked against.
   */
  parleyFront?: { urls: [string, string]; caFile?: string; watched?: Watched[] };
}

/** One system's figures at one offered load. */
export interface Measurement {
  system: Transport;
  /** What was offered, e.g. "10,000 conversations" or "group of 1,000". */
  load: string;
  rate: number;
  seconds: number;
  sent: number;
  /** Sends refused for good (after the retries a client makes), or rejected after their ack: not due. */
  refused: number;
  /** Every refusal answer (retried ones included). */
  refusals: number;
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
  /** The load generator's CPU seconds, and its busiest worker's share of one core (near 1: the figure is the load generator's bound). */
  loadgenCpuSeconds: number;
  loadgenBusiest: number;
  usage: UsageRow[];
}

export function systemWatched(ctx: Context, system: Transport): { own: Watched[]; infra: Watched[] } {
  const infra = ctx.infra.watched();
  const pick = (names: string[]) => infra.filter((w) => names.includes(w.name));
  switch (system) {
    case 'parley':
      // A proxy in front of the connectors is part of what serves the clients: its CPU counts.
      return { own: [...parleyWatched(ctx.platform), ...(ctx.parleyFront?.watched ?? [])], infra };
    case 'floor':
      return { own: ctx.floor.watched(), infra: pick(['kafka', 'postgres', 'ferretdb']) };
    case 'relay':
      return { own: ctx.relay.watched(), infra: [] };
    case 'kafka':
      return { own: [], infra: pick(['kafka']) };
  }
}

export function loadgenWatched(ctx: Context): Watched[] {
  return ctx.loadgens.pids.map((pid, i) => ({ name: `loadgen-${i}`, kind: 'loadgen', pid, tree: false }));
}

/** Runs one load (a named flow set on the workers) through one system and measures it, with the CPU of its processes. */
export async function measure(ctx: Context, system: Transport, flows: string, load: string, rate: number, seconds: number, drainMs = ctx.settings.drainMs): Promise<Measurement> {
  const { own, infra } = systemWatched(ctx, system);
  const started = Date.now();
  const window = new UsageWindow([...own, ...infra, ...loadgenWatched(ctx)]);
  const result: RunResult = await ctx.loadgens.run(flows, rate, seconds, drainMs);
  const usage = window.end();
  const wall = (Date.now() - started) / 1000;
  const sum = (kind: string) => round(usage.filter((u) => u.kind === kind).reduce((a, u) => a + u.cpuSeconds, 0));
  const cpuSeconds = system === 'kafka' ? 0 : sum(system === 'parley' ? 'parley' : 'baseline');
  const infraCpuSeconds = sum('infra');
  const per1000 = (cpu: number) => (result.delivered > 0 ? round((cpu / result.delivered) * 1000, 3) : 0);
  const loadgens = usage.filter((u) => u.kind === 'loadgen');
  const m: Measurement = {
    system,
    load,
    rate,
    seconds,
    sent: result.sent,
    refused: result.refused,
    refusals: result.refusals,
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
    loadgenCpuSeconds: round(loadgens.reduce((a, u) => a + u.cpuSeconds, 0)),
    loadgenBusiest: round(Math.max(0, ...loadgens.map((u) => u.cpuSeconds)) / Math.max(wall, 1e-3)),
    usage,
  };
  log(
    `${system.padEnd(6)} ${String(rate).padStart(5)}/s ${load}: delivered ${m.delivered}/${m.expected}, lost ${m.lost}, dup ${m.duplicated}, refused ${m.refused}, refusals ${m.refusals} ${JSON.stringify(m.errors)}, ` +
      `p50 ${m.latency.p50} (first third ${m.earlyP50}, last ${m.lateP50}) p99 ${m.latency.p99} max ${m.latency.max} ms, cpu ${m.cpuSeconds}+${m.infraCpuSeconds} s, loadgen ${m.loadgenBusiest} of a core`,
  );
  return m;
}

/**
 * The rule for "holds the rate": nothing lost or duplicated, refusals (every refusal
 * answer, retried or not) at most 0.1 % of sends, and no growing backlog: the last third of
 * the messages not much slower than the first, and no message slower than half the run.
 */
export function holds(m: Measurement): boolean {
  return (
    m.sent > 0 &&
    m.lost === 0 &&
    m.duplicated === 0 &&
    m.refusals <= 0.001 * m.sent &&
    m.lateP50 <= 2 * m.earlyP50 + 250 &&
    m.latency.max < (m.seconds * 1000) / 2
  );
}

/** Waits until the system's consumers have no lag left (bounded), then a moment more: one step's backlog must not colour the next. */
export async function settle(ctx: Context, system: Transport): Promise<void> {
  const groups = system === 'parley' ? parleyGroups(ctx.platform) : system === 'floor' ? ctx.floor.groups : [];
  if (groups.length > 0) {
    const left = await ctx.lag.waitFor(groups, ctx.settings.settleSeconds * 1000);
    if (left > 0) log(`${system}: still ${left} records behind after ${ctx.settings.settleSeconds} s; going on`);
  }
  await sleep(ctx.settings.quick ? 300 : 3_000);
}

export interface LadderResult {
  system: Transport;
  load: string;
  steps: Measurement[];
  /** The holds tried, the last one at the ceiling when it held. */
  holds: Measurement[];
  /** The highest ladder rate whose step held. */
  candidate: number;
  /** The highest rate held for the hold's length (0: none). */
  ceiling: number;
}

/** Climbs `rates` until a step does not hold, then holds the candidate, stepping down when a hold fails. */
export async function ladder(ctx: Context, system: Transport, flows: string, load: string, rates: number[], from = 0): Promise<LadderResult> {
  const steps: Measurement[] = [];
  const tried = rates.filter((r) => r >= from);
  let candidate = 0;
  for (const rate of tried) {
    log(`${system} ladder (${load}): ${rate} msg/s for ${ctx.settings.stepSeconds} s`);
    const m = await measure(ctx, system, flows, load, rate, ctx.settings.stepSeconds);
    steps.push(m);
    await settle(ctx, system);
    if (!holds(m)) break;
    candidate = rate;
  }
  // A ladder that started above the bottom and failed at once: step down below its start.
  const below = rates.filter((r) => r < (candidate || (tried[0] ?? 0))).reverse();
  const toHold = [...(candidate ? [candidate] : []), ...below].slice(0, ctx.settings.holdAttempts);
  const held: Measurement[] = [];
  let ceiling = 0;
  for (const rate of toHold) {
    log(`${system} hold (${load}): ${rate} msg/s for ${ctx.settings.holdSeconds} s`);
    const m = await measure(ctx, system, flows, load, rate, ctx.settings.holdSeconds);
    held.push(m);
    await settle(ctx, system);
    if (holds(m)) {
      ceiling = rate;
      break;
    }
  }
  log(`${system} (${load}): ceiling ${ceiling || 'none'} msg/s (ladder candidate ${candidate || 'none'})`);
  return { system, load, steps, holds: held, candidate, ceiling };
}

/** The measurement that proved the ceiling (its passing hold). */
export function atCeiling(l: LadderResult | undefined): Measurement | undefined {
  return l && l.ceiling > 0 ? l.holds.find((m) => m.rate === l.ceiling && holds(m)) : undefined;
}
