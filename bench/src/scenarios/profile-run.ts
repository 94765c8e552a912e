// Where the time goes: a short 1:1 run on a Parley started with profileEnv() (services under
// --cpu-prof, every span to a file); its services are stopped here so that they write their
// profiles.
import { log, sleep } from '../harness';
import { measure, type Context, type Measurement } from '../measure';
import { cpuProfiles, hopTimeline, type HopRow, type ServiceProfile } from '../profile';
import type { DeviceSpec, Flow } from '../protocol';
import { ADDRESSES, parleyUrl } from '../shape';
import { StorageApi } from '../storage-api';

export interface ProfileResult {
  rate: number;
  seconds: number;
  measurement: Measurement;
  hops: HopRow[];
  services: ServiceProfile[];
}

export async function profileRun(ctx: Context, rate: number, seconds: number): Promise<ProfileResult> {
  const tag = Math.random().toString(36).slice(2, 8);
  const api = new StorageApi(ctx.platform);
  const specs: DeviceSpec[] = [];
  const flows: Flow[] = [];
  for (let k = 0; k < 50; k++) {
    const [a, b] = [`pa${k}-${tag}`, `pb${k}-${tag}`];
    const conversationId = await api.createDirect(a, b);
    specs.push({ key: `pp-s${k}`, transport: 'parley', url: parleyUrl(ctx, 0, a) }, { key: `pp-r${k}`, transport: 'parley', url: parleyUrl(ctx, 1, b) });
    flows.push({ transport: 'parley', from: `pp-s${k}`, conversationId, receivers: [`pp-r${k}`] });
  }
  const opened = await ctx.loadgens.open(specs, ADDRESSES);
  if (opened.failed > 0) throw new Error(`profile: ${opened.failed} sockets failed to open: ${opened.firstError}`);
  await ctx.loadgens.flows('profile', flows);
  log(`profile: ${rate} msg/s for ${seconds} s with --cpu-prof and spans`);
  const measurement = await measure(ctx, 'parley', 'profile', '50 conversations', rate, seconds);
  await ctx.loadgens.closeDevices('pp-');
  await ctx.platform.stop(); // profiles are written when the services exit
  await sleep(1_000);
  return { rate, seconds, measurement, hops: hopTimeline(), services: cpuProfiles() };
}
