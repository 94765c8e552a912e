// The 1:1 scenarios on the load shape (shape.ts): every system's ceiling, the steady rate
// (flat in conversations, CPU per 1,000), stored data (ceiling and p99 with a preload), and
// where each system's CPU goes when idle.
import { log } from '../harness';
import { atCeiling, ladder, measure, settle, systemWatched, type Context, type LadderResult, type Measurement } from '../measure';
import { kafkaSink, preloadMessages, storeSink, type PreloadReport } from '../preload';
import { UsageWindow, round, type UsageRow } from '../procstats';
import type { Transport } from '../protocol';
import { SHAPE_FLOWS, closeShape, ensureShape, shapeLoad } from '../shape';

const LADDER_ORDER: Transport[] = ['relay', 'kafka', 'floor', 'parley'];

async function warmUp(ctx: Context, systems: Transport[], rate: number): Promise<void> {
  log(`warm-up at ${rate} msg/s: ${systems.join(', ')}`);
  for (const system of systems) await ctx.loadgens.run(SHAPE_FLOWS[system], rate, ctx.settings.quick ? 1 : 5, ctx.settings.drainMs);
}

// ---------------------------------------------------------------- ceiling
export interface CeilingResult {
  users: number;
  conversations: number;
  createSeconds: number;
  ladders: Partial<Record<Transport, LadderResult>>;
  /** The floor for a hold's length at Parley's ceiling: the p99 beside Parley's. */
  floorAtParleyCeiling?: Measurement;
}

export async function ceiling(ctx: Context): Promise<CeilingResult> {
  const shape = await ensureShape(ctx, ['relay', 'floor', 'parley']);
  const rates = ctx.settings.ladderRates;
  await warmUp(ctx, LADDER_ORDER, rates[0]!);
  const ladders: CeilingResult['ladders'] = {};
  for (const system of LADDER_ORDER) ladders[system] = await ladder(ctx, system, SHAPE_FLOWS[system], shapeLoad(shape), rates);
  const parleyCeiling = ladders.parley!.ceiling;
  let floorAtParleyCeiling: Measurement | undefined;
  if (parleyCeiling > 0) {
    const floorHold = atCeiling(ladders.floor);
    floorAtParleyCeiling =
      floorHold?.rate === parleyCeiling ? floorHold : await measure(ctx, 'floor', SHAPE_FLOWS.floor, shapeLoad(shape), parleyCeiling, ctx.settings.holdSeconds);
    await settle(ctx, 'floor');
  }
  return { users: shape.users, conversations: shape.conversations, createSeconds: round(shape.createSeconds, 1), ladders, ...(floorAtParleyCeiling ? { floorAtParleyCeiling } : {}) };
}

// ---------------------------------------------------------------- steady rate
export interface SteadyResult {
  rate: number;
  seconds: number;
  /** Parley over all the shape's conversations, over the small set, and the floor over all. */
  parley: Measurement;
  parleySmall: Measurement;
  floor: Measurement;
}

export async function steady(ctx: Context): Promise<SteadyResult> {
  const shape = await ensureShape(ctx, ['floor', 'parley']);
  const { steadyRate: rate, steadySeconds: seconds } = ctx.settings;
  await warmUp(ctx, ['parley', 'floor'], Math.min(rate, ctx.settings.ladderRates[0]!));
  await settle(ctx, 'parley');
  const parley = await measure(ctx, 'parley', SHAPE_FLOWS.parley, shapeLoad(shape), rate, seconds);
  await settle(ctx, 'parley');
  const parleySmall = await measure(ctx, 'parley', SHAPE_FLOWS.parleySmall, shapeLoad(shape, true), rate, seconds);
  await settle(ctx, 'parley');
  const floor = await measure(ctx, 'floor', SHAPE_FLOWS.floor, shapeLoad(shape), rate, seconds);
  await settle(ctx, 'floor');
  return { rate, seconds, parley, parleySmall, floor };
}

// ---------------------------------------------------------------- stored data
export interface StoredResult {
  preload: PreloadReport;
  /** The rate of the p99 comparison: the steady rate, or the ceiling before the preload when that is lower. */
  rate: number;
  before: { ladder: LadderResult; atRate: Measurement };
  after: { ladder: LadderResult; atRate: Measurement };
}

/**
 * Parley's ceiling and p99 with the conversations empty and again with storedMessages in them.
 * `earlier` are figures of this Parley from before any preload (the ceiling scenario's ladder,
 * the steady scenario's measurement at the same rate), reused rather than measured twice.
 */
export async function stored(ctx: Context, earlier: { ladder?: LadderResult | undefined; atSteadyRate?: Measurement | undefined }, strategy: 'kafka' | 'store'): Promise<StoredResult> {
  const shape = await ensureShape(ctx, ['parley']);
  const rates = ctx.settings.ladderRates;
  const beforeLadder = earlier.ladder ?? (await ladder(ctx, 'parley', SHAPE_FLOWS.parley, shapeLoad(shape), rates));
  const rate = Math.min(ctx.settings.steadyRate, beforeLadder.ceiling || rates[0]!);
  const beforeAt =
    earlier.atSteadyRate?.rate === rate ? earlier.atSteadyRate : await measure(ctx, 'parley', SHAPE_FLOWS.parley, shapeLoad(shape), rate, ctx.settings.holdSeconds);
  await settle(ctx, 'parley');

  // No live sockets during the preload: its fan-out would go to them.
  await closeShape(ctx, 'parley');
  const n = ctx.settings.storedMessages;
  const conversations = shape.conversationIds.map((conversationId, k) => ({
    conversationId,
    memberIds: shape.pairs[k]!.map((u) => shape.userIds[u]!),
    count: Math.floor(n / shape.conversations) + (k < n % shape.conversations ? 1 : 0),
  }));
  const brokers = ctx.infra.env.KAFKA_BROKERS.split(',');
  const sink = strategy === 'store' ? storeSink(ctx.platform, ctx.infra.env.MONGO_URL) : kafkaSink(ctx.platform, brokers, ctx.settings.preloadTimeoutSeconds * 1000);
  const preload = await preloadMessages(ctx.platform, conversations, sink);
  await ensureShape(ctx, ['parley']);
  await settle(ctx, 'parley');

  const afterAt = await measure(ctx, 'parley', SHAPE_FLOWS.parley, `${shapeLoad(shape)}, ${n} stored`, rate, ctx.settings.holdSeconds);
  await settle(ctx, 'parley');
  // From a quarter of the earlier ceiling: the steps far below it say nothing new.
  const from = [...rates].reverse().find((r) => r <= beforeLadder.ceiling / 4) ?? 0;
  const afterLadder = await ladder(ctx, 'parley', SHAPE_FLOWS.parley, `${shapeLoad(shape)}, ${n} stored`, rates, from);
  return { preload, rate, before: { ladder: beforeLadder, atRate: beforeAt }, after: { ladder: afterLadder, atRate: afterAt } };
}

// ---------------------------------------------------------------- idle CPU
export interface IdleCpuPhase {
  label: string;
  seconds: number;
  /** CPU seconds per minute of each process. */
  rows: (UsageRow & { cpuPerMinute: number })[];
}

export interface IdleCpuResult {
  phases: IdleCpuPhase[];
}

async function idleWindow(ctx: Context, label: string): Promise<IdleCpuPhase> {
  const watched = [...systemWatched(ctx, 'parley').own, ...systemWatched(ctx, 'floor').own, ...systemWatched(ctx, 'relay').own, ...ctx.infra.watched()];
  const seconds = ctx.settings.idleCpuSeconds;
  log(`idle CPU (${label}): ${seconds} s with no load`);
  const started = Date.now();
  const window = new UsageWindow(watched);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const rows = window.end();
  const wall = (Date.now() - started) / 1000;
  return { label, seconds: round(wall, 1), rows: rows.map((r) => ({ ...r, cpuPerMinute: round((r.cpuSeconds * 60) / wall, 3) })) };
}

/** CPU per minute of every process with no messages: first with no client at all, then with the shape's sockets open and idle. */
export async function idleCpu(ctx: Context): Promise<IdleCpuResult> {
  for (const system of ['parley', 'floor', 'relay'] as const) await closeShape(ctx, system);
  await new Promise((resolve) => setTimeout(resolve, ctx.settings.quick ? 500 : 10_000));
  const none = await idleWindow(ctx, 'no clients');
  const shape = await ensureShape(ctx, ['parley', 'floor', 'relay']);
  await new Promise((resolve) => setTimeout(resolve, ctx.settings.quick ? 500 : 10_000));
  const connected = await idleWindow(ctx, `${shape.users} idle clients per system`);
  return { phases: [none, connected] };
}
