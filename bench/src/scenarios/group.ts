// One group of groupSize members and one sender: every message goes to groupSize - 1 devices.
// The relay, the floor and Parley each climb the group ladder to their own ceiling.
import { atCeiling, ladder, measure, settle, type Context, type LadderResult, type Measurement } from '../measure';
import type { DeviceSpec, Flow } from '../protocol';
import { ADDRESSES, parleyUrl } from '../shape';
import { StorageApi } from '../storage-api';
import { Floor } from '../systems';
import { log } from '../harness';

export interface GroupResult {
  members: number;
  ladders: Partial<Record<'relay' | 'floor' | 'parley', LadderResult>>;
  floorAtParleyCeiling?: Measurement;
}

export async function group(ctx: Context): Promise<GroupResult> {
  const n = ctx.settings.groupSize;
  const tag = Math.random().toString(36).slice(2, 7);
  const users = Array.from({ length: n }, (_, i) => `g${i}-${tag}`);
  const conversationId = await new StorageApi(ctx.platform).createGroup(users);
  const workers = ctx.loadgens.size;
  const specs: DeviceSpec[] = [];
  for (let i = 0; i < n; i++) {
    specs.push({ key: `pg-${i}`, transport: 'parley', url: parleyUrl(ctx, i % 2, users[i]!), worker: i % workers });
    specs.push({ key: `rg-${i}`, transport: 'relay', url: ctx.relay.url(`group-${tag}`), worker: i % workers });
    specs.push({ key: `fg-${i}`, transport: 'floor', url: ctx.floor.url(`fg-${i}`, i % ctx.floor.edges), worker: i % workers });
  }
  const opened = await ctx.loadgens.open(specs, ADDRESSES);
  if (opened.failed > 0) throw new Error(`${opened.failed} of ${specs.length} group sockets failed to open: ${opened.firstError}`);
  const others = (prefix: string) => Array.from({ length: n - 1 }, (_, i) => `${prefix}${i + 1}`);
  const flows: Record<'relay' | 'floor' | 'parley', Flow[]> = {
    parley: [{ transport: 'parley', from: 'pg-0', conversationId, receivers: others('pg-') }],
    relay: [{ transport: 'relay', from: 'rg-0', conversationId: 'group', receivers: others('rg-') }],
    floor: [{ transport: 'floor', from: 'fg-0', conversationId: `group-${tag}`, to: others('fg-').map((k, i) => Floor.address(k, (i + 1) % ctx.floor.edges)), receivers: others('fg-') }],
  };
  for (const [system, f] of Object.entries(flows)) await ctx.loadgens.flows(`group-${system}`, f);
  const rates = ctx.settings.groupRates;
  const load = `group of ${n}`;
  try {
    for (const system of ['relay', 'floor', 'parley'] as const) await ctx.loadgens.run(`group-${system}`, rates[0]!, ctx.settings.quick ? 1 : 5, ctx.settings.drainMs);
    const ladders: GroupResult['ladders'] = {};
    for (const system of ['relay', 'floor', 'parley'] as const) {
      log(`group of ${n}: ${system} to its ceiling`);
      ladders[system] = await ladder(ctx, system, `group-${system}`, load, rates);
    }
    const parleyCeiling = ladders.parley!.ceiling;
    let floorAtParleyCeiling: Measurement | undefined;
    if (parleyCeiling > 0) {
      const floorHold = atCeiling(ladders.floor);
      floorAtParleyCeiling = floorHold?.rate === parleyCeiling ? floorHold : await measure(ctx, 'floor', 'group-floor', load, parleyCeiling, ctx.settings.holdSeconds);
      await settle(ctx, 'floor');
    }
    return { members: n, ladders, ...(floorAtParleyCeiling ? { floorAtParleyCeiling } : {}) };
  } finally {
    await ctx.loadgens.closeDevices('pg-');
    await ctx.loadgens.closeDevices('rg-');
    await ctx.loadgens.closeDevices('fg-');
  }
}
