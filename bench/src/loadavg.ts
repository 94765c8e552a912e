// The machine's load before each scenario: logged, and when the 1-minute load average is above
// 0.5 the scenario waits (bounded) for it to come down, so that other work on a shared machine
// colours the figures less; the figure is recorded either way, next to the scenario's results.
import { loadavg } from 'node:os';
import { log, sleep } from './harness';
import { round } from './procstats';

export interface LoadRecord {
  scenario: string;
  /** 1, 5 and 15-minute load averages when the scenario was due to start. */
  before: [number, number, number];
  /** When it started (after the wait). */
  atStart: [number, number, number];
  waitedSeconds: number;
  /** Still above the threshold when the bound passed. */
  busy: boolean;
}

const THRESHOLD = 0.5;

function now(): [number, number, number] {
  const [a, b, c] = loadavg();
  return [round(a ?? 0), round(b ?? 0), round(c ?? 0)];
}

export async function awaitQuietMachine(scenario: string, maxWaitSeconds: number): Promise<LoadRecord> {
  const before = now();
  const started = Date.now();
  let current = before;
  while (current[0] > THRESHOLD && Date.now() - started < maxWaitSeconds * 1000) {
    await sleep(5_000);
    current = now();
  }
  const waitedSeconds = round((Date.now() - started) / 1000, 1);
  const busy = current[0] > THRESHOLD;
  log(`${scenario}: load average ${before.join(' ')}${waitedSeconds >= 1 ? `, after waiting ${waitedSeconds} s: ${current.join(' ')}` : ''}${busy ? ' (still above 0.5; going on)' : ''}`);
  return { scenario, before, atStart: current, waitedSeconds, busy };
}
