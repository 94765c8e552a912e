// What the security issue's defaults cost, measured as a pair in one run: the 1:1 ceiling ladder
// on the shipped Parley (mutual TLS on every gRPC hop, the bench's API calls with an API key,
// per-user limits shared through Redis), then the same ladder on a Parley with all of that off
// (plaintext gRPC where every caller is trusted, each router's limits in its own memory), on the
// same load shape built afresh. The ratio of the two ceilings is the price of the defaults.
import { grpcStats, grpcStatsDelta, type MethodStats } from '../service-metrics';
import { log } from '../harness';
import { ladder, type Context, type LadderResult } from '../measure';
import { SHAPE_FLOWS, closeShape, ensureShape, shapeLoad } from '../shape';
import { startParley } from '../systems';

export interface SecurityModeResult {
  mode: 'shipped' | 'off';
  ladder: LadderResult;
  /** gRPC calls each service served over the ladder, per method (refusals show as errors and shed). */
  grpc: Record<string, Record<string, MethodStats & { meanMs: number }>>;
}

/** The ladder on ctx.platform, with what its gRPC servers did over it. */
async function measured(ctx: Context, mode: SecurityModeResult['mode'], load: string, rates: number[]): Promise<SecurityModeResult> {
  const services = ctx.platform.processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  const before = await Promise.all(services.map((p) => grpcStats(p)));
  const result = await ladder(ctx, 'parley', SHAPE_FLOWS.parley, load, rates);
  const after = await Promise.all(services.map((p) => grpcStats(p)));
  const grpc = Object.fromEntries(services.map((p, i) => [`${p.name}-${p.index}`, grpcStatsDelta(before[i]!, after[i]!)]));
  log(`security (${mode}): gRPC over the ladder: ${JSON.stringify(grpc)}`);
  return { mode, ladder: result, grpc };
}

export interface SecurityResult {
  rates: number[];
  users: number;
  conversations: number;
  modes: SecurityModeResult[];
  /** Ceiling with the defaults / ceiling without them. */
  ceilingRatio: number | undefined;
}

export async function security(ctx: Context): Promise<SecurityResult> {
  const rates = ctx.settings.securityLadderRates;
  const modes: SecurityModeResult[] = [];
  let shape = await ensureShape(ctx, ['parley']);
  modes.push(await measured(ctx, 'shipped', `${shapeLoad(shape)}, shipped security`, rates));

  log('security: the same Parley with mutual TLS, API keys and shared limits off');
  await closeShape(ctx, 'parley');
  await ctx.platform.stop();
  ctx.shape = undefined;
  // The bench's caller decides what runs next on ctx.platform (and stops it): this one.
  ctx.platform = await startParley(ctx.infra, { insecure: true, env: { RATE_LIMIT_STORE: 'memory' } });
  shape = await ensureShape(ctx, ['parley']);
  modes.push(await measured(ctx, 'off', `${shapeLoad(shape)}, security off`, rates));
  const [on, off] = [modes[0]!.ladder.ceiling, modes[1]!.ladder.ceiling];
  return { rates, users: shape.users, conversations: shape.conversations, modes, ceilingRatio: off > 0 ? Math.round((on / off) * 100) / 100 : undefined };
}
