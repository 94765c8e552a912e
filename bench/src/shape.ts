// Issue 10's load shape, the same for every system: `users` users with one device each, and
// `conversations` direct conversations among them (a circulant graph: conversation k joins
// user k mod U with user (k mod U) + 1 + floor(k / U), so 10,000 conversations over 5,000
// users put every user in four). Each conversation carries messages both ways. The comparison
// set ("over 100 conversations") is the first `smallConversations` of them, on the same users
// and sockets. Devices alternate over Parley's two connectors and the floor's two edges, and
// over the load-generator workers, so deliveries cross processes as they would.
import { Floor } from './systems';
import { log, sourceAddresses } from './harness';
import type { Context } from './measure';
import type { DeviceSpec, Flow, Transport } from './protocol';
import { StorageApi, createDirects } from './storage-api';

export const ADDRESSES = sourceAddresses(40);

export interface Shape {
  users: number;
  conversations: number;
  small: number;
  userIds: string[];
  /** Conversation k: its id and its two users (indexes into userIds). */
  conversationIds: string[];
  pairs: [number, number][];
  /** Systems whose devices are open now. */
  open: Set<Transport>;
  /** Seconds CreateDirect took for all conversations (20 callers). */
  createSeconds: number;
}

/** The names of the shape's flow sets on the load-generator workers. */
export const SHAPE_FLOWS = { parley: 'shape-parley', parleySmall: 'shape-parley-small', floor: 'shape-floor', relay: 'shape-relay', kafka: 'shape-kafka' } as const;

export function shapeLoad(s: Shape, small = false): string {
  return `${small ? s.small : s.conversations} conversations, ${s.users} users`;
}

export function parleyUrl(ctx: Context, connector: number, userId: string, deviceId = 'd1'): string {
  const base = ctx.parleyFront ? ctx.parleyFront.urls[connector % 2]! : ctx.platform.wsUrlOf(connector);
  return `${base}?access_token=${ctx.platform.token(userId, deviceId, 7200)}&ack=1`;
}

function circulantPairs(users: number, conversations: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let k = 0; k < conversations; k++) {
    const a = k % users;
    const b = (a + 1 + Math.floor(k / users)) % users;
    pairs.push([a, b]);
  }
  return pairs;
}

const keyOf: Record<'parley' | 'floor' | 'relay', (u: number) => string> = { parley: (u) => `sp${u}`, floor: (u) => `sf${u}`, relay: (u) => `sr${u}` };

/** The shape on this Parley: its conversations created once, the given systems' devices opened (others left as they are). */
export async function ensureShape(ctx: Context, systems: Transport[]): Promise<Shape> {
  const { users, conversations, smallConversations } = ctx.settings;
  if (!ctx.shape) {
    if (conversations > (users * (users - 1)) / 2 || Math.floor((conversations - 1) / users) + 1 >= users / 2) throw new Error(`${conversations} distinct direct conversations do not fit ${users} users`);
    const tag = Math.random().toString(36).slice(2, 7);
    const userIds = Array.from({ length: users }, (_, u) => `u${u}-${tag}`);
    const pairs = circulantPairs(users, conversations);
    log(`shape: creating ${conversations} direct conversations among ${users} users (CreateDirect, 20 callers)`);
    const started = Date.now();
    const conversationIds = await createDirects(new StorageApi(ctx.platform), pairs.map(([a, b]) => [userIds[a]!, userIds[b]!]), 20);
    const createSeconds = (Date.now() - started) / 1000;
    log(`shape: ${conversations} conversations in ${createSeconds.toFixed(1)} s`);
    ctx.shape = { users, conversations, small: Math.min(smallConversations, conversations), userIds, conversationIds, pairs, open: new Set(), createSeconds };
    await registerFlows(ctx, ctx.shape);
  }
  const shape = ctx.shape;
  for (const system of systems) {
    if (system === 'kafka' || shape.open.has(system)) continue;
    const specs = devicesOf(ctx, shape, system);
    const started = Date.now();
    const res = await ctx.loadgens.open(specs, ADDRESSES);
    if (res.failed > 0) throw new Error(`${res.failed} of ${specs.length} ${system} sockets failed to open: ${res.firstError}`);
    log(`shape: ${specs.length} ${system} sockets open in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    shape.open.add(system);
  }
  return shape;
}

/** Closes one system's devices of the shape (Parley's, before a preload: its deliveries must not go to live sockets). */
export async function closeShape(ctx: Context, system: 'parley' | 'floor' | 'relay'): Promise<void> {
  if (!ctx.shape?.open.has(system)) return;
  await ctx.loadgens.closeDevices(system === 'parley' ? 'sp' : system === 'floor' ? 'sf' : 'sr');
  ctx.shape.open.delete(system);
}

function devicesOf(ctx: Context, shape: Shape, system: 'parley' | 'floor' | 'relay'): DeviceSpec[] {
  const workers = ctx.loadgens.size;
  return shape.userIds.map((userId, u) => {
    const key = keyOf[system](u);
    const url = system === 'parley' ? parleyUrl(ctx, u % 2, userId) : system === 'floor' ? ctx.floor.url(key, u % ctx.floor.edges) : ctx.relay.idUrl(key);
    const caFile = system === 'parley' ? ctx.parleyFront?.caFile : undefined;
    return { key, transport: system, url, worker: u % workers, ...(caFile ? { caFile } : {}) };
  });
}

async function registerFlows(ctx: Context, shape: Shape): Promise<void> {
  const both = (count: number, make: (from: number, to: number, k: number) => Flow): Flow[] => {
    const flows: Flow[] = [];
    for (let k = 0; k < count; k++) {
      const [a, b] = shape.pairs[k]!;
      flows.push(make(a, b, k), make(b, a, k));
    }
    return flows;
  };
  const parley = (from: number, to: number, k: number): Flow => ({ transport: 'parley', from: keyOf.parley(from), conversationId: shape.conversationIds[k]!, receivers: [keyOf.parley(to)] });
  await ctx.loadgens.flows(SHAPE_FLOWS.parley, both(shape.conversations, parley));
  await ctx.loadgens.flows(SHAPE_FLOWS.parleySmall, both(shape.small, parley));
  await ctx.loadgens.flows(
    SHAPE_FLOWS.floor,
    both(shape.conversations, (from, to, k) => ({
      transport: 'floor',
      from: keyOf.floor(from),
      conversationId: shape.conversationIds[k]!,
      to: [Floor.address(keyOf.floor(to), to % ctx.floor.edges)],
      receivers: [keyOf.floor(to)],
    })),
  );
  await ctx.loadgens.flows(
    SHAPE_FLOWS.relay,
    both(shape.conversations, (from, to) => ({ transport: 'relay', from: keyOf.relay(from), conversationId: '', relayTo: keyOf.relay(to), receivers: [keyOf.relay(to)] })),
  );
  await ctx.loadgens.flows(
    SHAPE_FLOWS.kafka,
    shape.conversationIds.map((conversationId) => ({ transport: 'kafka' as const, from: 'kafka-producer', conversationId, receivers: ['kafka-consumer'] })),
  );
}
