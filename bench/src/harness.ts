// The harness's moving parts: the bench's own infrastructure (a separate instance of
// deploy/local/infra.sh), child processes it starts (load generator, baselines) and the
// clean-up that stops all of them, also on failure and Ctrl-C.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Histogram } from './histogram';
import { epochNow, type Boot, type DeviceSpec, type Flow, type LoadCommand, type OpenResult, type RunResult, type WorkerRunResult } from './protocol';
import type { Watched } from './procstats';
import { LocalInfra } from '../../test/e2e/support/local-infra';

export const BENCH_DIR = path.resolve(__dirname, '..');
export const REPO_ROOT = path.resolve(BENCH_DIR, '..');
export const OUT_DIR = path.join(BENCH_DIR, 'out');
const LOG_DIR = path.join(OUT_DIR, 'logs');

import { sleep } from '../../test/e2e/support/platform';

export { sleep };

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---------------------------------------------------------------- clean-up
const cleanups: (() => Promise<void> | void)[] = [];
let cleaning: Promise<void> | undefined;

/** Registers something to undo; undone in reverse order by cleanUp(). */
export function onCleanUp(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** Longest one clean-up step may take: a step stuck on a hung server must not keep the others (stopping processes) from running. */
const CLEAN_UP_STEP_MS = 30_000;

export function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop()!;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(fn),
          new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              log(`clean-up step still running after ${CLEAN_UP_STEP_MS / 1000} s; going on with the next`);
              resolve();
            }, CLEAN_UP_STEP_MS);
          }),
        ]);
      } catch (err) {
        log(`clean-up step failed: ${String(err)}`);
      } finally {
        clearTimeout(timer);
      }
    }
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything the bench started`);
    void cleanUp().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- infrastructure
export interface InfraEnv {
  KAFKA_BROKERS: string;
  REDIS_URL: string;
  MONGO_URL: string;
}

/**
 * The bench's infrastructure: its own LocalInfra (.local/bench-infra, ports
 * 22092/22379/22432/22117, below the ephemeral range), or, with --infra=env, the one
 * KAFKA_BROKERS, REDIS_URL and MONGO_URL point at (the test suite's), whose pid files are in
 * PARLEY_INFRA_DIR or .local/run. --infra=reuse: the bench's own, left running by an earlier
 * `--infra=reuse` run (started when it is not running; never stopped, never wiped): for
 * development, where starting from empty data every time costs more than the run.
 */
export class BenchInfra {
  readonly own: boolean;
  private readonly local: LocalInfra;

  get dir(): string {
    return this.local.dir;
  }

  constructor(private readonly mode: 'own' | 'env' | 'reuse') {
    this.own = mode !== 'env';
    this.local = new LocalInfra({
      dir: this.own ? path.join(REPO_ROOT, '.local', 'bench-infra') : (process.env['PARLEY_INFRA_DIR'] ?? path.join(REPO_ROOT, '.local')),
      ports: { kafka: 22092, redis: 22379, postgres: 22432, mongo: 22117 },
      partitions: 8,
      timeoutMs: 300_000,
    });
  }

  get env(): InfraEnv {
    if (!this.own) {
      const { KAFKA_BROKERS, REDIS_URL, MONGO_URL } = process.env;
      if (!KAFKA_BROKERS || !REDIS_URL || !MONGO_URL) throw new Error('--infra=env needs KAFKA_BROKERS, REDIS_URL and MONGO_URL');
      return { KAFKA_BROKERS, REDIS_URL, MONGO_URL };
    }
    return this.local.env;
  }

  private running(): boolean {
    return (['kafka', 'redis', 'postgres', 'ferretdb'] as const).every((name) => {
      const pid = this.local.pidOf(name);
      if (pid === undefined) return false;
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
  }

  /** Own infrastructure: starts from empty data and registers its stop. */
  async up(): Promise<void> {
    if (!this.own) return;
    if (this.mode === 'reuse') {
      if (!this.running()) await this.local.up();
      return;
    }
    onCleanUp(async () => {
      log('stopping the bench infrastructure');
      await this.local.down();
    });
    await this.local.up();
  }

  /** The infrastructure's processes, for CPU and memory (PostgreSQL with its backends). */
  watched(): Watched[] {
    const out: Watched[] = [];
    for (const name of ['kafka', 'redis', 'postgres', 'ferretdb'] as const) {
      const pid = this.local.pidOf(name);
      if (pid !== undefined) out.push({ name, kind: 'infra', pid, tree: name === 'postgres' });
    }
    return out;
  }
}

// ---------------------------------------------------------------- child processes
export interface Child {
  name: string;
  proc: ChildProcess;
  env: Record<string, string>;
}

/** Starts `node run.js @<entry>` with env and waits for its "ready" line. */
export async function startChild(name: string, entry: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<Child> {
  mkdirSync(LOG_DIR, { recursive: true });
  const proc = spawn(process.execPath, [...nodeArgs, path.join(BENCH_DIR, 'run.js'), `@${entry}`], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child: Child = { name, proc, env };
  onCleanUp(() => stopChild(child));
  const out = createWriteStream(path.join(LOG_DIR, `${name}.log`), { flags: 'a' });
  proc.stderr?.pipe(out);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready after 60 s (see bench/out/logs/${name}.log)`)), 60_000);
    let buffered = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      if (buffered.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready (see bench/out/logs/${name}.log)`));
    });
  });
  proc.stdout?.pipe(out);
  return child;
}

export async function stopChild(child: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const { proc } = child;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** One load-generator worker process and a promise-based call over its IPC channel. */
export class LoadGen {
  private readonly proc: ChildProcess;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(readonly index: number) {
    this.proc = fork(path.join(BENCH_DIR, 'run.js'), ['@loadgen'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // 24 GiB machines: room for the 60 s holds at the top of the ladders (per-message latency records).
      execArgv: ['--max-old-space-size=8192'],
      // Structured clone: the per-message typed arrays of a run cross as they are.
      serialization: 'advanced',
    });
    this.proc.on('message', (msg: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.error) w.reject(new Error(`load generator ${index}: ${msg.error}`));
      else w.resolve(msg.result);
    });
    this.proc.once('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`load generator ${index} exited (${code})`));
      this.waiting.clear();
    });
    onCleanUp(() => this.stop());
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  call<T>(cmd: LoadCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, cmd });
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    await Promise.race([this.call({ op: 'exit' }).catch(() => undefined), sleep(5_000)]);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * The load generator: several worker processes (one process has 20,000 file descriptors and
 * one core). Devices are placed on workers by the harness (DeviceSpec.worker, else by a hash
 * of the key); a run goes to every worker at once and their shares are added up.
 */
export class LoadGens {
  readonly workers: LoadGen[];

  constructor(count: number) {
    this.workers = Array.from({ length: Math.max(1, count) }, (_, i) => new LoadGen(i));
  }

  get size(): number {
    return this.workers.length;
  }

  get pids(): number[] {
    return this.workers.map((w) => w.pid);
  }

  /** The worker of a device key when the caller did not choose one. */
  workerFor(key: string): number {
    let h = 0;
    for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
    return h % this.workers.length;
  }

  /** Worker 0: the kafkajs baseline, the SDK clients of the storm, the removal probe. */
  first<T>(cmd: LoadCommand): Promise<T> {
    return this.workers[0]!.call<T>(cmd);
  }

  all<T>(cmd: LoadCommand): Promise<T[]> {
    return Promise.all(this.workers.map((w) => w.call<T>(cmd)));
  }

  async open(devices: DeviceSpec[], addresses: string[], options: { concurrency?: number; boot?: Boot } = {}): Promise<OpenResult> {
    const shares = this.workers.map((): DeviceSpec[] => []);
    for (const d of devices) shares[(d.worker ?? this.workerFor(d.key)) % this.workers.length]!.push(d);
    const concurrency = Math.max(1, Math.ceil((options.concurrency ?? 200) / this.workers.length));
    const results = await Promise.all(
      this.workers.map((w, i): Promise<OpenResult> =>
        shares[i]!.length === 0 ? Promise.resolve({ opened: 0, failed: 0, booted: 0, synced: 0 }) : w.call<OpenResult>({ op: 'open', devices: shares[i]!, addresses, concurrency, boot: options.boot ?? 'none' }),
      ),
    );
    const out: OpenResult = { opened: 0, failed: 0, booted: 0, synced: 0 };
    for (const r of results) {
      out.opened += r.opened;
      out.failed += r.failed;
      out.booted += r.booted;
      out.synced += r.synced;
      if (r.firstError) out.firstError ??= r.firstError;
    }
    return out;
  }

  /** Registers a named flow set on every worker (sent once, not with every run). */
  async flows(name: string, flows: Flow[]): Promise<void> {
    await this.all({ op: 'flows', name, flows });
  }

  async closeDevices(prefix?: string): Promise<void> {
    await this.all({ op: 'close-devices', ...(prefix !== undefined ? { prefix } : {}) });
  }

  async count(): Promise<number> {
    return (await this.all<{ open: number }>({ op: 'count' })).reduce((a, r) => a + r.open, 0);
  }

  /** One open-loop run over every worker, started on the same epoch instant, shares merged. */
  async run(flows: string, rate: number, seconds: number, drainMs: number): Promise<RunResult> {
    const tag = randomBytes(4).toString('hex');
    const t0 = epochNow() + 200;
    const shares = await this.all<WorkerRunResult>({ op: 'run', tag, flows, rate, seconds, t0, drainMs });
    return mergeRun(shares);
  }

  stop(): Promise<void> {
    return Promise.all(this.workers.map((w) => w.stop())).then(() => undefined);
  }
}

/** Adds up the workers' shares of one run: per message, due on all workers together, arrived on all. */
export function mergeRun(shares: WorkerRunResult[]): RunResult {
  const total = shares[0]?.state.length ?? 0;
  const errors: Record<string, number> = {};
  const hist = new Histogram();
  const early = new Histogram();
  const late = new Histogram();
  let sent = 0;
  let acked = 0;
  let redelivered = 0;
  let gaps = 0;
  let sendSeconds = 0;
  for (const s of shares) {
    sent += s.sent;
    acked += s.acked;
    redelivered += s.redelivered;
    gaps += s.gaps;
    sendSeconds = Math.max(sendSeconds, s.sendSeconds);
    for (const [code, n] of Object.entries(s.errors)) errors[code] = (errors[code] ?? 0) + n;
    hist.add(Histogram.fromJSON(s.hist));
    early.add(Histogram.fromJSON(s.early));
    late.add(Histogram.fromJSON(s.late));
  }
  let lost = 0;
  let duplicated = 0;
  let delivered = 0;
  let refused = 0;
  let expectedTotal = 0;
  for (let i = 0; i < total; i++) {
    let state = 0;
    let got = 0;
    let exp = 0;
    for (const s of shares) {
      state = Math.max(state, s.state[i]!);
      got += s.got[i]!;
      exp += s.expected[i]!;
    }
    // Due: every delivery of a message not refused for good (one refused but delivered anyway counts as due).
    const due = state === 2 && got === 0 ? 0 : exp;
    if (state === 2) refused++;
    expectedTotal += due;
    delivered += Math.min(got, due);
    if (got < due) lost += due - got;
    if (got > exp) duplicated += got - exp;
  }
  return {
    sent,
    refused,
    refusals: Object.values(errors).reduce((a, n) => a + n, 0),
    acked,
    errors,
    expected: expectedTotal,
    delivered,
    lost,
    duplicated,
    redelivered,
    gaps,
    sendSeconds,
    hist: hist.toJSON(),
    earlyP50: early.percentileMs(50),
    lateP50: late.percentileMs(50),
  };
}

/** 127.0.0.2 ... : source addresses for client sockets (each has its own ephemeral ports). */
export function sourceAddresses(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.${i + 2}`);
}
