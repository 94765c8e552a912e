// `pnpm bench` (full, ~20 min) and `pnpm bench --quick` (< 3 min): starts its own
// infrastructure and Parley, the baselines and the load generator, runs the scenarios, writes
// bench/out/<run>.json, and for a full run the results section of bench/RESULTS.md and
// bench/latency-throughput.svg. Stops everything it started, also on failure and Ctrl-C.
//
// Flags: --quick; --only=oneToOne,group,idle,storm,lag,profile; --infra=own|env (env: the
// infrastructure KAFKA_BROKERS/REDIS_URL/MONGO_URL point at, as in the test suite);
// --hold=SECONDS (full-run hold of the highest healthy rate, default 60); --out=FILE.
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BENCH_DIR, BenchInfra, LoadGen, OUT_DIR, cleanUp, log } from './harness';
import { profileEnv } from './profile';
import { writeReport } from './report';
import { group, idle, lag, oneToOne, profileRun, settings, storm, type Context } from './scenarios';
import { Floor, Relay, startParley } from './systems';

export interface BenchResults {
  mode: 'quick' | 'full';
  startedAt: string;
  finishedAt?: string;
  commit: string;
  command: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; kernel: string };
  settings: ReturnType<typeof settings>;
  oneToOne?: Awaited<ReturnType<typeof oneToOne>>;
  group?: Awaited<ReturnType<typeof group>>;
  idle?: Awaited<ReturnType<typeof idle>>;
  storm?: Awaited<ReturnType<typeof storm>>;
  lag?: Awaited<ReturnType<typeof lag>>;
  profile?: Awaited<ReturnType<typeof profileRun>>;
  failures: { scenario: string; error: string }[];
}

const SCENARIOS = ['oneToOne', 'group', 'idle', 'storm', 'lag', 'profile'] as const;
type Scenario = (typeof SCENARIOS)[number];

function flag(name: string): string | undefined {
  const arg = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (!arg) return undefined;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : '';
}

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: BENCH_DIR, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const quick = flag('quick') !== undefined;
  const hold = flag('hold');
  const only = (flag('only')?.split(',') ?? [...SCENARIOS]) as Scenario[];
  const s = settings(quick, hold ? Number(hold) : undefined);
  const dirty = git('status', '--porcelain', '--untracked-files=no') === '' ? '' : ' (with uncommitted changes in the tree)';
  const results: BenchResults = {
    mode: quick ? 'quick' : 'full',
    startedAt: new Date().toISOString(),
    commit: `${git('rev-parse', '--short', 'HEAD')}${dirty}`,
    command: `pnpm bench ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    },
    settings: s,
    failures: [],
  };
  const out = flag('out') ?? path.join(OUT_DIR, `${quick ? 'quick' : 'full'}-${results.startedAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  const save = () => writeFileSync(out, JSON.stringify(results, null, 2));

  const infra = new BenchInfra(flag('infra') === 'env' ? 'env' : 'own');
  log(`infrastructure: ${infra.own ? `own (${infra.dir})` : 'from the environment'}`);
  await infra.up();
  const relay = await Relay.start();
  const floor = await new Floor(infra).start();
  const loadgen = new LoadGen();
  const kafkaTopic = `${floor.namespace}.kafka-baseline`;
  const { ensureTopics } = await import('@parley/bus');
  await ensureTopics(infra.env.KAFKA_BROKERS.split(','), [{ topic: kafkaTopic, partitions: 8 }]);
  await loadgen.call({ op: 'kafka-open', brokers: infra.env.KAFKA_BROKERS.split(','), topic: kafkaTopic });
  log(`infrastructure and baselines are up; scenarios: ${only.join(', ')}`);
  let ctx: Context | undefined;

  // A full run gives each scenario a fresh Parley: one scenario's backlog or stuck partition
  // must not colour the next one's figures. A quick run shares one (it must stay short).
  const attempt = async <T>(scenario: Scenario, fn: (ctx: Context) => Promise<T>, parleyOptions?: Parameters<typeof startParley>[1]): Promise<T | undefined> => {
    if (!only.includes(scenario)) return undefined;
    try {
      if (!ctx || !quick || parleyOptions) {
        if (ctx) await ctx.platform.stop();
        log(`${scenario}: starting a fresh Parley`);
        ctx = { settings: s, infra, platform: await startParley(infra, parleyOptions), relay, floor, loadgen, kafkaTopic };
      }
      return await fn(ctx);
    } catch (err) {
      log(`${scenario} failed: ${String((err as Error).stack ?? err)}`);
      results.failures.push({ scenario, error: String((err as Error).message ?? err) });
      await loadgen.call({ op: 'close-devices' }).catch(() => undefined);
      await loadgen.call({ op: 'sdk-close' }).catch(() => undefined);
      return undefined;
    } finally {
      save();
    }
  };
  results.oneToOne = await attempt('oneToOne', oneToOne);
  save();
  results.group = await attempt('group', group);
  save();
  results.idle = await attempt('idle', idle);
  save();
  results.storm = await attempt('storm', storm);
  save();
  results.lag = await attempt('lag', lag);
  save();

  if (!quick) {
    // A 1:1 load Parley sustains, with its services under --cpu-prof and every span in a file.
    const rate = results.oneToOne?.highestKeepingUpRate || 50;
    results.profile = await attempt('profile', (c) => profileRun(c, rate, 20), { env: profileEnv() });
  }
  results.finishedAt = new Date().toISOString();
  save();
  log(`results: ${out}`);
  if (!quick && flag('no-report') === undefined) writeReport(results, out);
}

main()
  .then(
    () => cleanUp().then(() => process.exit(0)),
    async (err: unknown) => {
      log(`bench failed: ${String((err as Error).stack ?? err)}`);
      await cleanUp();
      process.exit(1);
    },
  )
  .catch(() => process.exit(1));
