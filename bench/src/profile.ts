// Where the time goes: a separate, short 1:1 run on a fresh Parley whose services run with
// `node --cpu-prof` and write every span to a file (PARLEY_TRACE_FILE). The spans of each
// message give the hop-by-hop timeline (median start and end of each span after the
// connector received the send); the CPU profiles give each service's busiest code.
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { OUT_DIR, log } from './harness';
import { round } from './procstats';

export const PROFILE_DIR = path.join(OUT_DIR, 'profile');

export function profileEnv(): Record<string, string> {
  rmSync(PROFILE_DIR, { recursive: true, force: true });
  mkdirSync(PROFILE_DIR, { recursive: true });
  return { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${PROFILE_DIR}`, PARLEY_TRACE_FILE: path.join(PROFILE_DIR, 'spans.jsonl') };
}

interface SpanLine {
  service: string;
  name: string;
  traceId: string;
  start: [number, number];
  durationMs: number;
}

export interface HopRow {
  span: string;
  service: string;
  traces: number;
  /** Medians over traces, ms after the trace's first span started. */
  startMs: number;
  endMs: number;
  durationMs: number;
  /** Median time between the previous milestone's end and this span's start. */
  gapBeforeMs: number;
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** The timeline of a message through Parley, from the spans of every trace that reached a connector's Deliver. */
export function hopTimeline(): HopRow[] {
  let text = '';
  try {
    text = readFileSync(path.join(PROFILE_DIR, 'spans.jsonl'), 'utf8');
  } catch {
    return [];
  }
  const traces = new Map<string, SpanLine[]>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const span = JSON.parse(line) as SpanLine;
    const list = traces.get(span.traceId) ?? [];
    list.push(span);
    traces.set(span.traceId, list);
  }
  const offsets = new Map<string, { service: string; start: number[]; end: number[]; duration: number[] }>();
  for (const spans of traces.values()) {
    if (!spans.some((s) => s.name === 'ws.send') || !spans.some((s) => s.name.includes('Deliver'))) continue;
    const startOf = (s: SpanLine) => s.start[0] * 1000 + s.start[1] / 1e6;
    const t0 = Math.min(...spans.map(startOf));
    const seen = new Set<string>();
    for (const s of spans.sort((a, b) => startOf(a) - startOf(b))) {
      const key = `${s.service} ${s.name}`;
      if (seen.has(key)) continue; // the first of a kind per trace (batches repeat)
      seen.add(key);
      const o = offsets.get(key) ?? { service: s.service, start: [], end: [], duration: [] };
      o.start.push(startOf(s) - t0);
      o.end.push(startOf(s) - t0 + s.durationMs);
      o.duration.push(s.durationMs);
      offsets.set(key, o);
    }
  }
  const rows = [...offsets.entries()]
    .map(([key, o]) => ({ span: key.slice(o.service.length + 1), service: o.service, traces: o.start.length, startMs: round(median(o.start), 2), endMs: round(median(o.end), 2), durationMs: round(median(o.duration), 2), gapBeforeMs: 0 }))
    .filter((r) => r.traces >= 5)
    .sort((a, b) => a.startMs - b.startMs);
  let lastEnd = 0;
  for (const r of rows) {
    r.gapBeforeMs = round(Math.max(0, r.startMs - lastEnd), 2);
    lastEnd = Math.max(lastEnd, r.startMs < lastEnd ? lastEnd : r.endMs);
  }
  return rows;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface ServiceProfile {
  file: string;
  service: string;
  activeMs: number;
  /** Self time by library or area, ms. */
  areas: [string, number][];
  topFunctions: [string, number][];
}

function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : 'native';
  const lib = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (lib) return lib[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = /(packages|services)\/([^/]+)\//.exec(url);
  if (own) return `parley ${own[1] === 'packages' ? '@parley/' : ''}${own[2]}`;
  return path.basename(url);
}

export function cpuProfiles(): ServiceProfile[] {
  let files: string[] = [];
  try {
    files = readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return [];
  }
  const out: ServiceProfile[] = [];
  for (const file of files) {
    const profile = JSON.parse(readFileSync(path.join(PROFILE_DIR, file), 'utf8')) as CpuProfile;
    const totalMs = (profile.endTime - profile.startTime) / 1000;
    const msPerSample = profile.samples.length > 0 ? totalMs / profile.samples.length : 0;
    const byArea = new Map<string, number>();
    const byFunction = new Map<string, number>();
    let service = 'unknown';
    for (const node of profile.nodes) {
      const ms = (node.hitCount ?? 0) * msPerSample;
      const { url, functionName, lineNumber } = node.callFrame;
      const m = /services\/(\w+)\/dist\/main\.js/.exec(url);
      if (m) service = m[1]!;
      if (/\/bench\/run\.js$/.test(url)) service = 'bench child';
      if (ms === 0 || functionName === '(idle)' || functionName === '(program)') continue;
      const a = area(url, functionName);
      byArea.set(a, (byArea.get(a) ?? 0) + ms);
      const f = `${functionName || '(anonymous)'} ${url ? `${path.basename(url)}:${lineNumber + 1}` : ''}`.trim();
      byFunction.set(f, (byFunction.get(f) ?? 0) + ms);
    }
    const activeMs = [...byArea.values()].reduce((a, b) => a + b, 0);
    const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, round(v, 0)] as [string, number]);
    out.push({ file, service, activeMs: round(activeMs, 0), areas: top(byArea, 8), topFunctions: top(byFunction, 8) });
  }
  log(`profile: ${out.length} CPU profiles read`);
  return out.filter((p) => p.service !== 'bench child').sort((a, b) => b.activeMs - a.activeMs);
}
