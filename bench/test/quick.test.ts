// The benchmark harness in quick mode (< 3 minutes), on the test suite's infrastructure: it
// must run every scenario and count right (every message due delivered once, nothing lost
// or duplicated, every socket opened and synced, every preloaded message stored, every page
// holding the seqs it should, every storm client back and synced). Never a speed.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { BenchResults } from '../src/main';
import type { LadderResult, Measurement } from '../src/measure';
import { headlineRows } from '../src/report';

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
function expectCountsRight(m: Measurement, receivers: number, atLeastOnce = false): void {
  const duplicated = atLeastOnce ? 0 : m.duplicated;
  expect({ system: m.system, rate: m.rate, delivered: m.delivered, lost: m.lost, duplicated }).toEqual({ system: m.system, rate: m.rate, delivered: m.expected, lost: 0, duplicated: 0 });
  expect(m.sent).toBe(Math.round(m.rate * m.seconds));
  expect(m.expected).toBe((m.sent - m.refused) * receivers);
  expect(m.expected).toBeGreaterThan(0);
  if (m.system !== 'relay') expect(m.acked + m.refused).toBeGreaterThanOrEqual(m.sent);
}

function ladderMeasurements(l: LadderResult | undefined): Measurement[] {
  expect(l).toBeDefined();
  expect(l!.steps.length).toBeGreaterThan(0);
  return [...l!.steps, ...l!.holds];
}

describe('bench --quick', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every scenario with Parley and its baselines, and counts right', async () => {
    const out = path.join(dir, 'quick.json');
    await runQuickBench(out);
    const r = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    expect(r.failures).toEqual([]);
    expect(r.loadAverages.map((l) => l.scenario)).toEqual(['idleCpu', 'ceiling', 'steady', 'stored', 'history', 'group', 'admin', 'idle', 'storm', 'lag', 'removal', 'limits', 'security']);

    // Idle CPU: every process of every system, with and without idle clients.
    expect(r.idleCpu!.phases).toHaveLength(2);
    for (const phase of r.idleCpu!.phases) {
      const kinds = new Set(phase.rows.map((x) => x.kind));
      expect(kinds).toEqual(new Set(['parley', 'baseline', 'infra']));
      expect(phase.rows.filter((x) => x.name.startsWith('floor-edge'))).toHaveLength(2);
    }

    // Ceilings on the load shape: every system climbs its own ladder.
    const c = r.ceiling!;
    expect(c.conversations).toBe(r.settings.conversations);
    expect(Object.keys(c.ladders).sort()).toEqual(['floor', 'kafka', 'parley', 'relay']);
    for (const l of Object.values(c.ladders)) ladderMeasurements(l).forEach((m) => expectCountsRight(m, 1));

    const st = r.steady!;
    [st.parley, st.parleySmall, st.floor].forEach((m) => expectCountsRight(m, 1));
    expect(st.parleySmall.load).toContain(`${r.settings.smallConversations} conversations`);

    // Stored data: the preload is stored (lastSeq grew on every sampled conversation).
    const sd = r.stored!;
    expect(sd.preload.messages).toBe(r.settings.storedMessages);
    expect(sd.preload.verified.ok).toBe(sd.preload.verified.sampled);
    expect(sd.preload.verified.sampled).toBeGreaterThan(0);
    [sd.before.atRate, sd.after.atRate, ...ladderMeasurements(sd.after.ladder)].forEach((m) => expectCountsRight(m, 1));

    // History and sync: the right pages, timed as often as asked.
    expect(r.history!.calls.map((x) => x.kind)).toEqual(['history, start', 'history, middle', 'history, end', 'sync from 0']);
    for (const call of r.history!.calls) {
      expect({ kind: call.kind, big: call.big.ok, small: call.small.ok }).toEqual({ kind: call.kind, big: true, small: true });
      expect(call.big.samplesMs).toHaveLength(r.settings.historyCalls);
    }

    const g = r.group!;
    expect(Object.keys(g.ladders).sort()).toEqual(['floor', 'parley', 'relay']);
    for (const l of Object.values(g.ladders)) ladderMeasurements(l).forEach((m) => expectCountsRight(m, g.members - 1));

    const a = r.admin!;
    for (const phase of [a.few, a.loaded]) {
      expect(phase.parley).toMatchObject({ created: a.creations, errors: 0 });
      expect(phase.baseline).toMatchObject({ created: a.creations, errors: 0 });
    }
    expect(a.baselineConversations).toBe(2 * a.creations + r.settings.adminStored);

    const i = r.idle!;
    expect(i.parley).toMatchObject({ opened: i.parley.target, booted: i.parley.target, synced: i.parley.target * r.settings.idleConversationsPerUser });
    expect(i.relay.opened).toBe(i.relay.target);

    const storm = r.storm!;
    expect(storm.secondsToAllBack).toBeDefined();
    expect(storm.secondsToAllSynced).toBeDefined();
    expect(storm.final).toMatchObject({ open: storm.final.total, complete: storm.final.receivers, missing: 0, duplicates: 0 });
    expect(storm.final.acked).toBeGreaterThan(0);
    // The clients' catch-up reached storage: its ListConversations calls over the storm window were counted.
    expect(Object.entries(storm.grpc).filter(([service]) => service.startsWith('storage')).some(([, methods]) => (methods['Storage.ListConversations']?.calls ?? 0) > 0)).toBe(true);

    expect(r.lag!.map((l) => l.system)).toEqual(['floor', 'parley']);
    for (const l of r.lag!) {
      expectCountsRight(l.measurement, 1, l.system !== 'parley');
      expect(l.peakLag).toBeGreaterThan(0); // the consumer really was stopped
    }

    // Removal: the probe's answers add up, it was accepted before and refused after.
    const rm = r.removal!;
    expect(rm.routers).toBe(2);
    expect(rm.trials).toHaveLength(r.settings.removalTrials);
    for (const t of rm.trials) {
      expect(t.before.acked).toBeGreaterThan(0);
      expect(t.after.acked + t.after.refusedPermission + t.after.refusedOther + t.after.unanswered).toBe(t.after.sent);
      expect(t.firstRefusalMs).toBeDefined();
    }

    // Shared rate limits: both routers took the load, nothing refused (limits raised), no errors.
    const lim = r.limits!;
    for (const run of [lim.memory, lim.redis]) {
      expect(run.sends).toBeGreaterThan(0);
      expect(run.refused + run.errors).toBe(0);
      expect(run.latencyMs.count).toBe(run.sends);
    }

    // The security pair: two ladders on two Parleys (shipped, then off), each delivering what it sent.
    const sec = r.security!;
    expect(sec.modes.map((m) => m.mode)).toEqual(['shipped', 'off']);
    for (const m of sec.modes) {
      expect(m.ladder.steps.length).toBeGreaterThan(0);
      for (const step of m.ladder.steps) expect(step.delivered).toBeGreaterThan(0);
    }

    // The headline has a row for every target, judged from this run's figures (the p99 beside
    // the floor's at Parley's ceiling only exists when Parley held a rate: not asserted, a speed).
    const rows = headlineRows(r);
    const judged = rows.filter((x) => !x.goal.startsWith('informational') && !x.target.includes("at Parley's ceiling"));
    expect(judged.filter((x) => x.met === undefined).map((x) => x.target)).toEqual([]);
  }, 300_000);
});
