// The benchmark harness in quick mode (< 3 minutes), on the test suite's infrastructure: it
// must run every scenario and count right (every message due delivered once, nothing lost
// or duplicated, every socket opened, every storm client back and synced). Never a speed.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { BenchResults } from '../src/main';
import type { Measurement } from '../src/scenarios';

const BENCH_DIR = path.resolve(__dirname, '..');

function runQuickBench(out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(BENCH_DIR, 'run.js'), '--quick', '--infra=env', `--out=${out}`],
      { cwd: BENCH_DIR, env: process.env, timeout: 280_000, maxBuffer: 32 * 1024 * 1024 },
      (err, _stdout, stderr) => (err ? reject(new Error(`${String(err)}\n${stderr.slice(-4000)}`)) : resolve()),
    );
  });
}

/** Baselines without dedupe may repeat a replayed batch after their consumer restarts (at least once). */
function expectCountsRight(m: Measurement, atLeastOnce = false): void {
  const duplicated = atLeastOnce ? 0 : m.duplicated;
  expect({ system: m.system, rate: m.rate, delivered: m.delivered, lost: m.lost, duplicated }).toEqual({ system: m.system, rate: m.rate, delivered: m.expected, lost: 0, duplicated: 0 });
  expect(m.expected).toBeGreaterThan(0);
  expect(m.sent).toBe(Math.round(m.rate * m.seconds));
  if (m.system !== 'relay') expect(m.acked).toBe(m.sent);
}

describe('bench --quick', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every scenario with Parley and its baselines, and nothing is lost or duplicated', async () => {
    const out = path.join(dir, 'quick.json');
    await runQuickBench(out);
    const r = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    expect(r.failures).toEqual([]);

    const ladder = r.oneToOne!.steps.flat();
    expect(new Set(ladder.map((m) => m.system))).toEqual(new Set(['parley', 'relay', 'kafka', 'floor']));
    ladder.forEach((m) => expectCountsRight(m));
    const group = r.group!.steps.flat();
    expect(group.map((m) => m.expected / (m.sent || 1))).toEqual(group.map(() => r.group!.members - 1));
    group.forEach((m) => expectCountsRight(m));

    expect(r.idle!.parley.opened).toBe(r.idle!.parley.target);
    expect(r.idle!.relay.opened).toBe(r.idle!.relay.target);

    const storm = r.storm!;
    expect(storm.secondsToAllBack).toBeDefined();
    expect(storm.secondsToAllSynced).toBeDefined();
    expect(storm.final).toMatchObject({ open: storm.final.total, complete: storm.final.receivers, missing: 0, duplicates: 0 });
    expect(storm.final.acked).toBeGreaterThan(0);

    expect(r.lag!.map((l) => l.system)).toEqual(['floor', 'parley']);
    for (const l of r.lag!) {
      expectCountsRight(l.measurement, l.system !== 'parley');
      expect(l.peakLag).toBeGreaterThan(0); // the consumer really was stopped
    }
  }, 300_000);
});
