// `pnpm bench` (full) and `pnpm bench --quick` (< 3 min, CI): starts its own infrastructure,
// Parley, the baselines and the load-generator workers, runs the scenarios of issue 10,
// writes bench/out/<run>.json, and for a full run the headline and the results sections of
// bench/RESULTS.md and bench/latency-throughput.svg. Stops everything it started, also on
// failure and Ctrl-C.
//
// Flags: --quick; --only=<scenario,...> (SCENARIOS below); --infra=own|env|reuse (env: the
// infrastructure KAFKA_BROKERS/REDIS_URL/MONGO_URL point at, as in the test suite; reuse: the
// bench's own, left running between runs, for development); --preload=kafka|store (how
// stored-data and history preload messages, see preload.ts); --out=FILE; --no-report; and
// any numeric setting by name (settings.ts), e.g. --users=500 --conversations=1000
// --ladderRates=50,100 --stepSeconds=5 --holdSeconds=10 --loadgens=1 (--hold=N: holdSeconds).
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BENCH_DIR, BenchInfra, LoadGens, OUT_DIR, cleanUp, log } from './harness';
import { LagReader } from './kafka-lag';
import { awaitQuietMachine, type LoadRecord } from './loadavg';
import type { Context } from './measure';
import { profileEnv } from './profile';
import { writeReport } from './report';
import { admin, type AdminResult } from './scenarios/admin';
import { group, type GroupResult } from './scenarios/group';
import { history, type HistoryResult } from './scenarios/history';
import { idle, type IdleResult } from './scenarios/idle';
import { lag, type LagRun } from './scenarios/lag';
import { limits, type LimitsResult } from './scenarios/limits';
import { ceiling, idleCpu, steady, stored, type CeilingResult, type IdleCpuResult, type SteadyResult, type StoredResult } from './scenarios/one-to-one';
import { profileRun, type ProfileResult } from './scenarios/profile-run';
import { removal, type RemovalResult } from './scenarios/removal';
import { security, type SecurityResult } from './scenarios/security';
import { storm, type StormResult } from './scenarios/storm';
import { tls, type TlsResult } from './scenarios/tls';
import { applyOverrides, settings, type Settings } from './settings';
import { Floor, Relay, startParley, type ParleyOptions } from './systems';

export const SCENARIOS = ['idleCpu', 'ceiling', 'steady', 'stored', 'history', 'group', 'admin', 'idle', 'tls', 'storm', 'lag', 'removal', 'limits', 'security', 'profile'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchResults {
  mode: 'quick' | 'full';
  startedAt: string;
  finishedAt?: string;
  commit: string;
  command: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; kernel: string };
  settings: Settings;
  preloadStrategy: 'kafka' | 'store';
  /** The machine's load average before each scenario (and after its wait for a quiet machine). */
  loadAverages: LoadRecord[];
  idleCpu?: IdleCpuResult;
  ceiling?: CeilingResult;
  steady?: SteadyResult;
  stored?: StoredResult;
  history?: HistoryResult;
  group?: GroupResult;
  admin?: AdminResult;
  idle?: IdleResult;
  tls?: TlsResult;
  storm?: StormResult;
  lag?: LagRun[];
  removal?: RemovalResult;
  limits?: LimitsResult;
  security?: SecurityResult;
  profile?: ProfileResult;
  failures: { scenario: string; error: string }[];
}

/**
 * Which Parley a scenario runs on. A full run gives each session a fresh Parley (one session's
 * backlog or stuck partition must not colour the next one's figures); the load-shape scenarios
 * share one, in order, because they build on each other (stored data compares with the ceiling
 * and the steady rate measured before its preload). A quick run shares one Parley for all.
 */
const SESSIONS: Record<Scenario, { session: string; options?: () => ParleyOptions }> = {
  idleCpu: { session: 'shape' },
  ceiling: { session: 'shape' },
  steady: { session: 'shape' },
  stored: { session: 'shape' },
  history: { session: 'history' },
  group: { session: 'group' },
  admin: { session: 'admin' },
  idle: { session: 'idle' },
  tls: { session: 'tls' },
  storm: { session: 'storm' },
  lag: { session: 'lag' },
  // Two routers: the removal must reach every router, and each connector balances over both.
  removal: { session: 'removal', options: () => ({ routers: 2 }) },
  // Adds its own two routers (one per limiter store) to a Parley of its own.
  limits: { session: 'limits' },
  // Replaces its Parley half-way (an insecure one for the second ladder).
  security: { session: 'security' },
  profile: { session: 'profile', options: () => ({ env: profileEnv() }) },
};

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
  // Quick runs leave out the profile and the TLS comparison (it fetches HAProxy: bench/tools/haproxy.sh).
  const only = flag('only')?.split(',').filter(Boolean) ?? SCENARIOS.filter((s) => (s !== 'profile' && s !== 'tls') || !quick);
  for (const name of only) if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--only: unknown scenario ${name} (one of ${SCENARIOS.join(', ')})`);
  const s = applyOverrides(settings(quick), hold ? [...process.argv, `--holdSeconds=${hold}`] : process.argv);
  const preloadStrategy = flag('preload') === 'store' ? 'store' : 'kafka';
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
    preloadStrategy,
    loadAverages: [],
    failures: [],
  };
  const out = flag('out') ?? path.join(OUT_DIR, `${quick ? 'quick' : 'full'}-${results.startedAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  const save = () => writeFileSync(out, JSON.stringify(results, null, 2));

  const infraMode = flag('infra');
  const infra = new BenchInfra(infraMode === 'env' ? 'env' : infraMode === 'reuse' ? 'reuse' : 'own');
  log(`infrastructure: ${infra.own ? `own (${infra.dir})` : 'from the environment'}`);
  await infra.up();
  const relay = await Relay.start();
  const floor = await new Floor(infra, 2).start();
  const loadgens = new LoadGens(s.loadgens);
  const brokers = infra.env.KAFKA_BROKERS.split(',');
  const kafkaTopic = `${floor.namespace}.kafka-baseline`;
  const { ensureTopics } = await import('@parley/bus');
  await ensureTopics(brokers, [{ topic: kafkaTopic, partitions: 8 }]);
  await loadgens.first({ op: 'kafka-open', brokers, topic: kafkaTopic });
  const lagReader = new LagReader(brokers);
  log(`infrastructure, baselines and ${loadgens.size} load-generator workers are up; scenarios: ${only.join(', ')}`);
  let ctx: Context | undefined;
  let session: string | undefined;
  const ranOn = new Map<Scenario, Context>();

  const attempt = async <T>(scenario: Scenario, fn: (ctx: Context) => Promise<T>): Promise<T | undefined> => {
    if (!only.includes(scenario)) return undefined;
    results.loadAverages.push(await awaitQuietMachine(scenario, s.quietWaitSeconds));
    try {
      const plan = SESSIONS[scenario];
      const wanted = quick ? 'quick' : plan.session;
      if (!ctx || session !== wanted || !ctx.platform.running('connector').length) {
        if (ctx) {
          await loadgens.closeDevices();
          await ctx.platform.stop();
        }
        log(`${scenario}: starting a fresh Parley`);
        // Quick: one Parley for everything, with the removal's two routers.
        const options = quick ? { routers: 2 } : (plan.options?.() ?? {});
        ctx = { settings: s, infra, platform: await startParley(infra, options), relay, floor, loadgens, kafkaTopic, lag: lagReader };
        session = wanted;
      }
      ranOn.set(scenario, ctx);
      return await fn(ctx);
    } catch (err) {
      log(`${scenario} failed: ${String((err as Error).stack ?? err)}`);
      results.failures.push({ scenario, error: String((err as Error).message ?? err) });
      await loadgens.closeDevices().catch(() => undefined);
      if (ctx) ctx.shape = undefined;
      await loadgens.first({ op: 'sdk-close' }).catch(() => undefined);
      await loadgens.first({ op: 'probe-stop' }).catch(() => undefined);
      return undefined;
    } finally {
      save();
    }
  };
  results.idleCpu = await attempt('idleCpu', idleCpu);
  results.ceiling = await attempt('ceiling', ceiling);
  results.steady = await attempt('steady', steady);
  results.stored = await attempt('stored', (c) =>
    stored(
      c,
      {
        // Figures of this same Parley from before the preload, when the scenarios that measure them ran on it.
        ladder: ranOn.get('ceiling') === c ? results.ceiling?.ladders.parley : undefined,
        atSteadyRate: ranOn.get('steady') === c ? results.steady?.parley : undefined,
      },
      preloadStrategy,
    ),
  );
  results.history = await attempt('history', (c) => history(c, preloadStrategy));
  results.group = await attempt('group', group);
  results.admin = await attempt('admin', admin);
  results.idle = await attempt('idle', idle);
  results.tls = await attempt('tls', tls);
  results.storm = await attempt('storm', storm);
  results.lag = await attempt('lag', lag);
  results.removal = await attempt('removal', removal);
  results.limits = await attempt('limits', limits);
  results.security = await attempt('security', security);
  // A 1:1 load Parley sustains, with its services under --cpu-prof and every span in a file.
  const rate = Math.min(results.ceiling?.ladders.parley?.ceiling || 50, 2000);
  results.profile = await attempt('profile', (c) => profileRun(c, rate, s.profileSeconds || 20));
  results.finishedAt = new Date().toISOString();
  save();
  await lagReader.close();
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
