// The harness's moving parts: the bench's own infrastructure (a separate instance of
// deploy/local/infra.sh), child processes it starts (load generator, baselines) and the
// clean-up that stops all of them, also on failure and Ctrl-C.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { LoadCommand } from './protocol';
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

export function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        log(`clean-up step failed: ${String(err)}`);
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
 * PARLEY_INFRA_DIR or .local/run.
 */
export class BenchInfra {
  readonly own: boolean;
  private readonly local: LocalInfra;

  get dir(): string {
    return this.local.dir;
  }

  constructor(mode: 'own' | 'env') {
    this.own = mode === 'own';
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

  /** Own infrastructure: starts from empty data and registers its stop. */
  async up(): Promise<void> {
    if (!this.own) return;
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

/** The load generator process and a promise-based call over its IPC channel. */
export class LoadGen {
  private readonly proc: ChildProcess;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor() {
    this.proc = fork(path.join(BENCH_DIR, 'run.js'), ['@loadgen'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=4096'] });
    this.proc.on('message', (msg: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.error) w.reject(new Error(`load generator: ${msg.error}`));
      else w.resolve(msg.result);
    });
    this.proc.once('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`load generator exited (${code})`));
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

/** 127.0.0.2 ... : source addresses for client sockets (each has its own ephemeral ports). */
export function sourceAddresses(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.${i + 2}`);
}
